"""run_side_by_side.py - `make run`: your programs and the Python originals, side by side.

    run_side_by_side.py LAB BINDIR [--name TEXT]

Runs BINDIR/server with BINDIR/client ("yours"; TEXT says which build, e.g. IMPL=starter), then
harness/reference/LAB/server.py with client.py ("the original"), each client talking to its
server through a recording proxy (harness/conformance/proxy.py; a relay for UDP), with the
lesson's default arguments.  Prints what each program printed, the bytes each way in hex and
text, and whether yours put the same bytes on the wire as the original, with the first
differing offset where they do not.  Ports differ from run to run and are not compared.

Exit 0 if the bytes on the wire match, 1 if they do not, 2 on bad usage.  Every wait is bounded
by $LAB_DEADLINE seconds (default 10).  Standard library only.
"""
import hmac
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parent
sys.path.insert(0, str(HARNESS / "conformance"))
sys.path.insert(0, str(HARNESS))

from proxy import RecordingProxy, RecordingRelay  # noqa: E402
from wire import explain, hexdump, plural  # noqa: E402

DEADLINE = float(os.environ.get("LAB_DEADLINE", "10"))
# The originals print UTF-8 whatever the machine's locale, and each line as it is printed.
PY_ENV = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
DEMO_KEY = b"my_super_secret_key"
GRACE = min(2.0, DEADLINE)


class Scenario:
    """How a lesson's pair is run: the arguments beyond --port (KEY stands for a key file),
    whether the server serves one connection and exits, and what is random on the wire."""

    def __init__(self, server=(), client=(), c_server=(), udp=False, one_shot=False,
                 challenge=0, note=""):
        self.server, self.client, self.c_server = list(server), list(client), list(c_server)
        self.udp, self.one_shot, self.challenge, self.note = udp, one_shot, challenge, note


SCENARIOS = {
    "01-tcp": Scenario(),
    "02-udp": Scenario(udp=True),
    # The delay lets both of the client's sends arrive (through the proxy, on a loaded
    # machine too) before the server's first read: then it reads HelloWorld, every time.
    "03-sticky-packets": Scenario(server=["--delay", "0.6"], one_shot=True),
    "04-struct-framing": Scenario(server=["--host", "127.0.0.1"], one_shot=True),
    "05-hmac-auth": Scenario(server=["--key-file", "KEY"], client=["--key-file", "KEY"],
                             challenge=32,
                             note="The key: the tutorial's demo key, from a key file (KEY)."),
    "06-concurrency": Scenario(server=["--host", "127.0.0.1"], client=["--host", "127.0.0.1"],
                               c_server=["--model", "thread"]),
}


def normalize_ports(text):
    """Ports differ from run to run; everything else must be equal (as the conformance suite)."""
    text = re.sub(r"(\('[0-9a-f.:]+', )\d+", r"\1PORT", text)
    return re.sub(r"(\b\d+\.\d+\.\d+\.\d+:)\d+", r"\1PORT", text)


class Program:
    """A process whose stdout and stderr are read by threads, so that nothing blocks."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=PY_ENV, start_new_session=True)
        self.out, self.err = bytearray(), bytearray()
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._pump, args=(s, b), daemon=True)
                        for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _pump(self, stream, buf):
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self.cond:
                buf.extend(chunk)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for_stderr(self, pattern, deadline=DEADLINE):
        """The first match of pattern in stderr, or None at the deadline or at its end."""
        end = time.monotonic() + deadline
        with self.cond:
            while True:
                m = re.search(pattern, self.err, re.M)
                left = end - time.monotonic()
                if m or left <= 0 or not any(t.is_alive() for t in self.readers):
                    return m
                self.cond.wait(left)

    def wait(self, deadline=DEADLINE):
        """Its exit status once it has exited and its output is read; None at the deadline."""
        try:
            status = self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            return None
        for t in self.readers:
            t.join(deadline)
        return status

    def stop(self, sig=signal.SIGTERM):
        """Signal it (if running), wait (bounded), kill its process group; its status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        status = self.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if status is None:
            status = self.proc.wait()
            for t in self.readers:
                t.join(DEADLINE)
        return status


