"""Lesson 07 conformance: lesson 01's echo inside TLS 1.3, C against the Python reference.

The bytes on the wire are encrypted with fresh keys each time, so they cannot be compared run for
run.  What is compared is everything else: the plaintext each side gets (the client's stdout,
the server's stdout), and the shape of the TLS stream the recording proxy saw.  That stream is
cut into its records (content type, legacy version, length); the message and the reply appear
in neither direction; the ServerHello names TLS 1.3; every record after it is encrypted
(application_data); the message's record is len(message) + 17 bytes long (one byte for the inner
content type, 16 for the AEAD tag); and each direction ends with a close_notify (a 19-byte
record), so both programs shut down properly.  All four pairings, over IPv4, over ::1 and
through a server on :: with an IPv4 client.

Then the bad peers: a plain-TCP client, garbage, a handshake that stalls, a client that trusts
another CA, a certificate for another name, an expired one, a missing client certificate, a
TLS 1.2-only peer.  Each is one line on the C server's stderr, and the server goes on; the C
client facing the same (against the Python server) fails as the Python client does: one line
on stderr, exit 1, the same stdout.
"""
import re
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import (DEADLINE, HARNESS, STACKS, Server, ServerPair, host_args, normalize_ports,
                      peer_repr, program, run_client)

LAB = "07-tls"
MAKE_CERTS = HARNESS / "reference" / LAB / "make-certs"  # labs/07-tls/make-certs runs it

# TLS record content types (RFC 8446, 5.1) and what a stream of them looks like.
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 0x14, 0x15, 0x16, 0x17
TAG, INNER_TYPE = 16, 1  # AES-GCM's tag, and the real content type inside the encryption
CLOSE_NOTIFY_RECORD = 2 + INNER_TYPE + TAG  # an alert is 2 bytes: level, description


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """The throwaway CA and certificates (labs/07-tls/make-certs), once for the module."""
    where = tmp_path_factory.mktemp("certs")
    subprocess.run([str(MAKE_CERTS), str(where)], check=True, timeout=60)
    # make-certs keeps the keys to their owner; the grader runs the programs under test as
    # another user than the tests.
    for path in [where, *where.iterdir()]:
        path.chmod(path.stat().st_mode | 0o044 | (0o011 if path.is_dir() else 0))
    return where


def server_args(certs, name="server"):
    return ["--cert", str(certs / f"{name}.pem"), "--key", str(certs / f"{name}.key")]


def client_argv(lang, certs, port, *extra, host=(), ca="ca"):
    """A client's command line: host is host_args(proxy), or none for 127.0.0.1."""
    return (program(lang, LAB, "client") + list(host) +
            ["--port", str(port), "--ca", str(certs / f"{ca}.pem"), *extra])


def mutual(certs, name="client"):
    return ["--client-cert", str(certs / f"{name}.pem"), "--client-key", str(certs / f"{name}.key")]


# --- the TLS records --------------------------------------------------------------------

def records(stream):
    """The records of one direction: [(type, version, length, body)]; the stream must be
    nothing but whole records."""
    out, i = [], 0
    while i < len(stream):
        assert i + 5 <= len(stream), f"a record header cut short at offset {i}"
        kind, version, length = stream[i], int.from_bytes(stream[i + 1:i + 3], "big"), \
            int.from_bytes(stream[i + 3:i + 5], "big")
        assert kind in (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA), \
            f"offset {i}: content type {kind:#04x} is not TLS's"
        assert length <= 2 ** 14 + 256, f"offset {i}: a record of {length} bytes"
        assert i + 5 + length <= len(stream), f"offset {i}: the record is cut short"
        out.append((kind, version, length, bytes(stream[i + 5:i + 5 + length])))
        i += 5 + length
    return out


