"""harness.py -- real servers and raw RESP for the end-to-end tests.

A test starts `ringkv-server` (and, as an oracle for exact replies, Debian's
`redis-server`) on a free 127.0.0.1 port with a fresh temporary directory:
a tests/ringtest.py Node of its own, which waits until the server answers as
itself and stops it BY PID (SIGTERM, then SIGKILL after a timeout), also at
exit and on SIGTERM (tests/testprocs.py), so a failing or interrupted test
never leaves a server behind. Nothing is ever killed by name.

API:
  RingKV(args=[], dir=None).start(port=None) / .stop() / .kill9() / .restart()
      / .wait_exit(timeout) / .close() / .log_text() / .alive() / .pid / .port / .dir
  RedisOracle().start() / .close()          a real redis-server 7.0
  srv.client(**kw)                          redis.Redis connected to it
  srv.raw()                                 RawConn: bytes in, RESP replies out
  RawConn.cmd(*args) / .send(bytes) / .read_reply() / .closed_by_peer()
  encode(*args)                             one RESP multibulk request
  rss_kb(pid), wait_for(pred, timeout)
"""
import os
import socket
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ringtest  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ReplyError(Exception):
    """An error reply ("-ERR ...") as read by RawConn; str() is the text without '-'."""


class RawConn:
    """A plain socket speaking RESP, for exact bytes and broken input.

    read_reply() parses one RESP2/RESP3 reply into Python values: status ->
    str prefixed by '+', errors -> ReplyError instance (returned, not
    raised), bulk -> bytes, null -> None, integer -> int, double -> float,
    map -> dict (keys decoded when they are bytes), set -> list, verbatim ->
    bytes, bool -> bool. read_raw_reply() returns the exact bytes."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        # received bytes; those before pos are parsed already. A bytearray
        # grows in place: appending each chunk to bytes copied the whole
        # reply so far every time (a 64 MB GET took 8 s of copying).
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("connection closed by server")
        if self.pos:  # drop what was parsed before growing
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _bytes(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return "+" + rest.decode()
        if t == b"-":
            return ReplyError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read_reply()
                if isinstance(k, bytes):
                    k = k.decode()
                d[k] = self.read_reply()
            return d
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"=":
            return self._bytes(int(rest))
        if t == b"(":
            return int(rest)
        raise AssertionError("bad RESP type byte in %r" % line[:80])

    def read_raw_reply(self):
        """The exact bytes of one reply (RESP2 only: used to compare with Redis)."""
        line = self._line()
        out = [line + b"\r\n"]
        t = line[:1]
        if t == b"$":
            n = int(line[1:])
            if n >= 0:
                out.append(self._bytes(n) + b"\r\n")
        elif t in (b"*", b"~"):
            n = int(line[1:])
            for _ in range(max(n, 0)):
                out.append(self.read_raw_reply())
        elif t == b"%":
            for _ in range(2 * int(line[1:])):
                out.append(self.read_raw_reply())
        return b"".join(out)

    def cmd(self, *args):
        self.send(encode(*args))
        return self.read_reply()

    def raw_cmd(self, *args):
        self.send(encode(*args))
        return self.read_raw_reply()

    def closed_by_peer(self, timeout=5.0):
        """True if the server closes the connection (EOF or reset) within timeout;
        any bytes still buffered before the EOF are ignored."""
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False


class _Local:
    """What the e2e tests ask of a server on 127.0.0.1 besides what
    ringtest.Node does (start, stop, kill9, wait_exit, close, log_text...)."""

    name = "server"

    def client(self, **kw):
        """redis.Redis of it (bytes replies; no password unless given)."""
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def raw(self, timeout=10.0):
        return RawConn(self.port, timeout=timeout)


class RingKV(_Local, ringtest.Node):
    """One ringkv-server of its own on 127.0.0.1, in a temporary directory
    (or dir). args: extra command-line options as a list."""
    name = "ringkv-server"

    def __init__(self, args=None, dir=None):
        super().__init__(0, "127.0.0.1", None,
                         dir or tempfile.mkdtemp(prefix="ringkv-e2e-", dir=ringtest.TMP_PARENT),
                         args=args or [], label=self.name)
        self.own_dir = dir is None

    def restart(self, extra_args=None):
        """SIGTERM, then start again on the same port and directory."""
        self.stop()
        if extra_args is not None:
            self.args = list(extra_args)
        return self.start(port=self.port)


class RedisOracle(_Local, ringtest.RedisOracle):
    """A real redis-server 7.0, no persistence, for comparing exact replies."""
    name = "redis-server"


def wait_for(pred, timeout=5.0, interval=0.05):
    """Polls pred() until it is truthy; returns its last value."""
    deadline = time.time() + timeout
    v = pred()
    while not v and time.time() < deadline:
        time.sleep(interval)
        v = pred()
    return v
