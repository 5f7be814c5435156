"""The course library's Python-compatible printing, against Python itself.

`test_lab --bsr` prints its stdin through lab_print_text; it must equal
data.decode('utf-8', 'backslashreplace') for any bytes at all.
"""
import os
import subprocess

from hypothesis import example, given, strategies as st

from conftest import BUILD, DEADLINE

TEST_LAB = os.path.join(BUILD, "unit", "test_lab")

# Random bytes find invalid sequences; glued pieces of real UTF-8 and junk find the edges
# (sequences cut short, overlong forms, surrogates, sequences across lab_print_text's slices).
pieces = st.one_of(st.binary(max_size=4),
                   st.text(max_size=3).map(lambda s: s.encode("utf-8", "surrogatepass")),
                   st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf",
                                    b"\xc0\xaf", b"\xf0\x9f\x98", b"\xe2\x82"]))
mixed = st.lists(pieces, max_size=120).map(b"".join)


def bsr(data):
    out = subprocess.run([TEST_LAB, "--bsr"], input=data, capture_output=True, timeout=DEADLINE)
    assert out.returncode == 0
    return out.stdout


@given(st.one_of(st.binary(max_size=600), mixed))
@example(b"")
@example(b"\x00\x7f\x80\xff")
@example(b"a" * 59 + "\U0001f600".encode())  # a sequence across the 60-byte slice edge
def test_backslashreplace_matches_python(data):
    want = data.decode("utf-8", "backslashreplace").encode("utf-8", "surrogatepass") + b"\n"
    assert bsr(data) == want