def server_hello_version(body):
    """The version a ServerHello (the body of its handshake record) chose: TLS 1.3 says so in
    its supported_versions extension (0x002b); legacy_version stays 0x0303."""
    assert body[0] == 2, "the server's first handshake message is not a ServerHello"
    i = 4 + 2 + 32  # header, legacy_version, random
    i += 1 + body[i]  # legacy_session_id_echo
    i += 2 + 1  # cipher_suite, legacy_compression_method
    end = i + 2 + int.from_bytes(body[i:i + 2], "big")
    i += 2
    while i < end:
        ext, size = int.from_bytes(body[i:i + 2], "big"), int.from_bytes(body[i + 2:i + 4], "big")
        if ext == 0x002B:
            return int.from_bytes(body[i + 4:i + 4 + size], "big")
        i += 4 + size
    return int.from_bytes(body[4:6], "big")


def check_tls_stream(rec, message, reply):
    """What the proxy saw is TLS 1.3 from end to end, with message and reply encrypted."""
    assert not rec.errors, rec.errors
    for what, data in (("message", message), ("reply", reply)):
        for direction in (rec.c2s, rec.s2c):
            assert data not in bytes(direction), f"the {what} crosses the wire in clear"
    c2s, s2c = records(rec.c2s), records(rec.s2c)
    # The ClientHello's record says TLS 1.0 or 1.2 (0x0301 or 0x0303), for old middleboxes.
    assert c2s[0][0] == HANDSHAKE and c2s[0][1] in (0x0301, 0x0303) and c2s[0][3][0] == 1
    assert s2c[0][0] == HANDSHAKE and s2c[0][1] == 0x0303
    assert server_hello_version(s2c[0][3]) == 0x0304, "the server did not choose TLS 1.3"
    for name, recs in (("client", c2s), ("server", s2c)):
        # After the hellos (and a compatibility ChangeCipherSpec): encrypted records only,
        # every one of them "application_data" whatever it holds.
        rest = [r for r in recs[1:] if r[0] != CHANGE_CIPHER_SPEC]
        assert rest and all(r[0] == APPLICATION_DATA and r[1] == 0x0303 for r in rest), \
            f"{name}: a record in clear after the hello: {[(t, v, n) for t, v, n, _ in recs]}"
        assert rest[-1][2] == CLOSE_NOTIFY_RECORD, f"{name}: its last record is no close_notify"
    lengths = {"client": [r[2] for r in c2s], "server": [r[2] for r in s2c]}
    assert len(message) + INNER_TYPE + TAG in lengths["client"], lengths
    assert len(reply) + INNER_TYPE + TAG in lengths["server"], lengths


# --- the four pairings ------------------------------------------------------------------

def exchange(certs, client_lang, server, message):
    """One client against one server through its proxy: (client stdout, server stdout)."""
    server.proxy.forget()
    extra = [f"--message={message}"] if message is not None else []
    result = run_client(client_argv(client_lang, certs, server.proxy.port, *extra,
                                    host=host_args(server.proxy)))
    assert result.returncode == 0, f"{client_lang} client failed: {result.stderr!r}"
    sent = (message if message is not None else "Hello, Server").encode()
    rec = server.proxy.next_record()
    check_tls_stream(rec, sent, b"ACK: " + sent)
    printed = server.take_stdout(b"Received: " + sent + b"\n")
    return result.stdout, normalize_ports(printed)


def check_four_pairings(certs, servers, message):
    runs = {(c, s): exchange(certs, c, servers[s], message) for c in ("py", "c")
            for s in ("py", "c")}
    sent = (message if message is not None else "Hello, Server").encode()
    tls = b"TLS: TLSv1.3 TLS_AES_256_GCM_SHA384\n"
    py_out, py_printed = runs["py", "py"]
    assert py_out == tls + b"Server replied: ACK: " + sent + b"\n"
    assert py_printed.endswith(b")\n" + tls + b"Received: " + sent + b"\n"), py_printed
    for (c, s), (out, printed) in runs.items():
        assert out == py_out, f"{c} client -> {s} server: client stdout differs"
        assert printed == py_printed, f"{c} client -> {s} server: server stdout differs"
    return runs


