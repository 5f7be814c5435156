"""What a lesson page (labs/NN-topic/README.md) may show, and how much of it.

A page teaches: the idea, the exchange, the bytes, the calls with their pitfalls, the task, how to
check it, common mistakes, and graded hints.  Exact outputs, flags and divergences live in
docs/contract.md and docs/conformance.md, benchmark numbers in docs/performance.md; the reference
solution is shown by `make solution` once the lab passes.  These tests hold every page to that.

1. The C a page shows is the solution's C.  When a solution changes and its page does not, the page
   teaches the old code: four of nine drifts an audit found (2026-11-25) were such hints, a function
   renamed, a condition dropped.  So every line of every ```c block must appear in that lab's
   solution (solutions/NN-topic/) or the course library (labs/common/), compared without comments
   and without the whitespace that formatting decides (a statement wrapped at another column is the
   same statement).  Not checked, on purpose: lines with "..." (an elision), comment-only lines and
   lone braces, and blocks fenced as ```c not-in-solutions (code shown for another reason: the
   inet_addr() way lesson 01 replaces, an OpenSSL prototype, a TCP_NODELAY aside).  Likewise every
   library name a page mentions (lab_something) must still exist in labs/common/*.h or the lab's
   solution: a page that names a removed function (lab_stop, lab_shutdown_on_stop) is stale.

2. The limits.  A page's *appendix* starts at its first heading, outside code fences, whose text
   begins with the word "Appendix" (`## Appendix: going further`, `## Appendix A. The divergence`);
   it runs to the end of the page.  Everything before it is the *teaching part*, and the hints
   belong to it.  A page without such a heading is all teaching part.
     - the teaching part is at most 300 lines, the whole page at most 400 (lines as `wc -l`
       counts them);
     - no fenced code block (of any language: C, shell, a mermaid diagram, a byte drawing) has more
       than 15 lines between its fences;
     - the hints are what `make hint` shows (harness/learn): 3 to 5 sections "### Hint 1" ...
       "### Hint N", in order, under the heading "## Hints";
     - no hint is a finished function.  The course's C style (.clang-format, BreakBeforeBraces:
       Linux) puts a function's opening brace alone at column 0 and every other opening brace at
       the end of its line.  So a fenced block in the Hints section shows a function definition
       if it has a line that is `{` alone at column 0, or a line at column 0 that is a function
       header (type words, a name, a parenthesised parameter list, no `;`) followed by `{`, at
       the end of it or alone on the next line.  Fragments (statements, a loop, a declaration)
       pass; a body shown without its header is bounded by the 15-line limit;
     - no benchmark table: no Markdown table row (a line starting with `|`, outside code fences)
       holds a rate (a number or a unit such as req, MB or conn followed by `/s` or `/sec`, or
       "per second"), and no page carries a `<!-- bench:` splice of harness/bench/report.py.
   And every relative link on a page leads to a file that exists, and an anchor (#...) to a
   heading of that file, as GitHub makes anchors.
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LESSONS = sorted(ROOT.glob("labs/[0-9][0-9]-*/README.md"))
SKIP_INFO = "not-in-solutions"

TEACHING_MAX, PAGE_MAX, BLOCK_MAX = 300, 400, 15
HINTS_MIN, HINTS_MAX = 3, 5

ids = {"ids": lambda p: p.parent.name}


# --- reading a page --------------------------------------------------------------------------

def fenced_blocks(markdown):
    """(number of the first line inside, info string, [lines]) of each fenced code block: an
    opening ``` or ~~~ (indented or not, as in a list item) up to the next fence of the same
    character at least as long.  An unclosed block runs to the end, as CommonMark says."""
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*(`{3,}|~{3,})(.*)$", lines[i])
        if not m or (m.group(1)[0] == "`" and "`" in m.group(2)):
            i += 1
            continue
        fence, info, start = m.group(1), m.group(2).strip(), i + 1
        end = start
        while end < len(lines) and not re.match(
                r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$", lines[end]):
            end += 1
        yield start + 1, info, lines[start:end]
        i = end + 1


def outside_fences(markdown):
    """(line number, line) of each line that is not inside a fenced block, fences included as
    inside."""
    inside = set()
    for first, _, body in fenced_blocks(markdown):
        inside.update(range(first - 1, first + len(body) + 1))
    for n, line in enumerate(markdown.split("\n"), 1):
        if n not in inside:
            yield n, line


def headings(markdown):
    """(line number, level, text) of each ATX heading outside code fences."""
    for n, line in outside_fences(markdown):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            yield n, len(m.group(1)), m.group(2)


def teaching_lines(markdown):
    """How many lines come before the appendix (the whole page if it has none)."""
    for n, _, text in headings(markdown):
        if re.match(r"appendix\b", text, re.I):
            return n - 1
    return line_count(markdown)


def line_count(markdown):
    """Lines as `wc -l` counts them (a last line without its newline counts too)."""
    return markdown.count("\n") + (0 if markdown.endswith("\n") or not markdown else 1)


def section(markdown, title):
    """(first line number, last line number) of the level-2 section named title, up to the next
    heading of level 1 or 2; None if there is none."""
    hs = list(headings(markdown))
    for k, (n, level, text) in enumerate(hs):
        if level == 2 and text == title:
            end = next((m for m, lv, _ in hs[k + 1:] if lv <= 2), line_count(markdown) + 1)
            return n, end - 1
    return None


def code_blocks(markdown):
    """(first line number, info string, code) of each fenced block whose language is c."""
    for first, info, body in fenced_blocks(markdown):
        if re.match(r"^c(\s|$)", info):
            yield first, info[1:].strip(), "\n".join(body) + "\n"


# --- 1. the C shown is the solution's --------------------------------------------------------

def strip_comments(code):
    """code without its comments; a /* ... */ over several lines leaves its newlines, so
    that line numbers still count."""
    code = re.sub(r"/\*.*?\*/", lambda m: " " + "\n" * m.group().count("\n"), code, flags=re.S)
    return re.sub(r"//[^\n]*", " ", code)


def normalize(code):
    """One line of C for comparison: whitespace runs are one space, and none is kept next
    to ( ) [ ] { } , ; where formatting alone decides."""
    code = re.sub(r"\s+", " ", code).strip()
    return re.sub(r" ?([(),;\[\]{}]) ?", r"\1", code)


def solution_files(lab, root=ROOT):
    return sorted((root / "solutions" / lab).glob("*.[ch]")) + sorted(
        (root / "labs" / "common").glob("*.[ch]"))


def solution_text(lab, root=ROOT):
    return "\n".join(normalize(strip_comments(f.read_text(encoding="utf-8")))
                     for f in solution_files(lab, root))


def stale_lines(readme, lab, root=ROOT):
    """The lines of README's c blocks that the lab's solution does not have, as
    "README.md:LINE: code"."""
    solution = solution_text(lab, root)
    stale = []
    for first, info, code in code_blocks(readme.read_text(encoding="utf-8")):
        if info == SKIP_INFO:
            continue
        for i, line in enumerate(strip_comments(code).split("\n")):
            n = normalize(line)
            if not n or n in ("{", "}", "};", "}else{") or "..." in n:
                continue
            if n not in solution:
                stale.append(f"{readme.relative_to(root)}:{first + i}: {line.strip()}")
    return stale


def unknown_names(readme, lab, root=ROOT):
    """The library names (lab_xxx) the page mentions that neither labs/common/*.h nor the lab's
    solution has; `lab_*` and `lab_print_*` (prefixes) are not names."""
    known = "\n".join(f.read_text(encoding="utf-8") for f in solution_files(lab, root))
    names = set(re.findall(r"\blab_[a-z][a-z0-9_]*", readme.read_text(encoding="utf-8")))
    return sorted(n for n in names
                  if not n.endswith("_") and not re.search(r"\b" + n + r"\b", known))


@pytest.mark.parametrize("readme", LESSONS, **ids)
def test_hint_code_is_the_solutions_code(readme):
    lab = readme.parent.name
    assert (ROOT / "solutions" / lab).is_dir(), f"no solutions/{lab}/"
    stale = stale_lines(readme, lab)
    assert not stale, ("lines the lesson shows that solutions/" + lab + "/ does not have "
                       "(change the hint, or fence an aside as ```c " + SKIP_INFO + "):\n"
                       + "\n".join(stale))


@pytest.mark.parametrize("readme", LESSONS, **ids)
def test_the_library_names_a_page_uses_exist(readme):
    lab = readme.parent.name
    gone = unknown_names(readme, lab)
    assert not gone, (f"{readme.relative_to(ROOT)} names what labs/common/ and solutions/{lab}/ "
                      f"no longer have: {', '.join(gone)}")


def test_every_lesson_shows_checked_code():
    """The check above is not vacuous: the lessons do show C, most of it checked."""
    checked = sum(1 for readme in LESSONS
                  for _, info, _ in code_blocks(readme.read_text(encoding="utf-8"))
                  if info != SKIP_INFO)
    assert len(LESSONS) == 7 and checked >= 12, f"{len(LESSONS)} lessons, {checked} checked blocks"


def test_a_drifted_hint_is_caught(tmp_path):
    """What the check reports: the hint's line that the solution lost, with where it is;
    and what it lets through: rewrapping, comments, elisions, fenced asides."""
    (tmp_path / "labs" / "common").mkdir(parents=True)
    (tmp_path / "labs" / "common" / "lab.h").write_text("int lab_recv(int fd, void *b, size_t n);\n")
    sol = tmp_path / "solutions" / "01-x"
    sol.mkdir(parents=True)
    (sol / "server.c").write_text(
        "static void serve(int conn)\n{\n\tif (done ||\n\t    lab_recv(conn, buf,\n"
        "\t             sizeof buf) < 0) /* why */\n\t\treturn;\n}\n")
    readme = tmp_path / "labs" / "01-x" / "README.md"
    readme.parent.mkdir()
    readme.write_text(
        "Text.\n\n```c\n/* a comment */\nif (done || lab_recv(conn, buf, sizeof buf) < 0)\n"
        "\treturn;\n...\n```\n\n```c not-in-solutions\nint one = 1;\n```\n\n"
        "```c\nif (lab_recv(conn, buf, sizeof buf) < 0) // the old hint\n\treturn;\n```\n\n"
        "- a list item:\n\n  ```c\n  lab_stop = 1;\n  ```\n\n"
        "`lab_recv()` is known, `lab_*` is a prefix, `lab_stop` is gone.\n")
    assert stale_lines(readme, "01-x", tmp_path) == [
        "labs/01-x/README.md:15: if (lab_recv(conn, buf, sizeof buf) < 0)",
        "labs/01-x/README.md:22: lab_stop = 1;"]
    assert unknown_names(readme, "01-x", tmp_path) == ["lab_stop"]


# --- 2. the limits ---------------------------------------------------------------------------

C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "case"}
HEADER = re.compile(r"^(?:[A-Za-z_]\w*[\s*]+)+\**([A-Za-z_]\w*)\s*\([^;]*\)\s*(\{)?\s*$")


