"""Mutation tests of the lessons' tests: every mistake of the catalogue is caught, and named.

harness/tests/mutants/mutants.py lists the typical mistakes of each lesson (the pages' "Common
mistakes"), each as exact replacements in the lesson's solution, the bats tests that must
catch it, and the words of its "Likely cause:" line; run.py builds and runs one.  Here every
mutant must be caught: at least one of its tests fails, a failure says its likely cause, and
the output holds no shell job-control message and no traceback.  And each lab's control: the
unpatched solution passes every test its mutants select, so that the catches prove something.
A mutant whose text the solution no longer holds fails with its name (update the entry).

The jobs start when this file is imported, in daemon threads, 4 at a time: the runs mostly
wait on deadlines, and so they run beside the rest of `make test` (test_grade.py, which
pytest runs first) instead of after it.  Each test waits for its own job.  Standalone:
python3 harness/tests/mutants/run.py [-v] [NAME...].
"""
import os
import queue
import subprocess
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "mutants"))
import run  # noqa: E402
from mutants import MUTANTS  # noqa: E402

HAVE_SOLUTIONS = os.path.isdir(os.path.join(run.ROOT, "solutions"))
LABS = sorted({m.lab for m in MUTANTS})
WORKERS = 4
WAIT = 900  # seconds a test waits for its job, however loaded the machine


class Job:
    def __init__(self, what, *args):
        self.what, self.args = what, args
        self.done = threading.Event()
        self.problem = None


def ready():
    """None once build/liblab.a and the solutions' programs are there (make build, run
    once), else why not."""
    need = [os.path.join(run.build_dir(), "liblab.a")] + [
        os.path.join(run.build_dir(), "solutions", lab, prog) for lab in LABS for prog in run.PROGS]
    if all(os.path.exists(p) for p in need):
        return None
    r = subprocess.run(["make", "-s", "build", "IMPL=solutions", "LAB="], cwd=run.ROOT,
                       capture_output=True, text=True, timeout=600)
    missing = [p for p in need if not os.path.exists(p)]
    return f"make build failed: {r.stdout}{r.stderr}" if missing else None


def work(todo, state):
    while True:
        job = todo.get()
        try:
            with state["lock"]:
                if "ready" not in state:
                    state["ready"] = ready()
            if state["ready"]:
                job.problem = state["ready"]
            else:
                job.problem = job.what(*job.args)
        except (run.Drifted, RuntimeError, subprocess.TimeoutExpired) as e:
            job.problem = str(e)
        except Exception as e:  # a bug of the runner's: the test says which
            job.problem = f"{type(e).__name__}: {e}"
        finally:
            job.done.set()


def start():
    """All the jobs, queued now: the controls first (they run the most tests)."""
    jobs = {f"control {lab}": Job(run.check_control, lab) for lab in LABS}
    jobs.update({m.name: Job(run.check, m) for m in MUTANTS})
    todo, state = queue.Queue(), {"lock": threading.Lock()}
    for job in jobs.values():
        todo.put(job)
    for _ in range(WORKERS):
        threading.Thread(target=work, args=(todo, state), daemon=True).start()
    return jobs


JOBS = start() if HAVE_SOLUTIONS else {}
pytestmark = pytest.mark.skipif(not HAVE_SOLUTIONS, reason="no solutions/ (a handout)")


def result(name):
    job = JOBS[name]
    if not job.done.wait(WAIT):
        pytest.fail(f"{name}: not done within {WAIT} s", pytrace=False)
    if job.problem:
        pytest.fail(job.problem, pytrace=False)


@pytest.mark.parametrize("lab", LABS)
def test_control_the_solution_passes_its_mutants_tests(lab):
    result(f"control {lab}")


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_mutant_is_caught_and_named(name):
    result(name)


def test_every_mutant_applies_once_and_names_a_cause():
    """Every mutant's replacements apply to the current solution (fast: no build), its
    filter and cause are given, and the names are unique."""
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)), "two mutants have the same name"
    for m in MUTANTS:
        run.source(m)
        assert m.filter.startswith("^") and m.cause and m.what, m.name
        assert os.path.isfile(os.path.join(run.ROOT, "labs", m.lab, f"{m.lab}.bats")), m.name
