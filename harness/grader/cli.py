"""harness/grade: the command line, and one grading run from submissions to gradebook."""
import argparse
import glob
import itertools
import os
import queue
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

from . import results, rubric as rubric_mod, submission
from .results import Lab, Part
from .sandbox import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DESCRIPTION = """\
NAME
    grade - grade learners' socket labs: build each lab, run its tests, score by the rubric

SYNOPSIS
    harness/grade [--labs 01,04] [--out DIR] [--jobs N] [--rubric FILE] SUBMISSION...

DESCRIPTION
    A SUBMISSION is a directory laid out like labs/ - the learner's .c and .h files of each
    lab in NN-topic/starter/ or directly in NN-topic/ - or a .tar.gz, .tgz, .tar or .zip of
    one, possibly wrapped in one top-level directory.  With a single lab selected, a
    directory holding the .c files directly will do too.  Every file a submission lacks
    for a lab comes from that lab's starter; a lab with no files at all scores 0.

    Each lab is compiled with the course's flags through the Makefile (a compile error
    scores the lab 0 and shows the compiler's message), then its bats tests and its
    conformance tests (pytest) run against the programs; harness/rubric.ini says how many
    points that makes.  Submissions are untrusted code: everything runs in a sandbox with
    deadlines and rlimits, as an unprivileged user, in network, PID and mount namespaces
    where the machine allows (the report says which).

OPTIONS
    --labs LIST      the labs to grade, by number or name (01,04 or 01-tcp); default all
    --out DIR        where the results go (default ./grades)
    --jobs N         labs graded side by side (default: the number of CPUs)
    --rubric FILE    the rubric (default harness/rubric.ini; its comments give the format)
    --uid-base UID   as root, the programs of parallel slot k run as uid UID+k (default
                     1990000000); uids that are a user's or busy are skipped, and a grader
                     running at the same time takes the next range of 256
    --no-namespaces  no network, PID or mount namespace, as on a machine that does not
                     allow them (such as a container without CAP_SYS_ADMIN): to try that
    --keep-scratch   keep the scratch directory (for debugging the grader)

OUTPUT
    DIR/NAME/results.json   Gradescope's results format (score, max_score, tests[])
    DIR/NAME/report.txt     the same for people: each lab's score, what failed and why
    DIR/NAME/junit.xml      JUnit XML, one testsuite per lab
    DIR/gradebook.csv       one row per submission: each lab's score, total, status
    NAME is the submission's directory or archive name.

EXIT STATUS
    0  grading ran, whatever the scores
    1  the grader itself failed, or a lab could not be graded because of the grading
       machine (a missing tool, a crashed test runner, a port the harness could not get):
       such a lab says "not graded" and counts neither for nor against the total
    2  bad usage
"""

TAP_LINE = re.compile(rb"^(not )?ok \d+ |^1\.\.\d+$")
PYTEST_LINE = re.compile(rb"^\S+::\S+.* (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b|^collected ")


def all_labs():
    return sorted(n for n in os.listdir(os.path.join(ROOT, "labs"))
                  if re.match(r"^\d\d-", n) and os.path.isdir(os.path.join(ROOT, "labs", n)))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="grade", description=DESCRIPTION, usage=argparse.SUPPRESS,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labs", default="", help=argparse.SUPPRESS)
    p.add_argument("--out", default="grades", help=argparse.SUPPRESS)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help=argparse.SUPPRESS)
    p.add_argument("--rubric", default=os.path.join(ROOT, "harness", "rubric.ini"),
                   help=argparse.SUPPRESS)
    p.add_argument("--uid-base", type=int, default=1990000000, help=argparse.SUPPRESS)
    p.add_argument("--keep-scratch", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-namespaces", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("submissions", nargs="*", help=argparse.SUPPRESS)
    p.usage = "harness/grade [--labs 01,04] [--out DIR] [--jobs N] [--rubric FILE] SUBMISSION..."
    args = p.parse_args(argv)
    labs = all_labs()
    if args.labs:
        chosen = []
        for item in args.labs.split(","):
            match = [lab for lab in labs if item.strip() in (lab, lab[:2])]
            if not match:
                p.error(f"--labs: no lab '{item}' (have: {', '.join(labs)})")
            chosen += [m for m in match if m not in chosen]
        args.labs = sorted(chosen)
    else:
        args.labs = labs
    if not 1 <= args.jobs <= 256:
        p.error("--jobs must be between 1 and 256")
    if not args.submissions:
        p.error("no SUBMISSION given")
    for path in args.submissions:
        if not (os.path.isdir(path) or submission.is_archive(path)):
            p.error(f"{path}: not a directory nor a .tar.gz/.tgz/.tar/.zip file")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        p.error(f"--out: cannot create {args.out}: {e.strerror}")
    try:
        args.rubric = rubric_mod.load(args.rubric, labs)
    except rubric_mod.RubricError as e:
        p.error(f"--rubric: {e}")
    return args


@dataclass
class Submission:
    index: int
    path: str
    name: str
    labs: list
    files: dict = field(default_factory=dict)  # lab -> {name: path}
    where: dict = field(default_factory=dict)  # lab -> directory the files came from
    rejected: str = None
    unpacked: str = None
    started: float = None
    remaining: int = 0


def rmtree(path):
    """Remove a tree whatever modes a submission left on it."""
    def fix(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700) if os.path.isdir(p) and not os.path.islink(p) else None
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=fix)