def function_lines(body):
    """The lines of a block (indexes) that open a function definition: `{` alone at column 0,
    or a header at column 0 with `{` after it on its line or on the next non-blank one."""
    found, opened = [], set()  # opened: the `{` lines of headers already found
    for i, line in enumerate(body):
        if line.rstrip() == "{":
            if i not in opened:
                found.append(i)
            continue
        m = HEADER.match(line)
        if not m or m.group(1) in C_KEYWORDS or line.split()[0] in C_KEYWORDS:
            continue
        rest = [k for k in range(i + 1, len(body)) if body[k].strip()]
        if m.group(2) or (rest and body[rest[0]].strip() == "{"):
            found.append(i)
            opened.update(rest[:1])
    return found


def limit_problems(markdown):
    """Every way markdown breaks the limits above, one message each, with line numbers."""
    problems = []
    teaching, total = teaching_lines(markdown), line_count(markdown)
    if teaching > TEACHING_MAX:
        problems.append(f"the teaching part (before any '## Appendix' heading) is {teaching} "
                        f"lines, over {TEACHING_MAX}")
    if total > PAGE_MAX:
        problems.append(f"the page is {total} lines, over {PAGE_MAX}")
    for first, info, body in fenced_blocks(markdown):
        if len(body) > BLOCK_MAX:
            problems.append(f"line {first - 1}: a ```{info} block of {len(body)} lines, over "
                            f"{BLOCK_MAX}")
    hints = section(markdown, "Hints")
    if hints is None:
        problems.append("no '## Hints' section (make hint reads it)")
    else:
        lo, hi = hints
        if lo > teaching:
            problems.append(f"line {lo}: the hints are in the appendix, not the teaching part")
        nums = [int(m.group(1)) for n, level, text in headings(markdown) if lo < n <= hi
                for m in [re.match(r"Hint (\d+)\s*$", text)] if level == 3 and m]
        if not HINTS_MIN <= len(nums) <= HINTS_MAX or nums != list(range(1, len(nums) + 1)):
            problems.append(f"line {lo}: the hints are {nums or 'none'}: want '### Hint 1' to "
                            f"'### Hint N', N from {HINTS_MIN} to {HINTS_MAX}")
        for first, info, body in fenced_blocks(markdown):
            if lo < first <= hi:
                for i in function_lines(body):
                    problems.append(f"line {first + i}: a hint shows a whole function "
                                    f"({body[i].strip()!r} opens one): show a fragment")
    rate = re.compile(r"(?:\d|\b(?:[kKMGT]i?B|[kKMG]?bit|req|requests?|msgs?|messages?|conns?"
                      r"|connections?|ops|frames?))\s*/\s*s(?:ec)?\b|\bper\s+second\b", re.I)
    for n, line in outside_fences(markdown):
        if re.match(r"^\s*\|", line) and rate.search(line):
            problems.append(f"line {n}: a benchmark table row (it belongs in "
                            f"docs/performance.md): {line.strip()[:60]}")
        if "<!-- bench:" in line:
            problems.append(f"line {n}: a bench splice (harness/bench/report.py writes "
                            f"docs/performance.md only)")
    return problems


