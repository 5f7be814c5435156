"""The hostile-input catalogue: every class of bad peer, against every C server that reads it.

One test per class of hostile input, parametrized over the servers where the class means
something (and, for lesson 06, over every --model).  Each test ends by checking that

  - the server wrote exactly the one line on stderr that the contract or the solution gives
    for it (or nothing, where the input is no error), and the lines on stdout it must;
  - the server closed that connection (we read its end of file or its reset);
  - a server that goes on still serves the next client: a normal exchange, its exact reply;
    a server that handles one connection (03, 04 without --echo) exits with the contract's
    status instead;
  - nothing leaked: the server's open descriptors (/proc/PID/fd), threads (/proc/PID/task)
    and children (processes whose PPid is the server) come back to what they were after
    start-up, polled with a deadline (closing is asynchronous).

The second half, test_python_original_*, sends the same inputs to the runnable Python
originals (harness/reference) and asserts what they do where that is deterministic: the
traceback that kills them, the wait that never ends, or that they go on.  That is the data for
docs/reliability.md.

Timing: 04 and 05 run with --timeout 0.5; every other wait is bounded by LAB_DEADLINE.
"""
import hmac
import os
import re
import resource
import selectors
import signal
import socket
import struct
import time

import pytest

from conftest import DEADLINE, Server, c_models, program

HOST = "127.0.0.1"
MODELS = c_models()  # the ones the C server lists in --help: "thread" at least
POOL_THREADS = 4
TIMEOUT = 0.5  # --timeout of the 04 and 05 servers here
MAX_FRAME = 8 << 20  # --max-frame of the 04 servers: room for the 100,000 '[' and BIG
# A JSON document whose reply cannot fit in the socket buffers between a server and a peer
# that does not read (at most tcp_wmem's 4 MiB on the server's side, a few KiB on ours).
BIG = b'"' + b"x" * 6_000_000 + b'"'
DEMO_KEY = b"my_super_secret_key"
BAD_UTF8 = b"\xff\xfe ok \xc3("  # two bytes that start nothing, a sequence cut short
BAD_UTF8_SHOWN = BAD_UTF8.decode("utf-8", "backslashreplace").encode()  # \xff\xfe ok \xc3(

# target -> (lesson, flags of the C server, flags of the Python original).  Every server
# binds 127.0.0.1, port 0.
LABS = {
    "01": ("01-tcp", [], []),
    "02": ("02-udp", [], []),
    "03": ("03-sticky-packets", ["--delay", "0.05"], ["--delay", "0.05"]),
    "04-one": ("04-struct-framing", ["--timeout", str(TIMEOUT), "--max-frame", str(MAX_FRAME)],
               []),
    "04-echo": ("04-struct-framing", ["--echo", "--timeout", str(TIMEOUT),
                                      "--max-frame", str(MAX_FRAME)], ["--echo"]),
    "05": ("05-hmac-auth", ["--timeout", str(TIMEOUT)], []),
    # Every length allowed: what a 4 GiB announcement costs before its bytes come.
    "04-no-limit": ("04-struct-framing", ["--echo", "--timeout", "30",
                                          "--max-frame", "4294967295"], ["--echo"]),
}
for _model in MODELS:
    LABS[f"06-{_model}"] = ("06-concurrency", ["--model", _model] + (
        ["--threads", str(POOL_THREADS)] if _model == "pool" else []), [])
ONE_SHOT = {"03", "04-one"}
SIXES = [f"06-{m}" for m in MODELS]
FRAMED = ["04-one", "04-echo"]


def frame(payload):
    return struct.pack("!I", len(payload)) + payload


# --- the server under test ------------------------------------------------------------------

def children_of(pid):
    """Processes whose parent is pid (zombies included: they are leaks too).  Only pids above
    pid can be its children, unless the kernel's pid counter has wrapped since it started:
    then every process is looked at."""
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            wrapped = int(f.read()) < pid
    except (OSError, ValueError):
        wrapped = True
    n = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (not wrapped and int(entry) <= pid):
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
            n += 1
    return n


