"""Test results: read bats' TAP and pytest's JUnit XML, score them by the rubric, and write
the outputs: Gradescope's results.json, report.txt, junit.xml, and the batch's gradebook.csv."""
import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

OUTPUT_MAX = 6000  # characters of diagnostics kept per test
RESULTS_MAX = 8 << 20  # bytes of a runner's results file read at most

# What XML 1.0 cannot carry at all, even escaped; a program's output may hold any of it.
XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text):
    return XML_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def clip(text, limit=OUTPUT_MAX):
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"


@dataclass
class Test:
    name: str
    passed: bool
    output: str = ""
    skipped: bool = False
    seconds: float = 0.0


@dataclass
class Part:
    kind: str  # "bats" or "conformance"
    points: float
    tests: list = field(default_factory=list)
    infra: str = None  # why this part could not be graded (the grading machine's fault)
    note: str = None  # e.g. "the run took more than 600 s"
    incomplete: bool = False  # the runner ended before it reported every test
    seconds: float = 0.0

    def counted(self):
        return [t for t in self.tests if not t.skipped]

    def shares(self):
        """Each counted test's points, in units of 0.0001 with the remainder spread over the
        first ones: they add up to the part's points exactly, as results.json prints them."""
        n = len(self.counted())
        base, extra = divmod(round(self.points * 10000), n) if n else (0, 0)
        return [(base + (i < extra)) / 10000 for i in range(n)]

    def score(self):
        return sum(share for share, t in zip(self.shares(), self.counted()) if t.passed)


@dataclass
class Lab:
    name: str
    points: float
    status: str = "graded"  # graded, compile_error, missing, not_graded, rejected
    parts: list = field(default_factory=list)
    build_output: str = ""
    infra: str = None
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    pending: int = 0  # parts still running

    def score(self):
        """Points earned: 0 unless graded.  A lab "not graded" (the grading machine's fault,
        proven from the grader's side) counts 0 of its points too, flagged for a regrade,
        so that no total ever leaves a lab out."""
        if self.status != "graded":
            return 0.0
        return sum(p.score() for p in self.parts)

    @property
    def regrade(self):
        return self.status == "not_graded"


# --- bats -------------------------------------------------------------------------------

def bats_names(bats_file, pattern):
    """The names of a bats file's tests, in order, that pattern selects (for those a run
    did not get to)."""
    try:
        with open(bats_file, encoding="utf-8") as f:
            names = re.findall(r'^@test "(.*)" \{', f.read(), re.M)
    except OSError:
        return []
    names = [n.replace('\\"', '"').replace("\\\\", "\\") for n in names]
    return [n for n in names if not pattern or re.search(pattern, n)]


def read_bounded(path, limit=RESULTS_MAX):
    """The first limit bytes of a runner's results file, as text ("" if there is none)."""
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "backslashreplace")
    except OSError:
        return ""


