"""Lessons 01 and 02 are where the learner makes the socket calls; the library only follows.

The course's rule, from Stevens: the library may offer a call only after the learner has
written it once.  So the reference solutions of 01 and 02 make every call of their lesson
themselves, the untouched starters make none of them (outside comments: the TODOs name
them), and neither uses the library functions that wrap them (lab_listen, xlisten, ...),
which lessons 03 and later introduce as "what you wrote in 01 and 02".
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The calls each lesson is about, per program.
CALLS = {
    ("01-tcp", "server.c"): ["getaddrinfo", "freeaddrinfo", "socket", "setsockopt", "bind",
                             "listen", "accept", "recv", "send", "close"],
    ("01-tcp", "client.c"): ["getaddrinfo", "freeaddrinfo", "socket", "connect", "send",
                             "recv", "close"],
    ("02-udp", "server.c"): ["getaddrinfo", "freeaddrinfo", "socket", "setsockopt", "bind",
                             "recvfrom", "sendto"],
    ("02-udp", "client.c"): ["getaddrinfo", "freeaddrinfo", "socket", "setsockopt", "sendto",
                             "recvfrom", "close"],
}
# The library's versions of those calls, for lessons 03 and later only.
WRAPPERS = ["lab_listen", "lab_connect", "xlisten", "xconnect", "lab_set_timeout", "lab_writen",
            "lab_readn", "lab_readn_within", "lab_recv"]


def code_of(path):
    """The C text of path without comments, string literals or character constants."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'', '""', text)


def calls_in(code, names):
    return [n for n in names if re.search(r"\b" + n + r"\s*\(", code)]


@pytest.mark.parametrize("lab,prog", sorted(CALLS), ids=lambda v: v)
def test_solution_makes_the_calls_itself(lab, prog):
    code = code_of(ROOT / "solutions" / lab / prog)
    missing = [n for n in CALLS[lab, prog] if n not in calls_in(code, CALLS[lab, prog])]
    assert not missing, f"solutions/{lab}/{prog} does not call {missing}"
    assert not calls_in(code, WRAPPERS), \
        f"solutions/{lab}/{prog} uses the library's wrappers {calls_in(code, WRAPPERS)}"


@pytest.mark.parametrize("lab,prog", sorted(CALLS), ids=lambda v: v)
def test_starter_leaves_the_calls_to_the_learner(lab, prog):
    code = code_of(ROOT / "labs" / lab / "starter" / prog)
    made = calls_in(code, CALLS[lab, prog] + WRAPPERS)
    assert not made, f"labs/{lab}/starter/{prog} already calls {made}: the learner's work"


def test_the_check_sees_calls_and_not_comments(tmp_path):
    src = tmp_path / "x.c"
    src.write_text('/* accept() here */ int f(void) { return listen (fd, 5) + puts("bind("); }\n'
                   "// connect(\n")
    assert calls_in(code_of(src), ["accept", "listen", "bind", "connect"]) == ["listen"]
