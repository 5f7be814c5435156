"""Tests of the instructor's grader, harness/grade.

The grader runs as it would for an instructor, on submissions: the solutions (full marks),
the starters (nothing), and lab 01 servers with one flaw each (a compile error, an endless
#include, a crash, silence, leftover daemons, SIGTERM ignored, the default port bound instead
of --port, a stdout flood), plus archives of them, one hostile.  fixtures/faults.py
describes each flaw as replacements on the current solutions/01-tcp/server.c, which
fixture() applies.  It grades with fixtures/quick.ini, a few tests per lab, so that this
file takes about 60 s on an idle 2-core machine (under 2 minutes beside the rest of `make
test`).  The grader runs start together at the beginning (they spend much of their time
waiting on deadlines) and each test waits for the one it checks.

Every run must score as expected, write valid Gradescope, JUnit and CSV files, exit with
the right status, and leave nothing behind: no process, no file, no listening port.  The
attacks of the audit of the grader (forged verdicts, reading the course, getting a lab
excluded, leaving things behind, hostile archives) are test_grade_hostile.py's.
"""
import csv
import io
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GRADE = os.path.join(ROOT, "harness", "grade")
FIXTURES = os.path.join(HERE, "fixtures")
QUICK = os.path.join(FIXTURES, "quick.ini")
LABS = sorted(n for n in os.listdir(os.path.join(ROOT, "labs")) if re.match(r"^\d\d-", n))
IS_ROOT = os.geteuid() == 0
RUN_TIMEOUT = 600  # seconds any one grader run may take here, whatever the load

sys.path.insert(0, os.path.join(ROOT, "harness"))
sys.path.insert(0, FIXTURES)
import faults  # noqa: E402
from grader import results, sandbox, submission  # noqa: E402

MADE = {}  # the session's fixtures: "dir", the directory they are in, and name: path


def fixture(name):
    """The submission directory of fixture name, <tmp>/<name>/01-tcp/server.c: made on
    first use (in a directory of this session's, removed at its end) from the current
    solution and the flaw fixtures/faults.py describes.  The directory's name is the
    submission's name in the grader's reports."""
    if name not in MADE:
        if "dir" not in MADE:
            # Readable by all: the programs under test run as other users.
            MADE["dir"] = tempfile.mkdtemp(prefix="test_grade-fixtures-")
            os.chmod(MADE["dir"], 0o755)
        try:
            MADE[name] = faults.write(name, MADE["dir"])
        except faults.Drifted as e:
            pytest.fail(f"{e}\n(update fixtures/faults.py to the solution)", pytrace=False)
    return MADE[name]


@pytest.fixture(scope="session", autouse=True)
def remove_fixtures():
    yield
    if "dir" in MADE:
        shutil.rmtree(MADE.pop("dir"), ignore_errors=True)
    MADE.clear()


def test_every_fault_applies_once():
    """Every flaw applies to the current solution, and one that no longer does is an error
    that names its fixture."""
    for name in faults.FAULTS:
        with open(os.path.join(fixture(name), "01-tcp", "server.c"), encoding="utf-8") as f:
            text = f.read()
        assert text.startswith("/* server.c - lesson 01's solution with one flaw"), name
        assert "the flaw" in text.lower(), name
    with open(faults.SOLUTION, encoding="utf-8") as f:
        solution = f.read()
    old = faults.FAULTS["silent"][1][0][0]
    with pytest.raises(faults.Drifted, match="^fixture silent: 0 matches"):
        faults.source("silent", solution.replace(old, ""))
    with pytest.raises(faults.Drifted, match="^fixture silent: 2 matches"):
        faults.source("silent", solution.replace(old, old + old))


