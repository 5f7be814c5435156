#!/usr/bin/env python3
"""peer.py - a scriptable TCP/UDP peer for the labs' tests: says exact bytes, reports exact bytes.

Client mode runs steps against HOST:PORT, in order:

    peer.py [--deadline S] connect HOST PORT STEP...

    send:TEXT     send TEXT's bytes (escapes such as \\xff \\n \\x00 are decoded)
    bytes:TEXT    the same, one send() per byte (Nagle off): a stream cut everywhere
    trickle:TEXT  the same, and after each byte wait until the server has read it (as the
                  read step does): every recv() of the server's returns exactly one byte
    bigframe:N    one frame whose payload is a JSON string of N bytes: "aaa...a"
    frame:TEXT    send TEXT's bytes as one frame: 4-byte big-endian length, then the bytes
    recvframe     read one frame; prints  frame b'...'  (or  eof  if the peer closed first)
    challenge     read lesson 05's 32-byte challenge; prints  challenge HEX
    answer:DIGEST[:KEYFILE]  send HMAC-DIGEST(key, the last challenge); the key is the
                  tutorial's demo key, or KEYFILE's bytes
    answer-previous:DIGEST[:KEYFILE]  the same for the challenge before (a replay)
    cut:N         the next answer sends only its first N bytes
    drip:MS       the next answer goes one byte every MS milliseconds (a slow sender)
    extra:TEXT    the next answer is followed by TEXT, in the same write
    reconnect     close, and connect again (challenges are kept)
    recv          one recv(65536); prints  recv b'...'
    recvall       read until EOF; prints   recvall b'...'  (and  reset  if it ended so)
    shut          shutdown(SHUT_WR): "I have nothing more to send"
    port          prints  port N  (this socket's local port, as the server sees it)
    read          wait until the server has read everything sent so far (its socket's
                  receive queue, /proc/net/tcp, is empty); prints  read
    eof           wait for EOF; prints  eof  (or fails if data or the deadline comes first)
    close         close the socket now

Crowd mode connects N clients at once, each sending PREFIX-i (i from 1), and reports each
one's whole reply, in order:

    peer.py [--deadline S] crowd HOST PORT N PREFIX

It prints  sent N  once all N are connected and have sent (a server stopped with SIGSTOP
finds them all waiting in its backlog when it goes on), then  reply i b'...'  for each
client (read until EOF; a reset ends it too), or  reply i none  for a client that got
neither an answer nor a close before the deadline.  Its exit status is 0 either way.

UDP client mode sends datagrams from one socket and prints the ones that come back:

    peer.py [--deadline S] udp HOST PORT STEP...

    send:TEXT     one datagram of TEXT's bytes
    recv          one datagram (up to 65535 bytes); prints  recv b'...'
    port          prints  port N

Server mode stands in for a server, to test a client:

    peer.py [--deadline S] serve [--host HOST] [--reply TEXT]

It listens on 127.0.0.1 (or --host HOST, such as ::1) port 0, prints "listening on HOST:PORT"
on stderr, accepts one
client, prints  got b'...'  for its first chunk, sends TEXT (if any), then prints
 rest b'...'  with all the client sent until it closed, and exits.

    peer.py [--deadline S] serve --greet TEXT [--reply TEXT] [--close]

--greet sends TEXT as soon as a client connects (before reading anything); with --close and
no --reply, the connection is then closed at once.

    peer.py [--deadline S] serve --close

Accepts one client, prints  got b'...'  for its first chunk and closes at once, unanswered.

    peer.py [--deadline S] serve --recvall

Accepts one client and prints  all b'...'  with everything it sent until it closed.

    peer.py [--deadline S] udp-serve [--reply TEXT] [--count N]

The same over UDP: it prints  got b'...'  for each of the first N datagrams (default 1),
answers the first with TEXT (if any) and exits.

Every step's waiting is bounded by --deadline (default: $LAB_DEADLINE or 10 s); running out
of time is exit 3 with a one-line reason, so a test never hangs.  A connection that fails
(refused, reset, closed under a send) is exit 4 with a one-line reason that names the step:
never a traceback.
"""
import codecs
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import time


def fail(msg, code=3):
    sys.stdout.flush()
    print(f"peer: {msg}", file=sys.stderr)
    sys.exit(code)


