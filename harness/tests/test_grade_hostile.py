"""Tests of harness/grade against hostile submissions: the attacks of an outside audit
(fixtures/hostile.py describes each), graded beside honest submissions (the solutions, and
the untouched starters), in one batch with a quick rubric (fixtures/hostile.ini), plus the
same without namespaces and a batch of hostile archives.

Each attack must leave the hostile submission's grade at what its honest code earns (0 for
an untouched starter, full marks for the solution with the attack added), the honest
neighbours at theirs, every lab graded (no "NOT GRADED" that a submission could cause), and
nothing behind: no process, no file, no SysV IPC, no cgroup.  About 90 s on an idle 2-core
machine, the three runs side by side.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
HOSTILE = os.path.join(FIXTURES, "hostile.ini")
IS_ROOT = os.geteuid() == 0
LABS = ["01-tcp", "05-hmac-auth"]

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "harness"))
sys.path.insert(0, FIXTURES)
import hostile  # noqa: E402
import test_grade as tg  # noqa: E402  (its Run, checks and leftovers; not its tests)
from grader import sandbox, submission  # noqa: E402

# The grader under a parent that reports, on its last line, the peak RSS (KiB) of the
# grader and of everything it ran: what the audit's archives cost it.
MEASURE = ("import resource, subprocess, sys\n"
           "status = subprocess.call(sys.argv[1:])\n"
           "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)\n"
           "sys.exit(status)\n")


class Timed(tg.Run):
    """A grader run that knows how long it took; with measure, under a parent that reports
    the peak RSS of the grader and of all it ran (MEASURE)."""

    def __init__(self, base, name, args, measure=False):
        self.started = time.monotonic()
        self.out = os.path.join(base, name, "out")
        self.scratch = os.path.join(base, name, "scratch")  # the grader's TMPDIR
        os.makedirs(self.out)
        os.makedirs(self.scratch)
        # uids of a range of their own: the default range may be another grader's (another
        # test session's) by the time test_zz_nothing_left_behind looks at them.
        cmd = [sys.executable, tg.GRADE, "--out", self.out, "--uid-base", "1993000000", *args]
        if measure:
            cmd = [sys.executable, "-c", MEASURE, *cmd]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=base,
                                     env=dict(os.environ, TMPDIR=self.scratch))
        self.done = False

    def wait(self):
        done = self.done
        super().wait()
        if not done:
            self.seconds = time.monotonic() - self.started
        return self


@pytest.fixture(scope="module")
def hostile_runs():
    base = tempfile.mkdtemp(prefix="test_grade_hostile-")
    os.chmod(base, 0o755)
    fx = os.path.join(base, "fixtures")
    os.mkdir(fx, 0o755)
    attack = {name: hostile.write_attack(name, fx) for name in hostile.ATTACKS}
    snoop_scratch = hostile.write_attack("snoop", fx, scratch_only=True)
    include = hostile.write_include_solution(fx)
    solutions, starters = os.path.join(ROOT, "solutions"), os.path.join(ROOT, "labs")
    r = {}
    r["main"] = Timed(base, "main", [
        "--rubric", HOSTILE, "--labs", ",".join(LABS), "--jobs", "4", solutions, starters,
        include, *(attack[n] for n in ("forge-tap", "fake-eaddrinuse", "fill-tmp", "shm", "hog",
                                       "snoop", "killer"))])
    # Without namespaces (as in a container that allows none): what file modes, uids and
    # the sweeps after each run still contain.
    r["flat"] = Timed(base, "flat", [
        "--rubric", HOSTILE, "--labs", "01", "--jobs", "2", "--no-namespaces", solutions,
        snoop_scratch, attack["shm"], attack["forge-tap"], include])
    reserved, reserved_zip = hostile.write_reserved(fx)
    r["archives"] = Timed(base, "archives", [
        "--rubric", HOSTILE, "--labs", "01", "--jobs", "1", hostile.write_pax_bomb(fx),
        hostile.write_long_names(fx), reserved, reserved_zip, solutions], measure=True)
    yield r
    for run in r.values():
        if not run.done:
            run.proc.kill()
            run.proc.wait()
    shutil.rmtree(base, ignore_errors=True)


def sandbox_line(run, name="solutions"):
    return run.wait().results(name)["extra_data"]["sandbox"]


def report(run, name):
    with open(os.path.join(run.out, name, "report.txt"), encoding="utf-8") as f:
        return f.read()


def part(run, name, lab, kind):
    """The lines of the report about one part of a lab."""
    text = report(run, name)
    start = text.index(f"== {lab}:")
    lab_text = text[start:text.find("\n== ", start + 1)]
    at = lab_text.index(f"-- {kind}:")
    end = lab_text.find("\n-- ", at + 1)
    return lab_text[at:end if end > 0 else None]


# --- the batch with every namespace ---------------------------------------------------

def test_every_attack_scores_what_its_honest_code_earns(hostile_runs):
    run = hostile_runs["main"].wait()
    line = sandbox_line(run)
    cgroup = "no cgroup" not in line
    full = {lab: ("graded", 10.0) for lab in LABS}
    expected = {
        "solutions": full,
        # Every lab of the untouched starters graded, 05 too (the audit: its conformance
        # runner "crashed", and the lab was not graded).
        "labs": {lab: ("graded", 0.0) for lab in LABS},
        # The solution by #include of the course's path: the course is not there to read.
        "include-solution": {"01-tcp": ("compile_error", 0.0)},
        # On the starter: forged TAP on fd 3, a printed "Address already in use".
        "forge-tap": {"01-tcp": ("graded", 0.0)},
        "fake-eaddrinuse": {"01-tcp": ("graded", 0.0)},
        # On the solution: each attack, had it worked, would have made it fail.
        "fill-tmp": {"01-tcp": ("graded", 10.0)},
        "shm": {"01-tcp": ("graded", 10.0)},
        "snoop": {"01-tcp": ("graded", 10.0)},
        "killer": {"01-tcp": ("graded", 10.0)},
    }
    if cgroup:
        expected["hog"] = {"01-tcp": ("graded", 10.0)}
    else:  # no cap on a submission's memory here: the hog gets its 768 MiB (see the docs)
        expected["hog"] = {"01-tcp": ("graded", 0.0)}
    tg.check_run(run, expected, LABS)
    if IS_ROOT:
        for want in ("network namespace", "PID namespace", "IPC namespace", "UTS namespace",
                     "mount namespace", "run as uid"):
            assert want in line, line
    assert "NOT GRADED" not in run.output and "REGRADE" not in run.output


def test_no_attack_worked_nor_saw_the_course(hostile_runs):
    run = hostile_runs["main"].wait()
    for name in ("fill-tmp", "shm", "hog", "snoop", "killer"):
        if name == "hog" and "no cgroup" in sandbox_line(run):
            continue
        assert "ATTACK WORKED" not in report(run, name), name
    with open(os.path.join(ROOT, "solutions", "01-tcp", "server.c"), encoding="utf-8") as f:
        first = f.readline().strip()
    for name in os.listdir(run.out):
        if name != "solutions" and os.path.isdir(os.path.join(run.out, name)):
            assert first not in report(run, name), name
    build = run.results("include-solution")["tests"][0]
    assert build["name"] == "01-tcp: build" and "No such file or directory" in build["output"]


def test_forged_tap_counts_for_nothing_and_holds_nothing(hostile_runs):
    """The forger's programs start with fd 3 closed; what they write cannot be a verdict,
    a skip, nor keep bats waiting for a daemon that holds its stream."""
    run = hostile_runs["main"].wait()
    doc = run.results("forge-tap")
    scored = [t for t in doc["tests"] if t["name"].startswith("01-tcp bats:")]
    assert len(scored) == 2 and all(t["status"] == "failed" for t in scored)
    assert "forged" not in json.dumps(doc) and "skip" not in part(run, "forge-tap", "01-tcp", "bats")
    assert doc["extra_data"]["labs"]["01-tcp"]["seconds"] < 60


def test_printed_port_errors_are_the_programs_not_the_machines(hostile_runs):
    run = hostile_runs["main"].wait()
    doc = run.results("fake-eaddrinuse")
    assert doc["extra_data"]["labs"]["01-tcp"] == {**doc["extra_data"]["labs"]["01-tcp"],
                                                   "status": "graded", "regrade": False}
    assert doc["max_score"] == 20 and doc["score"] == 0


def test_the_05_starter_is_graded_even_when_its_runner_is_killed(hostile_runs):
    """The audit's untouched 05 starter: a conformance test that loops for ever on the
    starter's closed connection, until pytest is killed at its CPU limit (status 137).
    The tests pytest did not report fail; the lab is graded, 0, not "not graded"."""
    run = hostile_runs["main"].wait()
    text = part(run, "labs", "05-hmac-auth", "conformance")
    assert "not graded" not in text
    assert "FAIL test_c_waits_for_the_whole_digest" in text


def test_the_programs_tmp_is_not_the_runners(hostile_runs):
    run = hostile_runs["main"].wait()
    if "mount namespace" not in sandbox_line(run):
        pytest.skip("no mount namespace here")
    # fill-tmp filled its /tmp, /var/tmp and /dev/shm to their quota before serving, and
    # both of its runners went on: full marks.
    assert run.results("fill-tmp")["score"] == 10


# --- without namespaces ---------------------------------------------------------------

@pytest.mark.skipif(not IS_ROOT, reason="not root: programs and runner share one uid")
def test_without_namespaces(hostile_runs):
    """With no namespace at all: the other runs and the runner's files stay unreadable
    (a run directory per run, 0710 with the slot's group, random names), SysV IPC is
    swept, fd 3 is closed.  What is not contained, as the docs say: the course, when its
    file modes let others read it (the sandbox line warns)."""
    run = hostile_runs["flat"].wait()
    line = sandbox_line(run)
    assert "NO mount namespace" in line and "no IPC namespace" in line
    expected = {"solutions": {"01-tcp": ("graded", 10.0)},
                "snoop-scratch": {"01-tcp": ("graded", 10.0)},
                "shm": {"01-tcp": ("graded", 10.0)},
                "forge-tap": {"01-tcp": ("graded", 0.0)}}
    if "readable by the programs' users" in line:
        expected["include-solution"] = {"01-tcp": ("graded", 10.0)}  # not contained
    else:
        expected["include-solution"] = {"01-tcp": ("compile_error", 0.0)}
    tg.check_run(run, expected, ["01-tcp"])


# --- hostile archives and names -------------------------------------------------------

def test_hostile_archives_cost_nothing_and_say_one_line(hostile_runs):
    run = hostile_runs["archives"].wait()
    tg.check_run(run, {"pax-bomb": {"01-tcp": ("rejected", 0.0)},
                       "long-names": {"01-tcp": ("rejected", 0.0)},
                       "_gradebook.csv": {"01-tcp": ("rejected", 0.0)},
                       "_gradebook.csv-2": {"01-tcp": ("rejected", 0.0)},
                       "solutions": {"01-tcp": ("graded", 10.0)}}, ["01-tcp"])
    why = {name: run.results(name)["extra_data"]["rejected"]
           for name in ("pax-bomb", "long-names", "_gradebook.csv", "_gradebook.csv-2")}
    assert "extended header" in why["pax-bomb"]
    assert "longer than" in why["long-names"]
    assert "the grader's own" in why["_gradebook.csv"] and "gradebook.csv" in why["_gradebook.csv-2"]
    for name, text in why.items():
        assert "\n" not in text and len(text) <= 300, name
        size = os.path.getsize(os.path.join(run.out, name, "results.json"))
        assert size < 50_000, (name, size)
    assert os.path.isfile(os.path.join(run.out, "gradebook.csv"))
    # The grader and all it ran, bomb and all: bounded in memory and time.
    maxrss = int(re.findall(r"^maxrss (\d+)$", run.output, re.M)[-1])
    assert maxrss < 600 << 10, f"{maxrss} KiB"
    assert run.seconds < 120


def test_archive_bounds_in_process(tmp_path, monkeypatch):
    """submission.unpack itself: a pax header past MAX_HEADER is refused before it is read,
    and so is a name past MAX_NAME; each reason is one short line."""
    monkeypatch.setattr(submission, "MAX_HEADER", 4096)
    bomb = hostile.write_pax_bomb(str(tmp_path), size=1 << 20)
    with pytest.raises(submission.Rejected, match="extended header of 1048576 bytes") as e:
        submission.unpack(bomb, str(tmp_path / "a"))
    assert "\n" not in str(e.value)
    monkeypatch.setattr(submission, "MAX_HEADER", 64 << 10)
    names = hostile.write_long_names(str(tmp_path))
    (tmp_path / "b").mkdir()
    with pytest.raises(submission.Rejected, match="longer than 1024 bytes") as e:
        submission.unpack(names, str(tmp_path / "b"))
    assert len(str(e.value)) <= 300
    # Only sources are written out.
    other = tg.tar_with(tmp_path / "o.tar.gz", ({"name": "01-tcp/server.c"}, b"int x;\n"),
                        ({"name": "01-tcp/notes.pdf"}, b"%PDF"))
    (tmp_path / "c").mkdir()
    submission.unpack(other, str(tmp_path / "c"))
    assert os.listdir(tmp_path / "c" / "01-tcp") == ["server.c"]


# --- lab-exec: how every program under test starts ------------------------------------

@pytest.fixture(scope="module")
def lab_exec():
    cc = shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    d = tempfile.mkdtemp(prefix="test_lab_exec-")
    os.chmod(d, 0o755)
    exe = os.path.join(d, "lab-exec")
    subprocess.run([cc, "-O2", "-Wall", "-Werror", "-o", exe,
                    os.path.join(ROOT, "harness", "grader", "lab-exec.c")], check=True)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


def test_lab_exec_closes_every_descriptor_but_0_1_2(lab_exec):
    """bats' fd 3 (its TAP stream) and every other one: a program cannot write a verdict,
    nor hold a runner's pipe open."""
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(5)]
    try:
        r = subprocess.run([lab_exec, "-t", "/nowhere", "-m", str(1 << 30), "--",
                            sys.executable, "-I", "-S", "-c",
                            "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')));"
                            "print(os.environ['TMPDIR'])"],
                           pass_fds=fds, capture_output=True, text=True, timeout=60)
    finally:
        for fd in fds:
            os.close(fd)
    assert r.returncode == 0, r.stderr
    listed, tmpdir = r.stdout.split("\n")[:2]
    # 0-2, and the one listdir itself opens.
    assert len(eval(listed)) == 4 and eval(listed)[:3] == [0, 1, 2], listed
    assert tmpdir == "/nowhere"