def chown_tree(path, uid):
    os.chown(path, uid, uid)
    for d, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(d, n), uid, uid, follow_symlinks=False)


class Pool:
    """N worker threads, each a slot (its uid as root), on a priority queue: the tasks of
    earlier submissions first, so that results come out in order and few are in flight."""

    def __init__(self, n):
        self.q, self.pending, self.cv = queue.PriorityQueue(), 0, threading.Condition()
        self.seq, self.stopping = itertools.count(), False
        self.threads = [threading.Thread(target=self._work, args=(s,), daemon=True)
                        for s in range(n)]
        for t in self.threads:
            t.start()

    def submit(self, prio, fn):
        with self.cv:
            self.pending += 1
        self.q.put((prio, next(self.seq), fn))

    def _work(self, slot):
        while True:
            _, _, fn = self.q.get()
            if fn is None:
                return
            try:
                if not self.stopping:
                    fn(slot)
            finally:
                with self.cv:
                    self.pending -= 1
                    self.cv.notify_all()

    def wait(self):
        with self.cv:
            while self.pending:
                self.cv.wait(1)

    def close(self, timeout):
        self.stopping = True
        for _ in self.threads:
            self.q.put(((float("inf"),), next(self.seq), None))
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0, end - time.monotonic()))


class Grader:
    def __init__(self, args, scratch):
        self.args, self.rubric, self.scratch = args, args.rubric, scratch
        self.lock = threading.Lock()
        self.failed = False  # a lab not graded, or the grader's own error
        self.subs = []
        self.infra_all = None  # a reason no lab can be graded
        self.infra_part = {}  # kind -> a reason no such part can run

    # --- setting up -------------------------------------------------------------------

    def find_tools(self):
        def find_python(*flags):
            try:
                r = subprocess.run([os.path.join(ROOT, "harness", "find-python"), *flags],
                                   capture_output=True, text=True, timeout=60)
                return r.stdout.strip() if r.returncode == 0 else None
            except (OSError, subprocess.TimeoutExpired):
                return None
        self.py_any = find_python("--any") or sys.executable
        self.py = find_python()
        self.bats = shutil.which("bats")
        missing = [t for t in ("make", "cc") if not shutil.which(t)]
        if missing:
            self.infra_all = f"{' and '.join(missing)} not found on this machine"
        if not self.bats:
            self.infra_part["bats"] = "bats is not installed (harness/deps installs it)"
        if not self.py:
            self.infra_part["conformance"] = ("no Python with pytest and hypothesis "
                                              "(harness/deps installs them)")
        dirs = [os.path.dirname(p) for p in (self.bats, self.py, self.py_any,
                                               shutil.which("make"), shutil.which("cc")) if p]
        self.path = ":".join(dict.fromkeys(dirs + ["/usr/local/bin", "/usr/bin", "/bin"]))

    def copy_repo(self):
        """The course's files the builds and tests need, in a root-owned copy that every
        sandbox can read and none can change, and the course library built once in it."""
        self.repo = os.path.join(self.scratch, "repo")
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "tests", "grader")
        os.mkdir(self.repo)
        shutil.copy2(os.path.join(ROOT, "Makefile"), self.repo)
        for d in ("labs", "harness"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(self.repo, d), ignore=skip)
        for d, dirs, files in os.walk(self.repo):
            os.chmod(d, 0o755)
            for n in files:
                p = os.path.join(d, n)
                os.chmod(p, os.stat(p).st_mode | 0o444)
        self.lib = os.path.join(self.repo, "build")
        self.plugins = os.path.join(self.scratch, "plugins")
        os.mkdir(self.plugins, 0o755)
        plugin = os.path.join(self.plugins, "pytest_shared_tmp.py")
        shutil.copyfile(os.path.join(os.path.dirname(__file__), "pytest_shared_tmp.py"), plugin)
        os.chmod(plugin, 0o644)
        if self.infra_all:
            return
        try:
            r = subprocess.run(["make", "-s", "-C", self.repo, f"BUILD={self.lib}",
                                f"{self.lib}/liblab.a"], capture_output=True, text=True,
                               timeout=300, env=self.env(self.scratch))
            if r.returncode != 0:
                self.infra_all = "the course library does not build:\n" + r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            self.infra_all = "the course library did not build within 300 s"
        for d, dirs, files in os.walk(self.lib):
            os.chmod(d, 0o755)

    def probe_runners(self):
        """Can the test runners start in the sandbox, as the user they will run as, with
        what the tests load?  If not, no test of that kind can fail because of a
        submission: those parts are "not graded" rather than scored 0."""
        tmp = "/tmp"
        if "tmp" not in self.sandbox.features:  # a directory the runner may write to
            tmp = os.path.join(self.scratch, "probe-tmp")
            os.mkdir(tmp, 0o700)
            if self.runner_uid(0) is not None:
                os.chown(tmp, self.runner_uid(0), self.runner_uid(0))
        probe = os.path.join(self.repo, "harness", "probe.bats")
        with open(probe, "w") as f:
            f.write("bats_require_minimum_version 1.5.0\nbats_load_library bats-support\n"
                    "bats_load_library bats-assert\n@test probe { assert_equal 1 1; }\n")
        os.chmod(probe, 0o644)
        checks = {"bats": ([os.path.join(self.repo, "harness", "bats-run"), "--formatter", "tap",
                            probe], re.compile(r"^ok 1 ", re.M)),
                  "conformance": ([self.py or "python3", "-c", "import pytest, hypothesis"], None)}
        for kind, (argv, want) in checks.items():
            if kind in self.infra_part:
                continue
            r = self.sandbox.run(argv, env=self.env(tmp), cwd="/", timeout=120,
                                 uid=self.runner_uid(0))
            if r.infra or r.status != 0 or (want and not want.search(r.output)):
                self.infra_part[kind] = (f"the {kind} runner does not work in the sandbox: "
                                         f"{r.infra or r.output.strip()[-1000:]}")

    def env(self, tmp, **extra):
        env = {"PATH": self.path, "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
               "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
               "PYTHON": self.py or self.py_any,
               "BATS_LIB_PATH": os.environ.get("BATS_LIB_PATH", "/usr/lib/bats")}
        env.update(extra)
        return env

    def runner_uid(self, slot):
        """The uid the test runner runs as: root's programs under test get their own uid
        through setpriv; without setpriv, the runner takes the slot's uid too."""
        if self.sandbox.is_root and not self.sandbox.setpriv:
            return self.sandbox.student_uid(slot)
        return None

    def prepare(self, index, path):
        sub = Submission(index, path, submission.name_of(path),
                         [Lab(lab, self.rubric.labs[lab].points) for lab in self.args.labs])
        try:
            base = path
            if submission.is_archive(path):
                sub.unpacked = base = os.path.join(self.scratch, f"unpack-{index}")
                os.mkdir(base, 0o700)
                submission.unpack(path, base)
            root = submission.find_root(base, self.args.labs)
            for lab in sub.labs:
                files, where = submission.sources(root, lab.name, len(sub.labs) == 1)
                sub.files[lab.name], sub.where[lab.name] = files, where
        except submission.Rejected as e:
            sub.rejected = str(e)
        except OSError as e:
            sub.rejected = f"cannot read the submission: {e}"
        return sub

    # --- grading one lab ----------------------------------------------------------------

    def build(self, sub, lab, slot):
        if sub.started is None:
            sub.started = time.monotonic()
        start = time.monotonic()
        rule = self.rubric.labs[lab.name]
        files = sub.files[lab.name]
        if self.infra_all:
            lab.status, lab.infra = "not_graded", self.infra_all
            return self.lab_done(sub, lab)
        starter = os.path.join(self.repo, "labs", lab.name, "starter")
        given = sorted(n for n in os.listdir(starter))
        lab.notes.append(f"graded from {sub.where[lab.name]}/: {', '.join(sorted(files))}")
        from_starter = [n for n in given if n not in files]
        if from_starter:
            lab.notes.append(f"from the starter: {', '.join(from_starter)}")

        job = os.path.join(self.scratch, f"{sub.index:04d}-{lab.name}")
        os.mkdir(job, 0o711)
        src, bdir = os.path.join(job, "src"), os.path.join(job, "build")
        submission.merge(starter, files, os.path.join(src, lab.name))
        os.mkdir(bdir)
        shutil.copytree(os.path.join(self.lib, "common"), os.path.join(bdir, "common"))
        shutil.copy2(os.path.join(self.lib, "liblab.a"), bdir)
        uid = self.sandbox.student_uid(slot)
        if uid is not None:  # the compiler reads what the submission names: not as root
            chown_tree(src, uid)
            chown_tree(bdir, uid)
        tmp = "/tmp" if "tmp" in self.sandbox.features else bdir
        timeout = self.rubric.grade["build_timeout"]
        r = self.sandbox.run(["make", "-s", "--no-print-directory", "-C", self.repo, "build",
                              f"IMPL={src}", f"LAB={lab.name[:2]}", f"BUILD={bdir}"],
                             env=self.env(tmp), cwd=bdir, timeout=timeout, uid=uid, cap=64 << 10,
                             memory_mb=self.rubric.limits["build_memory_mb"], writable=[bdir])
        progs = {n: glob.glob(os.path.join(bdir, "custom", "*", lab.name, n))
                 for n in ("server", "client")}
        lab.seconds += time.monotonic() - start
        if r.infra:
            lab.status, lab.infra = "not_graded", f"the build could not run: {r.infra}"
        elif r.timed_out or r.status != 0 or not all(progs.values()):
            lab.status = "compile_error"
            # make's own "*** [...] Error 1" says nothing the compiler has not said.
            said = [line for line in r.output.strip().splitlines()
                    if not line.startswith("make: ***")] or r.output.strip().splitlines()
            lab.build_output = (results.clip(self.tidy("\n".join(said), job), 8000)
                                or f"(status {r.status})")
            if r.timed_out:
                lab.build_output += (f"\n\nThe build took more than {timeout:g} s "
                                     f"and was stopped.")
        else:
            prog = os.path.join(job, "prog")
            os.mkdir(prog, 0o711)
            for n, found in progs.items():
                shutil.copyfile(found[0], os.path.join(prog, n))
                # Executable by the programs' uid; readable by nobody else.
                os.chmod(os.path.join(prog, n), 0o711 if self.sandbox.is_root else 0o755)
        rmtree(src)
        rmtree(bdir)
        if lab.status != "graded":
            rmtree(job)
            return self.lab_done(sub, lab)
        kinds = [k for k in ("bats", "conformance") if getattr(rule, k) > 0]
        if not glob.glob(self.conformance_files(lab.name)):
            kinds = [k for k in kinds if k != "conformance"]
        weight = sum(getattr(rule, k) for k in kinds)
        lab.parts = [Part(k, rule.points * getattr(rule, k) / weight) for k in kinds]
        lab.pending = len(lab.parts)
        if not lab.parts:
            rmtree(job)
            return self.lab_done(sub, lab)
        for i, part in enumerate(lab.parts):
            self.pool.submit((sub.index, 1, i, lab.name),
                             lambda slot, part=part: self.run_part(sub, lab, part, job, slot))

    def conformance_files(self, lab):
        return os.path.join(self.repo, "harness", "conformance", f"test_{lab[:2]}_*.py")

    def run_part(self, sub, lab, part, job, slot):
        start = time.monotonic()
        try:
            self._run_part(lab, part, job, slot)
            for t in part.tests:
                t.output = self.tidy(t.output, job)
            part.infra = self.tidy(part.infra, job)
        except Exception:
            part.infra = "the grader failed:\n" + traceback.format_exc()
        with self.lock:  # the lab's two parts may end at once
            lab.seconds += time.monotonic() - start
            lab.pending -= 1
            last = lab.pending == 0
        if last:
            rmtree(job)
            self.lab_done(sub, lab)

    def _run_part(self, lab, part, job, slot):
        if part.kind in self.infra_part:
            part.infra = self.infra_part[part.kind]
            return
        rule, grade = self.rubric.labs[lab.name], self.rubric.grade
        pdir = os.path.join(job, part.kind)
        os.mkdir(pdir, 0o700)
        runner = self.runner_uid(slot)
        if runner is not None:
            chown_tree(pdir, runner)
        student = self.sandbox.student_uid(slot)
        separate = bool(self.sandbox.setpriv and student is not None)
        if separate:
            os.chmod(pdir, 0o711)  # the programs may be handed files below it
        # LAB_BIN holds wrappers: each program under test gets its own memory limit (lower
        # than the runners'), and as root the slot's uid, while the runner stays root, out
        # of its reach (it cannot signal it, trace it or write its results).
        bindir = os.path.join(job, f"bin-{part.kind}")
        os.mkdir(bindir, 0o711)
        drop = (f"{self.sandbox.setpriv} --reuid={student} --regid={student} --clear-groups "
                f"--no-new-privs -- " if separate else "")
        for n in ("server", "client"):
            path = os.path.join(bindir, n)
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\nulimit -v {self.rubric.limits['memory_mb'] << 10} || exit 125\n"
                        f"exec {drop}{shlex.quote(os.path.join(job, 'prog', n))} \"$@\"\n")
            os.chmod(path, 0o755)
        tmp = "/tmp" if "tmp" in self.sandbox.features else pdir
        env = self.env(tmp, LAB_BIN=bindir, LAB_IMPL=bindir, LAB_BUILD=self.lib,
                       LAB_DEADLINE=f"{grade['deadline']:g}", LAB_EXAMPLES=str(grade["examples"]))
        timeout = grade["timeout"]
        if part.kind == "bats":
            bats_file = os.path.join(self.repo, "labs", lab.name, f"{lab.name}.bats")
            # --tempdir: bats makes its own with mkdir (umask 022), not mktemp (0700), so the
            # programs under test can read the files a test gives them (05's key files).
            argv = [os.path.join(self.repo, "harness", "bats-run"), "--formatter", "tap",
                    "--tempdir", os.path.join(tmp, "bats-run")]
            if rule.bats_filter:
                argv += ["--filter", rule.bats_filter]
            r = self.sandbox.run(argv + [bats_file], env=env, cwd=tmp, timeout=timeout,
                                 uid=runner, cap=2 << 20, keep=TAP_LINE, writable=[pdir])
            results.score_bats(part, r, results.bats_names(bats_file, rule.bats_filter), timeout)
        else:
            junit = os.path.join(pdir, "junit.xml")
            argv = [self.py, "-m", "pytest", "-c",
                    os.path.join(self.repo, "harness", "conformance", "pytest.ini"),
                    "-v", "-v", "--tb=short", f"--junitxml={junit}",
                    *sorted(glob.glob(self.conformance_files(lab.name)))]
            if rule.conformance_filter:
                argv += ["-k", rule.conformance_filter]
            if separate:
                argv += ["-p", "pytest_shared_tmp"]
                env["PYTHONPATH"] = self.plugins
            r = self.sandbox.run(argv, env=env, cwd=tmp, timeout=timeout, uid=runner,
                                 cap=2 << 20, keep=PYTEST_LINE, writable=[pdir])
            results.score_pytest(part, r, junit, timeout)

    def tidy(self, text, job):
        """Scratch paths mean nothing to the reader: the course's files by their place in
        the repository, the submission's files and programs by theirs."""
        if not text:
            return text
        base = os.path.basename(self.scratch)
        # The Makefile names sources DIR/NN-topic//file.c: the learner knows NN-topic/file.c.
        text = re.sub(re.escape(f"{job}/src/") + r"([^/\s]+)//", r"\1/", text)
        for prefix in (f"{self.repo}/", f"{base}/repo/"):
            text = text.replace(prefix, "")
        for sub_dir, shown in (("src/", ""), ("bin-bats", "$LAB_BIN"),
                               ("bin-conformance", "$LAB_BIN"), ("prog", "$LAB_BIN")):
            text = text.replace(f"{job}/{sub_dir}", shown)
            text = text.replace(f"{base}/{os.path.basename(job)}/{sub_dir}", shown)
        return text.replace(self.scratch, "<scratch>")

    def lab_done(self, sub, lab):
        if any(p.infra for p in lab.parts) and lab.status == "graded":
            lab.status = "not_graded"
        with self.lock:
            sub.remaining -= 1
            if lab.status == "not_graded":
                self.failed = True
            if sub.remaining:
                return
        self.write(sub)

    def write(self, sub):
        seconds = time.monotonic() - sub.started if sub.started else 0.0
        results.write_submission(sub, self.rubric, self.sandbox.describe() if self.sandbox
                                 else "none", seconds, os.path.join(self.args.out, sub.name))
        if sub.unpacked:
            rmtree(sub.unpacked)
        score, max_score = results.totals(sub.labs)
        labs = "  ".join(f"{lab.name[:2]} {results.fmt(lab.score())}" for lab in sub.labs)
        flag = f"  REJECTED: {sub.rejected}" if sub.rejected else ""
        print(f"{sub.name}: {results.fmt(score)} / {results.fmt(max_score)}   {labs}{flag}",
              flush=True)

    # --- the run ----------------------------------------------------------------------

    def run(self):
        args = self.args
        self.sandbox = None
        self.find_tools()
        self.copy_repo()
        self.sandbox = Sandbox(self.py_any, self.scratch, self.rubric.limits, args.uid_base,
                               args.jobs, namespaces=not args.no_namespaces)
        if not self.infra_all:
            self.probe_runners()
        print(f"grade: {len(args.submissions)} submission(s), labs {', '.join(args.labs)}, "
              f"{args.jobs} job(s)\ngrade: sandbox: {self.sandbox.describe()}", flush=True)
        names = set()
        for i, path in enumerate(args.submissions):
            sub = self.prepare(i, path)
            base, n = sub.name, 1
            while sub.name in names:  # two submissions of the same name: both kept
                n += 1
                sub.name = f"{base}-{n}"
            names.add(sub.name)
            self.subs.append(sub)
        os.makedirs(args.out, exist_ok=True)
        self.pool = Pool(args.jobs)
        try:
            for sub in self.subs:
                sub.remaining = len(sub.labs)
                for lab in sub.labs:
                    if sub.rejected:
                        lab.status = "rejected"
                        self.lab_done(sub, lab)
                    elif not sub.files[lab.name]:
                        lab.status = "missing"
                        lab.notes.append("no .c or .h file of this lab in the submission")
                        self.lab_done(sub, lab)
                    else:
                        self.pool.submit((sub.index, 0, 0, lab.name),
                                         lambda slot, sub=sub, lab=lab: self.guarded(sub, lab, slot))
            self.pool.wait()
        finally:
            if self.pool.pending:  # interrupted: end the runs first, then their threads
                self.sandbox.stop_all()
            self.pool.close(10)
        results.write_gradebook(self.subs, args.labs, os.path.join(args.out, "gradebook.csv"))
        print(f"grade: results in {args.out}/, gradebook {args.out}/gradebook.csv", flush=True)
        if self.failed:
            print("grade: some labs were NOT GRADED because of infrastructure errors "
                  "(see their report.txt)", file=sys.stderr)
        return 1 if self.failed else 0

    def guarded(self, sub, lab, slot):
        """A build task: an exception in the grader makes the lab "not graded", not 0."""
        try:
            self.build(sub, lab, slot)
        except Exception:
            lab.status = "not_graded"
            lab.infra = "the grader failed:\n" + traceback.format_exc()
            self.lab_done(sub, lab)


def make_scratch():
    """The scratch directory: in $TMPDIR if the programs' uids can pass through every
    directory above it (as root; a private TMPDIR would lock them out), else in /tmp."""
    for base in (None, "/tmp", "/var/tmp"):
        scratch = tempfile.mkdtemp(prefix="grade-", dir=base)
        up = os.path.dirname(scratch)
        while os.geteuid() == 0 and os.stat(up).st_mode & stat.S_IXOTH:
            if up == "/":
                break
            up = os.path.dirname(up)
        if os.geteuid() != 0 or up == "/":
            os.chmod(scratch, 0o711)  # the sandboxes' uids pass to their own directories
            return scratch
        os.rmdir(scratch)
    raise SystemExit("grade: no temporary directory that other users can pass through")


def main(argv=None):
    args = parse_args(argv)
    scratch = make_scratch()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    grader = Grader(args, scratch)
    try:
        return grader.run()
    except KeyboardInterrupt:
        print("grade: stopped", file=sys.stderr)
        return 130
    finally:
        if getattr(grader, "sandbox", None):
            grader.sandbox.stop_all()
        if args.keep_scratch:
            print(f"grade: scratch directory kept: {scratch}", file=sys.stderr)
        else:
            rmtree(scratch)
