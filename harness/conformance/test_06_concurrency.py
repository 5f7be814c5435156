"""Lesson 06 conformance: every C model against the seed's ThreadingTCPServer, byte for byte.

The same requests go to the Python server and to the C server in each of its models
(thread, fork, pool, poll), through recording proxies: the replies, the closes and the
"Received from" lines must be the same, and the C client must print what the Python
client prints, against either server.
"""
import socket
import threading

import pytest
from hypothesis import example, given, settings, strategies as st

from conftest import DEADLINE, STACKS, ServerPair, c_models, program, run_client

LAB = "06-concurrency"
MODELS = c_models()  # the ones the C server lists in --help: "thread" at least


@pytest.fixture(scope="module", params=MODELS)
def servers(request):
    # 127.0.0.1, not the default "localhost": a bare machine may have no /etc/hosts.
    with ServerPair(LAB, "--host", "127.0.0.1", c_args=["--model", request.param]) as pair:
        yield pair


def raw_exchange(port, request, shut=False):
    """Send request (then maybe half-close), read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(request)
        if shut:
            s.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while chunk := s.recv(65536):
                reply += chunk
        except ConnectionResetError:
            reply += b"<reset>"
        return reply


# Bytes of every kind (argv cannot carry NUL, raw sockets can), whitespace at the ends.
requests = st.builds(lambda a, b, c: a + b + c, st.sampled_from([b"", b" ", b"\t\n", b"\x0b\x0c\r "]),
                     st.binary(max_size=300), st.sampled_from([b"", b"\n", b" \r\n", b"\x1c"]))


@settings(max_examples=20)
@given(request=requests)
@example(request=b"Hello, Server")
@example(request=b"  caf\xc3\xa9 \xff mixed Case\t\n")
@example(request=b"")
def test_same_reply_and_line_as_threadingtcpserver(servers, request):
    got = {}
    servers.forget()  # an example that failed midway may have left a record behind
    for lang, server in servers.items():
        reply = raw_exchange(server.proxy.port, request, shut=not request)
        rec = server.proxy.next_record()
        printed = server.take_stdout(b"Received from 127.0.0.1\n")
        got[lang] = (reply, bytes(rec.s2c), printed)
    assert got["py"][0] == request.strip().upper()
    assert got["c"] == got["py"]


def test_long_request_is_cut_at_1024_bytes_by_both(servers):
    request = b"x" * 3000
    for lang, server in servers.items():
        reply = raw_exchange(server.port, request)
        assert reply.replace(b"<reset>", b"") == b"X" * 1024, lang
        server.take_stdout(b"Received from 127.0.0.1\n")


def test_clients_four_pairings(servers):
    outs = {}
    for c in ("py", "c"):
        for s, server in servers.items():
            result = run_client(program(c, LAB, "client") + [
                "--host", "127.0.0.1", "--port", str(server.proxy.port), "--message= hello, wörld "])
            assert result.returncode == 0, result.stderr
            rec = server.proxy.next_record()
            server.take_stdout(b"Received from 127.0.0.1\n")
            outs[c, s] = (result.stdout, bytes(rec.c2s), bytes(rec.s2c))
    assert outs["py", "py"][0] == "Received: HELLO, WöRLD\n".encode()
    assert len(set(outs.values())) == 1, outs


@pytest.fixture(scope="module", params=[(m, k) for m in MODELS for k in STACKS],
                ids=[f"{m}-{k}" for m in MODELS for k in STACKS])
def stacked(request):
    """Every model on ::1 (over IPv6) and on :: (dual stack, over IPv4)."""
    model, stack = request.param
    with ServerPair(LAB, c_args=["--model", model], stack=STACKS[stack]) as pair:
        yield pair


def test_ipv6_clients_four_pairings(stacked):
    """The clients' default exchange over ::1, and to a server on :: from an IPv4 peer:
    the same bytes and lines; "Received from" names the peer as client_address[0] does."""
    outs = {}
    for c in ("py", "c"):
        for s, server in stacked.items():
            result = run_client(program(c, LAB, "client") + [
                "--host", server.proxy.host, "--port", str(server.proxy.port)])
            assert result.returncode == 0, result.stderr
            rec = server.proxy.next_record()
            printed = server.take_stdout(b"\n")
            outs[c, s] = (result.stdout, bytes(rec.c2s), bytes(rec.s2c), printed)
    assert outs["py", "py"] == (b"Received: HELLO, SERVER\n", b"Hello, Server", b"HELLO, SERVER",
                                f"Received from {stacked.stack.peer}\n".encode())
    assert len(set(outs.values())) == 1, outs


def test_concurrent_clients_all_answered_alike(servers):
    """20 clients at once at each server, one of them silent all along."""
    for lang, server in servers.items():
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE):
            replies = [None] * 20

            def one(i):
                replies[i] = raw_exchange(server.port, b"client %d" % i)
            threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert replies == [b"CLIENT %d" % i for i in range(20)], lang
        server.take_stdout(b"Received from 127.0.0.1\n" * 21)
