"""Lesson 05 conformance: HMAC challenge-response, C against the seed's Python.

The challenge is random, so the bytes cannot be compared run for run; what is compared is the
protocol: the server sends exactly 32 bytes, the client answers exactly HMAC(key, those
bytes) and nothing else, access is granted with exactly b"Access Granted", and every line
printed is the one Python prints.  All four pairings, both digests, right and wrong keys.
"""
import hmac
import socket

import pytest

from conftest import (DEADLINE, STACKS, ServerPair, host_args, normalize_ports, peer_repr,
                      program, run_client)

LAB = "05-hmac-auth"
DEMO_KEY = b"my_super_secret_key"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "key"
    path.write_bytes(b"a key of our own\n\x00\xff")
    return path


@pytest.mark.parametrize("digest", ["md5", "sha256"])
@pytest.mark.parametrize("keys", ["demo", "file", "wrong"])
def test_four_pairings(digest, keys, key_file):
    check_four_pairings(digest, keys, key_file)


def check_four_pairings(digest, keys, key_file, stack=None):
    """Both servers (on stack, if given: conftest.STACKS), all four pairings; returns
    {(client, server): (client status, client stdout, server stdout, ports normalised)}."""
    server_args = ["--digest", digest] + (["--key-file", str(key_file)] if keys != "demo" else [])
    client_args = ["--digest", digest] + (["--key-file", str(key_file)] if keys == "file" else [])
    key = key_file.read_bytes() if keys == "file" else DEMO_KEY
    granted = keys != "wrong"
    with ServerPair(LAB, *server_args, banner=True, stack=stack) as servers:
        results = {}
        for c in ("py", "c"):
            for s, server in servers.items():
                result = run_client(program(c, LAB, "client") + host_args(server.proxy) +
                                    ["--port", str(server.proxy.port), *client_args])
                rec = server.proxy.next_record()
                challenge, reply = bytes(rec.s2c[:32]), bytes(rec.s2c[32:])
                who = f"{c} client -> {s} server"
                assert len(rec.s2c) >= 32, f"{who}: no whole challenge"
                assert bytes(rec.c2s) == hmac.new(key, challenge, digest).digest(), \
                    f"{who}: the answer is not exactly HMAC-{digest}(key, challenge)"
                assert reply == (b"Access Granted" if granted else b""), who
                printed = server.take_stdout(b"authentication.\n" if not granted
                                             else b"successfully.\n")
                results[c, s] = (result.returncode, result.stdout, normalize_ports(printed))
    want_out = b"Server replied: Access Granted\n" if granted else b"Authentication failed\n"
    for (c, s), (status, out, printed) in results.items():
        assert (status, out) == (0 if granted else 1, want_out), f"{c} client -> {s} server"
        assert printed == results["py", "py"][2], f"{c} client -> {s} server: server stdout"
    return results


@pytest.mark.parametrize("keys", ["demo", "wrong"])
@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_ipv6_four_pairings(stack, keys, key_file):
    """Over ::1, and to a server on :: from an IPv4 peer: the peer printed as Python prints
    an IPv6 address, in both servers' lines."""
    results = check_four_pairings("md5", keys, key_file, stack)
    verdict = b"authenticated successfully." if keys == "demo" else b"failed authentication."
    assert results["py", "py"][2] == b"Client " + peer_repr(stack) + b" " + verdict + b"\n"


def answer_in_two_parts(port, key=DEMO_KEY, digest="md5"):
    """Read the challenge, send the first half of the digest, then read: what comes back
    before the second half is sent shows whether the server waited for the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        challenge = b""
        while len(challenge) < 32:
            part = s.recv(32 - len(challenge))
            assert part, f"the server closed after {len(challenge)} of the challenge's 32 bytes"
            challenge += part
        answer = hmac.new(key, challenge, digest).digest()
        s.sendall(answer[:8])
        s.settimeout(0.5)
        try:
            early = s.recv(100)  # the seed's server has decided on 8 bytes: it closes
        except socket.timeout:
            early = None  # still waiting for the rest, as it should
        if early is None:
            s.settimeout(DEADLINE)
            s.sendall(answer[8:])
            reply = b""
            while chunk := s.recv(100):
                reply += chunk
            return reply
        return early


def test_c_waits_for_the_whole_digest_where_the_seed_takes_a_short_recv():
    with ServerPair(LAB, banner=True) as servers:
        assert answer_in_two_parts(servers["c"].port) == b"Access Granted"
        assert answer_in_two_parts(servers["py"].port) == b""