class Side:
    """What one pair (yours, or the original) did."""

    def __init__(self, title):
        self.title = title
        self.problems = []  # what went wrong, in words
        self.server_out = self.server_err = self.client_out = self.client_err = b""
        self.client_status = self.server_status = None
        self.c2s = self.s2c = None  # bytes (TCP) or a list of datagrams (UDP); None: none
        self.server_started = False
        self.borrowed_server = False  # the client talked to the original's server instead


def run_pair(server_argv, client_argv, sc):
    side = Side("")
    server = Program(server_argv)
    relay = None
    try:
        m = server.wait_for_stderr(rb"^listening on ([^ \n]+):(\d+)$")
        if not m:
            status = server.wait(0.5)
            side.problems.append(
                "the server printed no 'listening on HOST:PORT' line on stderr " +
                (f"and exited with status {status}" if status is not None
                 else f"within {DEADLINE:g} s"))
            return side
        port = int(m.group(2))
        side.server_started = True
        relay = (RecordingRelay if sc.udp else RecordingProxy)("127.0.0.1", port)
        argv = client_argv + ["--port", str(relay.port)]
        client = Program(argv)
        side.client_status = client.wait()
        if side.client_status is None:
            side.problems.append(f"the client did not finish within {DEADLINE:g} s: stopped")
            side.client_status = client.stop(signal.SIGKILL)
        side.client_out, side.client_err = bytes(client.out), bytes(client.err)
        # The record.  A client that has exited has made its connection (or sent its
        # datagram) if it ever will, but the relay's thread may not have taken it yet: a
        # grace of GRACE seconds for that, then the whole deadline once it has.
        try:
            rec = relay.next_record(DEADLINE if getattr(relay, "accepted", 0) else GRACE)
        except AssertionError:
            rec = None
            if not sc.udp and relay.accepted:
                try:
                    rec = relay.next_record()
                except AssertionError:
                    side.problems.append(f"the connection did not close within {DEADLINE:g} s")
        if rec is not None:
            side.c2s, side.s2c = ((list(rec.c2s), list(rec.s2c)) if sc.udp
                                  else (bytes(rec.c2s), bytes(rec.s2c)))
        elif not side.problems:
            side.problems.append("the client never reached the server")
    finally:
        if relay is not None:
            relay.close()
        if sc.one_shot and side.c2s is not None:  # it had its one connection: it ends now
            side.server_status = server.wait()
            if side.server_status is None:
                side.problems.append(f"the server did not exit within {DEADLINE:g} s after its "
                                     "one connection: stopped")
        side.server_status = server.stop()
        side.server_out, side.server_err = bytes(server.out), bytes(server.err)
    return side


# --- showing it ----------------------------------------------------------------------------

def show_text(label, data, status=None):
    text = data.decode("utf-8", "backslashreplace")
    lines = text.splitlines()
    head = f"  {label}" + (f" (exit {status})" if status is not None else "") + ":"
    if not lines:
        print(head + " (nothing)")
        return
    print(head)
    for line in lines[:40]:
        print("    | " + line)
    if len(lines) > 40:
        print(f"    | ... ({len(lines) - 40} more lines)")


def show_bytes(label, data, udp):
    if data is None:
        print(f"  {label}: nothing (no connection)")
    elif udp:
        print(f"  {label}: {len(data)} datagram{'' if len(data) == 1 else 's'}")
        for i, d in enumerate(data, 1):
            print(f"    datagram {i}, {plural(len(d))}:")
            print("\n".join(hexdump(d, "      ", 16)))
    else:
        print(f"  {label}: {plural(len(data))}")
        if data:
            print("\n".join(hexdump(data, "    ", 16)))


