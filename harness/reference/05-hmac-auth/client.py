"""Lesson 05 reference: a client for "Socket Verification (HMAC)", in the seed's style.

The seed shows no client; this one is ours, per the contract: read the 32-byte challenge,
send hmac(key, challenge), read until EOF, print the reply.
"""
import argparse
import hmac
import socket
import sys

SECRET_KEY = b'my_super_secret_key'


def recvall(sock, n):
    data = b''
    while len(data) < n:
        packet = sock.recv(n - len(data))
        if not packet: return data
        data += packet
    return data


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="HMAC auth client.", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=8080)
parser.add_argument("--digest", choices=["md5", "sha256"], default="md5")
parser.add_argument("--key-file")
args = parser.parse_args()
if args.key_file:
    with open(args.key_file, "rb") as f:
        SECRET_KEY = f.read()
    if not SECRET_KEY:  # as the C programs: an empty key is surely a mistake
        sys.exit(f"{sys.argv[0]}: {args.key_file}: empty key file")
else:
    print("client.py: using the demo key from the tutorial; use --key-file for a real secret",
          file=sys.stderr)

# contract: the course's dual-stack extension: --host of either family; create_connection
# tries each address getaddrinfo gives, in order, until one connects, as the C client does.
with socket.create_connection((args.host, args.port)) as s:
    challenge = recvall(s, 32)
    if len(challenge) < 32:
        print(f"client.py: challenge cut short: got {len(challenge)} of 32 bytes",
              file=sys.stderr)
        sys.exit(1)
    s.sendall(hmac.new(SECRET_KEY, challenge, args.digest).digest())
    reply = b''
    while packet := s.recv(1024):
        reply += packet

if not reply:
    print("Authentication failed")
    sys.exit(1)
print(f"Server replied: {reply.decode('utf-8')}")
sys.exit(0 if reply == b"Access Granted" else 1)
