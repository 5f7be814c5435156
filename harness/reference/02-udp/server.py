"""Lesson 02 reference: the seed's "UDP Server Example", made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
"""
import argparse  # contract: flags in place of the hard-coded host and port
import signal  # contract: SIGINT/SIGTERM end the server with exit 0
import socket
import sys  # contract: the stderr "listening on" line


def port_number(text):  # contract: --port takes 0..65535 (0 = any free port)
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="UDP server (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=9999)
args = parser.parse_args()
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract

# contract: the course's dual-stack extension (the seed's code is AF_INET only): --host of
# either family, resolved as the C server does; the first address that binds is the one.
addresses = socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC, socket.SOCK_DGRAM, 0,
                               socket.AI_PASSIVE)
for family, _, _, _, address in addresses:  # contract
    server_sock = None  # contract
    try:  # contract
        server_sock = socket.socket(family, socket.SOCK_DGRAM)  # contract: was AF_INET
        if family == socket.AF_INET6:  # contract: a server on "::" takes IPv4 clients too
            server_sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server_sock.bind(address)  # contract: was ('127.0.0.1', 9999)
        break
    except OSError as e:  # contract: this address failed: the next one
        error = e
        if server_sock is not None:
            server_sock.close()
else:  # contract: none worked: the last one's error
    raise error
host, port = server_sock.getsockname()[:2]  # contract (IPv6 adds flowinfo, scope_id)
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)  # contract

print("UDP Server started...")

while True:
    data, addr = server_sock.recvfrom(1024)
    print(f"Received {data.decode('utf-8')} from {addr}")
    server_sock.sendto(b"Message received", addr)
