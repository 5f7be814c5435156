"""Shared fixtures of the conformance suite: run a lesson's C and Python programs, and put a
recording proxy between client and server.

The C programs come from $LAB_BUILD/solutions/NN-topic (the Makefile sets LAB_BUILD; a
checker outside the repo can point LAB_IMPL at any directory of built programs).  The
Python programs are harness/reference/NN-topic/*.py, run with this interpreter.  Every
wait is bounded by $LAB_DEADLINE seconds (default 10).
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from proxy import RecordingProxy, RecordingRelay

HARNESS = Path(__file__).resolve().parent.parent
ROOT = HARNESS.parent
DEADLINE = float(os.environ.get("LAB_DEADLINE", "10"))
# What a Server keeps of each output stream: room for lesson 04's 6 MB documents, printed.
OUTPUT_MAX = 64 << 20
BUILD = Path(os.environ.get("LAB_BUILD", ROOT / "build"))

settings.register_profile(
    "lab",
    max_examples=int(os.environ.get("LAB_EXAMPLES", "40")),
    deadline=None,  # wall-clock limits per example are the programs' deadlines instead
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,  # a failure prints the line that reproduces it
)
settings.load_profile("lab")

# The reference programs print UTF-8 whatever the machine's locale (CI may have none).
PY_ENV = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")


def c_program(lab, name):
    base = Path(os.environ["LAB_IMPL"]) if os.environ.get("LAB_IMPL") else BUILD / "solutions" / lab
    path = base / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"no C program at {path}: run `make build` first")
    return [str(path)]


def c_models(lab="06-concurrency", known=("thread", "fork", "pool", "poll")):
    """The --model values the C server offers, as its --help lists them: a learner's lesson 06
    has "thread" (the model the lesson asks for) and may add others; only those are tested.
    Without a built server (collection before make build): the lesson's own, "thread"."""
    try:
        argv = c_program(lab, "server") + ["--help"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=DEADLINE).stdout
    except (OSError, subprocess.SubprocessError, pytest.fail.Exception):
        return ["thread"]
    line = next((ln for ln in out.splitlines() if ln.strip().startswith("--model")), "")
    return ["thread"] + [m for m in known[1:] if re.search(rf"\b{m}\b", line)]


def py_program(lab, name):
    return [sys.executable, "-u", str(HARNESS / "reference" / lab / f"{name}.py")]


def program(lang, lab, name):
    return (c_program if lang == "c" else py_program)(lab, name)


def normalize_ports(text):
    """Ports differ from run to run; everything else must be equal."""
    # ('127.0.0.1', 54321), ('::1', 54321, 0, 0), ('::ffff:127.0.0.1', 54321, 0, 0)
    text = re.sub(rb"(\('[0-9a-f.:]+', )\d+", rb"\1PORT", text)
    text = re.sub(rb"(\b\d+\.\d+\.\d+\.\d+:)\d+", rb"\1PORT", text)  # 127.0.0.1:54321
    # "listening on HOST:PORT" whatever HOST is: ::1:54321, :::54321, localhost:54321
    return re.sub(rb"(listening on [^ \n]*:)\d+$", rb"\1PORT", text, flags=re.M)


class Stack:
    """Where a server listens (--host) and how its proxy reaches it: `via` is the address
    the proxy listens on and connects from, `peer` how the server prints the proxy's host."""

    def __init__(self, host, via, peer):
        self.host, self.via, self.peer = host, via, peer

    def __repr__(self):
        return f"Stack(--host {self.host}, via {self.via})"


# The IPv6 pairings of every lesson: servers on ::1 reached over IPv6, and servers on ::
# (the dual-stack socket: IPV6_V6ONLY off) reached over IPv4.  Parametrize with
#     @pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
STACKS = {
    "ipv6": Stack("::1", "::1", "::1"),
    "dual-stack": Stack("::", "127.0.0.1", "::ffff:127.0.0.1"),
}


def peer_repr(stack):
    """How a server prints its peer (the proxy) on stack, ports normalised, as Python prints
    accept()'s address: ('::1', PORT, 0, 0)."""
    return f"('{stack.peer}', PORT, 0, 0)".encode()


def host_args(proxy):
    """The client's --host for reaching proxy: none for 127.0.0.1, every client's default
    (but 06's, which is localhost: its tests give --host themselves)."""
    return [] if proxy.host == "127.0.0.1" else ["--host", proxy.host]


