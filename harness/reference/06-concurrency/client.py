"""Lesson 06 reference: a client for the SocketServer example, in the seed's style.

The seed shows no client; this one is ours, per the contract: send --message, read until
EOF, print the reply.
"""
import argparse
import os
import socket


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="Client for the threading server.",
                                 allow_abbrev=False)
parser.add_argument("--host", default="localhost")
parser.add_argument("--port", type=port_number, default=9999)
parser.add_argument("--message", default="Hello, Server")
args = parser.parse_args()

# contract: the course's dual-stack extension: --host of either family; create_connection
# tries each address getaddrinfo gives, in order, until one connects, as the C client does.
with socket.create_connection((args.host, args.port)) as s:
    s.sendall(os.fsencode(args.message))
    reply = b''
    try:
        while packet := s.recv(1024):
            reply += packet
    except ConnectionResetError:  # the server closed with part of a long request unread
        pass
    print(f"Received: {reply.decode('utf-8')}")
