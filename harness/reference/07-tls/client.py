"""Lesson 07 reference: the seed's "TCP Client Example" inside TLS 1.3, in the seed's style.

The seed has no TLS: this program is the course's, lesson 01's client (harness/reference/01-tcp/)
with Python's ssl module around the socket.  Every change from lesson 01's program is marked
"# tls:"; the lines marked "# contract:" are lesson 01's.  On stdout it prints "TLS: VERSION
CIPHER" after the handshake, then lesson 01's line, as the C client does.
"""
import argparse  # contract: flags in place of the hard-coded host, port and message
import os  # contract: the message's bytes exactly as given (os.fsencode)
import socket
import ssl  # tls
import sys  # tls: a failure is one line on stderr


def port_number(text):  # contract: --port takes 0..65535
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="TLS client (lesson 01's, over TLS 1.3).",
                                 allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65443)  # tls: a port of its own
parser.add_argument("--message", default="Hello, Server")
parser.add_argument("--ca", required=True)  # tls: the CA we trust, PEM
parser.add_argument("--servername")  # tls: the name to check, if not --host
parser.add_argument("--client-cert")  # tls: a client certificate, for mutual TLS
parser.add_argument("--client-key")  # tls
args = parser.parse_args()
if (args.client_cert is None) != (args.client_key is None):  # tls: as the C client
    parser.error("--client-cert and --client-key go together")

host, port = args.host, args.port  # contract: from the flags

# tls: TLS 1.3 only; PROTOCOL_TLS_CLIENT verifies the certificate (CERT_REQUIRED) and its name
# (check_hostname); we trust the CA of --ca and no other.
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_verify_locations(args.ca)
if args.client_cert:
    context.load_cert_chain(args.client_cert, args.client_key)

try:  # tls: a failed handshake or verification is one line on stderr and exit 1
    # contract: either family (the seed's socket is AF_INET only): create_connection tries each
    # address getaddrinfo gives for host, in order, until one connects, as the C client does
    with socket.create_connection((host, port)) as sock:
        # tls: server_hostname is sent as SNI (unless it is an IP address) and checked
        with context.wrap_socket(sock, server_hostname=args.servername or host) as s:
            print(f"TLS: {s.version()} {s.cipher()[0]}")
            s.sendall(os.fsencode(args.message))  # contract: was b"Hello, Server"
            response = s.recv(1024)
            print(f"Server replied: {response.decode('utf-8')}")
            try:  # tls: close_notify, and the server's in answer
                s.unwrap()
            except OSError as e:
                print(f"client.py: closing: {e}", file=sys.stderr)
except OSError as e:  # tls: ssl.SSLError is an OSError, and so is a reset
    sys.exit(f"client.py: {e}")
