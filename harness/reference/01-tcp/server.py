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

host, port = args.host, args.port  # contract: from the flags
# contract: the course's dual-stack extension (the seed's code is AF_INET only): --host of
# either family, resolved as the C server does; the first address that binds is the one.
addresses = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                               socket.AI_PASSIVE)
for family, _, _, _, address in addresses:  # contract
    server_socket = None  # contract
    try:  # contract
        # Create a TCP socket
        server_socket = socket.socket(family, socket.SOCK_STREAM)  # contract: was AF_INET
        server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # contract: a server on "::" takes IPv4 clients too
            server_socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)

        # Bind and listen
        server_socket.bind(address)  # contract: was (host, port)
        server_socket.listen(5)
        break
    except OSError as e:  # contract: this address failed: the next one
        error = e
        if server_socket is not None:
            server_socket.close()
else:  # contract: none worked: the last one's error
    raise error
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