class Watched(Server):
    """A server started for one test, with what it holds at rest (descriptors, threads,
    children) and marks in its stdout and stderr from which a test's lines are counted."""

    def __init__(self, target, lang="c"):
        lab, c_flags, py_flags = LABS[target]
        self.target, self.lang, self.lab = target, lang, lab
        super().__init__(program(lang, lab, "server") + ["--host", HOST, "--port", "0"] +
                         (c_flags if lang == "c" else py_flags))
        try:
            self._started(target, lang, lab)
        except BaseException:  # the fixture never sees this server: stop it here
            self.stop()
            raise

    def _started(self, target, lang, lab):
        # The first line some servers print on stdout is not a test's business.
        first = {"01-tcp": b"\n", "02-udp": b"\n", "05-hmac-auth": b"\n"}.get(lab)
        if first:
            self.take_stdout(first)
        # Python may write the "listening on" line and its newline separately.
        assert self.wait_for(lambda: self.err.endswith(b"\n"))
        self.err_mark = len(self.err)
        if lang == "c":
            # The course library's stop thread (lab_catch_signals: a sigwait thread), and
            # the main thread, or the pool's threads (the main thread is the last of them).
            threads = 1 + (POOL_THREADS if target == "06-pool" else 1)
            # The pool's threads start after the "listening on" line: wait for them.
            assert self.wait_until(lambda: self.counts()[1] == threads), \
                f"{self.name}: {self.counts()[1]} threads at start, not {threads}"
            self.baseline = self.counts()

    # -- what the process holds
    def counts(self, baseline=None):
        """(descriptors, threads, children); the children (a scan of /proc) are counted only
        if the others equal `baseline`, when one is given."""
        pid = self.proc.pid
        try:
            fds, threads = len(os.listdir(f"/proc/{pid}/fd")), len(os.listdir(f"/proc/{pid}/task"))
        except FileNotFoundError:
            return None  # it has exited
        if baseline is not None and (fds, threads) != baseline[:2]:
            return fds, threads, None
        return fds, threads, children_of(pid)

    def wait_until(self, predicate, deadline=DEADLINE):
        """Poll predicate() (about /proc, not the pipes) until true or the deadline."""
        end = time.monotonic() + deadline
        while not (ok := predicate()) and time.monotonic() < end:
            time.sleep(0.005)
        return ok

    def settle(self):
        """Descriptors, threads and children back to the start-up baseline."""
        if self.wait_until(lambda: self.counts(self.baseline) == self.baseline):
            return
        now = self.counts()
        fds = sorted(os.readlink(f"/proc/{self.proc.pid}/fd/{fd}")
                     for fd in os.listdir(f"/proc/{self.proc.pid}/fd"))
        raise AssertionError(f"{self.name} ({self.target}): leaked: (fds, threads, children) "
                             f"{now} after {DEADLINE}s, {self.baseline} at start; fds: {fds}")

    # -- its output
    def new_err(self):
        with self.cond:
            return bytes(self.err[self.err_mark:])

    def wait_err(self, pattern):
        """Wait for a stderr line matching pattern (a regex over the whole line)."""
        rx = re.compile(pattern.encode() + rb"\n", re.M)
        ok = self.wait_for(lambda: rx.search(self.err, self.err_mark))
        assert ok, f"{self.name}: no stderr line {pattern!r}; stderr: {self.new_err()!r}"

    def expect_out(self, text):
        """stdout since the last take is exactly text (bytes), within the deadline."""
        got = self.take_stdout(text)
        assert got == text, f"{self.name}: stdout {got!r}, expected {text!r}"

    def expect_out_re(self, pattern):
        rx = re.compile(pattern.encode() + rb"\Z")
        got = self.take_stdout(rx)
        assert rx.fullmatch(got), f"{self.name}: stdout {got!r} does not match {pattern!r}"
        return got

    # -- a well-behaved client, with the exact reply and stdout line it must get
    def normal(self, before=None):
        """before: a regex for what the server printed, since the last take, ahead of this
        exchange's own lines (when its length is not known in advance)."""
        lab = self.lab
        if lab == "02-udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(DEADLINE)
                s.sendto(b"ping", (HOST, self.port))
                assert s.recv(2048) == b"Message received"
                me = s.getsockname()[1]
            self._expect(before, f"Received ping from ('{HOST}', {me})\n")
            return
        with connect(self) as s:
            me = s.getsockname()[1]
            if lab == "01-tcp":
                s.sendall(b"ping")
                assert recv_exact(s, 9) == b"ACK: ping"
                s.shutdown(socket.SHUT_WR)
                assert read_to_close(s) == (b"", "eof")
                want = f"Connection from ('{HOST}', {me})\nReceived: ping\n"
            elif lab == "04-struct-framing":
                s.sendall(frame(b'{"n": 1}'))
                assert recv_exact(s, 12) == frame(b'{"n": 1}')
                want = "Received Payload: {'n': 1}\n"
            elif lab == "05-hmac-auth":
                challenge = recv_exact(s, 32)
                s.sendall(hmac.new(DEMO_KEY, challenge, "md5").digest())
                assert read_to_close(s) == (b"Access Granted", "eof")
                want = f"Client ('{HOST}', {me}) authenticated successfully.\n"
            elif lab == "06-concurrency":
                s.sendall(b" hello, Server \n")
                assert read_to_close(s) == (b"HELLO, SERVER", "eof")
                want = "Received from 127.0.0.1\n"
            else:
                raise AssertionError(f"{self.target} serves one connection")
        self._expect(before, want)

    def _expect(self, before, want):
        if before is None:
            self.expect_out(want.encode())
        else:
            self.expect_out_re(before + re.escape(want))

    # -- how a test ends
    def finish(self, err=None, status=None, before=None):
        """The end of every C test: exactly one stderr line matching err (None: no line);
        then a one-shot server exits with status, and any other still serves a normal client
        (its stdout preceded by what matches `before`, if given) and comes back to its
        baseline, and exits 0 on SIGTERM."""
        if err is not None:
            self.wait_err(err)
        if self.target in ONE_SHOT:
            got = self.wait_exit()
            assert got == status, f"{self.name}: exit status {got}, expected {status}"
        else:
            self.normal(before)
            self.settle()
        new = self.new_err()
        if err is None:
            assert new == b"", f"{self.name}: unexpected stderr {new!r}"
        else:
            assert re.fullmatch(err.encode() + rb"\n", new), \
                f"{self.name}: stderr {new!r} is not exactly one line {err!r}"
        if self.target not in ONE_SHOT:
            assert self.stop() == 0, f"{self.name}: SIGTERM did not end it with 0"
            assert self.new_err() == new, f"{self.name}: stopping printed {self.new_err()!r}"

    # -- the Python original's fate
    def crashed(self, exception):
        """It died of exception: a traceback on stderr, exit 1."""
        got = self.wait_exit()
        err = self.new_err()
        assert got == 1 and b"Traceback (most recent call last)" in err and \
            re.search(rb"^(\w+\.)*" + exception.encode() + rb"\b", err, re.M), \
            f"{self.name}: exit {got}, stderr {err!r}; expected {exception}"

    def still_waiting(self, seconds=0.2):
        """Still running, and silent, some time later: it waits for ever."""
        out, err = len(self.out), len(self.err)
        assert self.wait_exit(seconds) is None, f"{self.name} exited: {self.new_err()!r}"
        assert (len(self.out), len(self.err)) == (out, err), \
            f"{self.name}: printed {bytes(self.out[out:])!r} {bytes(self.err[err:])!r}"


