"""resp.py -- a minimal RESP2/RESP3 client that keeps each reply's wire
type, for tests that check reply formats the way a C client sees them
(redis-cli's asserts distinguish a status reply from a bulk string, a map
from an array). Replies are Reply(kind, value): kind is the RESP type byte
('+', '-', ':', '$', '*', '%', '~', '_', ',', '#', '=', '(', '|', '>');
value is str for strings (bulk decoded as UTF-8 with surrogateescape), int,
a list of Reply for arrays/sets/pushes, a list of (Reply, Reply) pairs for
maps, None for nulls."""
import socket


class Reply:
    __slots__ = ("kind", "value")

    def __init__(self, kind, value):
        self.kind, self.value = kind, value

    def __repr__(self):
        return "Reply(%r, %r)" % (self.kind, self.value)

    @property
    def is_string(self):
        return self.kind in "+$="

    @property
    def is_aggregate(self):
        return self.kind in "*~>%"

    def items(self):
        """Elements of an array/set, or of a map flattened as RESP2 sends it."""
        if self.kind == "%":
            out = []
            for k, v in self.value:
                out += [k, v]
            return out
        return list(self.value or [])


class Conn:
    def __init__(self, host, port, timeout=10):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.s.close()

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = chr(line[0]), line[1:].decode("utf-8", "surrogateescape")
        if kind in "+-(,#":
            return Reply(kind, rest)
        if kind == ":":
            return Reply(kind, int(rest))
        if kind in "$=!":
            n = int(rest)
            if n < 0:
                return Reply(kind, None)
            return Reply(kind, self._bytes(n).decode("utf-8", "surrogateescape"))
        if kind == "_":
            return Reply(kind, None)
        if kind in "*~>":
            n = int(rest)
            if n < 0:
                return Reply(kind, None)
            return Reply(kind, [self.read() for _ in range(n)])
        if kind in "%|":
            n = int(rest)
            return Reply(kind, [(self.read(), self.read()) for _ in range(n)])
        raise ValueError("unknown RESP type %r in %r" % (kind, line))

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()