@pytest.fixture(scope="module")
def servers(certs):
    with ServerPair(LAB, *server_args(certs), banner=True) as pair:
        yield pair


@pytest.mark.parametrize("message", [None, "caf\u00e9 \u20ac \U0001f600", "line one\nline two\r\n",
                                     "x" * 1000, "\u00e9" * 500],
                         ids=["default", "unicode", "newlines", "1000", "2-byte"])
def test_four_pairings(certs, servers, message):
    check_four_pairings(certs, servers, message)


@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_ipv6_four_pairings(certs, stack):
    """Over ::1 (the certificate names ::1 too), and to a server on :: from an IPv4 peer."""
    with ServerPair(LAB, *server_args(certs), banner=True, stack=stack) as pair:
        assert pair["py"].banner == f"Server listening on {stack.host}:PORT\n".encode()
        runs = check_four_pairings(certs, pair, None)
        assert runs["py", "py"][1].startswith(b"Connection from " + peer_repr(stack) + b"\n")


def test_mutual_tls_four_pairings(certs):
    """With --require-client-cert, a client with the CA's client certificate is served."""
    args = server_args(certs) + ["--require-client-cert", "--ca", str(certs / "ca.pem")]
    with ServerPair(LAB, *args, banner=True) as pair:
        for c in ("py", "c"):
            for s, server in pair.items():
                result = run_client(client_argv(c, certs, server.proxy.port, *mutual(certs)))
                assert (result.returncode, result.stdout) == (
                    0, b"TLS: TLSv1.3 TLS_AES_256_GCM_SHA384\nServer replied: ACK: Hello, Server\n"), \
                    f"{c} client -> {s} server: {result.stderr!r}"
                check_tls_stream(server.proxy.next_record(), b"Hello, Server", b"ACK: Hello, Server")
                server.take_stdout(b"Received: Hello, Server\n")


def test_server_banner_and_stop(certs):
    for lang in ("py", "c"):
        server = Server(program(lang, LAB, "server") + ["--port", "0"] + server_args(certs))
        try:
            server.wait_for(lambda: b"\n" in server.out)
            assert bytes(server.out) == f"Server listening on 127.0.0.1:{server.port}\n".encode()
        finally:
            assert server.stop() == 0, f"{lang} server did not exit 0 on SIGTERM"


# --- bad peers against the C server: one line on stderr each, and it goes on -------------

def tls_client(certs, port, message=b"ping", ca="ca", name="127.0.0.1", cert=None,
               maximum=None, verify=True):
    """A Python TLS client: the reply, or the exception that stopped it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs / f"{ca}.pem")
    if not verify:  # for a server whose certificate is bad on purpose
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(certs / f"{cert}.pem", certs / f"{cert}.key")
    if maximum:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = maximum
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
            with ctx.wrap_socket(sock, server_hostname=name) as s:
                s.sendall(message)
                reply = s.recv(1024)
                s.unwrap()
                return reply
    except OSError as e:
        return e


def raw_client(port, data, stall=False):
    """A plain TCP client: send data, then (stall=True) wait for the server to give up."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(data)
        if not stall:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:  # the server may have refused and closed already (ENOTCONN)
                pass
        got = b""
        try:
            while chunk := s.recv(4096):
                got += chunk
        except ConnectionResetError:
            pass
        return got


def c_server(certs, *args, name="server"):
    return Server(program("c", LAB, "server") + ["--port", "0"] + server_args(certs, name) +
                  list(args))


def stderr_lines(server, count):
    """Wait for count lines on the server's stderr after its "listening on" line."""
    server.wait_for(lambda: server.err.count(b"\n") >= count + 1)
    return bytes(server.err).decode(errors="replace").splitlines()[1:]


def still_serving(certs, server, **client):
    assert tls_client(certs, server.port, b"still there?", **client) == b"ACK: still there?"