@pytest.fixture
def start():
    """start(target, lang="c") -> a Watched server, stopped after the test."""
    started = []

    def start_(target, lang="c"):
        server = Watched(target, lang)
        started.append(server)
        return server

    yield start_
    for server in started:
        server.stop()


# --- peers -------------------------------------------------------------------------------------

def connect(server, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connect(): the window is offered in the handshake
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(DEADLINE)
    s.connect((HOST, server.port))
    return s


def reset(s):
    """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def recv_exact(s, n):
    data = b""
    end = time.monotonic() + DEADLINE
    while len(data) < n:
        s.settimeout(max(end - time.monotonic(), 0.001))
        try:
            chunk = s.recv(n - len(data))
        except TimeoutError:
            raise AssertionError(f"got {data!r} of {n} bytes in {DEADLINE}s") from None
        assert chunk, f"closed after {data!r}, {n} bytes expected"
        data += chunk
    return data


def read_to_close(s, deadline=DEADLINE):
    """Read until the server closes: (bytes, "eof" or "reset"); fails if it does not."""
    data = b""
    end = time.monotonic() + deadline
    while True:
        left = end - time.monotonic()
        assert left > 0, f"the server did not close the connection in {deadline}s ({data!r})"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        except TimeoutError:
            continue
        if not chunk:
            return data, "eof"
        data += chunk


def select_readable(s, seconds):
    with selectors.DefaultSelector() as sel:
        sel.register(s, selectors.EVENT_READ)
        return bool(sel.select(seconds))


def peer(s):
    """How the server names our end of s, as a regex: ('127.0.0.1', PORT)."""
    return re.escape(f"('{HOST}', {s.getsockname()[1]})")


def stuff_until_stuck(s, chunk, quiet=0.2):
    """Send chunk after chunk without reading, until our socket has not been writable for
    `quiet` seconds: the server has stopped reading, stuck writing to us (or, on a loaded
    machine, only slow: the tests that use this end the same either way)."""
    s.setblocking(False)
    end = time.monotonic() + DEADLINE
    with selectors.DefaultSelector() as sel:
        sel.register(s, selectors.EVENT_WRITE)
        while time.monotonic() < end:
            try:
                s.send(chunk)
                continue
            except BlockingIOError:
                pass
            if not sel.select(quiet):
                s.setblocking(True)
                return
    raise AssertionError(f"the server kept reading for {DEADLINE}s")


def msg(server, s, text):
    """The stderr line of lessons 04 and 05: 'server: ('127.0.0.1', PORT): text'."""
    suffix = "; connection closed" if "--echo" in LABS[server.target][1] else ""
    return f"server: {peer(s)}: {text}{suffix}"


# === 04: framing classes (the one-frame server and --echo) ======================================

def bad_frame(server, data, reason, shut=False):
    """Send data; the server says reason (a regex) and closes; nothing on stdout."""
    with connect(server) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (b"", "eof")
        line = msg(server, s, reason)
    server.finish(line, status=1)
    assert bytes(server.out[server.taken:]) == b""


@pytest.mark.parametrize("target", FRAMED)
def test_announced_length_4gib(start, target):
    """0xFFFFFFFF in the header: refused before any payload is read or allocated."""
    bad_frame(start(target), b"\xff\xff\xff\xff",
              rf"frame of 4294967295 bytes is over the limit of {MAX_FRAME} \(--max-frame\)")


def vm_size(pid):
    """The process's virtual memory in bytes: malloc'd memory counts here at once, even
    memory never touched (which RSS would not show)."""
    with open(f"/proc/{pid}/status") as f:
        kib = re.search(r"^VmSize:\s+(\d+) kB$", f.read(), re.M)
    return int(kib.group(1)) * 1024


def tcp_rx_queue(local_port, remote_port):
    """Bytes waiting to be read on the TCP socket 127.0.0.1:local_port <- :remote_port."""
    ip = "%08X" % struct.unpack("=I", socket.inet_aton(HOST))[0]
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[1:3] == [f"{ip}:{local_port:04X}", f"{ip}:{remote_port:04X}"]:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"no TCP socket {HOST}:{local_port} <- {remote_port}")


def test_announced_length_costs_what_arrives(start):
    """--max-frame 4294967295 lets a 4 GiB frame in, but memory follows the bytes that
    arrive: the header and 10 bytes of payload must not make the server reserve 4 GiB
    (malloc(n + 1) at once would; under AddressSanitizer it also takes seconds)."""
    server = start("04-no-limit")
    before = vm_size(server.proc.pid)
    with connect(server) as s:
        s.sendall(b"\xff\xff\xff\xff" + b"0123456789")
        # Once the server's receive queue is empty it has read the header and the 10 bytes,
        # so it has allocated whatever it allocates for them.
        assert server.wait_until(lambda: tcp_rx_queue(server.port, s.getsockname()[1]) == 0)
        grown = vm_size(server.proc.pid) - before
        assert grown < 64 << 20, f"{grown} bytes more virtual memory for 14 bytes received"
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (b"", "eof")
        line = msg(server, s, "truncated payload: got 10 of 4294967295 bytes")
    server.finish(line)


@pytest.mark.parametrize("target", FRAMED)
def test_zero_length(start, target):
    """An empty payload is not JSON."""
    bad_frame(start(target), frame(b""), "invalid JSON at byte 0: expected a value, found the end")


@pytest.mark.parametrize("target", FRAMED)
def test_truncated_header(start, target):
    """2 of the 4 header bytes, then the peer's FIN: the one-frame server prints None (the
    seed's recvall returning None) and exits 0; --echo says so and goes on."""
    server = start(target)
    with connect(server) as s:
        s.sendall(b"\x00\x00")
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (b"", "eof")
        line = msg(server, s, "frame header cut short after 2 of 4 bytes")
    if target == "04-one":
        server.expect_out(b"Received Payload: None\n")
        server.finish(None, status=0)
    else:
        server.finish(line)


@pytest.mark.parametrize("target", FRAMED + ["05"])
def test_truncated_payload(start, target):
    """The peer closes in the middle of the payload (05: of its digest)."""
    server = start(target)
    if target == "05":
        with connect(server) as s:
            recv_exact(s, 32)
            s.sendall(b"\x00" * 8)
            s.shutdown(socket.SHUT_WR)
            assert read_to_close(s) == (b"", "eof")
            line, who = msg(server, s, "the answer was cut short"), s.getsockname()[1]
        server.expect_out(f"Client ('{HOST}', {who}) failed authentication.\n".encode())
        server.finish(line)
    else:
        bad_frame(server, struct.pack("!I", 16) + b'{"cut": ',
                  "truncated payload: got 8 of 16 bytes", shut=True)


@pytest.mark.parametrize("target", FRAMED)
def test_invalid_json(start, target):
    bad_frame(start(target), frame(b"{oops"), "invalid JSON at byte 1: expected a string key")


@pytest.mark.parametrize("target", FRAMED)
def test_nested_100000_brackets(start, target):
    """100,000 '[': Python's parser dies of RecursionError; C stops at its depth limit."""
    bad_frame(start(target), frame(b"[" * 100_000),
              "invalid JSON at byte 512: nested deeper than 512")


@pytest.mark.parametrize("target", FRAMED)
def test_integer_of_10000_digits(start, target):
    bad_frame(start(target), frame(b"7" * 10_000),
              r"invalid JSON at byte 0: integer of 10000 digits \(Python's limit is 4300\)")


# === text: invalid UTF-8, wherever received bytes are printed or parsed ==========================

@pytest.mark.parametrize("target", ["01", "02", "03"] + FRAMED)
def test_invalid_utf8(start, target):
    """Printed as backslashreplace (01, 02, 03), refused as a bad frame (04)."""
    server = start(target)
    if target in FRAMED:
        bad_frame(server, frame(b'"' + BAD_UTF8 + b'"'), "invalid UTF-8 at byte 1")
        return
    if target == "02":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(DEADLINE)
            s.sendto(BAD_UTF8, (HOST, server.port))
            assert s.recv(2048) == b"Message received"
            server.expect_out(b"Received " + BAD_UTF8_SHOWN +
                              f" from ('{HOST}', {s.getsockname()[1]})\n".encode())
        server.finish(None)
        return
    with connect(server) as s:
        s.sendall(BAD_UTF8)
        if target == "01":
            assert recv_exact(s, 5 + len(BAD_UTF8)) == b"ACK: " + BAD_UTF8
            server.expect_out(f"Connection from ('{HOST}', {s.getsockname()[1]})\n".encode() +
                              b"Received: " + BAD_UTF8_SHOWN + b"\n")
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (b"", "eof")
    if target == "03":
        server.expect_out(b"Received: " + BAD_UTF8_SHOWN + b"\n")
    server.finish(None, status=0)


# === peers that are slow, silent, gone, or rude ===============================================

# 06 answers the first byte it gets: a drip is a one-byte request there, nothing slow.
SLOWLORIS = [("silent", t) for t in ["01", "03"] + FRAMED + ["05"] + SIXES] + \
    [("drip", t) for t in ["01", "03"] + FRAMED + ["05"]]


@pytest.mark.parametrize("how,target", SLOWLORIS)
def test_slowloris(start, how, target):
    """A peer that sends nothing, or a byte now and then.  04 drops it after --timeout
    without progress, 05 after --timeout for the whole answer; 06 serves others meanwhile;
    01 and 03 are held until the peer goes (or their --timeout, 5 s by default: longer than
    these tests; 01 holds the clients behind it; SIGTERM ends 03)."""
    server = start(target)
    slow = connect(server)
    try:
        if target in FRAMED or target == "05":
            if target == "05":
                recv_exact(slow, 32)
            if how == "drip":  # 2 of 6 payload bytes (05: of 16 digest bytes), then nothing
                drip(slow, b"" if target == "05" else struct.pack("!I", 6), b"[1")
            # The server's close: a FIN, or a reset if a late drip found it closing.
            data, _ = read_to_close(slow)
            assert data == b""
            if target == "05":
                line = msg(server, slow, "no whole answer in time")
                server.expect_out(f"Client ('{HOST}', {slow.getsockname()[1]}) failed "
                                  "authentication.\n".encode())
            else:
                stage = "payload" if how == "drip" else "frame header"
                line = msg(server, slow, f"reading the {stage}: timed out")
            server.finish(line, status=1)
        elif target == "01":
            holder = slow.getsockname()[1]
            server.expect_out(f"Connection from ('{HOST}', {holder})\n".encode())
            with connect(server) as queued:
                queued.sendall(b"ping")
                if how == "drip":
                    for _ in range(3):
                        slow.sendall(b"a")
                        assert recv_exact(slow, 6) == b"ACK: a"
                        time.sleep(0.05)
                    server.expect_out(b"Received: a\n" * 3)
                # Held: the one-at-a-time server answers nobody else meanwhile.
                assert not select_readable(queued, 0.2)
                slow.close()
                assert recv_exact(queued, 9) == b"ACK: ping"
                server.expect_out(f"Connection from ('{HOST}', {queued.getsockname()[1]})\n"
                                  "Received: ping\n".encode())
            server.finish(None)
        elif target == "03":
            if how == "silent":
                assert server.wait_exit(0.2) is None  # it waits (its --timeout is 5 s)
                server.proc.send_signal(signal.SIGTERM)
                server.finish(None, status=0)
                assert bytes(server.out) == b""
            else:
                drip(slow, b"", b"abc")
                slow.close()
                server.finish(None, status=0)
                got = bytes(server.out)  # however the bytes were cut into chunks
                assert re.fullmatch(rb"(Received: [abc]+\n)+", got), got
                assert re.sub(rb"Received: |\n", b"", got) == b"abc"
        else:  # 06: a silent client is held, the others are served, and so is it in the end
            server.normal()
            slow.sendall(b"late")
            assert read_to_close(slow) == (b"LATE", "eof")
            server.expect_out(b"Received from 127.0.0.1\n")
            server.finish(None)
    finally:
        slow.close()


def drip(s, first, data, every=0.1):
    """Send first, then data one byte at a time, `every` seconds apart; stop quietly if the
    server has already dropped us (a loaded machine may delay us past its timeout)."""
    try:
        if first:
            s.sendall(first)
        for b in data:
            time.sleep(every)
            s.sendall(bytes([b]))
    except (BrokenPipeError, ConnectionResetError):
        pass


@pytest.mark.parametrize("target", ["01", "02", "03"] + FRAMED + ["05"] + SIXES)
def test_connect_and_close(start, target):
    """Connect, then close at once without a byte (02: a datagram whose sender is gone
    before the reply comes back)."""
    server = start(target)
    if target == "02":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"gone", (HOST, server.port))
        who = s.getsockname()[1]
        s.close()
        server.expect_out(f"Received gone from ('{HOST}', {who})\n".encode())
        server.finish(None)
        return
    s = connect(server)
    who = s.getsockname()[1]
    # 05 writes its challenge at once: if it comes before our close, the close is a reset
    # (unread data), else a FIN.  Either is one line.
    line = msg(server, s, "(the answer was cut short|Connection reset by peer)") \
        if target == "05" else None
    s.close()
    out = {"01": f"Connection from ('{HOST}', {who})\n",
           "04-one": "Received Payload: None\n",
           "05": f"Client ('{HOST}', {who}) failed authentication.\n"}.get(target, "")
    if target.startswith("06"):
        out = "Received from 127.0.0.1\n"
    if out:
        server.expect_out(out.encode())
    server.finish(line, status=0)
    if target in ONE_SHOT and target != "04-one":
        assert bytes(server.out) == b""


