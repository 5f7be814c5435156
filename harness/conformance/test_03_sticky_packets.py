"""Lesson 03 conformance: the sticky-packet programs in C and in Python see the same chunks.

The server reads one connection after a delay, so what it prints depends only on the bytes
and on --bufsize, never on how the sender or the network cut the stream: the tests send
through proxies that coalesce the client's writes, cut them at every offset, or write byte
by byte, and the C and Python programs must print the same lines in every case.
"""
import threading

import pytest
from hypothesis import example, given, settings, strategies as st

from conftest import STACKS, Server, host_args, program, run_client
from proxy import RecordingProxy, RecordingRelay, bytewise, split_at

LAB = "03-sticky-packets"
LANGS = ("py", "c")


# The server's --delay: long enough for the proxy (Python threads, several pairings side by
# side on a loaded machine) to have delivered every chunk before the server's first read.
DELAY = "0.6"


def run_pairing(client_lang, server_lang, messages, server_args=(), client_args=(), udp=False,
                stack=None, **proxy_options):
    """One server for one client, through a recording proxy; returns (stdout, record, status).
    With stack (conftest.STACKS), the server gets --host stack.host and the proxy listens
    on and connects over stack.via."""
    where = ["--host", stack.host] if stack else []
    server = Server(program(server_lang, LAB, "server") +
                    ["--port", "0", "--delay", DELAY, *where, *server_args])
    try:
        relay = RecordingRelay if udp else RecordingProxy
        if stack:
            proxy = relay(stack.via, server.port, listen=stack.via, **proxy_options)
        else:
            proxy = relay(server.host, server.port, **proxy_options)
        client = run_client(program(client_lang, LAB, "client") + host_args(proxy) +
                            ["--port", str(proxy.port), *client_args, "--", *messages])
        assert client.returncode == 0, client.stderr
        status = server.wait_exit()
        assert status is not None, (f"the {server_lang} server did not exit; stdout "
                                    f"{bytes(server.out)!r}, stderr {bytes(server.err)!r}")
        rec = proxy.next_record()
        proxy.close()
        return bytes(server.out), rec, status
    finally:
        server.stop()


def side_by_side(runs):
    """Call each of {key: function} in its own thread (each server waits out its delay, so
    one after the other would be slow); returns {key: result}."""
    results, errors = {}, []

    def one(key, fn):
        try:
            results[key] = fn()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)
    threads = [threading.Thread(target=one, args=item) for item in runs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def all_pairings(*args, **kwargs):
    """The four pairings, side by side."""
    return side_by_side({(c, s): lambda c=c, s=s: run_pairing(c, s, *args, **kwargs)
                         for c in LANGS for s in LANGS})


def check_same(results, expected_wire):
    for (c, s), (out, rec, status) in results.items():
        who = f"{c} client -> {s} server"
        assert status == 0, f"{who}: server exit status {status}"
        wire = rec.c2s if isinstance(rec.c2s, list) else bytes(rec.c2s)
        assert wire == expected_wire, f"{who}: the client's bytes differ"
        assert out == results["py", "py"][0], f"{who}: server stdout differs"


ascii_text = st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=40)
chops = st.sampled_from([{}, {"coalesce": True}, {"chop": bytewise}, {"chop": split_at(3)}])


@settings(max_examples=8)
@given(messages=st.lists(ascii_text, min_size=1, max_size=4),
       bufsize=st.sampled_from([1, 2, 3, 7, 1024]), proxy=chops)
@example(messages=["Hello", "World"], bufsize=1024, proxy={})
@example(messages=["Hello", "World"], bufsize=3, proxy={"chop": bytewise})
def test_stream_chunks_four_pairings(messages, bufsize, proxy):
    results = all_pairings(messages, ["--bufsize", str(bufsize)], **proxy)
    stream = "".join(messages).encode()
    check_same(results, stream)
    want = b"".join(b"Received: " + stream[i:i + bufsize] + b"\n"
                    for i in range(0, len(stream), bufsize))
    assert results["py", "py"][0] == want


@settings(max_examples=4)
@given(messages=st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\0"), max_size=30),
                         min_size=1, max_size=4))
def test_any_text_read_whole_four_pairings(messages):
    results = all_pairings(messages)
    check_same(results, "".join(messages).encode())


def test_every_split_offset_gives_the_same_output():
    """HelloWorld cut at each of its 9 inner offsets: always one chunk, HelloWorld."""
    # One offset at a time (its two servers side by side): 18 servers at once on a busy
    # 2-core machine could miss the --delay window, which is timing, not the behaviour.
    for k in range(1, 10):
        results = side_by_side({lang: lambda k=k, lang=lang: run_pairing(
            "c", lang, ["Hello", "World"], chop=split_at(k)) for lang in LANGS})
        for lang, (out, rec, status) in results.items():
            assert (out, status) == (b"Received: HelloWorld\n", 0), f"{lang} server, split at {k}"


@settings(max_examples=5)
@given(messages=st.lists(ascii_text, min_size=1, max_size=4),
       bufsize=st.sampled_from([3, 1024]))
@example(messages=["Hello", "World"], bufsize=1024)
@example(messages=["Hello", "", "World"], bufsize=3)
@example(messages=["-:", "--udp"], bufsize=1024)  # found by hypothesis: flags after "--"
def test_udp_keeps_each_message_four_pairings(messages, bufsize):
    results = all_pairings(messages, ["--udp", "--bufsize", str(bufsize)], ["--udp"], udp=True)
    check_same(results, [m.encode() for m in messages])
    want = b"".join(b"Received: " + m.encode()[:bufsize] + b"\n" for m in messages)
    assert results["py", "py"][0] == want


@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_ipv6_four_pairings(stack, udp):
    """Hello, World over ::1, and to a server on :: from an IPv4 peer: one chunk over TCP,
    two datagrams over UDP, as over IPv4."""
    flag = ["--udp"] if udp else []
    results = all_pairings(["Hello", "World"], flag, flag, udp=udp, stack=stack)
    check_same(results, [b"Hello", b"World"] if udp else b"HelloWorld")
    assert results["py", "py"][0] == (b"Received: Hello\nReceived: World\n" if udp
                                      else b"Received: HelloWorld\n")


def test_c_server_prints_a_split_utf8_sequence_where_python_crashes():
    """--bufsize 1 cuts an 'é' in two reads: C prints \\xc3 and \\xa9, Python's decode raises."""
    out, _, status = run_pairing("c", "c", ["\u00e9"], ["--bufsize", "1"])
    assert (out, status) == (b"Received: \\xc3\nReceived: \\xa9\n", 0)
    server = Server(program("py", LAB, "server") + ["--port", "0", "--bufsize", "1"])
    try:
        run_client(program("c", LAB, "client") + ["--port", str(server.port), "\u00e9"])
        assert server.wait_exit() not in (None, 0)
        assert b"UnicodeDecodeError" in bytes(server.err)
    finally:
        server.stop()
