"""The course library's JSON codec (labs/common/json.c) against Python's json, byte for byte.

`test_json dump|repr|float` (harness/unit/test_json.c, built by `make unit`) runs the codec
as a filter:

    dump    stdin -> json.dumps(json.loads(stdin.decode('utf-8'))) and a newline
    repr    stdin -> str(json.loads(...)) as print() shows it, and a newline (a lone
            surrogate as 'backslashreplace' writes it)
    float   lines of 16 hex digits (IEEE-754 bits) -> repr(float), one a line

and exits 1 with a one-line reason for any input that json.loads refuses.
"""
import json
import math
import os
import random
import re
import struct
import subprocess
import sys

import pytest
from hypothesis import example, given, strategies as st

from conftest import BUILD, DEADLINE, HARNESS, ROOT

TEST_JSON = BUILD / "unit" / "test_json"
BATCH_DEADLINE = 6 * DEADLINE  # the big batches, under sanitizers too


def run(mode, data, deadline=DEADLINE):
    if not os.access(TEST_JSON, os.X_OK):
        pytest.fail(f"no {TEST_JSON}: run `make unit` first")
    return subprocess.run([str(TEST_JSON), mode], input=data, capture_output=True,
                          timeout=deadline)


def py_loads(data):
    """What the lesson's server does with a payload: decode, then json.loads."""
    return json.loads(data.decode("utf-8"))


def py_dump(obj):
    return json.dumps(obj).encode() + b"\n"


def py_repr(obj):
    # print() writes str(obj); for a top-level str that is the text itself, whose lone
    # surrogates the C side writes as 'backslashreplace' would.
    return str(obj).encode("utf-8", "backslashreplace") + b"\n"


def check_accepts(data):
    """C's dump and repr of data equal Python's."""
    obj = py_loads(data)
    out = run("dump", data)
    assert out.returncode == 0, out.stderr
    assert out.stdout == py_dump(obj)
    out = run("repr", data)
    assert out.returncode == 0, out.stderr
    assert out.stdout == py_repr(obj)


def check_rejects(data):
    """C refuses data with one line on stderr, and Python refuses it too."""
    with pytest.raises((ValueError, RecursionError)):  # JSONDecodeError, UnicodeDecodeError
        py_loads(data)
    out = run("dump", data)
    assert out.returncode == 1, (data[:80], out.stdout[:200])
    assert out.stdout == b""
    assert re.fullmatch(rb"test_json: [^\n]+\n", out.stderr), out.stderr


# ---- (1) floats: repr(float) for every power of two, subnormals, random bits ------------

def float_batch(bits):
    data = "".join(f"{b:016x}\n" for b in bits).encode()
    out = run("float", data, BATCH_DEADLINE)
    assert out.returncode == 0, out.stderr
    got = out.stdout.decode().split("\n")
    assert got.pop() == ""
    assert len(got) == len(bits)
    bad = [(f"{b:016x}", g, repr(struct.unpack("<d", struct.pack("<Q", b))[0]))
           for b, g in zip(bits, got)
           if g != repr(struct.unpack("<d", struct.pack("<Q", b))[0])]
    assert not bad, f"{len(bad)} differ (bits, C, Python): {bad[:10]}"


def test_float_powers_of_two_and_subnormals():
    bits = [0x0060000000000000]  # where the naive shortest-digits search is one digit long
    bits += [e << 52 for e in range(1, 2047)]  # every normal 2**k
    bits += [1 << j for j in range(52)]  # every subnormal 2**k
    bits += [(e << 52) | m for e in range(1, 2047) for m in (1, (1 << 52) - 1)]  # neighbours
    bits += [(e << 52) - 1 for e in range(1, 2047)]
    rng = random.Random(4)
    bits += [rng.getrandbits(52) for _ in range(20000)]  # subnormals
    bits += [0, (1 << 52) - 1, 0x7FF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001]
    bits += [float_bits(10.0**k) for k in range(-323, 309)]
    bits += [float_bits(x) for x in (0.1, 0.3, 1e15, 1e16, 1e-4, 1e-5, 9007199254740993.0)]
    bits += [b | 1 << 63 for b in bits]
    float_batch(bits)