@pytest.mark.parametrize("target", ["01", "03"] + FRAMED + ["05"] + SIXES)
def test_reset_mid_frame(start, target):
    """A RST (close with SO_LINGER 0) in the middle of a frame (04), of a digest (05), of a
    conversation (01, 03), or before the request (06)."""
    server = start(target)
    s = connect(server)
    who = s.getsockname()[1]
    reason = "Connection reset by peer"
    if target == "01":
        s.sendall(b"ping")
        assert recv_exact(s, 9) == b"ACK: ping"
        server.expect_out(f"Connection from ('{HOST}', {who})\nReceived: ping\n".encode())
        line = f"server: {peer(s)}: recv: {reason}"
    elif target == "03":
        s.sendall(b"Hello")
        line = f"server: recv: {reason}"
    elif target == "05":
        recv_exact(s, 32)
        s.sendall(b"\x00" * 8)
        line = msg(server, s, reason)
    elif target in FRAMED:
        s.sendall(struct.pack("!I", 16) + b'{"cut": ')
        line = msg(server, s, f"reading the payload: {reason}")
    elif target.startswith("06"):  # every model, as handle.c says it
        line = f"server: 127\\.0\\.0\\.1: recv: {reason}"
    else:
        line = f"server: recv: {reason}"
    reset(s)
    if target == "03":
        server.expect_out(b"Received: Hello\n")
    if target == "05":
        server.expect_out(f"Client ('{HOST}', {who}) failed authentication.\n".encode())
    server.finish(line, status=1)
    if target == "04-one":
        assert bytes(server.out) == b""


