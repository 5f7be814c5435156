"""Lesson 05 reference: the seed's "Socket Verification (HMAC)" server, made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
The seed calls hmac.new(key, msg) without a digest, which raises TypeError on Python 3.8 and
later; before 3.8 the default was MD5, so --digest defaults to md5.
"""
import argparse  # contract: flags in place of the hard-coded values
import signal  # contract: SIGINT/SIGTERM end the server with exit 0
import sys  # contract: the stderr lines
import socket
import hmac
import os

SECRET_KEY = b'my_super_secret_key'


def port_number(text):  # contract: --port takes 0..65535 (0 = any free port)
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="HMAC auth server (the seed's).", allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=8080)
parser.add_argument("--digest", choices=["md5", "sha256"], default="md5")  # contract: digestmod
parser.add_argument("--key-file")  # contract: the key is this file's bytes
args = parser.parse_args()
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract
if args.key_file:  # contract
    with open(args.key_file, "rb") as f:
        SECRET_KEY = f.read()
    if not SECRET_KEY:  # contract: as the C programs: an empty key is surely a mistake
        sys.exit(f"{sys.argv[0]}: {args.key_file}: empty key file")
else:  # contract
    print("server.py: using the demo key from the tutorial; use --key-file for a real secret",
          file=sys.stderr)

def verify_connection(conn):
    # Generate random challenge
    challenge = os.urandom(32)
    conn.sendall(challenge)
    
    # Expected response
    expected_digest = hmac.new(SECRET_KEY, challenge, args.digest).digest()  # contract: digestmod
    
    # Actual response
    client_response = conn.recv(len(expected_digest))
    
    return hmac.compare_digest(client_response, expected_digest)

# Server Implementation
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
        server.bind(address)  # contract: was ('127.0.0.1', 8080)
        server.listen(1)
        break
    except OSError as e:  # contract: this address failed: the next one
        error = e
        if server is not None:
            server.close()
else:  # contract: none worked: the last one's error
    raise error
host, port = server.getsockname()[:2]  # contract (IPv6 adds flowinfo and scope_id)
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)  # contract

print("Auth Server running...")
while True:
    conn, addr = server.accept()
    if verify_connection(conn):
        print(f"Client {addr} authenticated successfully.")
        conn.sendall(b"Access Granted")
    else:
        print(f"Client {addr} failed authentication.")
    conn.close()