class Run:
    """One harness/grade run, started at once and waited for when a test needs it."""

    def __init__(self, base, name, args, env=None, user=None):
        self.out = os.path.join(base, name, "out")
        self.scratch = os.path.join(base, name, "scratch")  # the grader's TMPDIR
        os.makedirs(self.out)
        os.makedirs(self.scratch)
        prefix = []
        if user is not None:  # the grader itself as an unprivileged user
            for d in (self.out, self.scratch, os.path.dirname(self.out)):
                os.chown(d, user, user)
            prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
        env = dict(os.environ, TMPDIR=self.scratch, **(env or {}))
        self.proc = subprocess.Popen(prefix + [sys.executable, GRADE, "--out", self.out, *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, text=True, cwd=base)
        self.done = False

    def wait(self):
        if not self.done:
            try:
                self.output, _ = self.proc.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.output = self.proc.communicate()[0]
                pytest.fail(f"harness/grade ran for more than {RUN_TIMEOUT} s:\n{self.output}")
            self.status, self.done = self.proc.returncode, True
        return self

    def results(self, name):
        with open(os.path.join(self.out, name, "results.json"), encoding="utf-8") as f:
            return json.load(f)

    def gradebook(self):
        with open(os.path.join(self.out, "gradebook.csv"), newline="", encoding="utf-8") as f:
            return list(csv.reader(f))


def make_archives(base):
    """compile-error as a .tar.gz wrapped in a directory, as a .zip with macOS litter, and a
    hostile .tar.gz whose second member climbs out with ../."""
    src = os.path.join(fixture("compile-error"), "01-tcp", "server.c")
    tgz = os.path.join(base, "alice.tar.gz")
    with tarfile.open(tgz, "w:gz") as t:
        t.add(src, "alice-labs/01-tcp/server.c")
    zp = os.path.join(base, "bob.zip")
    with zipfile.ZipFile(zp, "w") as z:
        z.write(src, "labs/01-tcp/server.c")
        z.writestr("__MACOSX/labs/01-tcp/._server.c", b"\0\5\26\7junk")
    evil = os.path.join(base, "mallory.tar.gz")
    with tarfile.open(evil, "w:gz") as t:
        t.add(src, "01-tcp/server.c")
        t.add(src, "../escaped.c")
    return tgz, zp, evil


@pytest.fixture(scope="session")
def runs():
    """Every grader run of this file, started together."""
    # Not in pytest's own temporary directory: that is root's alone, and the programs under
    # test run as other users (as does the grader itself in test_grader_not_root).
    base = tempfile.mkdtemp(prefix="test_grade-")
    os.chmod(base, 0o755)
    tgz, zp, evil = make_archives(base)
    # The default port in use on the machine itself: the default-port fixture must still
    # get it, in a network namespace of its own (as would parallel runs of it).
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 65432))
        holder.listen()
    except OSError:  # someone has it already: just as good
        holder.close()
        holder = None
    r = {}
    r["main"] = Run(base, "main", [
        "--rubric", QUICK, "--jobs", "3",
        fixture("default-port"), os.path.join(ROOT, "solutions"),
        fixture("crash"), fixture("silent"), fixture("forker"), fixture("sigterm"),
        fixture("flood"), fixture("compile-error"), fixture("include-zero"), tgz, zp, evil])
    # No bats libraries: the bats half of every lab cannot run, which is no one's fault.
    r["infra"] = Run(base, "infra", ["--rubric", QUICK, "--labs", "01", "--jobs", "1",
                                     fixture("compile-error"), fixture("crash")],
                     env={"BATS_LIB_PATH": os.path.join(base, "nowhere")})
    # As on a machine without namespaces (Gradescope's containers): the daemons the forker
    # leaves must die all the same.
    r["flat"] = Run(base, "flat", ["--rubric", QUICK, "--labs", "01", "--jobs", "1",
                                   "--no-namespaces", fixture("forker")])
    if NOBODY:
        r["nobody"] = Run(base, "nobody", ["--rubric", QUICK, "--labs", "01", "--jobs", "2",
                                           os.path.join(ROOT, "labs"),
                                           os.path.join(ROOT, "solutions")], user=65534)
    yield r
    if holder:
        holder.close()
    for run in r.values():
        if not run.done:
            run.proc.kill()
            run.proc.wait()
    shutil.rmtree(base, ignore_errors=True)


