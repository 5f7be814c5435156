#!/usr/bin/env python3
"""run.py - build the mistake catalogue's mutants (mutants.py) and check that the tests catch them.

For each mutant: write its lab's file with its replacements applied to a temporary
directory, build the program(s) that file goes into with the Makefile's flags (from that
file and the solution's other files, compiled once for all mutants; the other program is
the solution's own, from the build directory), and run the lab's bats tests that FILTER
selects on it.  It is caught if at least one of them fails and a failure says its
"Likely cause:" with the mutant's CAUSE in it; and the output must hold no shell
job-control message and no Python traceback.  The control builds each lab's server the same way with
no replacement, and runs the lab's selected tests (every mutant's FILTER at once) on it:
they must all pass, or the catches prove nothing.

    python3 harness/tests/mutants/run.py [-v] [-j N] [NAME...]   (default: all, 6 at a time)

-v shows the failure output of each mutant caught, as a learner with that mistake sees it.

Waits run with LAB_DEADLINE=5 (not 10): a mutant that hangs a step fails at that deadline,
and the control shows that the solution passes with it.  `make build` must have run (it
builds build/liblab.a and the solutions); harness/tests/test_mutants.py is the `make test`
side of this file.
"""
import atexit
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
from mutants import MUTANTS, Mutant  # noqa: E402

BY_NAME = {m.name: m for m in MUTANTS}
DEADLINE = "5"
BATS_TIMEOUT = 120  # seconds any one bats run may take, however loaded the machine


def makefile_ldlibs():
    """The libraries each lab links beyond libc, as the Makefile's LDLIBS_NN-topic say."""
    libs = {}
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^LDLIBS_(\S+)\s*:?=\s*(.*)$", line)
            if m:
                libs[m.group(1)] = m.group(2).split()
    return libs


LDLIBS = makefile_ldlibs()
PROGS = ("server", "client")
# What must never reach a learner: bash's report of a killed job, a Python traceback.
NOISE = re.compile(r"line \d+: +\d+ [A-Z][a-z]+|Traceback \(most recent call last\)")


class Drifted(Exception):
    """The solution no longer holds a text that a mutant replaces."""


def build_dir():
    return os.environ.get("LAB_BUILD") or os.path.join(ROOT, "build")


def source(m):
    """The mutated file's text: the solution's, with m's replacements applied."""
    path = os.path.join(ROOT, "solutions", m.lab, m.file)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for old, new in m.replacements:
        count = text.count(old)
        if count != 1:
            raise Drifted(f"mutant {m.name}: {count} matches, not 1, in solutions/{m.lab}/"
                          f"{m.file} of the text it replaces:\n{old}")
        text = text.replace(old, new)
    return text


def programs(m):
    """The programs that m's file goes into: server.c or client.c, that one; a module both
    programs share (04's frame.c, 05's auth.c), both; lesson 06's modules, the server."""
    stem = m.file[:-2]
    if stem in PROGS:
        return [stem]
    return ["server"] if m.lab == "06-concurrency" else list(PROGS)


