"""A TCP proxy that records the bytes of each direction, for comparing peers on the wire.

    proxy = RecordingProxy("127.0.0.1", server_port)
    ... a client connects to ("127.0.0.1", proxy.port) ...
    rec = proxy.next_record()          # waits until that connection has fully closed
    rec.c2s, rec.s2c                   # every byte the client sent, every byte it received

Half-closes are forwarded (a client's shutdown(SHUT_WR) reaches the server as EOF, and the
other way round), so the proxy changes nothing a peer can see but the addresses.
"""
import os
import queue
import socket
import threading

DEADLINE = float(os.environ.get("LAB_DEADLINE", "10"))


class Record:
    def __init__(self):
        self.c2s = bytearray()
        self.s2c = bytearray()
        self.errors = []

    def __repr__(self):
        return f"Record(c2s={bytes(self.c2s)!r}, s2c={bytes(self.s2c)!r})"


class RecordingProxy:
    def __init__(self, host, port):
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.records = queue.Queue()
        self.closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        rec = Record()
        try:
            server = socket.create_connection(self.upstream, timeout=DEADLINE)
        except OSError as e:
            rec.errors.append(f"upstream: {e}")
            client.close()
            self.records.put(rec)
            return
        server.settimeout(None)
        pumps = [threading.Thread(target=self._pump, args=(client, server, rec.c2s, rec)),
                 threading.Thread(target=self._pump, args=(server, client, rec.s2c, rec))]
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        client.close()
        server.close()
        self.records.put(rec)

    @staticmethod
    def _pump(src, dst, log, rec):
        """Copy src to dst until EOF, then pass the EOF on as a half-close."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log.extend(data)
                dst.sendall(data)
        except OSError as e:  # a reset: the peer went away without a clean close
            rec.errors.append(str(e))
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def next_record(self, deadline=DEADLINE):
        """The next connection's record, once both directions have ended."""
        try:
            return self.records.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError(f"no connection through the proxy closed within {deadline}s")

    def close(self):
        self.listener.close()


class DatagramRecord:
    def __init__(self, client):
        self.client = client
        self.c2s = []  # datagrams, boundaries kept
        self.s2c = []

    def __repr__(self):
        return f"DatagramRecord(c2s={self.c2s!r}, s2c={self.s2c!r})"


class RecordingRelay:
    """The same for UDP: each client gets a socket of its own towards the server, and every
    datagram in either direction is forwarded as it is and recorded, boundaries kept.

        relay = RecordingRelay("127.0.0.1", server_port)
        ... a client sends to ("127.0.0.1", relay.port) and gets its replies ...
        rec = relay.next_record()          # the next new client's datagrams so far
    """

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.clients = {}
        self.records = queue.Queue()
        threading.Thread(target=self._from_clients, daemon=True).start()

    def _from_clients(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return  # closed
            if addr not in self.clients:
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                up.connect(self.upstream)
                rec = DatagramRecord(addr)
                self.clients[addr] = (up, rec)
                threading.Thread(target=self._from_server, args=(up, rec), daemon=True).start()
                self.records.put(rec)
            up, rec = self.clients[addr]
            rec.c2s.append(data)
            up.send(data)

    def _from_server(self, up, rec):
        while True:
            try:
                data = up.recv(65535)
            except OSError:
                return
            rec.s2c.append(data)
            try:
                self.sock.sendto(data, rec.client)
            except OSError:
                return

    def next_record(self, deadline=DEADLINE):
        try:
            return self.records.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError(f"no datagram reached the relay within {deadline}s")

    def close(self):
        self.sock.close()
        for up, _ in self.clients.values():
            up.close()
