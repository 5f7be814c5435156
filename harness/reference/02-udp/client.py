"""Lesson 02 reference: the seed's "UDP Client Example", made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
Like the seed, it waits for the reply forever (the C client's --timeout is a divergence).
"""
import argparse  # contract: flags in place of the hard-coded host, port and message
import os  # contract: the message's bytes exactly as given (os.fsencode)
import socket


def port_number(text):  # contract: --port takes 0..65535
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="UDP client (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=9999)
parser.add_argument("--message", default="Hello via UDP")
args = parser.parse_args()

# contract: either family (the seed's socket is AF_INET only): the first address getaddrinfo
# gives for --host, as the C client (no connection to try: nothing answers before a send)
family, _, _, _, address = socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC,
                                              socket.SOCK_DGRAM)[0]
client_sock = socket.socket(family, socket.SOCK_DGRAM)  # contract: was AF_INET
message = os.fsencode(args.message)  # contract: was b"Hello via UDP"

client_sock.sendto(message, address)  # contract: was ('127.0.0.1', 9999)
response, _ = client_sock.recvfrom(1024)
print(f"Response: {response.decode('utf-8')}")
