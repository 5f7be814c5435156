"""Lesson 04 reference: a client for "Solving Sticky Packets", in the seed's style.

The seed shows only the server; this client is ours, per the contract.  It sends each JSON
document given (default {"message": "Hello, Server", "id": 1}) as one frame, re-encoded by
send_msg as json.dumps(json.loads(text)); with --echo it reads and prints each reply.
"""
import argparse
import json
import socket
import struct
import sys


def send_msg(sock, data):
    serialized = json.dumps(data).encode('utf-8')
    length_prefix = struct.pack('!I', len(serialized))
    sock.sendall(length_prefix + serialized)


def recv_msg(sock):
    raw_msglen = recvall(sock, 4)
    if not raw_msglen: return None
    msglen = struct.unpack('!I', raw_msglen)[0]
    return json.loads(recvall(sock, msglen).decode('utf-8'))


def recvall(sock, n):
    data = b''
    while len(data) < n:
        packet = sock.recv(n - len(data))
        if not packet: return None
        data += packet
    return data


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="Framed JSON client.", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=5000)
parser.add_argument("--echo", action="store_true")
parser.add_argument("documents", nargs="*", default=['{"message": "Hello, Server", "id": 1}'])
args = parser.parse_args()

values = []
for i, text in enumerate(args.documents, 1):
    try:
        values.append(json.loads(text))
    except ValueError as e:  # nothing is sent if any document is invalid
        print(f"client.py: argument {i}: {e}", file=sys.stderr)
        sys.exit(2)

# contract: the course's dual-stack extension: --host of either family; create_connection
# tries each address getaddrinfo gives, in order, until one connects, as the C client does.
with socket.create_connection((args.host, args.port)) as s:
    for value in values:
        send_msg(s, value)
        if args.echo:
            print("Received Payload:", recv_msg(s))
