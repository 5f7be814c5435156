"""A TCP proxy that records the bytes of each direction, for comparing peers on the wire.

    proxy = RecordingProxy("127.0.0.1", server_port)
    ... a client connects to ("127.0.0.1", proxy.port) ...
    rec = proxy.next_record()          # waits until that connection has fully closed
    rec.c2s, rec.s2c                   # every byte the client sent, every byte it received

Either family, on either side: the proxy listens on listen= (default 127.0.0.1; "::1" for
IPv6 clients) and connects to the server's host as given ("::1", "127.0.0.1", ...).

Half-closes are forwarded (a client's shutdown(SHUT_WR) reaches the server as EOF, and the
other way round), so the proxy changes nothing a peer can see but the addresses.
"""
import os
import queue
import socket
import threading

DEADLINE = float(os.environ.get("LAB_DEADLINE", "10"))


def family_of(host):
    """AF_INET or AF_INET6: the family of host's first address ("::1", "127.0.0.1", ...)."""
    return socket.getaddrinfo(host, 0, socket.AF_UNSPEC, socket.SOCK_STREAM)[0][0]


class Record:
    def __init__(self):
        self.c2s = bytearray()
        self.s2c = bytearray()
        self.errors = []

    def __repr__(self):
        return f"Record(c2s={bytes(self.c2s)!r}, s2c={bytes(self.s2c)!r})"


def stop_socket(sock, thread=None):
    """Shut sock down, which wakes a thread blocked on it (accept() fails, recv() returns),
    wait for that thread to end, then close it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected: Linux still wakes the waiting thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(DEADLINE)
    sock.close()


def split_at(k):
    """A chop that cuts the write holding stream offset k in two there."""
    def chop(data, offset):
        if offset < k < offset + len(data):
            return [data[:k - offset], data[k - offset:]]
        return [data]
    return chop


def bytewise(data, offset):
    """A chop that writes every byte on its own."""
    return [data[i:i + 1] for i in range(len(data))]


class RecordingProxy:
    """chop(data, offset) -> [chunks], if given, re-cuts what is forwarded in both directions
    (each chunk is its own send(), with Nagle off); coalesce=True holds the client's bytes
    until it has finished sending, then forwards them in one send().  Either way the bytes
    are the same: only where the stream is cut changes, which a peer must not depend on."""

    def __init__(self, host, port, chop=None, coalesce=False, listen="127.0.0.1"):
        self.upstream = (host, port)  # create_connection: either family
        self.chop, self.coalesce = chop, coalesce
        self.listener = socket.create_server((listen, 0), family=family_of(listen))
        self.host, self.port = listen, self.listener.getsockname()[1]  # what clients reach
        self.records = queue.Queue()
        self.accepted = 0  # connections accepted; each puts exactly one record
        self.taken = 0  # records handed out by next_record()
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self.acceptor.start()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed
            self.accepted += 1
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
        pumps = [threading.Thread(target=self._pump,
                                  args=(client, server, rec.c2s, rec, self.coalesce)),
                 threading.Thread(target=self._pump, args=(server, client, rec.s2c, rec, False))]
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        client.close()
        server.close()
        self.records.put(rec)

    def _pump(self, src, dst, log, rec, coalesce):
        """Copy src to dst until EOF, then pass the EOF on as a half-close."""
        if self.chop:
            dst.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                offset = len(log)
                log.extend(data)
                if coalesce:
                    continue
                for chunk in self.chop(data, offset) if self.chop else [data]:
                    dst.sendall(chunk)
            if coalesce and log:
                dst.sendall(bytes(log))
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
            rec = self.records.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError(f"no connection through the proxy closed within {deadline}s "
                                 f"({self.accepted} accepted so far)")
        self.taken += 1
        return rec

    def forget(self, deadline=DEADLINE):
        """Drop the records of the connections accepted so far and not taken, waiting (bounded)
        for those still open to close.  Call it before a client connects when the proxy is
        shared: an earlier example that failed between its connection and next_record() left
        its record behind, and without this every later one would be handed the record before
        its own and fail for a reason not its own, hiding the first failure's."""
        while self.taken < self.accepted:
            self.next_record(deadline)

    def close(self):
        # Wake the accept thread and let it end before the fd is closed: closing a socket
        # another thread may be about to use lets that thread accept() on whatever socket
        # gets the same fd number next (another test's proxy), which lost a connection.
        stop_socket(self.listener, self.acceptor)


class DatagramRecord:
    def __init__(self, client):
        self.client = client
        self.c2s = []  # datagrams, boundaries kept
        self.s2c = []
        self.done = False
        self.thread = None

    def __repr__(self):
        return f"DatagramRecord(c2s={self.c2s!r}, s2c={self.s2c!r})"


class RecordingRelay:
    """The same for UDP: each client gets a socket of its own towards the server, and every
    datagram in either direction is forwarded as it is and recorded, boundaries kept.

        relay = RecordingRelay("127.0.0.1", server_port)
        ... a client sends to ("127.0.0.1", relay.port) and gets its replies ...
        rec = relay.next_record()          # the next new client's datagrams so far

    listen= as for RecordingProxy.
    """

    def __init__(self, host, port, listen="127.0.0.1"):
        self.upstream = (host, port)
        self.upstream_family = family_of(host)
        self.sock = socket.socket(family_of(listen), socket.SOCK_DGRAM)
        self.sock.bind((listen, 0))
        self.host, self.port = listen, self.sock.getsockname()[1]  # what clients reach
        self.clients = {}
        self.lock = threading.Lock()
        self.records = queue.Queue()
        self.seen = 0  # clients seen; each puts exactly one record
        self.taken = 0  # records handed out by next_record()
        self.closing = False
        self.reader = threading.Thread(target=self._from_clients, daemon=True)
        self.reader.start()

    def _from_clients(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return  # closed
            if self.closing:
                return
            with self.lock:
                if addr not in self.clients:
                    up = socket.socket(self.upstream_family, socket.SOCK_DGRAM)
                    up.connect(self.upstream)
                    rec = DatagramRecord(addr)
                    self.clients[addr] = (up, rec)
                    rec.thread = threading.Thread(target=self._from_server, args=(up, rec),
                                                  daemon=True)
                    rec.thread.start()
                    self.seen += 1
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
            if rec.done:
                return
            rec.s2c.append(data)
            try:
                self.sock.sendto(data, rec.client)
            except OSError:
                return

    def next_record(self, deadline=DEADLINE):
        """The next new client's record; call it once that client is done.  The client is
        then forgotten: a later client that gets the same port (ports are reused) is a
        new client, with a record of its own."""
        try:
            rec = self.records.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError(f"no datagram reached the relay within {deadline}s")
        with self.lock:
            up, _ = self.clients.pop(rec.client)
        rec.done = True
        stop_socket(up, rec.thread)
        self.taken += 1
        return rec

    def forget(self, deadline=DEADLINE):
        """Drop the records of the clients seen so far and not taken (see RecordingProxy)."""
        while self.taken < self.seen:
            self.next_record(deadline)

    def close(self):
        self.closing = True
        stop_socket(self.sock, self.reader)  # see RecordingProxy.close
        with self.lock:
            clients, self.clients = list(self.clients.values()), {}
        for up, rec in clients:
            rec.done = True
            stop_socket(up)