def why(e):
    """An OSError in words, as a learner would look it up: the errno's name and text."""
    name = errno.errorcode.get(e.errno, "") if e.errno else ""
    text = e.strerror or str(e) or type(e).__name__
    hint = {
        errno.ECONNREFUSED: "nothing listens there (the server is not running, or on another port)",
        errno.ECONNRESET: "the server reset the connection (it closed with unread data, or died)",
        errno.EPIPE: "the server had closed the connection",
        errno.ENOTCONN: "the connection was gone already",
    }.get(e.errno)
    return f"{text}{f' ({name})' if name else ''}{f': {hint}' if hint else ''}"


def unescape(text):
    """The bytes of TEXT as given on the command line, with backslash escapes decoded."""
    return codecs.escape_decode(os.fsencode(text))[0]


class Peer:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.restart()
        self.tolerate_reset = self.was_reset = False

    def restart(self):
        """Each step gets the whole deadline: a slow machine slows every step, and a
        deadline for the whole script would run out in its last one."""
        self.end = time.monotonic() + self.deadline

    def _wait(self):
        left = self.end - time.monotonic()
        if left <= 0:
            fail("deadline reached")
        self.sock.settimeout(left)

    def recv(self, size=65536):
        self._wait()
        try:
            return self.sock.recv(size)
        except socket.timeout:
            fail("deadline reached waiting for data")
        except ConnectionResetError:
            if not self.tolerate_reset:
                fail("the server reset the connection (it closed with unread data, or died)", 4)
            self.was_reset = True
            return b""

    def recvn(self, n):
        """Exactly n bytes, or fewer if the peer closes first."""
        data = b""
        while len(data) < n:
            chunk = self.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def recvall(self):
        data = b""
        while True:
            chunk = self.recv()
            if not chunk:
                return data
            data += chunk


def connect(host, port, deadline):
    try:
        return socket.create_connection((host, int(port)), timeout=deadline)
    except OSError as e:
        fail(f"cannot connect to {host}:{port}: {why(e)}", 4)


def hmac_answer(arg, challenge):
    digest, _, keyfile = arg.partition(":")
    key = b"my_super_secret_key"
    if keyfile:
        with open(keyfile, "rb") as f:
            key = f.read()
    import hmac  # here, not at the top: it costs every other test ~13 ms of start-up

    return hmac.new(key, challenge, digest).digest()


TCP_CLOSED_STATES = {"06", "07"}  # TIME_WAIT, CLOSE: the server's end is closed


def server_rx_queue(theirs, ours):
    """Bytes the server has not read yet on this IPv4 connection: the rx_queue of its end
    in /proc/net/tcp (local address = our peer address, remote = ours), or None if that
    end is gone or closed."""
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[1] == theirs and fields[2] == ours:
                if fields[3] in TCP_CLOSED_STATES:
                    return None
                return int(fields[4].split(":")[1], 16)
    return None


def wait_read(sock, deadline, what="what was sent"):
    """Poll (every 5 ms, at most `deadline` s) until the server's end has read all we sent.
    Our send queue is checked first: once it is empty every byte is in the server's kernel,
    so an empty receive queue after that means that the server read them."""
    def hexaddr(addr):
        return "%08X:%04X" % (struct.unpack("=I", socket.inet_aton(addr[0]))[0], addr[1])
    try:
        theirs, ours = hexaddr(sock.getpeername()), hexaddr(sock.getsockname())
    except OSError as e:
        fail(f"waiting for the server to read {what}: {why(e)}", 4)
    end = time.monotonic() + deadline
    while True:
        queued = server_rx_queue(theirs, ours)
        if queued is None:
            fail(f"the server closed the connection without reading {what}", 4)
        if queued == 0 and outq(sock) == 0:
            return
        if time.monotonic() > end:
            fail(f"the server did not read {what} within {deadline}s")
        time.sleep(0.005)