BAD_PEERS = {
    # name: (what the peer does to the server's port, what the server's line must say)
    "plain-tcp": (lambda certs, port: raw_client(port, b"Hello, Server"),
                  r"TLS handshake: (wrong version number|http request|packet length too long)"),
    "garbage": (lambda certs, port: raw_client(port, b"\x16\x03\x01\x00\x05hello"),
                r"TLS handshake: .+"),
    "stall": (lambda certs, port: raw_client(port, b"\x16\x03\x01\x02", stall=True),
              r"TLS handshake: timed out"),
    "other-ca": (lambda certs, port: tls_client(certs, port, ca="ca2"),
                 r"TLS handshake: .*unknown ca"),
    "tls1.2-only": (lambda certs, port: tls_client(certs, port,
                                                   maximum=ssl.TLSVersion.TLSv1_2),
                    r"TLS handshake: .*(unsupported protocol|version)"),
}


@pytest.mark.parametrize("bad", BAD_PEERS, ids=BAD_PEERS)
def test_c_server_survives_a_bad_peer(certs, bad):
    act, says = BAD_PEERS[bad]
    server = c_server(certs, "--timeout", "0.5")
    try:
        got = act(certs, server.port)
        assert not isinstance(got, bytes) or b"ACK" not in got, got
        lines = stderr_lines(server, 1)
        assert len(lines) == 1 and re.search(r"^server: \('127\.0\.0\.1', \d+\): " + says,
                                             lines[0]), lines
        still_serving(certs, server)
        assert b"Received: ping" not in bytes(server.out)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("case", ["other-name", "expired"])
def test_c_server_with_a_certificate_the_client_refuses(certs, case):
    """The client refuses the certificate and says why; the server's line is the alert the
    client sent, and the server goes on."""
    server = c_server(certs, name="other" if case == "other-name" else "expired")
    try:
        got = tls_client(certs, server.port)
        assert isinstance(got, ssl.SSLCertVerificationError), got
        assert ("mismatch" if case == "other-name" else "expired") in got.verify_message
        lines = stderr_lines(server, 1)
        assert len(lines) == 1 and "TLS handshake: " in lines[0] and "alert" in lines[0], lines
        if case == "other-name":  # the same certificate is fine for the name it has
            still_serving(certs, server, name="example.org")
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("case", ["no-certificate", "other-ca"])
def test_c_server_refuses_a_client_without_a_good_certificate(certs, case):
    server = c_server(certs, "--require-client-cert", "--ca", str(certs / "ca.pem"))
    try:
        got = tls_client(certs, server.port, cert=None if case == "no-certificate" else "stranger")
        assert isinstance(got, OSError), got  # an alert, or a reset that overtook it
        lines = stderr_lines(server, 1)
        want = ("peer did not return a certificate" if case == "no-certificate"
                else "certificate verify failed: unable to get local issuer certificate")
        assert len(lines) == 1 and lines[0].endswith("TLS handshake: " + want), lines
        still_serving(certs, server, cert="client")
    finally:
        assert server.stop() == 0


def test_c_server_reports_a_client_that_leaves_without_close_notify(certs):
    """A TCP close with no close_notify could be an attacker cutting the stream short: the
    server says so (Python, suppress_ragged_eofs, takes it for a normal end)."""
    server = c_server(certs)
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(certs / "ca.pem")
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
            s = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
            s.sendall(b"cut")
            assert s.recv(1024) == b"ACK: cut"
            s.close()  # no unwrap(): the TCP FIN without a close_notify
        lines = stderr_lines(server, 1)
        assert len(lines) == 1 and lines[0].endswith("unexpected eof while reading"), lines
        still_serving(certs, server)
    finally:
        assert server.stop() == 0


# --- the C client facing bad servers, as the Python client does --------------------------

def both_clients(certs, port, *extra, ca="ca"):
    """Run the Python and the C client; {lang: (status, stdout, stderr lines)}."""
    out = {}
    for lang in ("py", "c"):
        r = run_client(client_argv(lang, certs, port, *extra, ca=ca))
        out[lang] = (r.returncode, r.stdout, r.stderr.decode(errors="replace").splitlines())
    return out


