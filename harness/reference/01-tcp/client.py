"""Lesson 01 reference: the seed's "TCP Client Example", made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
"""
import argparse  # contract: flags in place of the hard-coded host, port and message
import os  # contract: the message's bytes exactly as given (os.fsencode)
import socket


def port_number(text):  # contract: --port takes 0..65535
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="TCP client (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65432)
parser.add_argument("--message", default="Hello, Server")
args = parser.parse_args()

host, port = args.host, args.port  # contract: from the flags

# contract: either family (the seed's socket is AF_INET only): create_connection tries each
# address getaddrinfo gives for host, in order, until one connects, as the C client does
with socket.create_connection((host, port)) as s:
    s.sendall(os.fsencode(args.message))  # contract: was b"Hello, Server"
    response = s.recv(1024)
    print(f"Server replied: {response.decode('utf-8')}")
