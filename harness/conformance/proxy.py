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
