"""Lesson 03 reference: a server for "The Sticky Packet Issue", in the seed's style.

The seed describes the problem in prose only; this program is ours, per the contract: accept
one connection, wait --delay seconds so that every message has arrived, then print each
recv(--bufsize) chunk until EOF.  With --udp, read the datagrams waiting after the first one
arrives and the delay, one recv() each.
"""
import argparse
import select
import signal
import socket
import sys
import time


def positive(kind):
    def check(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"'{text}' is not above 0")
        return value
    return check


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="Sticky packets: prints each chunk recv() returns.",
                                 allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65433)
parser.add_argument("--delay", type=positive(float), default=0.2)
parser.add_argument("--bufsize", type=positive(int), default=1024)
parser.add_argument("--udp", action="store_true")
args = parser.parse_args()
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

kind = socket.SOCK_DGRAM if args.udp else socket.SOCK_STREAM
# contract: the course's dual-stack extension: --host of either family, resolved as the C
# server does; the first address that binds is the one.
addresses = socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC, kind, 0,
                               socket.AI_PASSIVE)
for family, _, _, _, address in addresses:
    server = None
    try:
        server = socket.socket(family, kind)
        if not args.udp:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # a server on "::" takes IPv4 clients too
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind(address)
        if not args.udp:
            server.listen(5)
        break
    except OSError as e:  # this address failed: the next one
        error = e
        if server is not None:
            server.close()
else:  # none worked: the last one's error
    raise error
host, port = server.getsockname()[:2]  # IPv6 adds flowinfo and scope_id
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)

if args.udp:
    select.select([server], [], [])  # the first datagram is here
    time.sleep(args.delay)
    server.setblocking(False)
    while True:
        try:
            data = server.recv(args.bufsize)
        except BlockingIOError:
            break
        print(f"Received: {data.decode('utf-8')}")
else:
    conn, addr = server.accept()
    time.sleep(args.delay)  # let every message arrive: now they are one stream
    while True:
        data = conn.recv(args.bufsize)
        if not data:
            break
        print(f"Received: {data.decode('utf-8')}")
    conn.close()
server.close()