@pytest.mark.parametrize("target", ["01", "03"] + FRAMED + ["05"] + SIXES)
def test_half_closed(start, target):
    """shutdown(SHUT_WR) right after the request: the peer can still read, and must get the
    whole answer, then the server's close."""
    server = start(target)
    with connect(server) as s:
        who = s.getsockname()[1]
        request, reply, out = {
            "01": (b"ping", b"ACK: ping", f"Connection from ('{HOST}', {who})\nReceived: ping\n"),
            "03": (b"Hello", b"", "Received: Hello\n"),
            "04-one": (frame(b"[1]"), b"", "Received Payload: [1]\n"),
            "04-echo": (frame(b"[1]"), frame(b"[1]"), "Received Payload: [1]\n"),
            "05": (None, b"Access Granted",
                   f"Client ('{HOST}', {who}) authenticated successfully.\n"),
        }.get(target, (b"shut", b"SHUT", "Received from 127.0.0.1\n"))
        if request is None:
            request = hmac.new(DEMO_KEY, recv_exact(s, 32), "md5").digest()
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (reply, "eof")
    server.expect_out(out.encode())
    server.finish(None, status=0)


def raise_limit(which, need, what):
    """At least `need` for this process and the servers it starts (they inherit it), or
    skip the test if the hard limit does not allow it."""
    soft, hard = resource.getrlimit(which)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"needs {need} {what}; the hard limit is {hard}")
    resource.setrlimit(which, (need, hard))