# --- what every run must satisfy --------------------------------------------------------

GS_TOP = {"score", "max_score", "execution_time", "output", "output_format",
          "test_output_format", "test_name_format", "visibility", "stdout_visibility",
          "extra_data", "tests", "leaderboard"}
GS_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
           "output_format", "tags", "visibility", "extra_data"}
GS_VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}
GS_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_gradescope(doc):
    """results.json as Gradescope's autograder specification describes it."""
    assert set(doc) <= GS_TOP, set(doc) - GS_TOP
    for key in ("score", "max_score"):
        assert isinstance(doc[key], (int, float)) and doc[key] >= 0
    assert isinstance(doc["execution_time"], int)
    assert isinstance(doc["output"], str) and doc["output_format"] in GS_FORMATS
    assert doc["test_output_format"] in GS_FORMATS
    assert doc["tests"], "no tests at all"
    for t in doc["tests"]:
        assert set(t) <= GS_TEST, set(t) - GS_TEST
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["output"], str)
        assert t["visibility"] in GS_VISIBILITY and t["status"] in ("passed", "failed")
        assert 0 <= t["score"] <= t["max_score"] + 1e-9
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] > 0)
    assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"], abs=1e-3)
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(doc["max_score"], abs=1e-3)


def check_junit(path, doc):
    """junit.xml: one testsuite per lab, a testcase for each test results.json scores."""
    suites = ET.parse(path).getroot()
    assert suites.tag == "testsuites"
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        lab = suite.get("name")
        scored = [t for t in doc["tests"] if t["name"].startswith(lab) and t["max_score"] > 0]
        failed = [t for t in scored if t["status"] == "failed"]
        if doc["extra_data"]["labs"][lab]["status"] == "graded":
            assert len(cases) == len(scored)
            assert int(suite.get("failures")) == len(failed)


def check_run(run, expected, labs, status=0):
    """The run exited with status; each submission's files are valid and score as
    expected: {name: {lab: (lab status, score)}} (labs left out: nothing submitted)."""
    run.wait()
    assert run.status == status, run.output
    book = run.gradebook()
    assert book[0] == ["submission", *labs, "total", "max_score", "status"]
    rows = {row[0]: row for row in book[1:]}
    assert set(rows) == set(expected), run.output
    for name, want in expected.items():
        doc = run.results(name)
        check_gradescope(doc)
        check_junit(os.path.join(run.out, name, "junit.xml"), doc)
        with open(os.path.join(run.out, name, "report.txt"), encoding="utf-8") as f:
            assert f.read().startswith(f"Submission: {name}\n")
        got = {lab: (v["status"], v["score"] if v["score"] is None else round(v["score"], 3))
               for lab, v in doc["extra_data"]["labs"].items()}
        full = {lab: want.get(lab, ("missing", 0.0)) for lab in labs}
        assert got == full, f"{name}: {got}\n{run.output}"
        total = sum(s for _, s in full.values() if s is not None)
        assert doc["score"] == pytest.approx(total)
        # The gradebook's row says the same.
        row = rows[name]
        for lab, cell in zip(labs, row[1:]):
            score = full[lab][1]
            assert cell == ("not graded" if score is None else results.fmt(score))
        assert float(row[len(labs) + 1]) == pytest.approx(total)
        for lab, v in doc["extra_data"]["labs"].items():  # each lab within its time budget
            assert v["seconds"] < 150, f"{name} {lab} took {v['seconds']} s"
    return {name: run.results(name) for name in expected}


ALL = {lab: ("graded", 10.0) for lab in LABS}


def lab01(status, score):
    return {"01-tcp": (status, score)}


