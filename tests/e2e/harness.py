"""harness.py -- start and stop real servers for the end-to-end tests.

A test starts `ringkv-server` (and, as an oracle for exact replies, Debian's
`redis-server`) on a free 127.0.0.1 port with a fresh temporary directory,
waits until it answers PING, and stops it BY PID: SIGTERM, then SIGKILL after
a timeout. Every process started here is recorded and stopped again at exit
and on SIGTERM (tests/testprocs.py), so a failing or interrupted test never
leaves a server behind.
Nothing is ever killed by name.

API:
  RingKV(args=[], dir=None).start() / .stop() / .kill9() / .restart()
  RedisOracle().start() / .stop()           a real redis-server 7.0
  srv.client(**kw)                          redis.Redis connected to it
  srv.raw()                                 RawConn: bytes in, RESP replies out
  RawConn.cmd(*args) / .send(bytes) / .read_reply() / .closed_by_peer()
  encode(*args)                             one RESP multibulk request
  free_port(), rss_kb(pid)
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testprocs import forget, stop_proc, track  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_BIN = os.environ.get("RINGKV_SERVER", os.path.join(ROOT, "src", "ringkv-server"))
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"

def free_port():
    """A port that was free a moment ago on 127.0.0.1 (and its bus port +10000)."""
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port + 10000 > 65535:
            continue
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        finally:
            t.close()
        return port
    raise RuntimeError("no free port")


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
        self.buf = b""

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
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
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


class EarlyExit(RuntimeError):
    """The server exited while starting."""


class _Server:
    name = "server"

    def __init__(self):
        self.proc = None
        self.port = None
        self.dir = None
        self._own_dir = False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv):
        if getattr(self, "logf", None):
            self.logf.close()
        self.logf = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        track(self.proc)
        self._wait_ready()

    def _wait_ready(self, timeout=20.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                forget(self.proc)
                raise EarlyExit("%s exited with %s during startup; log:\n%s" %
                                   (self.name, self.proc.returncode, self.log_tail()))
            try:
                with RawConn(self.port, timeout=2) as c:
                    r = c.cmd("PING")
                    if r == "+PONG":
                        # ours, not another process that holds the port
                        info = c.cmd("INFO", "server")
                        if b"process_id:%d\r\n" % self.proc.pid in info:
                            return
                    elif isinstance(r, ReplyError) and "NOAUTH" in str(r):
                        time.sleep(0.2)  # (can't ask INFO) a failed bind exits at once
                        if self.proc.poll() is None:
                            return
                    last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s did not answer PING on port %d (%r)" % (self.name, self.port, last))

    def stop(self, timeout=15.0, sig=signal.SIGTERM):
        """SIGTERM (or sig), wait, SIGKILL after timeout. Returns the exit status."""
        rc = None
        if self.proc is not None:
            rc = stop_proc(self.proc, sig, timeout)
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None
        return rc

    def kill9(self):
        return self.stop(timeout=10, sig=signal.SIGKILL)

    def wait_exit(self, timeout=15.0):
        """Waits for the process to exit by itself (SHUTDOWN); reaps it."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        forget(self.proc)
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        if self._own_dir and self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout=10.0):
        return RawConn(self.port, timeout=timeout)

    def log_text(self):
        """The server's whole log file ("" if none)."""
        p = os.path.join(self.dir or "/nonexistent", "log")
        if not os.path.exists(p):
            return ""
        with open(p, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=4000):
        out = ""
        for fn in ("log", "stdout.log"):
            p = os.path.join(self.dir or "/nonexistent", fn)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    data = f.read()
                out += "--- %s ---\n%s\n" % (fn, data[-n:].decode("utf-8", "replace"))
        return out


class RingKV(_Server):
    """One ringkv-server. args: extra command-line options as a list."""
    name = "ringkv-server"

    def __init__(self, args=None, dir=None):
        super().__init__()
        self.args = list(args or [])
        if dir is None:
            self.dir = tempfile.mkdtemp(prefix="ringkv-e2e-")
            self._own_dir = True
        else:
            self.dir = dir

    def start(self, port=None):
        if not os.access(SERVER_BIN, os.X_OK):
            raise RuntimeError("%s is not built (run make)" % SERVER_BIN)
        chosen = port or self.port
        for attempt in range(3):
            self.port = chosen or free_port()
            argv = [SERVER_BIN, "--port", str(self.port), "--dir", self.dir,
                    "--logfile", os.path.join(self.dir, "log")] + self.args
            try:
                self._spawn(argv)
                return self
            except EarlyExit:
                # a port we picked was taken meanwhile (client or bus port): pick again
                if chosen or attempt == 2:
                    raise
        return self

    def restart(self, extra_args=None):
        """SIGTERM, then start again on the same port and directory."""
        self.stop()
        if extra_args is not None:
            self.args = list(extra_args)
        self.start(port=self.port)
        return self


class RedisOracle(_Server):
    """A real redis-server 7.0, no persistence, for comparing exact replies."""
    name = "redis-server"

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="ringkv-e2e-oracle-")
        self._own_dir = True

    def start(self):
        for attempt in range(3):
            self.port = free_port()
            argv = [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--logfile",
                    os.path.join(self.dir, "log"), "--daemonize", "no", "--protected-mode", "no"]
            try:
                self._spawn(argv)
                return self
            except EarlyExit:
                if attempt == 2:
                    raise
        return self


def wait_for(pred, timeout=5.0, interval=0.05):
    """Polls pred() until it is truthy; returns its last value."""
    deadline = time.time() + timeout
    v = pred()
    while not v and time.time() < deadline:
        time.sleep(interval)
        v = pred()
    return v
