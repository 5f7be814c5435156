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

server_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server_sock.bind((args.host, args.port))  # contract: was ('127.0.0.1', 9999)
host, port = server_sock.getsockname()  # contract
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)  # contract

print("UDP Server started...")

while True:
    data, addr = server_sock.recvfrom(1024)
    print(f"Received {data.decode('utf-8')} from {addr}")
    server_sock.sendto(b"Message received", addr)