class Server:
    """A server process whose stdout and stderr are collected by reader threads."""

    def __init__(self, argv):
        self.argv = argv
        # For messages: the program, e.g. ".../06-concurrency/server" or ".../server.py".
        self.name = next((a for a in argv if a.endswith(("server", ".py"))), argv[0])
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=PY_ENV, start_new_session=True)
        self.out = bytearray()
        self.err = bytearray()
        self.cond = threading.Condition()
        self.taken = 0
        self.readers = [threading.Thread(target=self._pump, args=(s, b), daemon=True)
                        for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()
        m = self.wait_for(lambda: re.search(rb"^listening on ([^ \n]+):(\d+)$", self.err, re.M))
        if not m:
            self.stop()
            raise AssertionError(f"{self.name}: no 'listening on' line; stderr: {bytes(self.err)!r}")
        self.host, self.port = m.group(1).decode(), int(m.group(2))

    def _pump(self, stream, buf):
        # A program that floods its output must fail its test, not fill the test's memory:
        # past OUTPUT_MAX bytes the rest is read (so that the program never blocks on a full
        # pipe, and stops when told to) and dropped, once marked as such.
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self.cond:
                room = OUTPUT_MAX - len(buf)
                if room > 0:
                    buf.extend(chunk[:room])
                    if len(chunk) > room:
                        buf.extend(b"\n[output past 64 MiB dropped]\n")
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, deadline=DEADLINE):
        """Wait until predicate() is true (it reads self.out/self.err), or the deadline."""
        end = time.monotonic() + deadline
        with self.cond:
            while True:
                result = predicate()
                left = end - time.monotonic()
                if result or left <= 0 or (self.proc.poll() is not None and
                                           not any(t.is_alive() for t in self.readers)):
                    return result
                self.cond.wait(left)

    def take_stdout(self, ending):
        """The stdout printed since the last take, once it ends with `ending` (bytes, or a
        compiled regular expression that must match at the end); an AssertionError if it
        does not by the deadline."""
        if isinstance(ending, bytes):
            done = self.wait_for(lambda: self.out[self.taken:].endswith(ending))
        else:
            done = self.wait_for(lambda: ending.search(self.out, self.taken))
        assert done, (f"{self.name}: stdout did not come to end with {ending!r} within "
                      f"{DEADLINE}s; it has {bytes(self.out[self.taken:])[-300:]!r}")
        with self.cond:
            new = bytes(self.out[self.taken:])
            self.taken = len(self.out)
        return new

    def wait_exit(self, deadline=DEADLINE):
        """Wait (bounded) for the process to exit and for its output to be read; its status,
        or None if it is still running."""
        try:
            status = self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            return None
        for t in self.readers:  # the pipes are at EOF once every writer has gone
            t.join(deadline)
        return status

    def stop(self, sig=signal.SIGTERM):
        """Signal the server, wait for it (bounded), kill its process group, return its status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        status = self.wait_exit()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if status is None:
            status = self.proc.wait()
        for t in self.readers:
            t.join(DEADLINE)
        return status


@pytest.fixture(autouse=True)
def _proxies_in_step(request):
    """A test of a module's shared `servers` starts with their proxies in step, whatever an
    earlier test left behind when it failed.  Hypothesis examples share one call of the test,
    so the exchange helpers that run them call forget() themselves."""
    if "servers" in request.fixturenames:
        request.getfixturevalue("servers").forget()


def run_client(argv, deadline=DEADLINE):
    """Run a client to completion (bounded); returns the CompletedProcess."""
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=PY_ENV,
                              timeout=deadline, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{argv} did not finish within {deadline}s") from e


class ServerPair(dict):
    """The Python and the C server of a lesson, started alike, each behind a RecordingProxy
    (or, with udp=True, a RecordingRelay).

        with ServerPair("01-tcp", banner=True) as servers:
            servers["py"].proxy.port, servers["c"].proxy.port

    With stack= (a Stack, see STACKS) both servers get --host stack.host, and their proxies
    listen on stack.via and connect to the server over it (host_args(proxy): the client's
    --host); without, the servers get only *args, and the proxies listen on 127.0.0.1.
    """

    def __init__(self, lab, *args, banner=False, udp=False, c_args=(), stack=None):
        super().__init__()
        self.lab, self.args, self.banner, self.c_args = lab, list(args), banner, list(c_args)
        self.relay = RecordingRelay if udp else RecordingProxy
        self.stack = stack
        if stack is not None:
            self.args += ["--host", stack.host]

    def __enter__(self):
        try:
            for lang in ("py", "c"):
                extra = self.c_args if lang == "c" else []  # C's own flags (--model, ...)
                server = Server(program(lang, self.lab, "server") + ["--port", "0"] + self.args +
                                extra)
                self[lang] = server
                if self.stack is None:
                    server.proxy = self.relay(server.host, server.port)
                else:
                    server.proxy = self.relay(self.stack.via, server.port, listen=self.stack.via)
                # A server that prints a line at start: take it now (and compare it).
                server.banner = normalize_ports(server.take_stdout(b"\n")) if self.banner else b""
            assert self["c"].banner == self["py"].banner, "the servers' first lines differ"
        except BaseException:
            self.__exit__()
            raise
        return self

    def forget(self):
        """Put both proxies back in step (RecordingProxy.forget) before a new exchange."""
        for server in self.values():
            server.proxy.forget()

    def __exit__(self, *exc):
        for server in self.values():
            if hasattr(server, "proxy"):
                server.proxy.close()
            server.stop()