def outq(sock):
    """Bytes in our send queue not yet acknowledged (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def run_client(host, port, steps, deadline):
    sock = connect(host, port, deadline)
    peer = Peer(sock, deadline)
    # cut, extra and drip apply to the next answer only.
    state = {"challenges": [], "cut": None, "extra": b"", "drip": None}
    for number, step in enumerate(steps, 1):
        peer.restart()
        try:
            sock, peer = client_step(host, port, deadline, sock, peer, step, state)
        except socket.timeout:
            fail(f"step {number} ({shorten(step)!r}): deadline reached")
        except OSError as e:
            fail(f"step {number} ({shorten(step)!r}): {why(e)}", 4)
        sys.stdout.flush()


def shorten(step):
    return step if len(step) <= 40 else step[:37] + "..."


def client_step(host, port, deadline, sock, peer, step, state):
    """Run one step of run_client's; returns the socket and the Peer (reconnect makes new
    ones).  An OSError is the caller's to report."""
    op, _, arg = step.partition(":")
    challenges = state["challenges"]
    if op == "challenge":
        challenges.append(peer.recvn(32))
        print("challenge", challenges[-1].hex())
    elif op in ("answer", "answer-previous"):
        answer = hmac_answer(arg, challenges[-1 if op == "answer" else -2])
        answer = answer[:state["cut"]] + state["extra"]
        if state["drip"] is None:
            sock.sendall(answer)
        else:  # the slowness is what is being tested, not a way to wait for something
            for b in answer:
                time.sleep(state["drip"] / 1000)
                try:
                    sock.sendall(bytes([b]))
                except OSError:
                    break  # the server gave up on us
        state.update(cut=None, extra=b"", drip=None)
    elif op == "cut":
        state["cut"] = int(arg)
    elif op == "drip":
        state["drip"] = int(arg)
    elif op == "extra":
        state["extra"] = unescape(arg)
    elif op == "reconnect":
        sock.close()
        sock = connect(host, port, deadline)
        peer = Peer(sock, deadline)
    elif op == "send":
        sock.sendall(unescape(arg))
    elif op in ("bytes", "trickle"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = unescape(arg)
        for i, b in enumerate(data):
            sock.sendall(bytes([b]))
            if op == "trickle":
                wait_read(sock, deadline, f"byte {i + 1} of {len(data)}")
    elif op == "frame":
        data = unescape(arg)
        sock.sendall(struct.pack("!I", len(data)) + data)
    elif op == "bigframe":
        n = int(arg)
        data = b'"' + b"a" * (n - 2) + b'"'
        sock.sendall(struct.pack("!I", len(data)) + data)
    elif op == "recvframe":
        header = peer.recvn(4)
        if len(header) < 4:
            print("eof")
        else:
            print("frame", peer.recvn(struct.unpack("!I", header)[0]))
    elif op == "recv":
        print("recv", peer.recv())
    elif op == "recvall":
        # A close with unread data arrives as a reset: reported, not a failure.
        peer.tolerate_reset = True
        data = peer.recvall()
        print("recvall", data, *(["reset"] if peer.was_reset else []))
    elif op == "shut":
        sock.shutdown(socket.SHUT_WR)
    elif op == "port":
        print("port", sock.getsockname()[1])
    elif op == "read":
        wait_read(sock, deadline)
        print("read")
    elif op == "eof":
        data = peer.recv()
        if data:
            fail(f"expected EOF, got {data!r}")
        print("eof")
    elif op == "close":
        sock.close()
    else:
        fail(f"unknown step {step!r}", 2)
    return sock, peer


def run_crowd(host, port, n, prefix, deadline):
    """n clients at once: connect all, send PREFIX-i on each, print "sent n", then read each
    until EOF (or reset) and print its reply, in order; "none" for one that got nothing
    before the deadline."""
    end = time.monotonic() + deadline
    socks = []
    for i in range(1, n + 1):
        sock = connect(host, port, max(end - time.monotonic(), 0.001))
        try:
            sock.sendall(f"{prefix}-{i}".encode())
        except OSError as e:
            fail(f"client {i} of {n}: sending: {why(e)}", 4)
        sock.setblocking(False)
        socks.append(sock)
    print("sent", n, flush=True)
    replies, done = {i: b"" for i in range(n)}, {}
    waiting = dict(enumerate(socks))
    while waiting:
        left = end - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(waiting.values()), [], [], left)
        for i in [i for i, s in waiting.items() if s in ready]:
            try:
                chunk = waiting[i].recv(65536)
            except ConnectionResetError:
                chunk = b""
            except BlockingIOError:
                continue
            if chunk:
                replies[i] += chunk
            else:
                done[i] = True
                waiting.pop(i).close()
    for i in range(n):
        print("reply", i + 1, replies[i] if i in done else "none")


