"""soaklib.py -- the soak run's pure parts (no sockets, no processes, no
clock of its own): the ledger of acknowledged writes and what a read may
return, the classification of client errors, and the figures the soak's
verdict rests on (RSS flatness, fd counts at the same phase). soak.py
drives a cluster with them; test_soaklib.py checks them.

Ledger. Every key is written by one client thread only, so the thread knows
the order of its own writes. Per key it keeps the last acknowledged write
(a value with an optional expiry window, or a delete) and the writes sent
since whose outcome is unknown (the connection broke or timed out, or the
server answered NOQUORUM: such a write may or may not have been applied).
A read is correct when it returns the outcome of the acknowledged write or
of one of those unknown ones. A value is named by (seq, size): value()
builds its bytes (key, sequence number, then size bytes in all, from a fixed
random filler), so a read can be checked without storing values.

Expiry. SET EX ttl sent at t_send and acknowledged at t_ack expires at some
moment in [t_send + ttl, t_ack + ttl] (the coordinator's clock, the same
machine's). A read that ran from t0 to t1 must see the value when
t1 < t_send + ttl - MARGIN, must see nothing when t0 > t_ack + ttl + MARGIN,
and may see either in between (MARGIN covers the server's cached clock,
updated each cron tick).

API:
  value(key, seq, size) -> bytes          parse_value(b) -> (key, seq) | None
  Write(seq, size, exp_lo, exp_hi)        a value (exp_* None: no expiry)
  DELETED                                 a delete
  KeyState: .acked (Write | DELETED | None never written), .unknown [Write|DELETED]
    .ack(w) / .unsure(w)
    .allowed(t0, t1) -> set of outcomes (None = absent, (seq, size))
    .read_ok(got_bytes | None, key, t0, t1) -> bool
    .del_count(t0, t1) -> 0 | 1 | None (None: either is right)
  classify(exc, in_restart) -> error class (see CLASSES)
  lsq_slope([(t, y)]) -> dy/dt
  flatness([(t, y)], t_start, t_end) -> dict: max of the middle and last
                                        thirds, their growth, the slope of
                                        the second half
  growth_ok(before, after, rel, abs_) -> after <= before + max(rel*before, abs_)
"""
import zlib

import redis

MARGIN = 1.5  # seconds either side of an expiry moment where both outcomes are right

_FILL = bytes((zlib.crc32(b"soak%d" % i) >> 8) & 0xFF for i in range(1 << 17))  # 128 KB, fixed


def value(key, seq, size):
    """The bytes of value seq of key, size bytes long (the prefix fits:
    size is at least 64)."""
    head = b"%s|%d|" % (key.encode() if isinstance(key, str) else key, seq)
    off = zlib.crc32(head) % (len(_FILL) - size)
    return head + _FILL[off:off + size - len(head)]


def parse_value(b):
    parts = b.split(b"|", 2)
    if len(parts) < 3:
        return None
    try:
        return parts[0].decode(), int(parts[1])
    except (UnicodeDecodeError, ValueError):
        return None


class Write:
    __slots__ = ("seq", "size", "exp_lo", "exp_hi")

    def __init__(self, seq, size, exp_lo=None, exp_hi=None):
        self.seq, self.size, self.exp_lo, self.exp_hi = seq, size, exp_lo, exp_hi

    def outcomes(self, t0, t1):
        """What a read from t0 to t1 may see if this is the key's last write."""
        if self.exp_lo is None:
            return {(self.seq, self.size)}
        if t1 < self.exp_lo - MARGIN:
            return {(self.seq, self.size)}
        if t0 > self.exp_hi + MARGIN:
            return {None}
        return {(self.seq, self.size), None}

    def __repr__(self):
        return "Write(seq=%d, size=%d, exp=%s)" % (
            self.seq, self.size, "none" if self.exp_lo is None else
            "%.3f..%.3f" % (self.exp_lo, self.exp_hi))


class _Deleted:
    def outcomes(self, t0, t1):
        return {None}

    def __repr__(self):
        return "DELETED"


DELETED = _Deleted()