def float_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def test_float_random_bits():
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    for _ in range(2):
        bits = [rng.getrandbits(64) for _ in range(100000)]
        try:
            float_batch(bits)
        except AssertionError as e:
            raise AssertionError(f"random.Random({seed}): {e}") from None


# ---- (2) round trip: documents Python writes, C reads and writes back --------------------

class Obj(list):
    """A JSON object as its list of (key, value) pairs: duplicate keys allowed."""


class Raw(str):
    """A number written as this literal, not as json.dumps would."""


SPECIAL_CHARS = "\x00\x01\x1f\x7f\x80\x9f\xa0\xad\"'\\/\n\r\t\b\f \u2028\u200b\ufeff\uffff" \
                "\ud800\udbff\udc00\udfff\U0001f600\U000e0001\U0010ffff\U00031350\u0cf3"
chars = st.one_of(st.characters(blacklist_categories=()), st.sampled_from(SPECIAL_CHARS))
texts = st.text(chars, max_size=12)
ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 2**64, 10**4300 - 1, -(10**4299)]),
)
number_literals = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?",
                  fullmatch=True),
    st.sampled_from(["-0", "-0.0", "0e0", "1E400", "-1e400", "1e-400", "4.9e-324", "2.4e-324",
                     "1.7976931348623157e308", "1.7976931348623159e308", "9007199254740993",
                     "0.1e1", "1E+2", "1e-05", "100000000000000000000000e-10",
                     "2.2250738585072011e-308", "-" + "9" * 4300, "1e99999999999999999999",
                     "-1e-99999999999999999999", "0e99999999999999999999", "0." + "0" * 330 + "1"]),
).map(Raw)
leaves = st.one_of(st.none(), st.booleans(), ints, st.floats(), texts, number_literals)
values = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5),
        st.lists(st.tuples(st.one_of(texts, st.sampled_from(["a", "b", ""])), kids),
                 max_size=5).map(Obj),
    ),
    max_leaves=25,
)
WHITESPACE = ["", " ", "\t", "\n", "\r", " \r\n\t "]


def render(v, ws, raw_utf8):
    """JSON text for v, with ws() between tokens; strings as json.dumps writes them, or
    (raw_utf8) with their non-ASCII text as raw UTF-8 where it has no lone surrogate."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, Obj):
        return "{" + ws() + ("," + ws()).join(
            render(k, ws, raw_utf8) + ws() + ":" + ws() + render(x, ws, raw_utf8) + ws()
            for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ws() + ("," + ws()).join(render(x, ws, raw_utf8) + ws() for x in v) + "]"
    if isinstance(v, str) and raw_utf8 and not re.search("[\ud800-\udfff]", v):
        return json.dumps(v, ensure_ascii=False)
    return json.dumps(v)


@st.composite
def documents(draw):
    v = draw(values)
    gaps = draw(st.lists(st.sampled_from(WHITESPACE), min_size=1, max_size=6))
    it = iter(range(1 << 30))
    text = render(v, lambda: gaps[next(it) % len(gaps)], draw(st.booleans()))
    return (draw(st.sampled_from(WHITESPACE)) + text + draw(st.sampled_from(WHITESPACE))).encode()


@given(documents())
@example(b'{"a": 1, "b": [true, null, 1.5], "a": {"a": 2, "a": 3}}')
@example(b'["it\'s", "say \\"hi\\"", "both \' \\"", "\\u0000\\u007f\\u0080\\u00a0\\u00ad"]')
@example(b'"\\ud83d\\ude00 \\ude00\\ud83d \\ud800\\u0041 \\ud800\\ud800\\udc00"')
@example(b'"top\\nlevel \\ud800 \\t str"')
@example(b'[NaN, Infinity, -Infinity, -0.0, 1e400, 5e-324, 1e16, 1e-05, 0.0001, -0]')
@example(b' \t\r\n{ "k" :\n[ ] , "" : { } }\r\n')
def test_round_trip(data):
    check_accepts(data)


def test_every_code_point():
    """One string holding every code point: json.dumps's escapes and repr's choice of
    printable (Unicode 14 for Python 3.11) for each of the 0x110000."""
    every = "".join(map(chr, range(0x110000)))
    check_accepts(json.dumps([every]).encode())
    # Bare, with lone surrogates backslashreplaced.  (Not `every` itself: json.loads joins
    # the escapes of U+DBFF and U+DC00, adjacent in it, into U+10FC00.)
    data = json.dumps(every).encode()
    out = run("repr", data)
    assert out.returncode == 0, out.stderr
    assert out.stdout == py_repr(py_loads(data))


def test_printable_table_is_this_pythons():
    """labs/common/json_printable.h is harness/gen_printable.py's output for this Python."""
    sys.path.insert(0, str(HARNESS))
    try:
        import gen_printable
    finally:
        sys.path.pop(0)
    header = (ROOT / "labs" / "common" / "json_printable.h").read_text()
    table = [[int(a, 16), int(b, 16)]
             for a, b in re.findall(r"\{ 0x([0-9a-f]+), 0x([0-9a-f]+) \}", header)]
    assert table == gen_printable.nonprintable_ranges(), \
        "regenerate: /usr/bin/python3 harness/gen_printable.py > labs/common/json_printable.h"


