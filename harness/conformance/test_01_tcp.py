"""Lesson 01 conformance: the C client and server against the seed's Python, byte for byte.

Every message goes through all four pairings (Python or C client x Python or C server),
each through a recording proxy.  The C client must put on the wire exactly what the
Python client does, the C server must answer exactly what the Python server does, and each
C program's stdout must equal its Python counterpart's (ports aside).
"""
import socket

import pytest
from hypothesis import example, given, strategies as st

from conftest import (DEADLINE, PY_ENV, STACKS, Server, ServerPair, host_args, normalize_ports,
                      peer_repr, program, py_program, run_client)

LAB = "01-tcp"

# Any Unicode text without NUL (argv cannot carry it), 1 to 1000 bytes of UTF-8: the
# server's recv(1024) then sees it whole, and "ACK: " + it fits the client's recv(1024).
messages = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                   min_size=1, max_size=250).filter(lambda s: len(s.encode()) <= 1000)
long_ascii = st.text(st.characters(min_codepoint=1, max_codepoint=127), min_size=1,
                     max_size=1000)


@pytest.fixture(scope="module")
def servers():
    with ServerPair(LAB, banner=True) as pair:
        yield pair


def exchange(client_lang, server, message):
    """Run one client against one server through its proxy.

    Returns (client stdout, wire record, what the server printed for the connection)."""
    server.proxy.forget()  # an example that failed midway may have left a record behind
    argv = program(client_lang, LAB, "client") + host_args(server.proxy) + [
        "--port", str(server.proxy.port)]
    if message is not None:
        argv.append(f"--message={message}")  # a message may start with "-"
    result = run_client(argv)
    assert result.returncode == 0, f"{argv[0]} failed: {result.stderr!r}"
    rec = server.proxy.next_record()
    assert not rec.errors, rec.errors
    # The server printed "Received: ..." before it sent the ACK the client got.
    printed = server.take_stdout(b"Received: " + bytes(rec.c2s) + b"\n")
    return result.stdout, rec, normalize_ports(printed)


def check_four_pairings(servers, message):
    runs = {(c, s): exchange(c, servers[s], message) for c in ("py", "c") for s in ("py", "c")}
    sent = (message if message is not None else "Hello, Server").encode()
    py_out, py_rec, py_printed = runs["py", "py"]
    # The reference itself behaves as the contract says.
    assert bytes(py_rec.c2s) == sent
    assert bytes(py_rec.s2c) == b"ACK: " + sent
    assert py_out == b"Server replied: ACK: " + sent + b"\n"
    for (c, s), (out, rec, printed) in runs.items():
        who = f"{c} client -> {s} server"
        assert bytes(rec.c2s) == bytes(py_rec.c2s), f"{who}: client bytes differ"
        assert bytes(rec.s2c) == bytes(py_rec.s2c), f"{who}: server bytes differ"
        assert out == py_out, f"{who}: client stdout differs"
        assert printed == py_printed, f"{who}: server stdout differs"
    return runs


@given(message=st.one_of(messages, long_ascii))
@example(message="Hello, Server")
@example(message="line one\nline two\r\n")
@example(message="caf\u00e9 \u20ac \U0001f600 \u202e\u0007")
@example(message="x" * 1000)
@example(message="\u00e9" * 500)
def test_any_message_four_pairings(servers, message):
    check_four_pairings(servers, message)


def test_default_message_four_pairings(servers):
    check_four_pairings(servers, None)


# --- IPv6: servers on ::1 over IPv6, and on :: (dual stack) with an IPv4 client ----------

@pytest.fixture(scope="module", params=STACKS.values(), ids=STACKS.keys())
def stacked(request):
    with ServerPair(LAB, banner=True, stack=request.param) as pair:
        yield pair


@pytest.mark.parametrize("message", [None, "caf\u00e9 \U0001f600", "x" * 1000],
                         ids=["default", "unicode", "1000"])