@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_lab_exec_drops_to_the_uid_and_cannot_run_the_runners_files(lab_exec, tmp_path):
    uid = 1990000255
    secret = tmp_path / "reference.py"
    secret.write_text("print('the reference')\n")
    os.chmod(tmp_path, 0o700)
    r = subprocess.run([lab_exec, "-u", str(uid), "--", sys.executable, "-I", "-S", "-c",
                        "import os, sys; print(os.getuid(), os.getgid(), os.getgroups(), flush=True);"
                        f"os.execv(sys.executable, [sys.executable, {str(secret)!r}])"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith(f"{uid} {uid} []"), r.stdout + r.stderr
    assert "the reference" not in r.stdout and "Permission denied" in r.stderr


def test_lab_exec_failure_is_its_own(lab_exec):
    r = subprocess.run([lab_exec, "-c", "/nonexistent/cgroup.procs", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 125 and r.stderr.startswith("lab-exec: /nonexistent/cgroup.procs")


# --- nothing left behind --------------------------------------------------------------

def cgroups_left(names):
    """The cgroups named names (a grader's, as its sandbox line says) that still exist."""
    found = []
    for top, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(top, d) for d in dirs if d in names]
        if top.count("/") > 8:
            dirs[:] = []
    return found


def test_zz_nothing_left_behind(hostile_runs):
    """After every run: no process, no scratch file, no file in the shared temporary
    directories, no SysV IPC object, no cgroup of the grader's."""
    uids = set()
    for run in hostile_runs.values():
        run.wait()
        assert os.listdir(run.scratch) == [], run.scratch
        uids |= tg.slot_uids(run)
    for run in hostile_runs.values():
        assert tg.leftovers(os.path.dirname(os.path.dirname(run.out)), uids) == []
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        owned = [e.path for e in os.scandir(d) if e.stat(follow_symlinks=False).st_uid in uids]
        assert owned == []
    assert sandbox.ipc_objects(uids) == []
    assert tg.listeners(uids) == []
    names = {n for run in hostile_runs.values() for n in re.findall(r"\(in (grade-\w+)\)", run.output)}
    if any("cgroup v" in run.output for run in hostile_runs.values()):
        assert names
    assert cgroups_left(names) == []
