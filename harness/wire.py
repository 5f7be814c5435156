"""wire.py - bytes on the wire, shown to a learner: hex dumps and the first difference.

Used by harness/lab.bash (assert_bytes, assert_wire: a failing test shows the bytes) and by
harness/run_side_by_side.py (make run).  Standard library only: the lab tests run it with any
Python 3.

    wire.py diff EXPECTED_FILE ACTUAL_FILE [--what TEXT]
        exit 0 if the files hold the same bytes; else print both around the first differing
        offset (TEXT, if given, says whose bytes they are) and exit 1.
    wire.py lines EXPECTED ACTUAL [--context TEXT]
        EXPECTED and ACTUAL are test-peer reports (harness/peer.py), one line per step, such as
        "recv b'ACK: hi'": print where they first differ, as bytes when both lines carry bytes.
        Exit 0 if they are equal, 1 if not.
"""
import ast
import re
import sys

ROW = 16  # bytes per dump row


def printable(b):
    return chr(b) if 0x20 <= b <= 0x7E else "."


def first_difference(a, b):
    """The first offset where a and b differ (one may be a prefix of the other), or None."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def dump_rows(data, first=0, last=None):
    """Rows first..last (inclusive) of a hex dump of data: offset, 16 bytes in hex, text."""
    last = (max(len(data) - 1, 0) // ROW) if last is None else last
    rows = []
    for r in range(first, last + 1):
        chunk = data[r * ROW:(r + 1) * ROW]
        if not chunk and r > 0:
            break
        hexes = " ".join(f"{b:02x}" for b in chunk[:8])
        if len(chunk) > 8:
            hexes += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(printable(b) for b in chunk)
        rows.append((r, f"{r * ROW:04x}  {hexes:<49} |{text}|"))
    return rows


def caret(offset):
    """A line that points at byte `offset` of its row in dump_rows' layout."""
    col = offset % ROW
    return " " * (6 + 3 * col + (1 if col >= 8 else 0)) + "^^"


def hexdump(data, indent="  ", max_rows=8, mark=None):
    """A dump of data, at most max_rows rows (the ones around `mark`, if given); a caret
    under the byte at offset `mark`."""
    if not data:
        return [indent + "(no bytes)"]
    nrows = (len(data) + ROW - 1) // ROW
    if nrows <= max_rows:
        first, last = 0, nrows - 1
    else:
        centre = (mark if mark is not None else 0) // ROW
        first = max(0, min(centre - max_rows // 2, nrows - max_rows))
        last = first + max_rows - 1
    lines = [] if first == 0 else [indent + f"... ({first * ROW} bytes before)"]
    for r, text in dump_rows(data, first, last):
        lines.append(indent + text)
        if mark is not None and r == mark // ROW and mark < len(data):
            lines.append(indent + caret(mark))
    after = len(data) - (last + 1) * ROW
    if after > 0:
        lines.append(indent + f"... ({after} more bytes)")
    return lines


def describe_byte(data, i):
    if i >= len(data):
        return "nothing (it ends there)"
    b = data[i]
    return f"0x{b:02x} {printable(b)!r}" if 0x20 <= b <= 0x7E else f"0x{b:02x}"


def plural(n):
    return f"{n} byte" + ("" if n == 1 else "s")


def explain(expected, actual, expected_name="expected", actual_name="received", rows=4):
    """Lines telling where `actual` first differs from `expected`, with both dumped around it;
    [] if they are equal."""
    at = first_difference(expected, actual)
    if at is None:
        return []
    width = max(len(expected_name), len(actual_name))
    lines = [f"first difference at offset {at} (0x{at:x}): {expected_name} "
             f"{describe_byte(expected, at)}, {actual_name} {describe_byte(actual, at)}"]
    for name, data in ((expected_name, expected), (actual_name, actual)):
        lines.append(f"{name + ':':<{width + 1}} {plural(len(data))}")
        lines.extend(hexdump(data, "    ", rows, at))
    return lines


# --- the command line ---------------------------------------------------------------------

# A test peer's report of bytes: "WORD b'...'" (or b"..."), maybe followed by " reset"; crowd
# mode's word has a number after it: "reply 7 b'...'".
REPORT = re.compile(r"""^(\w+(?: \d+)?) (b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")( reset)?$""")
# Which program under test put the bytes on the wire, by the peer's word for them.
SENDER = {"recv": "the server", "recvall": "the server", "frame": "the server (a frame's payload)",
          "got": "the client", "rest": "the client", "all": "the client", "reply": "the server"}
WHOLE_MAX = 16  # lines of the peer's whole report shown


def parse_report(line):
    m = REPORT.match(line)
    if not m:
        return None
    try:
        return m.group(1), ast.literal_eval(m.group(2)), m.group(3) or ""
    except (ValueError, SyntaxError):
        return None


def shorten(line, room=160):
    """A long report line cut in its middle (the dump above shows the bytes)."""
    if line is None:
        return "(no line)"
    if len(line) <= room:
        return line
    return f"{line[:room - 50]} ... {line[-40:]}  ({len(line)} characters)"


def compare_lines(expected, actual, context=""):
    exp, act = expected.split("\n"), actual.split("\n")
    if exp == act:
        return 0
    i = next((k for k, (x, y) in enumerate(zip(exp, act)) if x != y), min(len(exp), len(act)))
    where = f" ({context})" if context else ""
    e = exp[i] if i < len(exp) else None
    a = act[i] if i < len(act) else None
    pe, pa = parse_report(e or ""), parse_report(a or "")
    out = []
    if pe and pa and pe[0] == pa[0]:
        who = SENDER.get(pe[0].split()[0], "the program")
        out.append(f"-- the bytes on the wire differ{where} --")
        out.append(f"what {who} sent, as the test peer reported it ('{pe[0]}'"
                   f"{', step ' + str(i + 1) if len(exp) > 1 else ''}):")
        out.extend(explain(pe[1], pa[1]) or [
            "the same bytes, but only one of the two reports ends with 'reset' (the connection "
            "was reset, not closed)"])
    else:
        out.append(f"-- the test peer's report differs{where} --")
        if i >= len(act):
            out.append(f"line {i + 1} is missing: the peer stopped early")
        elif i >= len(exp):
            out.append(f"line {i + 1} is extra")
    out.append(f"expected: {shorten(e)}")
    out.append(f"received: {shorten(a)}")
    if len(exp) > 1 or len(act) > 1:
        out.append("the peer's whole report:")
        out.extend("  " + shorten(line) for line in act[:WHOLE_MAX])
        if len(act) > WHOLE_MAX:
            out.append(f"  ... ({len(act) - WHOLE_MAX} more lines)")
    out.append("--")
    print("\n".join(out))
    return 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "diff":
        what = f" ({argv[4]})" if len(argv) >= 5 and argv[3] == "--what" else ""
        with open(argv[1], "rb") as f:
            expected = f.read()
        with open(argv[2], "rb") as f:
            actual = f.read()
        lines = explain(expected, actual)
        if not lines:
            return 0
        print(f"-- the bytes differ{what} --")
        print("\n".join(lines))
        print("--")
        return 1
    if len(argv) >= 3 and argv[0] == "lines":
        context = argv[4] if len(argv) >= 5 and argv[3] == "--context" else ""
        return compare_lines(argv[1], argv[2], context)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