def test_main_batch_scores(runs):
    run = runs["main"].wait()
    # In a network namespace, the default port is free whoever has it on the machine (this
    # file holds it); without one it is taken, and the server that insists on it fails.
    netns = "NO network namespace" not in run.output
    docs = check_run(run, {
        "solutions": ALL,
        "default-port": lab01("graded", 10.0 if netns else 0.0),
        "crash": lab01("graded", 7.5), "silent": lab01("graded", 7.5),
        "forker": lab01("graded", 10.0), "sigterm": lab01("graded", 2.5),
        # The flood still ends on SIGTERM: the library's stop thread exits from anywhere.
        "flood": lab01("graded", 2.5),
        "compile-error": lab01("compile_error", 0.0), "include-zero": lab01("compile_error", 0.0),
        "alice": lab01("compile_error", 0.0), "bob": lab01("compile_error", 0.0),
        "mallory": {lab: ("rejected", 0.0) for lab in LABS},
    }, LABS)
    assert docs["solutions"]["score"] == docs["solutions"]["max_score"] == 10 * len(LABS)
    sandbox_line = docs["solutions"]["extra_data"]["sandbox"]
    if IS_ROOT:
        assert "network namespace" in sandbox_line and "PID namespace" in sandbox_line
        assert "run as uid 1990" in sandbox_line


def test_which_tests_fail_and_why(runs):
    run = runs["main"].wait()

    def failed(name):
        return {t["name"]: t["output"] for t in run.results(name)["tests"]
                if t["status"] == "failed"}

    crash = failed("crash")
    assert set(crash) == {"01-tcp bats: server answers a message with 'ACK: ' followed by the "
                          "same bytes"} | {f"{lab}: nothing submitted" for lab in LABS[1:]}
    sigterm = failed("sigterm")
    assert "01-tcp bats: server exits 0 on SIGTERM" in sigterm
    assert "did not exit 0 on SIGTERM" in sigterm["01-tcp conformance: "
                                                  "test_server_banner_shows_the_real_port"]
    # The compiler's own words, with the submission's file names, not the scratch's.
    for name in ("compile-error", "alice", "bob"):
        out = failed(name)["01-tcp: build"]
        assert "01-tcp/server.c" in out and "BUFFER_SIZE" in out and "grade-" not in out
    assert "out of memory" in failed("include-zero")["01-tcp: build"]
    assert "01-tcp bats: server exits 0 on SIGTERM" not in failed("flood")
    flood = run.results("flood")
    assert len(json.dumps(flood)) < 200_000  # a flood stays out of the results
    assert "'..'" in run.results("mallory")["extra_data"]["rejected"]
    assert not os.path.exists(os.path.join(os.path.dirname(run.out), "escaped.c"))
    rows = {row[0]: row for row in run.gradebook()}
    assert rows["mallory"][-1].startswith("rejected: ")
    assert rows["solutions"][-1] == "ok"


def test_infrastructure_error_counts_zero_flagged_for_a_regrade(runs):
    """A lab the grading machine could not grade (here: no bats libraries, which the grader's
    own check of its runner finds) counts 0 of its points, flagged REGRADE, locally and on
    Gradescope, rather than leaving the total."""
    docs = check_run(runs["infra"], {"compile-error": lab01("compile_error", 0.0),
                                     "crash": lab01("not_graded", 0.0)}, ["01-tcp"], status=1)
    crash = docs["crash"]
    assert crash["score"] == 0 and crash["max_score"] == 10  # counted, not left out
    assert "REGRADE" in crash["output"] and "NOT GRADED" in crash["output"]
    assert crash["tests"][0]["name"] == "01-tcp: NOT GRADED (infrastructure error): REGRADE"
    assert crash["tests"][0]["max_score"] == 10
    assert crash["extra_data"]["regrade"] == ["01-tcp"]
    rows = {row[0]: row for row in runs["infra"].gradebook()}
    assert rows["crash"][1] == "0" and rows["crash"][-1].startswith("REGRADE")
    assert "not graded" in runs["infra"].output.lower() and "(REGRADE)" in runs["infra"].output