def raise_fd_limit(need):
    raise_limit(resource.RLIMIT_NOFILE, need, "open files (ulimit -n)")


@pytest.mark.parametrize("target", SIXES)
def test_thousand_connections_at_once(start, target):
    """1,000 clients connected at the same time, then each sends its request: each gets its
    own answer; every thread, process and descriptor is given back."""
    n = 1000
    raise_fd_limit(2 * n + 200)
    if target == "06-fork":
        raise_limit(resource.RLIMIT_NPROC, n + 500, "processes (ulimit -u)")
    server = start(target)
    socks = []
    try:
        for _ in range(n):
            socks.append(connect(server))
        for i, s in enumerate(socks):
            s.sendall(b"client %d" % i)
        replies = {}
        with selectors.DefaultSelector() as sel:
            for i, s in enumerate(socks):
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, (i, bytearray()))
            # Bounded by progress: the fork model pays a fork per client (~10 ms here).
            end = time.monotonic() + DEADLINE
            while len(replies) < n and time.monotonic() < end:
                for key, _ in sel.select(0.1):
                    end = time.monotonic() + DEADLINE
                    i, buf = key.data
                    chunk = key.fileobj.recv(4096)
                    if chunk:
                        buf += chunk
                    else:
                        replies[i] = bytes(buf)
                        sel.unregister(key.fileobj)
        assert len(replies) == n, f"{n - len(replies)} of {n} clients got no whole answer"
        assert all(replies[i] == b"CLIENT %d" % i for i in range(n))
    finally:
        for s in socks:
            s.close()
    server.expect_out(b"Received from 127.0.0.1\n" * n)
    server.finish(None)


@pytest.mark.parametrize("target", ["01", "04-echo"] + SIXES)
def test_peer_stops_reading(start, target):
    """The peer sends and never reads.  04 drops it after --timeout stuck in send; 01 (its
    --timeout, 5 s, is longer than this test) stays stuck until the peer goes, then says why,
    without dying of SIGPIPE (any stdout, then `send` or `recv` failing, as the reset may
    find it in either); 06's answer (at most 1024 bytes) always fits in the socket buffers,
    so it finishes and lets go of the connection while the peer still has not read."""
    server = start(target)
    s = connect(server, rcvbuf=4096)
    who = s.getsockname()[1]
    try:
        if target.startswith("06"):
            s.sendall(b"a" * 1024)
            server.expect_out(b"Received from 127.0.0.1\n")
            server.settle()  # closed on its side, though we have read nothing
            assert read_to_close(s) == (b"A" * 1024, "eof")
            server.finish(None)
            return
        if target == "01":
            stuff_until_stuck(s, b"x" * 65536)
            reset(s)
            line = r"server: \('127\.0\.0\.1', %d\): (send|recv): Connection reset by peer" % who
            before = r"Connection from \('127\.0\.0\.1', %d\)\n(Received: x+\n)+" % who
            server.finish(line, before=before)
        else:
            # One frame whose reply cannot fit in the buffers: one line, then stuck in send.
            s.sendall(frame(BIG))
            # (Wait on the end of the buffer first: take_stdout copies what it has taken.)
            assert server.wait_for(lambda: server.out.endswith(b"x\n"))
            server.expect_out(b"Received Payload: " + BIG[1:-1] + b"\n")
            line = msg(server, s, "sending the reply: timed out")
            server.wait_err(line)
            s.close()
            server.finish(line)
    finally:
        s.close()


# === 02: datagrams ==========================================================================