def show_side(side, sc):
    print(f"== {side.title} ==")
    for p in side.problems:
        print(f"  ! {p}")
    show_text("server stdout", side.server_out)
    extra = b"\n".join(line for line in side.server_err.splitlines()
                       if not line.startswith(b"listening on "))
    if extra:
        show_text("server stderr", extra)
    show_text("client stdout", side.client_out, side.client_status)
    if side.client_err:
        show_text("client stderr", side.client_err)
    show_bytes("client -> server", side.c2s, sc.udp)
    show_bytes("server -> client" + (" (the original's server)" if side.borrowed_server else ""),
               side.s2c, sc.udp)
    if sc.challenge and isinstance(side.s2c, bytes):
        print(f"  (the first {sc.challenge} bytes from the server are its random challenge)")
    print()


def compare_stream(name, yours, orig, udp):
    """Lines saying whether one direction matches; True if it does."""
    if yours is None or orig is None:
        if yours is None and orig is None:
            print(f"  {name:<17} the same: nothing")
            return True
        print(f"  {name:<17} DIFFERENT: " + ("yours never connected" if yours is None
                                              else "the original never connected"))
        return False
    if udp:
        if yours == orig:
            print(f"  {name:<17} the same {len(orig)} datagram{'' if len(orig) == 1 else 's'}")
            return True
        if len(yours) != len(orig):
            print(f"  {name:<17} DIFFERENT: {len(yours)} datagram(s) from yours, "
                  f"{len(orig)} from the original")
        for i, (y, o) in enumerate(zip(yours, orig), 1):
            if y != o:
                print(f"  {name:<17} DIFFERENT in datagram {i}:")
                print("\n".join("    " + line for line in explain(o, y, "the original", "yours")))
                break
        return False
    if yours == orig:
        print(f"  {name:<17} the same {plural(len(orig))}")
        return True
    print(f"  {name:<17} DIFFERENT:")
    print("\n".join("    " + line for line in explain(orig, yours, "the original", "yours")))
    return False


def compare_challenge(side_y, side_o, sc, key):
    """Lesson 05: the challenge is random, so the bytes differ from run to run by design.
    Compared instead: 32 bytes of challenge, then the same reply; and each client's answer
    is HMAC-MD5(key, the challenge its server sent)."""
    n = sc.challenge
    same = True
    for name, y, o in (("server -> client", side_y.s2c, side_o.s2c),):
        if y is None or o is None:
            return compare_stream(name, y, o, False)
        if len(y) < n:
            print(f"  {name:<17} DIFFERENT: yours sent {plural(len(y))}, not a {n}-byte challenge")
            same = False
        else:
            print(f"  {name:<17} a {n}-byte challenge (random: not compared), then:")
            same &= compare_stream("  the rest", y[n:], o[n:], False)
    for name, side in (("yours", side_y), ("the original", side_o)):
        if side.c2s is None or side.s2c is None or len(side.s2c) < n:
            continue
        want = hmac.new(key, side.s2c[:n], "md5").digest()
        label = "client -> server"
        if side.c2s == want:
            print(f"  {label:<17} {name}: HMAC-MD5(key, its challenge), {plural(len(want))}")
        else:
            print(f"  {label:<17} DIFFERENT: {name} did not answer HMAC-MD5(key, its challenge):")
            print("\n".join("    " + line for line in
                            explain(want, side.c2s, "HMAC-MD5", name)))
            same = False
    return same


def compare_text(name, yours, orig):
    y = normalize_ports(yours.decode("utf-8", "backslashreplace")).splitlines()
    o = normalize_ports(orig.decode("utf-8", "backslashreplace")).splitlines()
    if y == o:
        print(f"  {name:<17} the same" + (" (ports aside)" if yours != orig else ""))
        return True
    i = next((k for k, (a, b) in enumerate(zip(y, o)) if a != b), min(len(y), len(o)))
    print(f"  {name:<17} different from line {i + 1}: yours "
          f"{y[i] if i < len(y) else '(no line)'!r}, the original's "
          f"{o[i] if i < len(o) else '(no line)'!r}")
    return False


