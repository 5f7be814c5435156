"""Lesson 07 reference: the seed's "TCP Server Example" inside TLS 1.3, in the seed's style.

The seed has no TLS: this program is the course's, lesson 01's server (harness/reference/01-tcp/)
with Python's ssl module around each accepted socket.  Every change from lesson 01's program is
marked "# tls:"; the lines marked "# contract:" are lesson 01's.  On stdout it prints lesson
01's lines and, after each handshake, "TLS: VERSION CIPHER", as the C server does.
"""
import argparse  # contract: flags in place of the hard-coded host and port
import signal  # contract: SIGINT/SIGTERM end the server with exit 0
import socket
import ssl  # tls
import sys  # contract: the stderr "listening on" line


def port_number(text):  # contract: --port takes 0..65535 (0 = any free port)
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


parser = argparse.ArgumentParser(description="TLS echo server (lesson 01's, over TLS 1.3).",
                                 allow_abbrev=False)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=port_number, default=65443)  # tls: a port of its own
parser.add_argument("--cert", required=True)  # tls: the certificate chain, PEM
parser.add_argument("--key", required=True)  # tls: its private key, PEM
parser.add_argument("--require-client-cert", action="store_true")  # tls: mutual TLS
parser.add_argument("--ca")  # tls: the CA of the clients' certificates
args = parser.parse_args()
if args.require_client_cert != (args.ca is not None):  # tls: as the C server
    parser.error("--require-client-cert and --ca go together")
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract

# tls: one context for every connection: TLS 1.3 only, our certificate and key, and with
# --require-client-cert a certificate from every client, signed by --ca.
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_cert_chain(args.cert, args.key)
if args.require_client_cert:
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(args.ca)

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

    try:  # tls: the handshake; a peer that fails it is one line on stderr, then the next
        tls_conn = context.wrap_socket(client_conn, server_side=True)
    except OSError as e:  # ssl.SSLError is an OSError
        print(f"server.py: {client_addr}: TLS handshake: {e}", file=sys.stderr)
        client_conn.close()
        continue
    print(f"TLS: {tls_conn.version()} {tls_conn.cipher()[0]}")  # tls

    try:
        while True:
            data = tls_conn.recv(1024)  # tls: b"" at close_notify (and at a bare EOF)
            if not data:
                break
            print(f"Received: {data.decode('utf-8')}")
            tls_conn.sendall(b"ACK: " + data)
        tls_conn.unwrap()  # tls: our close_notify in answer to the client's
    except OSError as e:  # tls: this client's failure only
        print(f"server.py: {client_addr}: {e}", file=sys.stderr)
    finally:
        tls_conn.close()