def udp_exchange(server, data):
    """Send one datagram; the answer must be "Message received"; the sender's port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(DEADLINE)
        s.sendto(data, (HOST, server.port))
        assert s.recv(2048) == b"Message received"
        return s.getsockname()[1]


def test_udp_oversized_datagram(start):
    """65,507 bytes (the most one datagram holds): the first 1024 are seen, cut in the
    middle of a UTF-8 sequence here, and the rest is dropped."""
    server = start("02")
    who = udp_exchange(server, b"a" * 1023 + "\u20ac".encode() + b"b" * (65507 - 1026))
    server.expect_out(b"Received " + b"a" * 1023 + b"\\xe2" + f" from ('{HOST}', {who})\n".encode())
    server.finish(None)


def test_udp_empty_datagram(start):
    server = start("02")
    who = udp_exchange(server, b"")
    server.expect_out(f"Received  from ('{HOST}', {who})\n".encode())
    server.finish(None)


def test_udp_flood(start):
    """1,000 datagrams as fast as one socket sends them, never reading the answers: what
    the kernel lets through is printed and answered, and the server goes on."""
    server = start("02")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(1000):
            s.sendto(b"flood", (HOST, server.port))
        who = s.getsockname()[1]
    # Datagrams past a full receive queue are dropped, and our ping could be one of them:
    # wait until the server has read its queue empty (the kernel's count, /proc/net/udp).
    assert server.wait_until(lambda: udp_queue(server.port)[0] == 0), \
        f"the server did not drain its queue: {udp_queue(server.port)}"
    server.finish(None, before=r"(Received flood from \('127\.0\.0\.1', %d\)\n){1,1000}" % who)


def udp_queue(port):
    """(bytes waiting, datagrams dropped) on the UDP socket bound to 127.0.0.1:port."""
    with open("/proc/net/udp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[1] == "%08X:%04X" % (struct.unpack("=I", socket.inet_aton(HOST))[0], port):
                return int(fields[4].split(":")[1], 16), int(fields[-1])
    raise AssertionError(f"no UDP socket on port {port}")


# === the Python originals (harness/reference): the same inputs ==================================
#
# What the seed's code does with each class, for docs/reliability.md.  Only deterministic
# behaviour is asserted: the exception that kills it (a traceback, exit 1), a wait that does
# not end (still running and silent 0.5 s later: it has no timeout), or that it goes on (the
# normal exchange, exactly as for C).

def py_goes_on(server, err=b""):
    """The Python server still serves the normal client; its stderr since start is err (a
    regex, bytes)."""
    server.normal()
    assert server.proc.poll() is None
    assert re.fullmatch(err, server.new_err(), re.S), f"{server.name}: {server.new_err()!r}"


def test_python_original_announced_length_4gib(start):
    """recvall waits for the 4 GiB; when the peer gives up, recvall's None meets .decode().
    (--echo here; test_04_struct_framing shows the one-frame server waiting too.)"""
    server = start("04-echo", "py")
    with connect(server) as s:
        s.sendall(b"\xff\xff\xff\xff")
        server.still_waiting()
        assert not select_readable(s, 0)  # the connection is still open
    server.crashed("AttributeError")


BAD_PAYLOADS = {  # class -> (payload, what kills the Python server)
    "zero_length": (b"", "JSONDecodeError"),
    "invalid_utf8": (b'"' + BAD_UTF8 + b'"', "UnicodeDecodeError"),
    "invalid_json": (b"{oops", "JSONDecodeError"),
    "nested_100000_brackets": (b"[" * 100_000, "RecursionError"),
    "integer_of_10000_digits": (b"7" * 10_000, "ValueError"),
}


@pytest.mark.parametrize("case", sorted(BAD_PAYLOADS))
def test_python_original_bad_payload(start, case):
    """Every bad payload kills the seed's server, even with --echo, which should go on:
    json.loads or .decode() raises, and nothing catches it.  (Without --echo it dies the
    same way: recv_msg is the same code; test_04_struct_framing shows some.)"""
    payload, exception = BAD_PAYLOADS[case]
    server = start("04-echo", "py")
    with connect(server) as s:
        s.sendall(frame(payload))
        assert read_to_close(s)[0] == b""
    server.crashed(exception)


@pytest.mark.parametrize("target", FRAMED)
def test_python_original_truncated_header(start, target):
    """recvall returns None: the one-frame server prints None, --echo ends the connection."""
    server = start(target, "py")
    with connect(server) as s:
        s.sendall(b"\x00\x00")
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (b"", "eof")
    if target == "04-one":
        server.expect_out(b"Received Payload: None\n")
        assert server.wait_exit() == 0
    else:
        py_goes_on(server)


@pytest.mark.parametrize("target", FRAMED + ["05"])
def test_python_original_truncated_payload(start, target):
    """04: recvall's None meets .decode().  05: recv(16) takes the 8 bytes for the digest."""
    server = start(target, "py")
    with connect(server) as s:
        if target == "05":
            recv_exact(s, 32)
            s.sendall(b"\x00" * 8)
        else:
            s.sendall(struct.pack("!I", 16) + b'{"cut": ')
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s)[0] == b""
        who = s.getsockname()[1]
    if target == "05":
        server.expect_out(f"Client ('{HOST}', {who}) failed authentication.\n".encode())
        py_goes_on(server)
    else:
        server.crashed("AttributeError")


@pytest.mark.parametrize("target", ["01", "02", "03"])
def test_python_original_invalid_utf8(start, target):
    """data.decode('utf-8') raises: the server dies (04: see test_python_original_bad_payload)."""
    server = start(target, "py")
    if target == "02":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(BAD_UTF8, (HOST, server.port))
    else:
        with connect(server) as s:
            s.sendall(BAD_UTF8)
            s.shutdown(socket.SHUT_WR)
            assert read_to_close(s)[0] == b""
    server.crashed("UnicodeDecodeError")


@pytest.mark.parametrize("how,target", [(h, t) for h, t in SLOWLORIS
                                        if t in ("04-echo", "05", "06-thread") or
                                        h == "silent" and t in ("01", "03")])
def test_python_original_slowloris(start, how, target):
    """No timeout anywhere: 04 and 05 wait for ever on a silent peer (04 on a dripping one
    too); 05 takes a dripped first byte for the whole digest; 01 holds the clients behind
    the silent one and 03 waits for it, as the C servers do; ThreadingTCPServer serves the
    others.  (01 and 03 treat a drip as the C servers do.)"""
    server = start(target, "py")
    slow = connect(server)
    try:
        if target == "05" and how == "drip":
            recv_exact(slow, 32)
            slow.sendall(b"\x00")
            server.expect_out(f"Client ('{HOST}', {slow.getsockname()[1]}) failed "
                              "authentication.\n".encode())
            assert read_to_close(slow) == (b"", "eof")
            py_goes_on(server)
        elif target in ("04-echo", "05"):
            if target == "05":
                recv_exact(slow, 32)
            elif how == "drip":
                drip(slow, struct.pack("!I", 6), b"[1")
            server.still_waiting()
            assert not select_readable(slow, 0)  # still open: nobody drops it
        elif target == "01":
            server.expect_out(f"Connection from ('{HOST}', {slow.getsockname()[1]})\n".encode())
            with connect(server) as queued:
                queued.sendall(b"ping")
                assert not select_readable(queued, 0.2)
                slow.close()
                assert recv_exact(queued, 9) == b"ACK: ping"
        elif target == "03":
            server.still_waiting()
            server.proc.send_signal(signal.SIGTERM)
            assert server.wait_exit() == 0
        else:
            server.normal()
            slow.sendall(b"late")
            assert read_to_close(slow) == (b"LATE", "eof")
    finally:
        slow.close()


