"""Lesson 04 reference: the seed's "Solving Sticky Packets" server, made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
"""
import argparse  # contract: flags in place of the hard-coded host and port
import signal  # contract: SIGINT/SIGTERM end the server with exit 0
import socket
import struct
import sys  # contract: the stderr "listening on" line
import json  # contract: the import the seed's text lost


# Helper to send messages with a length header
def send_msg(sock, data):
    # Serialize and pack length
    serialized = json.dumps(data).encode('utf-8')
    length_prefix = struct.pack('!I', len(serialized))
    sock.sendall(length_prefix + serialized)

# Helper to receive messages based on length header
def recv_msg(sock):
    # Read the 4-byte length prefix
    raw_msglen = recvall(sock, 4)
    if not raw_msglen: return None
    msglen = struct.unpack('!I', raw_msglen)[0]
    
    # Read the payload
    return json.loads(recvall(sock, msglen).decode('utf-8'))

def recvall(sock, n):
    data = b''
    while len(data) < n:
        packet = sock.recv(n - len(data))
        if not packet: return None
        data += packet
    return data


def port_number(text):  # contract: --port takes 0..65535 (0 = any free port)
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="Framed JSON server (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="0.0.0.0")
parser.add_argument("--port", type=port_number, default=5000)
parser.add_argument("--echo", action="store_true")  # contract: serve on, answering each frame
args = parser.parse_args()
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract

# Usage in a Server
# contract: the course's dual-stack extension (the seed's code is AF_INET only): --host of
# either family, resolved as the C server does; the first address that binds is the one.
addresses = socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                               socket.AI_PASSIVE)
for family, _, _, _, address in addresses:  # contract
    server = None  # contract
    try:  # contract
        server = socket.socket(family, socket.SOCK_STREAM)  # contract: was AF_INET
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # contract: restart at once
        if family == socket.AF_INET6:  # contract: a server on "::" takes IPv4 clients too
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind(address)  # contract: was ('0.0.0.0', 5000)
        server.listen(5)
        break
    except OSError as e:  # contract: this address failed: the next one
        error = e
        if server is not None:
            server.close()
else:  # contract: none worked: the last one's error
    raise error
host, port = server.getsockname()[:2]  # contract (IPv6 adds flowinfo and scope_id)
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)  # contract

if args.echo:  # contract: --echo answers every frame with send_msg, client after client
    while True:
        conn, addr = server.accept()
        while True:
            # contract: recv_msg's None means EOF and a JSON null alike; only EOF ends this
            # connection, so the header is read here first.
            raw_msglen = recvall(conn, 4)
            if not raw_msglen:
                break
            msglen = struct.unpack('!I', raw_msglen)[0]
            payload = json.loads(recvall(conn, msglen).decode('utf-8'))
            print("Received Payload:", payload)
            send_msg(conn, payload)
        conn.close()

conn, addr = server.accept()

# Receiving structured data
payload = recv_msg(conn)
print("Received Payload:", payload)
conn.close()
server.close()
