"""The C code the lessons show is the solutions' code.

A lesson's hints (labs/NN-topic/README.md) show the code a learner is about to write.  When a
solution changes and its hint does not, the hint teaches the old code: four of nine drifts an
audit found (2026-11-25) were such hints, a function renamed, a condition dropped.  So every
line of every ```c block in a lesson must appear in that lab's solution (solutions/NN-topic/
and the course library labs/common/), compared without comments and without the whitespace
that formatting decides (a statement wrapped at another column is the same statement).

What is not checked, on purpose:
  - lines with "..." (an elision: "the rest as above");
  - comment-only lines and lone braces;
  - blocks fenced as ```c not-in-solutions: code shown for another reason (an OpenSSL
    prototype, the longer EVP_MAC form the solution does not use, a TCP_NODELAY aside).
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LESSONS = sorted(ROOT.glob("labs/[0-9][0-9]-*/README.md"))
SKIP_INFO = "not-in-solutions"


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


def solution_text(lab, root=ROOT):
    files = sorted((root / "solutions" / lab).glob("*.[ch]")) + sorted(
        (root / "labs" / "common").glob("*.[ch]"))
    return "\n".join(normalize(strip_comments(f.read_text(encoding="utf-8"))) for f in files)


def code_blocks(markdown):
    """(first line number, info string, code) of each fenced block whose language is c."""
    for m in re.finditer(r"^```(c(?:[ \t][^\n]*)?)\n(.*?)^```", markdown, re.S | re.M):
        yield markdown.count("\n", 0, m.start()) + 2, m.group(1)[1:].strip(), m.group(2)


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


@pytest.mark.parametrize("readme", LESSONS, ids=lambda p: p.parent.name)
def test_hint_code_is_the_solutions_code(readme):
    lab = readme.parent.name
    assert (ROOT / "solutions" / lab).is_dir(), f"no solutions/{lab}/"
    stale = stale_lines(readme, lab)
    assert not stale, ("lines the lesson shows that solutions/" + lab + "/ does not have "
                       "(change the hint, or fence an aside as ```c " + SKIP_INFO + "):\n"
                       + "\n".join(stale))


def test_every_lesson_shows_checked_code():
    """The check above is not vacuous: the lessons do show C, most of it checked."""
    checked = sum(1 for readme in LESSONS
                  for _, info, _ in code_blocks(readme.read_text(encoding="utf-8"))
                  if info != SKIP_INFO)
    assert len(LESSONS) == 6 and checked >= 12


def test_a_drifted_hint_is_caught(tmp_path):
    """What the check reports: the hint's line that the solution lost, with where it is;
    and what it lets through: rewrapping, comments, elisions, fenced asides."""
    (tmp_path / "labs" / "common").mkdir(parents=True)
    (tmp_path / "labs" / "common" / "lab.h").write_text("int lab_recv(int fd, void *b, size_t n);\n")
    sol = tmp_path / "solutions" / "01-x"
    sol.mkdir(parents=True)
    (sol / "server.c").write_text(
        "static void serve(int conn)\n{\n\tif (lab_stop ||\n\t    lab_recv(conn, buf,\n"
        "\t             sizeof buf) < 0) /* why */\n\t\treturn;\n}\n")
    readme = tmp_path / "labs" / "01-x" / "README.md"
    readme.parent.mkdir()
    readme.write_text(
        "Text.\n\n```c\n/* a comment */\nif (lab_stop || lab_recv(conn, buf, sizeof buf) < 0)\n"
        "\treturn;\n...\n```\n\n```c not-in-solutions\nint one = 1;\n```\n\n"
        "```c\nif (lab_recv(conn, buf, sizeof buf) < 0) // the old hint\n\treturn;\n```\n")
    assert stale_lines(readme, "01-x", tmp_path) == [
        "labs/01-x/README.md:15: if (lab_recv(conn, buf, sizeof buf) < 0)"]