# ---- (3) what Python refuses, C refuses --------------------------------------------------

INVALID = [
    b"\xef\xbb\xbf{}",  # a UTF-8 BOM
    b"{} {}", b"[1] x", b"1 2", b"[]]", b"[1]\x00",  # trailing data
    b"01", b"-01", b"00", b".5", b"1.", b"[1.]", b"1.e5", b"+1", b"-", b"1e", b"1e+", b"0x10",
    b"-NaN", b"nan", b"inf", b"-inf", b"Infinity1", b"NaNa", b"tru", b"nul", b"True", b"None",
    b'"a\tb"', b'"a\nb"', b'"\x00"', b'"\x1f"',  # raw control characters
    b'"\\x41"', b'"\\u12"', b'"\\u12g4"', b'"\\U0001f600"', b"'a'", b'"\\',
    b"\xff", b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b'"\xe2\x82"',  # not UTF-8
    b"[1, \xff]", b"\xe2\x80\xa8[]",  # U+2028 is not JSON whitespace
    b"1" * 4301, b"-" + b"1" * 4301, b"[" + b"2" * 4301 + b"]",
    b"[" * 100000,
    b"[" * 100000 + b"]" * 100000,
    b"[1,]", b"[,1]", b"[1 2]", b"{,}", b'{"a" 1}', b'{"a":}', b'{"a":1,}', b"{1: 2}",
    b"{'a': 1}", b'{"a"}', b'{"a":1', b"[", b"{", b"", b" ", b"\x0c1", b"1\x0b",
    b'"abc', b'"abc\\"',
]


@pytest.mark.parametrize("data", INVALID, ids=lambda d: repr(d[:24]))
def test_rejects(data):
    check_rejects(data)


@given(st.one_of(st.binary(max_size=40),
                 st.tuples(documents(), st.integers(0, 1 << 16), st.binary(max_size=3))))
def test_accepts_exactly_what_python_accepts(case):
    """Any bytes, or a document with a few bytes put in at some place: C accepts exactly
    when Python does, and then writes what Python writes."""
    if isinstance(case, tuple):
        doc, at, junk = case
        at %= len(doc) + 1
        data = doc[:at] + junk + doc[at + len(junk) // 2:]
    else:
        data = case
    try:
        py_loads(data)
    except (ValueError, RecursionError):
        check_rejects(data)
    else:
        check_accepts(data)


def nested(depth):
    return b'{"a": ' * (depth // 2) + b"[" * (depth - depth // 2) + b"1" + \
        b"]" * (depth - depth // 2) + b"}" * (depth // 2)


def test_deep_nesting():
    """500 levels: as Python.  600 (Python still parses them): refused cleanly."""
    check_accepts(b"[" * 500 + b"]" * 500)
    check_accepts(nested(500))
    for data in (b"[" * 600 + b"]" * 600, nested(600)):
        py_loads(data)
        out = run("dump", data)
        assert out.returncode == 1 and out.stdout == b""
        assert re.fullmatch(rb"test_json: [^\n]*nested deeper than \d+\n", out.stderr)


def test_math_edges_are_python_floats():
    # The float literals Python maps to the same double: C reads them alike.
    data = b"[2.2250738585072011e-308, 2.2250738585072012e-308, 0.1e-400, 1" + \
        b"0" * 400 + b".0, 0." + b"0" * 400 + b"1]"
    check_accepts(data)
    assert math.isinf(py_loads(b"1e400"))