CLIENT_FAILURES = {
    # name: (Python server's cert, its extra args, the client's extra args, its --ca,
    #        what the C client's line says)
    "other-ca": ("server", [], [], "ca2", "certificate verify failed: unable to get local issuer"),
    "other-name": ("other", [], [], "ca", "certificate verify failed: IP address mismatch"),
    "expired": ("expired", [], [], "ca", "certificate verify failed: certificate has expired"),
    "no-client-cert": ("server", ["--require-client-cert", "--ca", "CA"], [], "ca",
                       "(certificate required|reset|Broken pipe)"),
}


@pytest.mark.parametrize("case", CLIENT_FAILURES, ids=CLIENT_FAILURES)
def test_c_client_fails_as_the_python_client(certs, case):
    name, args, extra, ca, says = CLIENT_FAILURES[case]
    args = [str(certs / "ca.pem") if a == "CA" else a for a in args]
    server = Server(program("py", LAB, "server") + ["--port", "0"] + server_args(certs, name) +
                    args)
    try:
        got = both_clients(certs, server.port, *extra, ca=ca)
        # The handshake the client sees end: with TLS 1.3, a server's refusal of the client
        # certificate comes after it, so the TLS line is printed before the failure.
        want_out = b"TLS: TLSv1.3 TLS_AES_256_GCM_SHA384\n" if case == "no-client-cert" else b""
        for lang, (status, out, err) in got.items():
            assert (status, out) == (1, want_out), (lang, got[lang])
            assert len(err) == 1, (lang, err)
        assert re.search(says, got["c"][2][0]), got["c"][2]
        # The Python server is still serving (a client that does not check, for the bad
        # certificates).
        assert tls_client(certs, server.port, b"still there?", verify=name == "server",
                          cert="client" if args else None) == b"ACK: still there?"
    finally:
        server.stop()


class OneShotServer:
    """A server on 127.0.0.1 that does `handle(conn)` for each client, in a thread."""

    def __init__(self, handle):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self.handle(conn)
                except OSError:
                    pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(DEADLINE)


def test_c_client_refuses_a_tls12_only_server(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certs / "server.pem", certs / "server.key")

    def handle(conn):
        conn.settimeout(DEADLINE)
        with ctx.wrap_socket(conn, server_side=True) as s:
            s.sendall(b"ACK: " + s.recv(1024))

    server = OneShotServer(handle)
    try:
        got = both_clients(certs, server.port)
        for lang, (status, out, err) in got.items():
            assert (status, out, len(err)) == (1, b"", 1), (lang, got[lang])
        assert re.search(r"protocol version|unsupported protocol", got["c"][2][0]), got["c"][2]
    finally:
        server.close()


def test_c_client_refuses_a_server_that_is_not_tls(certs):
    """Lesson 01's echo, without TLS, answers the ClientHello with "ACK: " and its bytes: no
    TLS record starts with "A" (0x41)."""
    server = OneShotServer(lambda conn: conn.sendall(b"ACK: " + conn.recv(1024)))
    try:
        got = both_clients(certs, server.port)
        for lang, (status, out, err) in got.items():
            assert (status, out, len(err)) == (1, b"", 1), (lang, got[lang])
        assert re.search(r"wrong version number|record layer failure|packet length", got["c"][2][0])
    finally:
        server.close()


def test_c_client_gives_up_on_a_server_that_stalls(certs):
    stop = threading.Event()
    server = OneShotServer(lambda conn: stop.wait(DEADLINE))
    try:
        r = run_client(client_argv("c", certs, server.port, "--timeout", "0.5"))
        err = r.stderr.decode(errors="replace").splitlines()
        assert (r.returncode, r.stdout, len(err)) == (1, b"", 1) and "timed out" in err[0], err
    finally:
        stop.set()
        server.close()