def test_without_namespaces(runs):
    docs = check_run(runs["flat"], {"forker": lab01("graded", 10.0)}, ["01-tcp"])
    line = docs["forker"]["extra_data"]["sandbox"]
    assert "NO network namespace" in line and "no PID namespace" in line


def nobody_can_run_the_grader():
    if not IS_ROOT or not shutil.which("setpriv"):
        return False
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            sys.executable, "-c", f"import os; os.listdir({FIXTURES!r})"],
                           capture_output=True, timeout=60)
    return probe.returncode == 0


NOBODY = nobody_can_run_the_grader()


@pytest.mark.skipif(not NOBODY, reason="needs root, setpriv, and a repository nobody can read")
def test_grader_not_root(runs):
    docs = check_run(runs["nobody"], {"labs": lab01("graded", 0.0),
                                      "solutions": lab01("graded", 10.0)}, ["01-tcp"])
    line = docs["solutions"]["extra_data"]["sandbox"]
    assert "uid 65534" in line
    if "user namespace" in line:  # unshare --user --map-root-user, where the machine allows
        assert "network namespace" in line and "PID namespace" in line


@pytest.fixture
def open_tmp():
    """A temporary directory the programs' uids can pass through (pytest's is root's)."""
    path = tempfile.mkdtemp(prefix="test_grade-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_stopping_the_grader_stops_everything(open_tmp):
    """SIGTERM to harness/grade mid-run: exit 130 at once, nothing left behind."""
    tmp_path = open_tmp
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, GRADE, "--rubric", QUICK, "--labs", "01",
                             "--out", str(tmp_path / "out"), fixture("silent"), fixture("flood")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, TMPDIR=str(scratch)))
    try:
        for line in proc.stdout:  # once the sandbox is there, grading is under way
            if line.startswith("grade: sandbox:"):
                break
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, out
    assert os.listdir(scratch) == []
    assert leftovers(str(tmp_path)) == []