class KeyState:
    __slots__ = ("acked", "unknown")

    def __init__(self):
        self.acked = None  # never written: absent
        self.unknown = []

    def ack(self, w):
        """w was acknowledged: it supersedes every earlier write of this
        thread, known or not (they were sent before it, on the same key)."""
        self.acked = w
        self.unknown = []

    def unsure(self, w):
        self.unknown.append(w)

    def allowed(self, t0, t1):
        out = {None} if self.acked is None else set(self.acked.outcomes(t0, t1))
        for w in self.unknown:
            out |= w.outcomes(t0, t1)
        return out

    def read_ok(self, got, key, t0, t1):
        allowed = self.allowed(t0, t1)
        if got is None:
            return None in allowed
        p = parse_value(got)
        if p is None or p[0] != key:
            return False
        for o in allowed:
            if o is not None and o[0] == p[1]:
                return got == value(key, o[0], o[1])
        return False

    def del_count(self, t0, t1):
        a = self.allowed(t0, t1)
        if a == {None}:
            return 0
        if None not in a:
            return 1
        return None

    def __repr__(self):
        return "KeyState(acked=%r, unknown=%r)" % (self.acked, self.unknown)


# Error classes. Only restart_conn and restart_unknown are expected (a client
# connected to a node while it is stopped or starting again, or to a node that
# had sent its write on to the one restarting); every other class fails the
# soak.
CLASSES = (
    "restart_conn",     # connection refused/reset by a node inside its restart window
    "restart_unknown",  # NOQUORUM "... may have been applied" during a restart: the node
                        # the write was forwarded to went away with it in flight, so its
                        # outcome is unknown (the server never runs it twice to hide that)
    "conn_unexpected",  # the same from a node that was not being restarted
    "timeout",          # no reply within the client's socket timeout
    "noquorum",         # NOQUORUM from any node (sloppy mode should hide a restart)
    "client",           # an error reply the client caused (bad syntax, wrong type...)
    "server_error",     # any other error reply
    "wrong_read",       # a GET returned a value the ledger does not allow (stale, lost, foreign)
    "wrong_reply",      # any other reply that contradicts the ledger (DEL's count, SET's +OK)
)
EXPECTED = ("restart_conn", "restart_unknown")

_CLIENT_CAUSED = ("ERR syntax", "ERR wrong number", "WRONGTYPE", "ERR unknown command",
                  "ERR value is not", "ERR invalid", "ERR Protocol error")


def classify(exc, in_restart):
    """The class of an exception a redis-py call raised; in_restart: the
    node it went to was stopped or restarting when the call was made."""
    if isinstance(exc, redis.exceptions.TimeoutError):
        return "timeout"
    if isinstance(exc, redis.exceptions.ConnectionError):
        return "restart_conn" if in_restart else "conn_unexpected"
    if isinstance(exc, redis.exceptions.ResponseError):
        msg = str(exc)
        if msg.startswith("NOQUORUM"):
            return "noquorum"
        if msg.startswith(_CLIENT_CAUSED):
            return "client"
        return "server_error"
    if isinstance(exc, OSError):
        return "restart_conn" if in_restart else "conn_unexpected"
    return "server_error"


def certainly_not_sent(exc):
    """A connection error raised before the command left the client (the
    connection was refused): the write was certainly not applied."""
    if not isinstance(exc, redis.exceptions.ConnectionError):
        return False
    s = str(exc)
    return "Connection refused" in s or "Error 111 " in s


def lsq_slope(pts):
    n = len(pts)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((t - mx) ** 2 for t, _ in pts)
    if sxx == 0:
        return 0.0
    return sum((t - mx) * (y - my) for t, y in pts) / sxx


def flatness(pts, t_start, t_end):
    """pts: [(t, y)]. Splits [t_start, t_end] into thirds; returns the max of
    the middle and of the last third, last/middle growth (absolute and
    relative), and the least-squares slope over the second half (per unit
    of t)."""
    span = t_end - t_start
    mid = [y for t, y in pts if t_start + span / 3 <= t < t_start + 2 * span / 3]
    last = [y for t, y in pts if t >= t_start + 2 * span / 3 and t <= t_end]
    half = [(t, y) for t, y in pts if t_start + span / 2 <= t <= t_end]
    if not mid or not last:
        return None
    mmax, lmax = max(mid), max(last)
    return {"max_mid": mmax, "max_last": lmax, "growth": lmax - mmax,
            "growth_rel": (lmax - mmax) / mmax if mmax else 0.0,
            "slope": lsq_slope(half), "n_half": len(half)}


def growth_ok(before, after, rel, abs_):
    return after <= before + max(rel * before, abs_)