@pytest.mark.parametrize("readme", LESSONS, **ids)
def test_a_page_keeps_to_the_limits(readme):
    problems = limit_problems(readme.read_text(encoding="utf-8"))
    assert not problems, f"{readme.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


def anchor(text):
    """The anchor GitHub makes of a heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def broken_links(readme):
    """The relative links of a page whose file, or whose anchor in a .md file, is missing."""
    markdown = readme.read_text(encoding="utf-8")
    broken = []
    for n, line in outside_fences(markdown):
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            path, _, frag = target.partition("#")
            dest = (readme.parent / path).resolve() if path else readme
            if not dest.exists():
                broken.append(f"line {n}: {target}: no such file")
            elif frag and dest.suffix == ".md":
                seen, anchors = {}, set()
                for _, _, text in headings(dest.read_text(encoding="utf-8")):
                    a = anchor(text)
                    anchors.add(a if a not in seen else f"{a}-{seen[a]}")
                    seen[a] = seen.get(a, 0) + 1
                if frag not in anchors:
                    broken.append(f"line {n}: {target}: no heading makes #{frag}")
    return broken


@pytest.mark.parametrize("readme", LESSONS, **ids)
def test_a_pages_links_lead_somewhere(readme):
    broken = broken_links(readme)
    assert not broken, f"{readme.relative_to(ROOT)}:\n  " + "\n  ".join(broken)


def test_the_limits_catch_what_they_say():
    """Each limit on a page made to break it, and the fragments and asides that pass."""
    page = ["# Lesson 99", "", "## Hints", ""]
    for k in (1, 2, 3):
        page += [f"### Hint {k}", "", "A nudge.", ""]
    page += ["```c", "for (;;) {", "\tn = recv(conn, buf, sizeof buf, 0);", "}", "```", "",
             "```c", "static void serve(int conn)", "{", "\t...", "}", "```", "",
             "```c", "int main(void) {", "```", "",
             "```c", "static int f(int a,", "                 int b)", "{", "```", "",
             "```", *["x"] * 16, "```", "",
             "| server | 1 client |", "| --- | --- |", "| C | 10,071/s |",
             "| flag | default |", "| `--bufsize` | 1024 |", "",
             "## Appendix: going further", "", "| MB/s | 888 |", ""]
    problems = limit_problems("\n".join(page))
    assert problems == [
        "line 40: a ``` block of 16 lines, over 15",
        "line 24: a hint shows a whole function ('static void serve(int conn)' opens one): "
        "show a fragment",
        "line 31: a hint shows a whole function ('int main(void) {' opens one): show a fragment",
        "line 37: a hint shows a whole function ('{' opens one): show a fragment",
        "line 61: a benchmark table row (it belongs in docs/performance.md): | C | 10,071/s |",
        "line 67: a benchmark table row (it belongs in docs/performance.md): | MB/s | 888 |",
    ], problems
    long = "\n".join(["# L", "## Hints", "### Hint 1", "### Hint 3"] + ["text"] * 300
                     + ["## Appendix", "## Hints again"] + ["more"] * 100)
    assert limit_problems(long) == [
        "the teaching part (before any '## Appendix' heading) is 304 lines, over 300",
        "the page is 406 lines, over 400",
        "line 2: the hints are [1, 3]: want '### Hint 1' to '### Hint N', N from 3 to 5"]
    assert teaching_lines("# L\n```\n## Appendix (in a fence: not a heading)\n```\ntext\n") == 5
