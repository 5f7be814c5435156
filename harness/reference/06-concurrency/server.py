"""Lesson 06 reference: the seed's "Concurrent Sockets with SocketServer", made runnable.

Every change from the seed is marked "# contract:"; nothing on the wire or on stdout differs.
Its listen(5) backlog is the seed's (socketserver's default): the C server's SOMAXCONN is a
deliberate divergence.
"""
import argparse  # contract: flags in place of the hard-coded host and port
import signal  # contract: SIGINT/SIGTERM end the server with exit 0
import sys  # contract: the stderr "listening on" line; whole-line writes
import socket  # contract: the dual-stack extension below
import socketserver

class MyTCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the TCP socket connected to the client
        self.data = self.request.recv(1024).strip()
        # contract: one write per line: print() writes the text and the "\n" separately,
        # so lines from two threads could run together (same bytes otherwise)
        sys.stdout.write(f"Received from {self.client_address[0]}\n")
        # Process and send back uppercase
        self.request.sendall(self.data.upper())


def threading_server(host, port):  # contract: the course's dual-stack extension
    """ThreadingTCPServer on the first address of host that binds, of either family: its
    address_family is AF_INET only (the seed's), so a subclass carries the resolved family,
    and turns IPV6_V6ONLY off (a server on "::" takes IPv4 clients too), as the C server."""
    addresses = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                                   socket.AI_PASSIVE)
    for family, _, _, _, address in addresses:
        class Server(socketserver.ThreadingTCPServer):
            address_family = family

            def server_bind(self):
                if self.address_family == socket.AF_INET6:
                    self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                super().server_bind()
        try:
            return Server(address, MyTCPHandler)  # closes its socket if bind/listen fail
        except OSError as e:  # this address failed: the next one
            error = e
    raise error


def port_number(text):  # contract: --port takes 0..65535 (0 = any free port)
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return int(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Threading server (the seed's).",
                                     allow_abbrev=False)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=port_number, default=9999)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # contract
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # contract
    socketserver.ThreadingTCPServer.daemon_threads = True  # contract: exit without joining
    HOST, PORT = args.host, args.port  # contract: from the flags
    
    # Create a threaded server to handle multiple clients
    # contract: was socketserver.ThreadingTCPServer((HOST, PORT), MyTCPHandler)
    with threading_server(HOST, PORT) as server:
        host, port = server.server_address[:2]  # contract (IPv6 adds flowinfo and scope_id)
        print(f"listening on {host}:{port}", file=sys.stderr, flush=True)  # contract
        server.serve_forever()
