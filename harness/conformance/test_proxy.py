"""The recording proxy and relay themselves: a shared one stays in step after a failure.

A module's servers sit behind one proxy for all its tests and Hypothesis examples.  An example
that fails between its client's connection and next_record() leaves that record in the queue;
forget() must drop it, or every later example is handed the record before its own (which is
how one failure once became a 10-minute cascade that hid its own cause).
"""
import socket
import threading

from conftest import DEADLINE
from proxy import RecordingProxy, RecordingRelay


def echo_once_each(listener, count):
    """Serve `count` TCP connections: send back the first chunk, then close."""
    def serve():
        for _ in range(count):
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(1024))
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def tcp_exchange(port, message):
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(message)
        assert s.recv(1024) == message


def udp_send(port, upstream, message):
    """Send one datagram from a new client through the relay; check that upstream got it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.sendto(message, ("127.0.0.1", port))
        assert upstream.recvfrom(65535)[0] == message


def test_proxy_forget_drops_the_record_a_failed_example_left_behind():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = echo_once_each(listener, 3)
        proxy = RecordingProxy(*listener.getsockname())
        try:
            tcp_exchange(proxy.port, b"left behind")  # its example failed: no next_record()
            proxy.forget()
            tcp_exchange(proxy.port, b"mine")
            assert bytes(proxy.next_record().c2s) == b"mine"
            proxy.forget()  # nothing left: returns at once
            tcp_exchange(proxy.port, b"next")
            assert bytes(proxy.next_record().s2c) == b"next"
            assert proxy.records.empty()
        finally:
            proxy.close()
        server.join(DEADLINE)


def test_relay_forget_drops_the_record_a_failed_example_left_behind():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
        upstream.bind(("127.0.0.1", 0))
        upstream.settimeout(DEADLINE)
        relay = RecordingRelay(*upstream.getsockname())
        try:
            udp_send(relay.port, upstream, b"left behind")  # its example failed
            relay.forget()
            udp_send(relay.port, upstream, b"mine")
            assert relay.next_record().c2s == [b"mine"]
            assert relay.records.empty()
        finally:
            relay.close()
