"""Lesson 04 conformance: framed JSON, C against the seed's Python, byte for byte.

Hypothesis makes JSON values (nested, any Unicode, -0.0, subnormals, huge ints, NaN and
infinities); every value goes through all four pairings of Python/C client and Python/C echo
server, through a recording proxy that may cut the stream anywhere.  The C client's frames
must equal the Python client's, the C server's replies the Python server's, and every
"Received Payload:" line must be the one Python prints.
"""
import json
import socket
import struct

import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from conftest import (DEADLINE, STACKS, Server, ServerPair, host_args, program, py_program,
                      run_client)
from proxy import RecordingProxy, bytewise, split_at

LAB = "04-struct-framing"
HELLO = '{"message": "Hello, Server", "id": 1}'


def frame(payload):
    return struct.pack("!I", len(payload)) + payload


def frames_of(docs):
    return b"".join(frame(json.dumps(json.loads(d)).encode()) for d in docs)


# --- values -------------------------------------------------------------------------------

floats = st.one_of(st.floats(), st.sampled_from(
    [-0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1e16, 1e-5, 1e22, 0.1,
     7.120236347223045e-307, float("nan"), float("inf"), -float("inf")]))
ints = st.one_of(st.integers(), st.integers(min_value=-10**300, max_value=10**300))
# Inside containers any code point, lone surrogates too (repr escapes them).
any_text = st.text(st.characters(), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, any_text)
values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(any_text, kids, max_size=4)), max_leaves=16)


def printable_by_python(value):
    """print() of a bare str with a lone surrogate raises in Python (a divergence)."""
    return not (isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value))


styles = st.sampled_from([{}, {"separators": (",", ":")}, {"indent": 1}, {"sort_keys": True}])


@pytest.fixture(scope="module")
def servers():
    with ServerPair(LAB, "--echo", "--host", "127.0.0.1") as pair:
        yield pair


def exchange(client_lang, server, docs):
    server.proxy.forget()  # an example that failed midway may have left a record behind
    argv = program(client_lang, LAB, "client") + host_args(server.proxy) + [
        "--port", str(server.proxy.port), "--echo", "--", *docs]
    result = run_client(argv)
    assert result.returncode == 0, f"{argv[0]}: {result.stderr!r}"
    rec = server.proxy.next_record()
    assert not rec.errors, rec.errors
    # The server printed each line before sending the reply the client printed.
    printed = server.take_stdout(result.stdout)
    return result.stdout, rec, printed


def check_four_pairings(servers, docs):
    runs = {(c, s): exchange(c, servers[s], docs) for c in ("py", "c") for s in ("py", "c")}
    py_out, py_rec, py_printed = runs["py", "py"]
    assert bytes(py_rec.c2s) == frames_of(docs)
    for (c, s), (out, rec, printed) in runs.items():
        who = f"{c} client -> {s} server"
        assert bytes(rec.c2s) == bytes(py_rec.c2s), f"{who}: client frames differ"
        assert bytes(rec.s2c) == bytes(py_rec.s2c), f"{who}: server frames differ"
        assert out == py_out, f"{who}: client stdout differs"
        assert printed == py_printed, f"{who}: server stdout differs"


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=st.lists(st.tuples(values, styles), min_size=1, max_size=3))
@example(docs=[({"message": "Hello, Server", "id": 1}, {})])
@example(docs=[([1e16, 1e-05, 5e-324, -0.0, 2 ** 70, float("nan")], {})])
@example(docs=[("\U0001f600 \x7f \x00 \ud800", {}), ({"a": 1, "b": [True, None]}, {"indent": 1})])
def test_any_values_four_pairings(servers, docs):
    for value, _ in docs:
        assume(printable_by_python(value))
    check_four_pairings(servers, [json.dumps(v, **style) for v, style in docs])


def test_documents_python_reencodes(servers):
    """Duplicate keys, -0, 1e400, escapes, whitespace: re-encoded as json.dumps(json.loads())."""
    check_four_pairings(servers, ['{"a": 1, "b": 2, "a": 3}', '[-0, -0.0, 1e400, -1e400, 1E2]',
                                  ' {"s": "\\u00e9\\ud83d\\ude00\\ud800/\\"\\t"} ',
                                  '[1.0, 100000000000000000000000000000, 123.456e-7]'])


@pytest.mark.parametrize("chop", [bytewise, split_at(1), split_at(4), split_at(5)],
                         ids=["bytewise", "split1", "split4", "split5"])
def test_frames_survive_any_cutting(chop):
    """The proxy cuts both directions; the bytes and lines must not change."""
    docs = [HELLO, '["x", 1.5]', '"two\\nlines"']
    with ServerPair(LAB, "--echo", "--host", "127.0.0.1") as pair:
        for server in pair.values():
            server.proxy.close()
            server.proxy = RecordingProxy(server.host, server.port, chop=chop)
        check_four_pairings(pair, docs)


def test_every_split_offset_of_a_frame(servers):
    stream = frame(HELLO.encode())
    for lang, server in servers.items():
        for k in range(1, len(stream)):
            proxy = RecordingProxy(server.host, server.port, chop=split_at(k))
            try:
                result = run_client(program("c", LAB, "client") + [
                    "--port", str(proxy.port), "--echo"])
                assert result.stdout == b"Received Payload: {'message': 'Hello, Server', 'id': 1}\n", \
                    f"{lang} server, split at {k}"
                assert bytes(proxy.next_record().s2c) == stream
                server.take_stdout(result.stdout)
            finally:
                proxy.close()