def cflags():
    """The Makefile's flags (CC, CFLAGS as make would take them from the environment), and
    the sanitizer of a build directory build/sanitize-X."""
    flags = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-pedantic"]
    flags += (os.environ.get("CFLAGS") or "-O2 -g").split()
    san = re.search(r"/sanitize-([^/]+)/?$", build_dir())
    if san:
        flags += [f"-fsanitize={san.group(1).replace('-', ',')}", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer"]
    return flags


class Objects:
    """The solutions' object files, each compiled once for all the mutants that link it
    (a mutant compiles only the file it changes), in a directory removed at exit."""

    def __init__(self):
        self.dir = None
        self.made = {}
        self.lock = threading.Lock()

    def path(self, lab, cfile):
        with self.lock:
            if self.dir is None:
                self.dir = tempfile.mkdtemp(prefix="mutants-objects-")
                atexit.register(shutil.rmtree, self.dir, True)
            key = (lab, cfile)
            if key not in self.made:
                self.made[key] = threading.Lock()
            lock = self.made[key]
        out = os.path.join(self.dir, f"{lab}-{cfile[:-2]}.o")
        with lock:  # one compiles it, the others wait for it
            if not os.path.exists(out):
                compile_c(os.path.join(ROOT, "solutions", lab, cfile),
                          os.path.join(ROOT, "solutions", lab), out + ".tmp")
                os.rename(out + ".tmp", out)
        return out


OBJECTS = Objects()


def cc(args, what):
    r = subprocess.run([os.environ.get("CC") or "cc", *cflags(), *args], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{what}:\n{r.stderr}")


def compile_c(src, srcdir, out):
    cc(["-I" + os.path.join(ROOT, "labs", "common"), "-I" + srcdir, "-c", src, "-o", out],
       f"cannot compile {src}")


def build(m, work):
    """Build m into work/bin with the Makefile's flags: each program that m's file goes into
    is linked from the mutated file and the solution's other files; the other program is a
    link to the solution's.  Returns the directory, or raises RuntimeError with the
    compiler's words (or Drifted)."""
    text = source(m)
    src = os.path.join(work, m.lab)
    os.makedirs(src)
    mutated = os.path.join(src, m.file)
    with open(mutated, "w", encoding="utf-8") as f:
        f.write(text)
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    soldir = os.path.join(ROOT, "solutions", m.lab)
    # The mutated file sees the solution's headers as its own (#include "frame.h").
    try:
        compile_c(mutated, soldir, mutated[:-2] + ".o")
    except RuntimeError as e:
        raise RuntimeError(f"mutant {m.name} does not compile: {e}") from None
    modules = sorted(f for f in os.listdir(soldir) if f.endswith(".c") and f[:-2] not in PROGS)
    for prog in PROGS:
        out = os.path.join(bindir, prog)
        if prog not in programs(m):
            os.symlink(os.path.join(build_dir(), "solutions", m.lab, prog), out)
            continue
        objs = [mutated[:-2] + ".o" if f == m.file else OBJECTS.path(m.lab, f)
                for f in [prog + ".c", *modules]]
        cc([*objs, os.path.join(build_dir(), "liblab.a"), "-o", out, "-pthread",
            *LDLIBS.get(m.lab, [])], f"mutant {m.name} does not link")
    return bindir


def bats(lab, bindir, regex):
    """Run lab's bats tests whose names match regex on the programs in bindir: (the TAP
    output, the number of tests run, the number that failed)."""
    # PYTHON: else bats-run looks for one, with an import of pytest (half a second each).
    # LAB_MODELS: lesson 06's mistakes are all in the code of --model thread (or of every
    # model): the other models' runs of each test would add time, not catches.
    env = dict(os.environ, LAB_BIN=bindir, LAB_DEADLINE=DEADLINE, LAB_MODELS="thread",
               PYTHON=os.environ.get("PYTHON") or sys.executable)
    env.pop("LAB_IMPL_DESC", None)
    r = subprocess.run(
        [os.path.join(ROOT, "harness", "bats-run"), "--formatter", "tap", "--filter", regex,
         os.path.join("labs", lab, f"{lab}.bats")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=BATS_TIMEOUT)
    out = r.stdout + r.stderr
    plan = re.search(r"^1\.\.(\d+)$", out, re.M)
    return out, int(plan.group(1)) if plan else 0, len(re.findall(r"^not ok ", out, re.M))


def timed(f, *args):
    """f(*args) and the seconds it took."""
    start = time.monotonic()
    return f(*args), time.monotonic() - start


def check(m, show=False):
    """Build and run mutant m: None if its tests catch it and say its cause, else what is
    wrong, in words, with the bats output.  show: print the output of a caught one too."""
    work = tempfile.mkdtemp(prefix=f"mutant-{m.name}-")
    try:
        bindir = build(m, work)
        out, ran, failed = bats(m.lab, bindir, m.filter)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    causes = re.findall(r"^# Likely cause: (.*)$", out, re.M)
    if ran == 0:
        problem = f"its filter {m.filter!r} selects no test"
    elif failed == 0:
        problem = "no test caught it: every selected test passes"
    elif not any(m.cause in c for c in causes):
        problem = (f"no failure says the likely cause {m.cause!r}; the causes said: "
                   f"{causes or 'none'}")
    elif NOISE.search(out):
        problem = f"the output holds {NOISE.search(out).group(0)!r}"
    else:
        if show:
            print(f"--- {m.name}: {m.what} ---\n{out}", flush=True)
        return None
    return f"mutant {m.name} ({m.what}): {problem}\n--- bats output ---\n{out}"


def control_filter(lab):
    return "|".join(f"({m.filter})" for m in MUTANTS if m.lab == lab)


def check_control(lab):
    """The unpatched solution passes every test that lab's mutants select: None, or what
    failed."""
    regex = control_filter(lab)
    work = tempfile.mkdtemp(prefix=f"mutant-control-{lab}-")
    try:
        bindir = build(Mutant(f"control-{lab}", lab, "server.c", [], regex, "", ""), work)
        out, ran, failed = bats(lab, bindir, regex)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if ran == 0 or failed or NOISE.search(out):
        return (f"the solution of {lab} on its mutants' tests ({regex}): {ran} run, "
                f"{failed} failed\n--- bats output ---\n{out}")
    return None


def main(argv):
    jobs, show = 6, False
    while argv[:1] in (["-j"], ["-v"]):
        if argv[0] == "-v":
            show, argv = True, argv[1:]
        else:
            jobs, argv = int(argv[1]), argv[2:]
    chosen = [BY_NAME[n] for n in argv] if argv else MUTANTS
    labs = sorted({m.lab for m in chosen})
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        controls = {lab: pool.submit(timed, check_control, lab) for lab in labs}
        futures = {m.name: pool.submit(timed, check, m, show) for m in chosen}
        for lab, f in controls.items():
            problem, took = f.result()
            print(f"{'ok    ' if problem is None else 'FAILED'} control {lab} ({took:.1f} s)")
            if problem:
                bad += 1
                print(problem)
        for name, f in futures.items():
            try:
                problem, took = f.result()
            except (Drifted, RuntimeError) as e:
                problem, took = str(e), 0
            print(f"{'caught' if problem is None else 'FAILED'} {name} ({took:.1f} s)")
            if problem:
                bad += 1
                print(problem)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