def bound(host, kind):
    """A socket of kind bound to host (127.0.0.1, ::1, ...) port 0."""
    family, _, _, _, addr = socket.getaddrinfo(host, 0, 0, kind)[0]
    sock = socket.socket(family, kind)
    sock.bind(addr)
    return sock


def run_udp_client(host, port, steps, deadline):
    sock = bound("::1" if ":" in host else "127.0.0.1", socket.SOCK_DGRAM)
    sock.settimeout(deadline)
    for step in steps:
        op, _, arg = step.partition(":")
        if op == "send":
            sock.sendto(unescape(arg), (host, int(port)))
        elif op == "recv":
            try:
                print("recv", sock.recvfrom(65535)[0])
            except socket.timeout:
                fail("deadline reached waiting for a datagram")
        elif op == "port":
            print("port", sock.getsockname()[1])
        else:
            fail(f"unknown step {step!r}", 2)
        sys.stdout.flush()


def run_udp_server(host, reply, count, deadline):
    sock = bound(host, socket.SOCK_DGRAM)
    print(f"listening on {host}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    sock.settimeout(deadline)
    for i in range(count):
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            fail("no datagram before the deadline")
        print("got", data, flush=True)
        if reply is not None and i == 0:
            sock.sendto(reply, addr)


def run_server(host, reply, recvall, close, greet, deadline):
    lsock = bound(host, socket.SOCK_STREAM)
    lsock.listen(1)
    print(f"listening on {host}:{lsock.getsockname()[1]}", file=sys.stderr, flush=True)
    lsock.settimeout(deadline)
    try:
        conn, _ = lsock.accept()
    except socket.timeout:
        fail("no client connected before the deadline")
    peer = Peer(conn, deadline)
    if greet is not None:
        conn.sendall(greet)
        if close and reply is None:
            conn.close()
            return
    if recvall:
        print("all", peer.recvall(), flush=True)
        return
    print("got", peer.recv(), flush=True)
    if reply is not None:
        conn.sendall(reply)
    if close:
        conn.close()
        return
    peer.restart()
    print("rest", peer.recvall(), flush=True)


def main(argv):
    deadline = float(os.environ.get("LAB_DEADLINE", "10"))
    if argv[:1] == ["--deadline"]:
        deadline, argv = float(argv[1]), argv[2:]
    if len(argv) >= 3 and argv[0] == "connect":
        run_client(argv[1], argv[2], argv[3:], deadline)
    elif len(argv) == 5 and argv[0] == "crowd":
        run_crowd(argv[1], argv[2], int(argv[3]), argv[4], deadline)
    elif len(argv) >= 3 and argv[0] == "udp":
        run_udp_client(argv[1], argv[2], argv[3:], deadline)
    elif argv[:1] in (["serve"], ["udp-serve"]):
        reply, count, recvall, close, greet, rest = None, 1, False, False, None, argv[1:]
        host = "127.0.0.1"
        while rest:
            if rest[0] == "--host" and len(rest) > 1:
                host, rest = rest[1], rest[2:]
            elif rest[0] == "--reply" and len(rest) > 1:
                reply, rest = unescape(rest[1]), rest[2:]
            elif rest[0] == "--count" and len(rest) > 1:
                count, rest = int(rest[1]), rest[2:]
            elif rest[0] == "--recvall":
                recvall, rest = True, rest[1:]
            elif rest[0] == "--close":
                close, rest = True, rest[1:]
            elif rest[0] == "--greet" and len(rest) > 1:
                greet, rest = unescape(rest[1]), rest[2:]
            else:
                fail(f"unknown option {rest[0]!r}", 2)
        if argv[0] == "serve":
            run_server(host, reply, recvall, close, greet, deadline)
        else:
            run_udp_server(host, reply, count, deadline)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except socket.timeout:
        fail("deadline reached")
    except OSError as e:  # whatever the step: one line, never a traceback
        fail(why(e), 4)