def main(argv):
    if len(argv) < 2 or argv[0] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        print(f"labs: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    lab, bindir = argv[0], Path(argv[1])
    name = argv[3] if len(argv) >= 4 and argv[2] == "--name" else str(bindir)
    sc = SCENARIOS[lab]
    for prog in ("server", "client"):
        if not os.access(bindir / prog, os.X_OK):
            print(f"run: no program at {bindir / prog} (make build?)", file=sys.stderr)
            return 2
    ref = HARNESS / "reference" / lab
    with tempfile.TemporaryDirectory(prefix="learn-run-") as tmp:
        keyfile = Path(tmp) / "key"
        keyfile.write_bytes(DEMO_KEY)

        def args(words):
            return [str(keyfile) if w == "KEY" else w for w in words]

        server_args = ["--port", "0"] + sc.server
        client_args = ([] if "--host" in sc.client else ["--host", "127.0.0.1"]) + sc.client
        where = os.path.relpath(bindir.resolve(), ROOT)
        print(f"{lab}: your programs ({name}: {bindir if where.startswith('..') else where}) "
              "beside the Python")
        print(f"originals (harness/reference/{lab}/), each client talking to its server through "
              "a recording proxy:")
        print(f"  server {' '.join(server_args + sc.c_server)}"
              + (f"   (the original: without {' '.join(sc.c_server)})" if sc.c_server else ""))
        print(f"  client {' '.join(client_args)} --port PROXY")
        if sc.note:
            print(f"  {sc.note}")
        print()

        py = [sys.executable, "-u"]
        py_server = py + [str(ref / "server.py")] + args(server_args)
        yours = run_pair([str(bindir / "server")] + args(server_args + sc.c_server),
                         [str(bindir / "client")] + args(client_args), sc)
        yours.title = f"Yours ({name})"
        if not yours.server_started:
            # Your client can still be tried, against the original's server (a lesson's
            # first hint is often to write the client first).
            lent = run_pair(py_server, [str(bindir / "client")] + args(client_args), sc)
            yours.problems.append("so your client talked to the original's server instead")
            yours.problems += [p.replace("the client", "your client")
                               .replace("the server", "the original's server")
                               for p in lent.problems]
            yours.borrowed_server = lent.server_started
            yours.client_out, yours.client_err = lent.client_out, lent.client_err
            yours.client_status, yours.c2s, yours.s2c = lent.client_status, lent.c2s, lent.s2c
        orig = run_pair(py_server, py + [str(ref / "client.py")] + args(client_args), sc)
        orig.title = "The Python originals"
        show_side(yours, sc)
        show_side(orig, sc)

        print("== Compared (ports aside) ==")
        if sc.challenge and yours.server_started:
            wire_same = compare_challenge(yours, orig, sc, DEMO_KEY)
        else:
            wire_same = compare_stream("client -> server", yours.c2s, orig.c2s, sc.udp)
            if yours.server_started:
                wire_same &= compare_stream("server -> client", yours.s2c, orig.s2c, sc.udp)
            else:
                print(f"  {'server -> client':<17} not compared: your server did not start")
        wire_same &= yours.server_started
        out_same = compare_text("server stdout", yours.server_out, orig.server_out)
        out_same &= yours.server_started
        out_same &= compare_text("client stdout", yours.client_out, orig.client_out)
        print()
        if wire_same:
            print("The bytes on the wire match." + ("" if out_same else
                  "  (What the programs print does not, yet: see above.)"))
            return 0
        print("The bytes on the wire differ: see above." if yours.server_started else
              "Your server did not start: see above.")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