def parse_tap(text):
    """bats' TAP: (plan or None, {number: Test}).  The grader has bats write it to a file
    that only bats can write (the programs under test start with every descriptor but 0-2
    closed, fd 3 included), so every line is bats' own; still, a number reported twice must
    pass both times, and a line past the plan counts for nothing."""
    plan, tests, current = None, {}, None
    for line in text.splitlines():
        m = re.match(r"^1\.\.(\d+)$", line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = re.match(r"^(not )?ok (\d+) (.*)$", line)
        if m and plan is not None:
            ok, num, name = not m.group(1), int(m.group(2)), m.group(3)
            if not 1 <= num <= plan:
                current = None
                continue
            skipped = False
            s = re.match(r"^(.*?) # skip\b", name)
            if s:
                name, skipped = s.group(1), True
            if num in tests:
                tests[num].passed = tests[num].passed and ok
                tests[num].skipped = tests[num].skipped and skipped
            else:
                tests[num] = Test(name, ok, skipped=skipped)
            current = tests[num] if not ok else None
        elif current is not None and line.startswith("#"):
            if len(current.output) < OUTPUT_MAX:
                current.output += line[2:] + "\n"
    return plan, tests


def score_bats(part, result, tap, names, timeout):
    """Fill part from a bats run's Result and the TAP bats wrote.  Not graded only when
    bats never started its tests (it prints its plan before it runs the first: without
    one, nothing of the submission had run); a run that ended early is graded, the tests
    it did not report failing (part.incomplete: the grader then checks its runner)."""
    part.seconds = result.seconds
    if result.infra:
        part.infra = result.infra
        return
    plan, tests = parse_tap(tap)
    if plan is None:
        part.infra = (f"bats did not start its tests (status {result.status})"
                      + (" within the time limit" if result.timed_out else "") + ":\n"
                      + clip(result.output.strip()[-3000:], 3000))
        return
    if len(names) != plan:
        names = []
    for num in range(1, plan + 1):
        t = tests.get(num)
        if t is None:
            name = names[num - 1] if names else f"test {num}"
            why = (f"not run: the bats run took more than {timeout:g} s\n" if result.timed_out
                   else f"not reported: the bats run ended (status {result.status}) before "
                        f"this test's result\n")
            t = Test(name, False, why)
        part.tests.append(t)
    reported = len(tests)
    if result.timed_out:
        part.note = f"the bats run took more than {timeout:g} s; the tests it did not reach score 0"
    elif reported < plan:
        part.incomplete = True
        part.note = (f"the bats run ended (status {result.status}) after {reported} of {plan} "
                     f"tests; the tests it did not report score 0")


# --- pytest -----------------------------------------------------------------------------

def read_log(path):
    """The records harness/grader/pytest_grade_log.py wrote, in order (JSON lines)."""
    records = []
    for line in read_bounded(path).splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # the last line, cut short by a runner that was killed
        if isinstance(rec, dict):
            records.append(rec)
    return records


def score_pytest(part, result, records, timeout):
    """Fill part from a conformance run's Result and its log (pytest_grade_log's records:
    the tests pytest collected, then each one's reports).  Not graded only when pytest
    collected nothing: collection runs none of the submission's programs."""
    part.seconds = result.seconds
    if result.infra:
        part.infra = result.infra
        return
    collected = next((r["collected"] for r in records if "collected" in r), None)
    if collected is None:
        part.infra = (f"pytest ended (status {result.status}) before it had collected its "
                      f"tests" + (" within the time limit" if result.timed_out else "") + ":\n"
                      + clip(result.output.strip()[-3000:], 3000))
        return
    if not collected:
        part.infra = ("pytest collected no tests (is conformance_filter right?)\n"
                      + clip(result.output.strip()[-3000:], 3000))
        return
    by_id = {}
    for rec in records:
        if "nodeid" in rec and "when" in rec:
            by_id.setdefault(rec["nodeid"], []).append(rec)
    reported = 0
    for item in collected:
        recs = by_id.get(item.get("nodeid"), [])
        name = str(item.get("name") or item.get("nodeid"))
        t = Test(name, True, seconds=sum(float(r.get("duration") or 0) for r in recs))
        done = any(r["when"] == "call" or r.get("outcome") != "passed" for r in recs)
        if not done:
            t.passed = False
            t.output = (f"not run: the conformance run took more than {timeout:g} s\n"
                        if result.timed_out else
                        f"not reported: the conformance run ended (status {result.status}) "
                        f"before this test's result\n")
        else:
            reported += 1
        for r in recs:
            if r.get("outcome") == "failed":
                t.passed = False
                what = "failed" if r["when"] == "call" else "error"
                t.output += f"[{what}] {r.get('message', '')}\n{r.get('text', '')}\n"
            elif r.get("outcome") == "skipped" and r["when"] in ("setup", "call"):
                t.skipped = True
                t.output += f"[skipped] {r.get('message', '')}\n"
        if t.skipped and not t.passed:
            t.skipped = False  # skipped and failed (in teardown): failed
        t.output = clip(t.output)
        part.tests.append(t)
    if result.timed_out:
        part.note = (f"the conformance run took more than {timeout:g} s; the tests it did not "
                     f"finish score 0")
    elif reported < len(collected):
        part.incomplete = True
        part.note = (f"the conformance run ended (status {result.status}) after {reported} of "
                     f"{len(collected)} tests; the tests it did not report score 0")


# --- outputs ----------------------------------------------------------------------------

def fmt(x):
    return f"{x:.2f}".rstrip("0").rstrip(".") if x is not None else "-"


def totals(labs):
    """(score, max_score) over every lab: one not graded counts 0 of its points."""
    return sum(lab.score() for lab in labs), sum(lab.points for lab in labs)


def lab_summary(lab):
    if lab.status == "compile_error":
        return "does not compile"
    if lab.status == "missing":
        return "nothing submitted"
    if lab.status == "rejected":
        return "submission rejected"
    if lab.status == "not_graded":
        return "NOT GRADED: infrastructure error, counts 0: REGRADE"
    bits = []
    for p in lab.parts:
        c = p.counted()
        bits.append(f"{p.kind} {sum(t.passed for t in c)}/{len(c)}")
    return ", ".join(bits)


def summary(sub):
    score, max_score = totals(sub.labs)
    lines = [f"Submission: {sub.name}", f"Score: {fmt(score)} / {fmt(max_score)}"]
    if sub.rejected:
        lines.append(f"REJECTED: {sub.rejected}")
    bad = [lab.name for lab in sub.labs if lab.regrade]
    if bad:
        lines.append(f"REGRADE: not graded because of the grading machine (an infrastructure "
                     f"error, not your code), counted 0 until regraded: {', '.join(bad)}")
    lines.append("")
    for lab in sub.labs:
        lines.append(f"  {lab.name:<22} {fmt(lab.score()):>6} / {fmt(lab.points):<5} "
                     f"{lab_summary(lab)}")
    return "\n".join(lines)


def lab_details(lab):
    """The part of the report about one lab: what failed, and why."""
    out = [f"== {lab.name}: {fmt(lab.score())} / {fmt(lab.points)} ({lab_summary(lab)}) =="]
    out += [f"  {n}" for n in lab.notes]
    if lab.status == "compile_error":
        out += ["", "The compiler says:", "", lab.build_output.rstrip()]
    if lab.infra:
        out += ["", f"Not graded: {lab.infra}"]
    for p in lab.parts:
        out.append("")
        if p.infra:
            out.append(f"-- {p.kind}: not graded: {p.infra}")
            continue
        c = p.counted()
        out.append(f"-- {p.kind}: {sum(t.passed for t in c)} of {len(c)} passed, "
                   f"{fmt(p.score())} / {fmt(p.points)} points, {p.seconds:.0f} s")
        if p.note:
            out.append(f"   {p.note}")
        for t in p.tests:
            mark = "skip" if t.skipped else ("ok  " if t.passed else "FAIL")
            out.append(f"   {mark} {t.name}")
            if not t.passed and t.output.strip():
                out += ["        " + line for line in t.output.rstrip().splitlines()]
    return "\n".join(out)


def gradescope(sub, rubric, isolation, seconds):
    """Gradescope's results.json for one submission."""
    vis = rubric.grade["visibility"]
    tests = []
    for lab in sub.labs:
        def entry(name, score, max_score, output, status):
            tests.append({"name": name, "score": round(score, 4), "max_score": round(max_score, 4),
                          "status": status, "output": output, "visibility": vis})
        if lab.status == "rejected":
            entry(f"{lab.name}: submission rejected", 0, lab.points, sub.rejected, "failed")
        elif lab.status == "missing":
            entry(f"{lab.name}: nothing submitted", 0, lab.points, "\n".join(lab.notes), "failed")
        elif lab.status == "compile_error":
            entry(f"{lab.name}: build", 0, lab.points,
                  "Does not compile. The compiler says:\n\n" + lab.build_output, "failed")
        elif lab.status == "not_graded":
            entry(f"{lab.name}: NOT GRADED (infrastructure error): REGRADE", 0, lab.points,
                  "This lab could not be graded because of a problem with the grading "
                  "machine, not with your code. It counts 0 until it is regraded: please tell "
                  "your instructor.\n\n" + clip(lab_details(lab), 20000), "failed")
        else:
            for p in lab.parts:
                for each, t in zip(p.shares(), p.counted()):
                    entry(f"{lab.name} {p.kind}: {t.name}", each if t.passed else 0, each,
                          "" if t.passed else t.output, "passed" if t.passed else "failed")
    score, max_score = totals(sub.labs)
    return {
        "score": round(score, 4),
        "max_score": round(max_score, 4),
        "execution_time": round(seconds),
        "output": summary(sub) + f"\n\nSandbox: {isolation}\n",
        "output_format": "text",
        "test_output_format": "text",
        "tests": tests,
        "extra_data": {"labs": {lab.name: {"status": lab.status, "score": lab.score(),
                                           "max_score": lab.points, "regrade": lab.regrade,
                                           "seconds": round(lab.seconds, 1)}
                                for lab in sub.labs},
                       "regrade": [lab.name for lab in sub.labs if lab.regrade],
                       "rejected": sub.rejected, "sandbox": isolation},
    }


def junit(sub):
    """JUnit XML: one testsuite per lab, one testcase per test (the build if it failed)."""
    suites = ET.Element("testsuites", name=xml_text(sub.name))
    for lab in sub.labs:
        suite = ET.SubElement(suites, "testsuite", name=lab.name)
        n = fails = errors = 0

        def case(classname, name, seconds=0.0, failure=None, error=None, skipped=None):
            nonlocal n, fails, errors
            n += 1
            c = ET.SubElement(suite, "testcase", classname=classname, name=xml_text(name),
                              time=f"{seconds:.3f}")
            for tag, text in (("failure", failure), ("error", error)):
                if text is not None:
                    text = xml_text(text)
                    ET.SubElement(c, tag, message=text.split("\n", 1)[0][:200]).text = text
            fails += failure is not None
            errors += error is not None
            if skipped is not None:
                ET.SubElement(c, "skipped", message=xml_text(skipped[:200]))

        if lab.status in ("rejected", "missing"):
            case(lab.name, "submission", failure=sub.rejected or "\n".join(lab.notes))
        elif lab.status == "compile_error":
            case(lab.name, "build", failure="does not compile\n" + lab.build_output)
        for p in lab.parts:
            if p.infra:
                case(f"{lab.name}.{p.kind}", "not graded", error=p.infra)
                continue
            for t in p.tests:
                case(f"{lab.name}.{p.kind}", t.name, t.seconds,
                     failure=None if t.passed or t.skipped else (t.output or "failed"),
                     skipped=t.output if t.skipped else None)
        if lab.infra and not any(p.infra for p in lab.parts):
            case(lab.name, "not graded", error=lab.infra)
        suite.set("tests", str(n))
        suite.set("failures", str(fails))
        suite.set("errors", str(errors))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_submission(sub, rubric, isolation, seconds, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(gradescope(sub, rubric, isolation, seconds), f, indent=1, ensure_ascii=False)
        f.write("\n")
    report = [summary(sub), "", f"Sandbox: {isolation}", f"Rubric: {rubric.path}",
              f"Time: {seconds:.0f} s", ""]
    report += [lab_details(lab) + "\n" for lab in sub.labs]
    with open(os.path.join(out_dir, "report.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(report))
    with open(os.path.join(out_dir, "junit.xml"), "w", encoding="utf-8") as f:
        f.write(junit(sub))


def write_gradebook(subs, labs, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["submission", *labs, "total", "max_score", "status"])
        for sub in subs:
            by_name = {lab.name: lab for lab in sub.labs}
            cells = [fmt(by_name[name].score()) for name in labs]
            score, max_score = totals(sub.labs)
            bad = [lab.name for lab in sub.labs if lab.regrade]
            status = ("rejected: " + sub.rejected if sub.rejected
                      else "REGRADE: not graded (infrastructure error), counted 0: "
                      + " ".join(bad) if bad else "ok")
            w.writerow([sub.name, *cells, fmt(score), fmt(max_score), status])