@pytest.mark.parametrize("target", ["03", "04-one", "05"])
def test_python_original_connect_and_close(start, target):
    """03 exits 0 and 04 prints None, as C does; 05 races with its own challenge.  (01, 02,
    04 --echo and 06 go on, as C does.)"""
    server = start(target, "py")
    s = connect(server)
    who = s.getsockname()[1]
    s.close()
    if target == "05":
        # A challenge that reaches us before our close makes the close a reset, and that
        # kills it; otherwise recv() returns b"", and it fails the client and goes on.
        # (The traceback's last line names the exception: wait for that line.)
        died = re.compile(rb"^\w+Error: .*\n", re.M)
        done = server.wait_for(lambda: b"failed authentication" in server.out or
                               died.search(server.err, server.err_mark))
        assert done, f"{server.name}: neither failed the client nor died: " \
            f"{bytes(server.out)!r} {server.new_err()!r}"
        if b"Traceback" in server.new_err():
            server.crashed("(ConnectionResetError|BrokenPipeError)")
        else:
            server.expect_out(f"Client ('{HOST}', {who}) failed authentication.\n".encode())
            py_goes_on(server)
    elif target == "03":
        assert server.wait_exit() == 0 and bytes(server.out) == b""
    else:
        server.expect_out(b"Received Payload: None\n")
        assert server.wait_exit() == 0


@pytest.mark.parametrize("target", ["01", "03"] + FRAMED + ["05", "06-thread"])
def test_python_original_reset_mid_frame(start, target):
    """recv raises ConnectionResetError: it kills 01, 03 and 04; ThreadingTCPServer prints
    the traceback and goes on; 05 reads the 8 bytes that came before the reset."""
    server = start(target, "py")
    s = connect(server)
    who = s.getsockname()[1]
    if target == "01":
        s.sendall(b"ping")
        assert recv_exact(s, 9) == b"ACK: ping"
    elif target == "03":
        s.sendall(b"Hello")
    elif target == "05":
        recv_exact(s, 32)
        s.sendall(b"\x00" * 8)
    elif target in FRAMED:
        s.sendall(struct.pack("!I", 16) + b'{"cut": ')
    reset(s)
    if target == "05":
        server.expect_out(f"Client ('{HOST}', {who}) failed authentication.\n".encode())
        py_goes_on(server)
    elif target == "06-thread":
        # Up to the closing line of dashes: socketserver's handle_error() prints the
        # traceback, then that line, in separate writes.
        assert server.wait_for(lambda: re.search(rb"ConnectionResetError[^\n]*\n-+\n", server.err))
        py_goes_on(server, rb"-+\nException occurred during processing of request from "
                           rb"\('127\.0\.0\.1', \d+\)\nTraceback .*ConnectionResetError.*\n-+\n")
    else:
        server.crashed("ConnectionResetError")
        if target == "03":
            assert bytes(server.out) == b"Received: Hello\n"


@pytest.mark.parametrize("target", ["05", "06-thread"])
def test_python_original_half_closed(start, target):
    """The seed's single recv() still gets the whole digest (05) or request (06) from a
    half-closed peer, and the answer reaches it.  (01, 03 and 04 serve it as C does.)"""
    server = start(target, "py")
    with connect(server) as s:
        if target == "05":
            request = hmac.new(DEMO_KEY, recv_exact(s, 32), "md5").digest()
            reply = b"Access Granted"
        else:
            request, reply = b"shut", b"SHUT"
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        assert read_to_close(s) == (reply, "eof")
    server.take_stdout(b"\n")
    py_goes_on(server)


@pytest.mark.parametrize("target", ["01", "04-echo", "06-thread"])
def test_python_original_peer_stops_reading(start, target):
    """sendall has no timeout: 04 --echo waits for ever; 01 too, until the peer resets, which
    kills it; ThreadingTCPServer's reply fits in the buffers."""
    server = start(target, "py")
    s = connect(server, rcvbuf=4096)
    try:
        if target == "06-thread":
            s.sendall(b"a" * 1024)
            assert read_to_close(s) == (b"A" * 1024, "eof")
            server.take_stdout(b"\n")
            py_goes_on(server)
        elif target == "01":
            stuff_until_stuck(s, b"x" * 65536)
            reset(s)
            assert server.wait_exit() == 1
            assert re.search(rb"^(ConnectionResetError|BrokenPipeError): ", server.new_err(), re.M)
        else:
            # One frame whose reply cannot fit in the buffers: after its one line, the
            # server can only wait in sendall (or die, which would print a traceback).
            s.sendall(frame(BIG))
            assert server.wait_for(lambda: server.out.endswith(b"x\n"))
            server.still_waiting()
    finally:
        s.close()


def test_python_original_udp(start):
    """Empty datagrams, a flood and an oversized ASCII datagram pass; 1024 bytes cut inside a
    UTF-8 sequence kill it (UnicodeDecodeError)."""
    server = start("02", "py")
    udp_exchange(server, b"")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(1000):
            s.sendto(b"flood", (HOST, server.port))
    assert server.wait_until(lambda: udp_queue(server.port)[0] == 0)
    udp_exchange(server, b"a" * 65507)
    assert server.proc.poll() is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"a" * 1023 + "\u20ac".encode() + b"b" * 100, (HOST, server.port))
    server.crashed("UnicodeDecodeError")
