"""Lesson 01 reference: the seed's "TCP Server Example", made runnable.

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


parser = argparse.ArgumentParser(description="TCP echo server (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65432)
args = parser.parse_args()
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract

# Create a TCP socket
server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

# Bind and listen
host, port = args.host, args.port  # contract: from the flags
server_socket.bind((host, port))
server_socket.listen(5)
port = server_socket.getsockname()[1]  # contract: the real port when --port 0

print(f"Server listening on {host}:{port}")
print(f"listening on {server_socket.getsockname()[0]}:{port}", file=sys.stderr, flush=True)  # contract

while True:
    client_conn, client_addr = server_socket.accept()
    print(f"Connection from {client_addr}")
    
    try:
        while True:
            data = client_conn.recv(1024)
            if not data:
                break
            print(f"Received: {data.decode('utf-8')}")
            client_conn.sendall(b"ACK: " + data)
    finally:
        client_conn.close()
