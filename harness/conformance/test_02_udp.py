"""Lesson 02 conformance: the C UDP client and server against the seed's Python, datagram for
datagram.

Each message goes through all four pairings, each through a recording relay: the C client
must send exactly the Python client's datagrams, the C server must answer exactly as the
Python server does, and each C program must print what its Python counterpart prints.
"""
import re
import socket
import subprocess

import pytest
from hypothesis import example, given, strategies as st

from conftest import (DEADLINE, PY_ENV, STACKS, ServerPair, host_args, normalize_ports,
                      peer_repr, program, run_client)

LAB = "02-udp"
# ('127.0.0.1', PORT), or for an IPv6 socket ('::1', PORT, 0, 0)
LINE_END = re.compile(rb" from \('[0-9a-f.:]+', \d+(, 0, 0)?\)\n\Z")

# Up to 1024 bytes of any text (a longer datagram is cut at 1024 bytes, which may split a
# UTF-8 sequence and crash the Python server: see the divergence test), or longer ASCII.
messages = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                   max_size=256).filter(lambda s: 0 < len(s.encode()) <= 1024)
long_ascii = st.text(st.characters(min_codepoint=1, max_codepoint=127), min_size=1000,
                     max_size=3000)


@pytest.fixture(scope="module")
def servers():
    with ServerPair(LAB, banner=True, udp=True) as pair:
        yield pair


def exchange(client_lang, server, message):
    server.proxy.forget()  # an example that failed midway may have left a record behind
    argv = program(client_lang, LAB, "client") + host_args(server.proxy) + [
        "--port", str(server.proxy.port), f"--message={message}"]
    result = run_client(argv)
    assert result.returncode == 0, f"{argv[0]} failed: {result.stderr!r}"
    rec = server.proxy.next_record()
    printed = server.take_stdout(LINE_END)
    return result.stdout, rec, normalize_ports(printed)


@given(message=st.one_of(messages, long_ascii))
@example(message="Hello via UDP")
@example(message="two\nlines")
@example(message="x" * 1024)
@example(message="y" * 1500)
def test_any_message_four_pairings(servers, message):
    check_four_pairings(servers, message)


def check_four_pairings(servers, message):
    runs = {(c, s): exchange(c, servers[s], message) for c in ("py", "c") for s in ("py", "c")}
    py_out, py_rec, py_printed = runs["py", "py"]
    assert py_rec.c2s == [message.encode()]
    assert py_rec.s2c == [b"Message received"]
    assert py_out == b"Response: Message received\n"
    for (c, s), (out, rec, printed) in runs.items():
        who = f"{c} client -> {s} server"
        assert rec.c2s == py_rec.c2s, f"{who}: client datagrams differ"
        assert rec.s2c == py_rec.s2c, f"{who}: server datagrams differ"
        assert out == py_out, f"{who}: client stdout differs"
        assert printed == py_printed, f"{who}: server stdout differs"
    return runs


@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_ipv6_four_pairings(stack):
    """The exchange over ::1, and to a server on :: from an IPv4 peer: the same datagrams
    and lines; the peer printed as Python prints an IPv6 address."""
    with ServerPair(LAB, banner=True, udp=True, stack=stack) as servers:
        for message in ("Hello via UDP", "caf\u00e9 \U0001f600"):
            runs = check_four_pairings(servers, message)
            assert runs["py", "py"][2] == (b"Received " + message.encode() + b" from " +
                                           peer_repr(stack) + b"\n")


def test_default_message(servers):
    for lang in ("py", "c"):
        result = run_client(program(lang, LAB, "client") + ["--port", str(servers["c"].proxy.port)])
        assert result.stdout == b"Response: Message received\n"
        assert servers["c"].proxy.next_record().c2s == [b"Hello via UDP"]
        servers["c"].take_stdout(LINE_END)


def test_datagrams_keep_their_boundaries(servers):
    """Two sends are two datagrams, two lines and two replies: UDP has no sticky packets."""
    printed = {}
    for lang, server in servers.items():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(DEADLINE)
            for m in (b"Hello", b"World"):
                s.sendto(m, ("127.0.0.1", server.proxy.port))
            assert [s.recv(100), s.recv(100)] == [b"Message received"] * 2
        segment = server.take_stdout(re.compile(rb"Received World" + LINE_END.pattern))
        rec = server.proxy.next_record()
        assert rec.c2s == [b"Hello", b"World"]
        printed[lang] = normalize_ports(segment)
    assert printed["py"] == b"Received Hello from ('127.0.0.1', PORT)\n" \
                           b"Received World from ('127.0.0.1', PORT)\n"
    assert printed["c"] == printed["py"]


# --- the documented divergences --------------------------------------------------------


def test_c_server_survives_a_cut_utf8_sequence_where_python_crashes():
    """1023 ASCII bytes and an 'é': recvfrom(1024) cuts the 'é' in half."""
    message = b"a" * 1023 + "\u00e9".encode()
    with ServerPair(LAB, banner=True, udp=True) as servers:
        c = servers["c"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(DEADLINE)
            s.sendto(message, ("127.0.0.1", c.port))
            assert s.recv(100) == b"Message received"
            printed = c.take_stdout(LINE_END)
            assert printed.startswith(b"Received " + b"a" * 1023 + b"\\xc3 from ")
            py = servers["py"]
            s.sendto(message, ("127.0.0.1", py.port))
            assert py.wait_exit() not in (None, 0)
            assert b"UnicodeDecodeError" in bytes(py.err)


def test_c_client_gives_up_where_python_waits_forever():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = str(silent.getsockname()[1])
        result = run_client(program("c", LAB, "client") + ["--port", port, "--timeout", "0.3"])
        assert result.returncode == 1 and result.stdout == b""
        assert len(result.stderr.splitlines()) == 1
        # The seed's client has no timeout: still waiting when we stop it.
        with subprocess.Popen(program("py", LAB, "client") + ["--port", port], env=PY_ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as py:
            with pytest.raises(subprocess.TimeoutExpired):
                py.wait(0.5)
            py.kill()