# --- the command line -----------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ([], "no SUBMISSION"),
    (["--labs", "99", "solutions"], "no lab '99'"),
    (["--jobs", "0", "solutions"], "--jobs"),
    (["no-such-dir"], "not a directory"),
    (["--rubric", os.path.join(FIXTURES, "no-such.ini"), "solutions"], "--rubric"),
])
def test_bad_usage_exits_2(args, message, tmp_path):
    r = subprocess.run([sys.executable, GRADE, "--out", str(tmp_path), *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and message in r.stderr and "usage:" in r.stderr
    assert os.listdir(tmp_path) == []


def test_help_is_a_manual():
    r = subprocess.run([sys.executable, GRADE, "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    for section in ("SYNOPSIS", "OPTIONS", "OUTPUT", "EXIT STATUS", "--labs", "--jobs"):
        assert section in r.stdout


@pytest.mark.parametrize("text, error", [
    ("[lab]\npionts = 3\n", "unknown key 'pionts'"),
    ("[07-nothing]\npoints = 3\n", "unknown section"),
    ("[lab]\npoints = -1\n", "negative"),
    ("[grade]\nvisibility = public\n", "visibility"),
    ("[01-tcp]\nbats = 0\nconformance = 0\n", "both weights are 0"),
    ("[lab]\nbats_filter = (\n", "bats_filter"),
])
def test_rubric_mistakes_are_errors(text, error, tmp_path):
    path = tmp_path / "r.ini"
    path.write_text(text)
    from grader import rubric
    with pytest.raises(rubric.RubricError, match=re.escape(error)):
        rubric.load(str(path), LABS)


def test_the_rubric_in_the_repository_loads():
    from grader import rubric
    r = rubric.load(os.path.join(ROOT, "harness", "rubric.ini"), LABS)
    assert {lab: rule.points for lab, rule in r.labs.items()} == {lab: 10 for lab in LABS}
    assert r.grade["deadline"] == 10


# --- submissions: hostile archives and odd layouts ------------------------------------

def tar_with(path, *members):
    """A .tar.gz of (TarInfo fields, data) members."""
    with tarfile.open(path, "w:gz") as t:
        for fields, data in members:
            info = tarfile.TarInfo(fields.pop("name"))
            for k, v in fields.items():
                setattr(info, k, v)
            info.size = len(data) if info.isfile() else 0
            t.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return str(path)


@pytest.mark.parametrize("member, why", [
    ({"name": "../up.c"}, "'..'"),
    ({"name": "01-tcp/../../up.c"}, "'..'"),
    ({"name": "/etc/cron.d/x.c"}, "absolute"),
    ({"name": "01-tcp/server.c", "type": tarfile.SYMTYPE, "linkname": "/etc/shadow"}, "link"),
    ({"name": "01-tcp/server.c", "type": tarfile.LNKTYPE, "linkname": "x"}, "link"),
    ({"name": "01-tcp/zero.c", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 5}, "device"),
    ({"name": "01-tcp/fifo.c", "type": tarfile.FIFOTYPE}, "device"),
])
def test_hostile_tar_members_reject_the_archive(member, why, tmp_path):
    path = tar_with(tmp_path / "a.tar.gz", ({"name": "01-tcp/client.c"}, b"int x;\n"),
                    (member, b"int y;\n"))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(submission.Rejected, match=why):
        submission.unpack(path, str(dest))
    assert not (tmp_path / "up.c").exists()


@pytest.mark.parametrize("name, mode, why", [
    ("../up.c", 0o100644, "'..'"),
    ("C:/up.c", 0o100644, "absolute"),
    ("..\\up.c", 0o100644, "'..'"),
    ("01-tcp/server.c", 0o120777, "link"),
])
def test_hostile_zip_members_reject_the_archive(name, mode, why, tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        z.writestr(info, b"/etc/passwd")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(submission.Rejected, match=why):
        submission.unpack(str(path), str(dest))


def test_archive_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "MAX_MEMBERS", 5)
    many = tar_with(tmp_path / "many.tar.gz", *[({"name": f"f{i}.c"}, b"") for i in range(6)])
    with pytest.raises(submission.Rejected, match="more than 5 members"):
        submission.unpack(many, str(tmp_path))
    monkeypatch.setattr(submission, "MAX_BYTES", 1000)
    big = tar_with(tmp_path / "big.tar.gz", ({"name": "01-tcp/server.c"}, b"x" * 1001))
    with pytest.raises(submission.Rejected, match="more than"):
        submission.unpack(big, str(tmp_path / "x"))
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("01-tcp/server.c", b"\0" * 2000)
    with pytest.raises(submission.Rejected, match="more than"):
        submission.unpack(str(path), str(tmp_path / "y"))
    with pytest.raises(submission.Rejected, match="cannot unpack"):
        (tmp_path / "junk.zip").write_bytes(b"not a zip")
        submission.unpack(str(tmp_path / "junk.zip"), str(tmp_path))


def test_sources_are_found_where_learners_put_them(tmp_path):
    # labs/ itself: the starter/ directory; solutions/: the lab directory.
    files, where = submission.sources(os.path.join(ROOT, "labs"), "04-struct-framing", False)
    assert where == "04-struct-framing/starter" and "frame.c" in files
    files, where = submission.sources(os.path.join(ROOT, "solutions"), "06-concurrency", False)
    assert where == "06-concurrency" and "model_thread.c" in files
    # One lab graded: a directory of .c files is that lab's; otherwise nothing.
    (tmp_path / "server.c").write_text("int main(void) { return 0; }\n")
    assert submission.sources(str(tmp_path), "01-tcp", True)[0] == {
        "server.c": str(tmp_path / "server.c")}
    assert submission.sources(str(tmp_path), "01-tcp", False) == ({}, None)
    # A link where a source should be is refused, even in a directory submission.
    lab = tmp_path / "01-tcp"
    lab.mkdir()
    os.symlink("/etc/shadow", lab / "client.c")
    with pytest.raises(submission.Rejected, match="link"):
        submission.sources(str(tmp_path), "01-tcp", False)
    # A wrapping directory is looked through.
    wrap = tmp_path / "w"
    (wrap / "me" / "02-udp").mkdir(parents=True)
    assert submission.find_root(str(wrap), LABS) == str(wrap / "me")
    assert submission.name_of("/x/Jane Doe (2).tar.gz") == "Jane_Doe__2_"


# --- reading results: a crashed runner is not a failing submission --------------------

def result(output, status=1, timed_out=False, infra=None):
    return sandbox.Result(status, output, timed_out, 1.0, infra)


def test_tap_cut_short_is_graded_the_tests_not_reported_failing():
    """bats ended after its plan (the submission's programs had run): graded, not "not
    graded"; the grader then checks its runner (part.incomplete) before it believes that."""
    part = results.Part("bats", 6)
    results.score_bats(part, result("1..3\nok 1 a\nnot ok 2 b\n", 137), "1..3\nok 1 a\nnot ok 2 b\n",
                       ["a", "b", "c"], 60)
    assert not part.infra and part.incomplete
    assert [(t.name, t.passed) for t in part.tests] == [("a", True), ("b", False), ("c", False)]
    assert "status 137" in part.tests[2].output and part.score() == pytest.approx(2)


def test_no_tap_plan_is_an_infrastructure_error():
    # bats writes its plan before the first test: without one, nothing of the submission ran.
    part = results.Part("bats", 6)
    results.score_bats(part, result("bats: cannot load bats-support", 1), "", ["a"], 60)
    assert part.infra and not part.tests


def test_tap_out_of_time_fails_the_tests_not_reached():
    part = results.Part("bats", 6)
    results.score_bats(part, result("", None, True), "1..3\nok 1 a\n", ["a", "b", "c"], 60)
    assert not part.infra and [t.name for t in part.tests] == ["a", "b", "c"]
    assert part.score() == pytest.approx(2) and "60 s" in part.tests[2].output


def test_forged_tap_lines_do_not_pass_a_test():
    # Were a line forged in bats' TAP (the programs cannot: they start without fd 3, and the
    # TAP goes to a file of the grader's), a number reported twice must pass both times, a
    # skip must be bats' own both times, and numbers past the plan count for nothing.
    part = results.Part("bats", 3)
    tap = ("1..3\nok 1 a\nok 2 b\nnot ok 2 b\n# why\nok 3 forged # skip\nnot ok 3 c\n"
           "ok 4 forged\n")
    results.score_bats(part, result(""), tap, ["a", "b", "c"], 60)
    assert [(t.passed, t.skipped) for t in part.tests] == [(True, False), (False, False),
                                                          (False, False)]
    assert part.score() == pytest.approx(1)


def test_printed_port_trouble_is_not_an_infrastructure_error():
    # What a program prints never makes a lab "not graded" (the audit's fake EADDRINUSE).
    part = results.Part("bats", 2)
    tap = ("1..1\nnot ok 1 a\n# Traceback (most recent call last):\n"
           "# OSError: [Errno 98] Address already in use\n")
    results.score_bats(part, result(""), tap, ["a"], 60)
    assert not part.infra and part.score() == 0 and len(part.tests) == 1


def log(*names, done=()):
    """pytest_grade_log records: collected names, and the call report of those done
    ({name: outcome})."""
    recs = [{"collected": [{"nodeid": f"t.py::{n}", "name": n} for n in names]}]
    for n, outcome in dict(done).items():
        recs.append({"nodeid": f"t.py::{n}", "when": "setup", "outcome": "passed"})
        recs.append({"nodeid": f"t.py::{n}", "when": "call", "outcome": outcome,
                     "message": "boom" if outcome == "failed" else "", "text": "E boom"})
    return recs


def test_pytest_that_collected_nothing_is_an_infrastructure_error():
    # Collection runs none of the submission's programs: no collection is the machine's.
    for records in ([], [{"collected": []}]):
        part = results.Part("conformance", 5)
        results.score_pytest(part, result("boom", 2), records, 60)
        assert part.infra, records


def test_pytest_killed_is_graded_the_tests_not_reported_failing():
    # The audit's lab 05 starter: pytest killed (137) during a test: graded, not "not graded".
    part = results.Part("conformance", 4)
    results.score_pytest(part, result("", 137), log("test_a", "test_b", done={"test_a": "passed"}),
                         60)
    assert not part.infra and part.incomplete
    assert [(t.name, t.passed) for t in part.tests] == [("test_a", True), ("test_b", False)]
    assert "status 137" in part.tests[1].output


def test_pytest_out_of_time_counts_what_finished():
    part = results.Part("conformance", 4)
    records = log("test_a", "test_b[x]", "test_c", "test_d",
                  done={"test_a": "passed", "test_b[x]": "failed"})
    results.score_pytest(part, result("test_c PASSED (forged)", None, True), records, 60)
    assert [(t.name, t.passed) for t in part.tests] == [
        ("test_a", True), ("test_b[x]", False), ("test_c", False), ("test_d", False)]
    assert "boom" in part.tests[1].output and "60 s" in part.tests[2].output


def test_capture_keeps_result_lines_past_its_cap():
    cap = sandbox.Capture(100, re.compile(rb"^ok "))
    cap.feed(b"x" * 50 + b"\n" + b"flood\n" * 1000 + b"ok 7 found\n" + b"y" * 10000)
    text = cap.text()
    assert "ok 7 found" in text and len(text) < 5000 and "left out" in text


# --- nothing left behind --------------------------------------------------------------

def slot_uids(run):
    """The uids a run's sandboxes gave the programs under test (as root: a range of its
    own, which its report names)."""
    for name in os.listdir(run.out):
        path = os.path.join(run.out, name, "results.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                m = re.search(r"uid (\d+)\+slot", json.load(f)["extra_data"]["sandbox"])
            if m:
                return set(range(int(m.group(1)), int(m.group(1)) + 256))
    return set()


def leftovers(path, uids=()):
    """Processes that are a grader's or its sandboxes': one of uids, or anything that runs
    from, in or with path."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            st = os.stat(f"/proc/{pid}")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            where = [cmd]
            for link in ("cwd", "exe"):
                try:
                    where.append(os.readlink(f"/proc/{pid}/{link}"))
                except OSError:
                    pass
        except OSError:
            continue
        if st.st_uid in uids or any(path in w for w in where):
            found.append(f"{pid}: uid {st.st_uid} {cmd}")
    return found


def listeners(uids):
    """Listening TCP sockets of the machine that one of uids owns."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.read().splitlines()[1:]:
                fields = line.split()
                state, uid = fields[3], int(fields[7])
                if state == "0A" and uid in uids:
                    found.append(line)
    return found


def test_zz_nothing_left_behind(runs):
    """After every run: no process, no scratch file, no listening port (last in the file:
    the runs above must have ended)."""
    uids = set()
    for run in runs.values():
        run.wait()
        assert os.listdir(run.scratch) == [], run.scratch
        uids |= slot_uids(run)
    for run in runs.values():
        assert leftovers(os.path.dirname(os.path.dirname(run.out)), uids) == []
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        owned = [e.path for e in os.scandir(d) if e.stat(follow_symlinks=False).st_uid in uids]
        assert owned == []
    # The programs' sockets, had any outlived its namespace, would be there as their uids'
    # (as root: by port, 65432 might be another test session's holder).
    assert listeners(uids) == []