def test_coalesced_frames_in_one_write(servers):
    """Several frames in one send: each is answered, in order, the same by both servers."""
    docs = [HELLO, "[1, 2]", "null", '{"k": "v"}']
    replies = {}
    for lang, server in servers.items():
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
            s.sendall(frames_of(docs))
            s.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        replies[lang] = data
        server.take_stdout(b"Received Payload: {'k': 'v'}\n")
    assert replies["c"] == replies["py"] == frames_of(docs)


@settings(max_examples=8)
@given(value=values)
@example(value={"message": "Hello, Server", "id": 1})
def test_one_frame_server_four_pairings(value):
    """The seed's server: one frame, one line, exit 0."""
    assume(printable_by_python(value))
    doc = json.dumps(value)
    outs = {}
    for c in ("py", "c"):
        for s in ("py", "c"):
            server = Server(program(s, LAB, "server") + ["--port", "0", "--host", "127.0.0.1"])
            try:
                result = run_client(program(c, LAB, "client") + ["--port", str(server.port),
                                                                  "--", doc])
                assert result.returncode == 0, result.stderr
                assert server.wait_exit() == 0
                outs[c, s] = bytes(server.out)
            finally:
                server.stop()
    assert len(set(outs.values())) == 1, outs


# --- IPv6: servers on ::1 over IPv6, and on :: (dual stack) with an IPv4 client ----------

@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_ipv6_echo_four_pairings(stack):
    with ServerPair(LAB, "--echo", stack=stack) as pair:
        check_four_pairings(pair, [HELLO, '["x", 1.5]', '"two\\nlines"'])


def one_frame_through_proxy(client_lang, server_lang, stack):
    """The seed's exchange: the default document to a one-frame server, through a proxy;
    (client stdout, client bytes, server bytes, server stdout)."""
    server = Server(program(server_lang, LAB, "server") + ["--port", "0", "--host", stack.host])
    try:
        proxy = RecordingProxy(stack.via, server.port, listen=stack.via)
        try:
            result = run_client(program(client_lang, LAB, "client") + host_args(proxy) +
                                ["--port", str(proxy.port)])
            assert result.returncode == 0, result.stderr
            rec = proxy.next_record()
            assert not rec.errors, rec.errors
            assert server.wait_exit() == 0
            return result.stdout, bytes(rec.c2s), bytes(rec.s2c), bytes(server.out)
        finally:
            proxy.close()
    finally:
        server.stop()


@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_ipv6_one_frame_server_four_pairings(stack):
    outs = {(c, s): one_frame_through_proxy(c, s, stack) for c in ("py", "c") for s in ("py", "c")}
    assert outs["py", "py"] == (b"", frames_of([HELLO]), b"",
                                b"Received Payload: {'message': 'Hello, Server', 'id': 1}\n")
    for (c, s), out in outs.items():
        assert out == outs["py", "py"], f"{c} client -> {s} server"


# --- the documented divergences ----------------------------------------------------------

def one_shot(lang, data):
    """Send raw bytes to a fresh one-frame server, close; returns (status, stdout, stderr)."""
    server = Server(program(lang, LAB, "server") + ["--port", "0", "--host", "127.0.0.1"])
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
        status = server.wait_exit()
        return status, bytes(server.out), bytes(server.err)
    finally:
        server.stop()


@pytest.mark.parametrize("data,python_error", [
    (struct.pack("!I", 10) + b'{"cut"', b"AttributeError"),
    (frame(b"\xff\xfe"), b"UnicodeDecodeError"),
    (frame(b"{oops"), b"JSONDecodeError"),
    (frame(b""), b"JSONDecodeError"),
], ids=["truncated", "invalid-utf8", "invalid-json", "empty"])
def test_bad_frames_c_errors_where_python_crashes(data, python_error):
    status, out, err = one_shot("c", data)
    assert (status, out) == (1, b"")
    assert len(err.splitlines()) == 2  # "listening on", then one line of error
    status, out, err = one_shot("py", data)
    assert status not in (0, None) and python_error in err


def test_header_cut_short_is_none_on_both():
    for lang in ("py", "c"):
        assert one_shot(lang, b"\x00\x00")[:2] == (0, b"Received Payload: None\n")


def test_lone_surrogate_printed_by_c_where_python_print_crashes():
    status, out, _ = one_shot("c", frame(b'"a\\ud800b"'))
    assert (status, out) == (0, b"Received Payload: a\\ud800b\n")
    status, _, err = one_shot("py", frame(b'"a\\ud800b"'))
    assert status != 0 and b"UnicodeEncodeError" in err


def test_c_refuses_4gib_at_once_where_python_waits_for_it():
    status, out, err = one_shot("c", b"\xff\xff\xff\xff")
    assert (status, out) == (1, b"") and b"4294967295" in err
    server = Server(py_program(LAB, "server") + ["--port", "0", "--host", "127.0.0.1"])
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
            s.sendall(b"\xff\xff\xff\xff")
            # The seed's recvall waits for 4 GiB: still waiting when we give up.
            assert server.wait_exit(0.5) is None
    finally:
        server.stop()