def test_ipv6_four_pairings(stacked, message):
    """The exchange over ::1, and to a server on :: from an IPv4 peer: the same bytes and
    lines; the peer printed as Python prints an IPv6 address."""
    stack = stacked.stack
    assert stacked["py"].banner == f"Server listening on {stack.host}:PORT\n".encode()
    runs = check_four_pairings(stacked, message)
    sent = (message if message is not None else "Hello, Server").encode()
    assert runs["py", "py"][2] == (b"Connection from " + peer_repr(stack) + b"\n"
                                   b"Received: " + sent + b"\n")


def test_server_banner_shows_the_real_port():
    for lang in ("py", "c"):
        server = Server(program(lang, LAB, "server") + ["--port", "0"])
        try:
            server.wait_for(lambda: b"\n" in server.out)
            assert bytes(server.out) == f"Server listening on 127.0.0.1:{server.port}\n".encode()
        finally:
            assert server.stop() == 0, f"{lang} server did not exit 0 on SIGTERM"


def converse(port, chunks):
    """A raw client: send each chunk, read one reply after each; returns the replies."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        for chunk in chunks:
            s.sendall(chunk)
            replies.append(s.recv(65536))
        s.shutdown(socket.SHUT_WR)
        replies.append(s.recv(65536))  # b"": the server closed its side
    return replies


def test_several_messages_on_one_connection(servers):
    chunks = [b"one", b"two \xc3\xa9", b"three"]
    got = {}
    for lang, server in servers.items():
        replies = converse(server.proxy.port, chunks)
        rec = server.proxy.next_record()
        printed = server.take_stdout(b"Received: three\n")
        got[lang] = (replies, bytes(rec.s2c), normalize_ports(printed))
    assert got["py"][0] == [b"ACK: one", "ACK: two \u00e9".encode(), b"ACK: three", b""]
    assert got["c"] == got["py"]


# --- the documented divergence: bytes that are not UTF-8 ---------------------------------

INVALID = b"caf\xc3\xa9 \xff\xfe!"


def test_c_server_prints_invalid_utf8_as_backslashreplace_and_goes_on():
    with ServerPair(LAB, banner=True) as servers:
        server = servers["c"]
        assert converse(server.proxy.port, [INVALID]) == [b"ACK: " + INVALID, b""]
        server.proxy.next_record()
        printed = server.take_stdout(b"!\n")
        assert normalize_ports(printed) == (
            "Connection from ('127.0.0.1', PORT)\nReceived: café \\xff\\xfe!\n".encode())
        # Still serving: the next client gets its answer.
        assert converse(server.proxy.port, [b"next"]) == [b"ACK: next", b""]
        assert server.proxy.next_record().s2c == b"ACK: next"


def test_python_original_crashes_on_invalid_utf8():
    """The seed's strict decode() raises, which kills its server: the C side must not."""
    server = Server(py_program(LAB, "server") + ["--port", "0"])
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
            s.sendall(INVALID)
            assert s.recv(65536) == b""  # no ACK: the server died instead
        status = server.wait_exit()
        assert status not in (None, 0)
        assert b"UnicodeDecodeError" in bytes(server.err)
    finally:
        server.stop()


def test_c_client_prints_an_invalid_utf8_reply_where_python_crashes():
    with socket.create_server(("127.0.0.1", 0)) as fake:
        port = fake.getsockname()[1]
        results = {}
        for lang in ("py", "c"):
            with __import__("subprocess").Popen(
                    program(lang, LAB, "client") + ["--port", str(port)], env=PY_ENV,
                    stdout=-1, stderr=-1) as proc:
                fake.settimeout(DEADLINE)
                conn, _ = fake.accept()
                with conn:
                    conn.recv(1024)
                    conn.sendall(b"ok \xff")
                out, err = proc.communicate(timeout=DEADLINE)
                results[lang] = (proc.returncode, out, err)
    assert results["c"][:2] == (0, b"Server replied: ok \\xff\n")
    assert results["py"][0] != 0 and b"UnicodeDecodeError" in results["py"][2]
