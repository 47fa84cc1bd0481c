#!/usr/bin/env python3
"""soak.py -- `make soak`: a 3-node ringkv cluster under a steady mixed load
(GET, SET, SET EX with short and long TTLs, DEL; values from 64 bytes to
10 KB, half of the writes 10 KB) for SOAK_MINUTES (30), with a node
restarted every SOAK_RESTART_SECONDS (180): nodes 1 and 2 in turn, each by
SIGTERM, then each by SIGKILL, and so on. It answers four questions and
fails (exit 1) when one answer is no:

  1. memory: is every node's RSS within the configured budget all along, and
     flat after warm-up?
  2. file descriptors: are a node's fd counts the same at the same phase
     after each restart (a restart resets them), with no deleted file held
     open?
  3. errors: did the client see no error it did not cause, apart from
     connection errors from a node while it was being restarted?
  4. data: does every acknowledged write read back at the end (its last
     acknowledged value, or nothing when deleted or expired), at QUORUM, from
     every node?

How. Client threads (SOAK_THREADS, 6) each own SOAK_KEYS (2000) keys, so a
key's last write is known (soaklib.KeyState: the ledger); each thread sends
its operations to the nodes in turn, paced so the whole client does about
SOAK_RATE (1000) operations per second, and checks every GET and every DEL's
count against its ledger while the load runs. A thread that gets a
connection error from a node leaves that node alone for a second, as a real
client would. Nodes 1 and 2 are restarted (SOAK_RESTART_NODES); node 0 runs
the whole soak, so its curve shows slow growth that restarts would hide,
and it lives through every reconnection of its peers.

Memory budget (per node): its RSS measured idle and empty just after start
(code, libraries, empty tables) + cache-size (block cache) + 3 x
memtable-size (the data column family's memtables, INFO memtable_budget) +
4 x 2 x 8 MB (the other column families' memtables: meta, expires, hints,
default; 8 MB each, at most two). The soak runs with a small cache-size and
memtable-size (SOAK_CACHE_SIZE 32mb, SOAK_MEMTABLE_SIZE 16mb) so that the
data (about 60 MB per node) outgrows them and the budget is actually reached.

Flat (judged when at least 10 minutes of load follow the warm-up,
SOAK_WARMUP_MINUTES, default 5, or a third of a shorter run):
  - node 0 (never restarted): over the load after warm-up, the highest RSS of
    the last third is at most max(5%, 8 MB) above the highest of the middle
    third, and the least-squares slope of RSS over the second half is below
    SOAK_MAX_SLOPE_MB_MIN (1.0 MB/min);
  - restarted nodes: RSS at the same phase (SOAK_PHASE_SECONDS, 60 s, after
    each of their restarts) grows by at most max(5%, 8 MB) from the first
    such sample to the last.
fds: at SOAK_PHASE_SECONDS after load start and after each restart, every
node's socket fds and its other fds (pipes, eventfds, directories, logs) are
at most 4 above the first such sample; a node's samples are compared only
with those taken after restarts of the same node. RocksDB keeps every live
SST and blob file open, so the count of open data files follows compaction
and is not compared over time; instead, at every phase sample, no fd may
point at a deleted file, no data file may be open twice, and no more data
files may be open than the RocksDB directory holds.

Outputs (SOAK_OUT, default soak-out/): samples.csv (every SOAK_SAMPLE_SECONDS,
one row per node: RSS, jemalloc's allocated bytes, memtables, block cache,
fds by kind, disk, ops and errors sent to it), phases.csv, restarts.csv,
soak.png (RSS and fds per node over time, restarts as dotted lines, the
budget dashed), summary.txt / summary.json (the figures and the verdict),
findings.txt (each unexpected error or wrong reply, up to 500), logs/ (the
nodes' logs). SOAK_SHORT=1: a quick check (3 minutes, a restart every 40 s).
Other settings: SOAK_DOWN_SECONDS (10, how long a node stays down),
SOAK_SAMPLE_SECONDS (5), SOAK_TIMEOUT (10, client socket timeout),
SOAK_CHECK_PIPELINE (200, GETs per pipeline in the final check),
SOAK_SERVER_OPTS ("name value ..." added to every node's options).

Every process started here is stopped by pid (tests/ringtest.py,
tests/testprocs.py), also on failure and on SIGTERM/SIGINT.
"""
import json
import os
import random
import re
import shutil
import signal
import sys
import threading
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import ringtest  # noqa: E402
import testprocs  # noqa: E402
from pngchart import chart  # noqa: E402
from soaklib import (CLASSES, DELETED, EXPECTED, KeyState, Write, certainly_not_sent,  # noqa: E402
                     classify, flatness, growth_ok, parse_value, value)

testprocs.exit_on_signals(signal.SIGINT, signal.SIGHUP)


def env(name, default, conv=str):
    v = os.environ.get(name)
    return conv(v) if v not in (None, "") else default


SHORT = env("SOAK_SHORT", "0") not in ("0", "", "no")
MINUTES = env("SOAK_MINUTES", 3.0 if SHORT else 30.0, float)
RESTART_EVERY = env("SOAK_RESTART_SECONDS", 40.0 if SHORT else 180.0, float)
DOWN = env("SOAK_DOWN_SECONDS", 5.0 if SHORT else 10.0, float)
PHASE = env("SOAK_PHASE_SECONDS", 20.0 if SHORT else 60.0, float)
RESTART_NODES = [int(x) for x in env("SOAK_RESTART_NODES", "1,2").split(",") if x.strip()]
THREADS = env("SOAK_THREADS", 6, int)
RATE = env("SOAK_RATE", 1000.0, float)
KEYS = env("SOAK_KEYS", 2000, int)
CACHE = env("SOAK_CACHE_SIZE", "32mb")
MEMTABLE = env("SOAK_MEMTABLE_SIZE", "16mb")
SAMPLE = env("SOAK_SAMPLE_SECONDS", 5.0, float)
TIMEOUT = env("SOAK_TIMEOUT", 10.0, float)
CHECK_PIPELINE = env("SOAK_CHECK_PIPELINE", 200, int)
WARMUP = env("SOAK_WARMUP_MINUTES", min(5.0, MINUTES / 3), float)
MAX_SLOPE = env("SOAK_MAX_SLOPE_MB_MIN", 1.0, float)
OUT = os.path.abspath(env("SOAK_OUT", os.path.join(HERE, "..", "..", "soak-out")))
SERVER_OPTS = env("SOAK_SERVER_OPTS", "").split()
NODES = 3
OTHER_CF_MEMTABLES = 4 * 2 * 8 << 20  # meta, expires, hints, default: 2 x 8 MB each

# The operation mix (weights) and value sizes.
MIX = [("get", 50), ("set", 25), ("setex", 15), ("del", 10)]
RESTART_SLACK = 2.0  # seconds after a node serves again in which its connection errors still count as the restart's


def size_bytes(s):
    m = re.fullmatch(r"(\d+)\s*(b|kb|mb|gb)?", s.strip().lower())
    if not m:
        raise SystemExit("bad size %r" % s)
    return int(m.group(1)) * {None: 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}[m.group(2)]


def log(msg):
    print("[soak %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def pick_size(rng):
    r = rng.random()
    if r < 0.5:
        return 10240
    if r < 0.8:
        return rng.randrange(64, 513)
    return rng.randrange(1024, 8193)


def pick_ttl(rng):
    # most expire within seconds (during the run), some live across restarts
    return rng.randrange(1, 21) if rng.random() < 0.7 else rng.randrange(30, 301)


# ------------------------------------------------------------------ state


class Stats:
    """Operation and error counts per node and class, and the details of the
    errors that should not happen (bounded)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ops = [0] * NODES
        self.by_op = {}
        self.errors = {c: [0] * NODES for c in CLASSES}
        self.noquorum_in_restart = 0
        self.details = []
        self.dropped_details = 0
        self.file = None  # findings.txt, written as findings happen (kept if the driver dies)

    def op(self, node, kind):
        with self.lock:
            self.ops[node] += 1
            self.by_op[kind] = self.by_op.get(kind, 0) + 1

    def error(self, node, cls, detail, in_restart=False):
        with self.lock:
            self.errors[cls][node] += 1
            if cls == "noquorum" and in_restart:
                self.noquorum_in_restart += 1
            if cls not in EXPECTED:
                if len(self.details) < 500:
                    self.details.append(detail)
                    if self.file:
                        self.file.write(json.dumps(detail) + "\n")
                        self.file.flush()
                else:
                    self.dropped_details += 1

    def unexpected(self, node=None):
        with self.lock:
            return sum(v[i] for c, v in self.errors.items() if c not in EXPECTED
                       for i in (range(NODES) if node is None else [node]))


class Restarts:
    """When each node was stopped and served again: the windows in which a
    connection error from it is the restart's."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows = []  # [node, t_stop, t_serving or None, t_allup or None]
        self.records = []

    def begin(self, node, t):
        with self.lock:
            w = [node, t, None, None]
            self.windows.append(w)
            return w

    def in_restart(self, node, t0, t1):
        with self.lock:
            for n, ts, tserve, _ in self.windows:
                if n == node and t1 >= ts - 0.5 and (tserve is None or t0 <= tserve + RESTART_SLACK):
                    return True
        return False

    def any_active(self, t0, t1):
        """Some node was stopped, starting, or not yet seen up by all."""
        with self.lock:
            for _, ts, _, tup in self.windows:
                if t1 >= ts - 0.5 and (tup is None or t0 <= tup + 5.0):
                    return True
        return False


# ----------------------------------------------------------------- client


class Worker(threading.Thread):
    def __init__(self, tid, cluster, stats, restarts, stop, t_origin):
        super().__init__(name="soak-worker-%d" % tid, daemon=True)
        self.tid = tid
        self.rng = random.Random(1000 + tid)
        self.keys = ["soak:%d:%d" % (tid, j) for j in range(KEYS)]
        self.state = {k: KeyState() for k in self.keys}
        self.seq = 0
        self.stats, self.restarts, self.stop_ev = stats, restarts, stop
        self.t_origin = t_origin
        self.clients = [redis.Redis(host=nd.host, port=nd.port, socket_timeout=TIMEOUT,
                                    socket_connect_timeout=5) for nd in cluster.nodes[:NODES]]
        self.backoff = [0.0] * NODES
        self.next_node = tid % NODES
        self.interval = THREADS / RATE
        self.next_at = time.time()
        self.preloaded = 0

    def pace(self):
        now = time.time()
        self.next_at += self.interval
        if self.next_at < now - 1.0:  # fell behind (a slow moment): do not burst
            self.next_at = now
        elif self.next_at > now:
            time.sleep(self.next_at - now)

    def node(self):
        now = time.time()
        for _ in range(NODES):
            i = self.next_node
            self.next_node = (self.next_node + 1) % NODES
            if self.backoff[i] <= now:
                return i
        return min(range(NODES), key=lambda i: self.backoff[i])

    def finding(self, node, cls, op, key, t0, t1, msg, in_restart=False):
        self.stats.error(node, cls, {
            "t": round(t0 - self.t_origin, 3), "dur": round(t1 - t0, 3), "thread": self.tid,
            "node": node, "op": op, "key": key, "class": cls, "msg": msg,
            "ledger": repr(self.state.get(key))}, in_restart)

    def one(self, op, key):
        i = self.node()
        cl = self.clients[i]
        ks = self.state[key]
        w = None
        self.stats.op(i, op)
        t0 = time.time()
        try:
            if op == "get":
                got = cl.get(key)
                t1 = time.time()
                if not ks.read_ok(got, key, t0, t1):
                    p = parse_value(got) if got is not None else None
                    self.finding(i, "wrong_read", op, key, t0, t1,
                                 "got %s, allowed %s" % (
                                     "nil" if got is None else "%r (%d bytes)" % (p, len(got)),
                                     sorted(ks.allowed(t0, t1), key=str)))
            elif op in ("set", "setex"):
                self.seq += 1
                size = pick_size(self.rng)
                if op == "set":
                    w = Write(self.seq, size)
                    r = cl.set(key, value(key, self.seq, size))
                else:
                    ttl = pick_ttl(self.rng)
                    w = Write(self.seq, size, t0 + ttl, None)
                    r = cl.set(key, value(key, self.seq, size), ex=ttl)
                t1 = time.time()
                if w.exp_lo is not None:
                    w.exp_hi = t1 + (w.exp_lo - t0)
                if r is not True:
                    self.finding(i, "wrong_reply", op, key, t0, t1, "SET replied %r" % (r,))
                    ks.unsure(w)
                else:
                    ks.ack(w)
            elif op == "del":
                w = DELETED
                r = cl.delete(key)
                t1 = time.time()
                want = ks.del_count(t0, t1)
                if want is not None and r != want:
                    self.finding(i, "wrong_reply", op, key, t0, t1,
                                 "DEL replied %r, the ledger says %d" % (r, want))
                ks.ack(DELETED)
        except (redis.RedisError, OSError) as e:
            t1 = time.time()
            in_r = self.restarts.in_restart(i, t0, t1)
            cls = classify(e, in_r)
            if cls == "noquorum":
                in_r = self.restarts.any_active(t0, t1)
                if in_r and "may have been applied" in str(e):
                    cls = "restart_unknown"
            if w is not None and not certainly_not_sent(e):
                if w is not DELETED and w.exp_lo is not None:
                    w.exp_hi = t1 + (w.exp_lo - t0)
                ks.unsure(w)
            self.finding(i, cls, op, key, t0, t1, "%s: %s" % (type(e).__name__, e), in_r)
            if isinstance(e, (redis.ConnectionError, redis.TimeoutError, OSError)):
                self.backoff[i] = time.time() + 1.0

    def run(self):
        try:
            # preload: every key once, so the data is there from the start
            for key in self.keys:
                if self.stop_ev.is_set():
                    return
                self.pace()
                self.one("set", key)
                self.preloaded += 1
            ops = [o for o, _ in MIX]
            weights = [w for _, w in MIX]
            while not self.stop_ev.is_set():
                self.pace()
                self.one(self.rng.choices(ops, weights)[0], self.rng.choice(self.keys))
        except Exception as e:  # a bug in this driver: the soak must not pass silently
            self.stats.error(0, "server_error", {"thread": self.tid, "class": "driver",
                                                 "msg": "driver exception %r" % e})
            raise
        finally:
            for c in self.clients:
                c.close()


class QuorumConnection(redis.Connection):
    """Reads at QUORUM on every (re)connection: the final check's reads."""

    def on_connect(self):
        super().on_connect()
        self.send_command("CONSISTENCY", "READ", "QUORUM")
        if self.read_response() not in (b"OK", "OK"):
            raise redis.ConnectionError("CONSISTENCY READ QUORUM refused")


# ---------------------------------------------------------------- sampler


def fd_kinds(pid, datadir):
    """Counts of a process's fds: sockets, files in its RocksDB directory
    (and how many of those are a second fd to the same file), deleted files,
    anything else (pipes, eventfd, directories, /dev/null, log files), and
    the number of files in the RocksDB directory."""
    out = {"fds": 0, "fds_socket": 0, "fds_data": 0, "fds_data_dup": 0, "fds_deleted": 0,
           "fds_other": 0, "files_in_dir": 0}
    base = "/proc/%d/fd" % pid
    prefix = os.path.join(datadir, "rocksdb") + "/"
    seen = set()
    for fd in os.listdir(base):
        try:
            t = os.readlink(os.path.join(base, fd))
        except OSError:
            continue
        out["fds"] += 1
        if t.startswith("socket:"):
            out["fds_socket"] += 1
        elif t.endswith(" (deleted)"):
            out["fds_deleted"] += 1
        elif t.startswith(prefix):
            out["fds_data"] += 1
            if t in seen:
                out["fds_data_dup"] += 1
            seen.add(t)
        else:
            out["fds_other"] += 1
    try:
        out["files_in_dir"] = sum(1 for e in os.scandir(prefix) if e.is_file())
    except OSError:
        pass
    return out


def status_kb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def du_kb(path):
    n = 0
    for root, _, files in os.walk(path):
        for fn in files:
            try:
                n += os.lstat(os.path.join(root, fn)).st_blocks * 512
            except OSError:
                pass
    return n // 1024


FIELDS = ["t_s", "loadavg", "node", "pid", "up_s", "rss_kb", "hwm_kb", "used_memory_kb", "memtable_kb",
          "block_cache_kb", "fds", "fds_socket", "fds_data", "fds_data_dup", "fds_deleted",
          "fds_other", "files_in_dir", "clients", "disk_kb", "hints_pending", "bus_timeouts",
          "bus_requests_late", "bus_link_failures", "noquorum_errors", "read_retries", "late_acks",
          "ops", "errors", "restart_errors"]


class Sampler(threading.Thread):
    def __init__(self, cluster, stats, t_origin, path):
        super().__init__(name="soak-sampler", daemon=True)
        self.cluster, self.stats, self.t_origin = cluster, stats, t_origin
        self.stop_ev = threading.Event()
        self.rows = []
        self.info_failures = 0
        self.f = open(path, "w")
        self.f.write(",".join(FIELDS) + "\n")
        self.started = {}  # pid -> time it was first seen
        self.lock = threading.Lock()

    def sample_node(self, i):
        nd = self.cluster.nodes[i]
        t = time.time()
        row = {k: "" for k in FIELDS}
        row["t_s"] = round(t - self.t_origin, 1)
        row["node"] = i
        with open("/proc/loadavg") as f:
            row["loadavg"] = f.read().split()[0]
        with self.stats.lock:
            row["ops"] = self.stats.ops[i]
            row["errors"] = sum(v[i] for c, v in self.stats.errors.items() if c not in EXPECTED)
            row["restart_errors"] = self.stats.errors["restart_conn"][i]
        proc = nd.proc
        if proc is None or proc.poll() is not None:
            return row
        pid = proc.pid
        try:
            st = status_kb(pid)
            fds = fd_kinds(pid, nd.dir)
        except OSError:  # exited meanwhile
            return row
        self.started.setdefault(pid, t)
        row.update(pid=pid, up_s=round(t - self.started[pid], 1), rss_kb=st.get("VmRSS", ""),
                   hwm_kb=st.get("VmHWM", ""), disk_kb=du_kb(nd.dir), **fds)
        try:
            c = redis.Redis(host=nd.host, port=nd.port, socket_timeout=5, socket_connect_timeout=2)
            try:
                info = c.info()
            finally:
                c.close()
            row.update(used_memory_kb=info.get("used_memory", 0) // 1024,
                       memtable_kb=info.get("memtable_bytes", 0) // 1024,
                       block_cache_kb=info.get("block_cache_usage", 0) // 1024,
                       clients=info.get("connected_clients", ""),
                       hints_pending=info.get("hints_pending", ""),
                       **{k: info.get(k, "") for k in ("bus_timeouts", "bus_requests_late",
                                                       "bus_link_failures", "noquorum_errors",
                                                       "read_retries", "late_acks")})
        except (redis.RedisError, OSError):
            self.info_failures += 1
        return row

    def sample(self):
        rows = [self.sample_node(i) for i in range(NODES)]
        with self.lock:
            self.rows.extend(rows)
            for r in rows:
                self.f.write(",".join(str(r[k]) for k in FIELDS) + "\n")
            self.f.flush()
        return rows

    def run(self):
        nxt = time.time()
        while not self.stop_ev.is_set():
            self.sample()
            nxt += SAMPLE
            self.stop_ev.wait(max(0.0, nxt - time.time()))

    def finish(self):
        self.stop_ev.set()
        self.join()
        self.f.close()


# ----------------------------------------------------------------- phases


def restart_node(c, i, sig, restarts, k):
    nd = c.nodes[i]
    w = restarts.begin(i, time.time())
    t_stop = w[1]
    rc = nd.stop(sig, timeout=30)
    t_down = time.time()
    time.sleep(DOWN)
    nd.spawn(timeout=120)
    w[2] = time.time()
    ok = True
    try:
        c.wait_all_up(timeout=90)
    except AssertionError as e:
        ok = False
        log("restart %d: %s" % (k, e))
    w[3] = time.time()
    rec = {"k": k, "node": i, "signal": signal.Signals(sig).name, "exit": rc,
           "t_stop": t_stop, "stop_s": round(t_down - t_stop, 2), "serving_s": round(w[2] - t_down - DOWN, 2),
           "allup_s": round(w[3] - w[2], 2), "all_up": ok, "pid": nd.pid}
    restarts.records.append(rec)
    return rec


def phase_sample(c, k, restarted, t_origin):
    out = []
    for i, nd in enumerate(c.nodes[:NODES]):
        if not nd.alive():
            continue
        try:
            st = status_kb(nd.pid)
            fds = fd_kinds(nd.pid, nd.dir)
        except OSError:
            continue
        out.append(dict(k=k, restarted=restarted, node=i, t_s=round(time.time() - t_origin, 1),
                        rss_kb=st.get("VmRSS", 0), **fds))
    return out


def bus_state(c):
    """Each node's bus figures (INFO ring), for a finding's context."""
    out = []
    for i, nd in enumerate(c.nodes[:NODES]):
        try:
            cl = redis.Redis(host=nd.host, port=nd.port, socket_timeout=5, socket_connect_timeout=2)
            try:
                inf = cl.info("ring")
            finally:
                cl.close()
            out.append("node %d: %s" % (i, " ".join("%s=%s" % (k, v) for k, v in inf.items()
                                                  if k.startswith(("bus_", "coord_", "sloppy")))))
        except (redis.RedisError, OSError) as e:
            out.append("node %d: %r" % (i, e))
    return "; ".join(out)


def final_check(c, workers, t_origin):
    """Every key of every thread, from every node, at QUORUM, in pipelines of
    SOAK_CHECK_PIPELINE GETs. A GET that fails is an error of the check (it
    fails the soak); its key is then read again alone, so that the data is
    still checked and the report says whether anything was lost."""
    res = {"keys": sum(len(w.keys) for w in workers), "reads": 0, "present": 0, "absent": 0,
           "unsure_keys": sum(1 for w in workers for ks in w.state.values() if ks.unknown),
           "mismatches": 0, "errors": 0, "reread_ok": 0, "reread_bad": 0, "details": [],
           "slow_batches": []}
    owner = {k: w for w in workers for k in w.keys}

    def judge(i, k, g, t0, t1):
        res["present" if g is not None else "absent"] += 1
        if not owner[k].state[k].read_ok(g, k, t0, t1):
            res["mismatches"] += 1
            if len(res["details"]) < 200:
                res["details"].append("node %d: GET %s -> %s; ledger %r (t=%.1f)" % (
                    i, k, "nil" if g is None else repr(parse_value(g)), owner[k].state[k],
                    t0 - t_origin))
            return False
        return True

    for i, nd in enumerate(c.nodes[:NODES]):
        pool = redis.ConnectionPool(connection_class=QuorumConnection, host=nd.host, port=nd.port,
                                    socket_timeout=30, socket_connect_timeout=5)
        cl = redis.Redis(connection_pool=pool)
        failed = []
        try:
            keys = [k for w in workers for k in w.keys]
            for j in range(0, len(keys), CHECK_PIPELINE):
                batch = keys[j:j + CHECK_PIPELINE]
                t0 = time.time()
                try:
                    p = cl.pipeline(transaction=False)
                    for k in batch:
                        p.get(k)
                    got = p.execute(raise_on_error=False)
                except (redis.RedisError, OSError) as e:
                    got = [e] * len(batch)
                t1 = time.time()
                bad = sum(1 for g in got if isinstance(g, Exception))
                if bad or t1 - t0 > 2.0:
                    res["slow_batches"].append("node %d, %d keys from %s: %.2fs, %d errors (%s); %s" % (
                        i, len(batch), batch[0], t1 - t0, bad,
                        next((repr(g) for g in got if isinstance(g, Exception)), "-"), bus_state(c)))
                for k, g in zip(batch, got):
                    res["reads"] += 1
                    if isinstance(g, Exception):
                        res["errors"] += 1
                        failed.append(k)
                        if len(res["details"]) < 200:
                            res["details"].append("node %d: GET %s: %r" % (i, k, g))
                    else:
                        judge(i, k, g, t0, t1)
            for k in failed:  # read alone again: is the data there?
                t0 = time.time()
                try:
                    g = cl.get(k)
                except (redis.RedisError, OSError) as e:
                    res["reread_bad"] += 1
                    res["details"].append("node %d: GET %s again: %r" % (i, k, e))
                    continue
                if judge(i, k, g, t0, time.time()):
                    res["reread_ok"] += 1
                else:
                    res["reread_bad"] += 1
        finally:
            pool.disconnect()
    return res


# ---------------------------------------------------------------- verdict


def analyse(rows, phases, budgets, t_load, t_end_load, t_origin):
    """The figures and the list of failed checks."""
    fails, figs = [], {"nodes": {}}
    warm_end = t_load - t_origin + WARMUP * 60
    load_end = t_end_load - t_origin
    judged = (load_end - warm_end) >= 600
    figs["flat_judged"] = judged
    for i in range(NODES):
        pts = [(r["t_s"], r["rss_kb"] / 1024) for r in rows if r["node"] == i and r["rss_kb"] != ""]
        if not pts:
            fails.append("node %d: no RSS samples" % i)
            continue
        peak = max(y for _, y in pts)
        n = {"rss_start_mb": round(pts[0][1], 1),
             "rss_after_warmup_mb": round(next((y for t, y in pts if t >= warm_end), pts[-1][1]), 1),
             "rss_peak_mb": round(peak, 1), "rss_end_mb": round(pts[-1][1], 1),
             "budget_mb": round(budgets[i] / (1 << 20), 1)}
        if peak * (1 << 20) > budgets[i]:
            over = [(t, y) for t, y in pts if y * (1 << 20) > budgets[i]]
            fails.append("node %d: RSS %.1f MB above its budget %.1f MB (%d samples over, first at %.0f s)" %
                         (i, peak, budgets[i] / (1 << 20), len(over), over[0][0]))
        if i not in RESTART_NODES:
            f = flatness(pts, warm_end, load_end)
            if f:
                n["flat"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in f.items()}
                n["flat"]["slope_mb_per_min"] = round(f["slope"] * 60, 3)
                if judged:
                    if not growth_ok(f["max_mid"], f["max_last"], 0.05, 8.0):
                        fails.append("node %d: RSS not flat: max %.1f MB in the last third vs %.1f MB "
                                     "in the middle third" % (i, f["max_last"], f["max_mid"]))
                    if f["slope"] * 60 > MAX_SLOPE:
                        fails.append("node %d: RSS grows %.2f MB/min over the second half (limit %.2f)" %
                                     (i, f["slope"] * 60, MAX_SLOPE))
        figs["nodes"][i] = n

    # phase samples: group by (node, which node was restarted before)
    groups = {}
    for p in phases:
        groups.setdefault((p["node"], p["restarted"]), []).append(p)
    figs["phases"] = {}
    for (i, rn), ps in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        label = "node %d after %s" % (i, "load start" if rn is None else "restarts of node %d" % rn)
        figs["phases"][label] = [(p["k"], p["rss_kb"] // 1024, p["fds"], p["fds_socket"],
                                  p["fds_other"], p["fds_data"], p["files_in_dir"],
                                  p["fds_deleted"]) for p in ps]
        first, last = ps[0], ps[-1]
        for kind in ("fds_socket", "fds_other"):
            if last[kind] > first[kind] + 4:
                fails.append("%s: %s %d -> %d" % (label, kind, first[kind], last[kind]))
        if i == rn and len(ps) >= 2 and judged and not growth_ok(first["rss_kb"], last["rss_kb"], 0.05, 8192):
            fails.append("%s: RSS at the same phase %d -> %d MB" % (label, first["rss_kb"] // 1024,
                                                                   last["rss_kb"] // 1024))
    for p in phases:
        if p["fds_deleted"] or p["fds_data_dup"] or p["fds_data"] > p["files_in_dir"]:
            fails.append("node %d at phase %d: %d fds of deleted files, %d second fds to a data file, "
                         "%d data fds for %d files" % (p["node"], p["k"], p["fds_deleted"],
                                                       p["fds_data_dup"], p["fds_data"], p["files_in_dir"]))
    return figs, fails


def log_summary(text):
    """Counts of log lines by level, and the distinct warnings (numbers
    masked) with their counts."""
    levels = {".": 0, "-": 0, "*": 0, "#": 0}
    warn = {}
    for line in text.splitlines():
        m = re.match(r"\d+:\w \d+ \w+ \d+ [\d:.]+ ([.\-*#]) (.*)", line)
        if not m:
            continue
        levels[m.group(1)] += 1
        if m.group(1) == "#":
            key = re.sub(r"\d+", "N", m.group(2))[:160]
            warn[key] = warn.get(key, 0) + 1
    return {"debug": levels["."], "verbose": levels["-"], "notice": levels["*"],
            "warning": levels["#"], "warnings": sorted(warn.items(), key=lambda kv: -kv[1])[:15]}


def draw(path, rows, budgets, restarts, t_origin):
    colors = [(31, 119, 180), (214, 39, 40), (44, 160, 44)]
    rss, fds = [], []
    for i in range(NODES):
        pts = [(r["t_s"] / 60, (r["rss_kb"] / 1024) if r["rss_kb"] != "" else None)
               for r in rows if r["node"] == i]
        rss.append(("node %d%s" % (i, "" if i in RESTART_NODES else " (never restarted)"),
                    colors[i % 3], pts))
        fds.append(("node %d" % i, colors[i % 3],
                    [(r["t_s"] / 60, r["fds"] if r["fds"] != "" else None)
                     for r in rows if r["node"] == i]))
    vl = [((r["t_stop"] - t_origin) / 60, (170, 170, 170)) for r in restarts]
    b = min(budgets) / (1 << 20)
    chart(path, [
        {"title": "RSS per node (MB)", "series": rss, "vlines": vl,
         "hlines": [(b, (200, 0, 0), "budget %.0f MB" % b)]},
        {"title": "open fds per node", "series": fds, "vlines": vl},
    ], xlabel="minutes since the cluster started (dotted: a restart)",
        title="ringkv soak: %g min, restarts every %g s" % (MINUTES, RESTART_EVERY))


def write_csv(path, rows, fields):
    with open(path, "w") as f:
        f.write(",".join(fields) + "\n")
        for r in rows:
            f.write(",".join(str(r.get(k, "")) for k in fields) + "\n")


# ------------------------------------------------------------------- main


def main():
    os.makedirs(OUT, exist_ok=True)
    for fn in ("samples.csv", "phases.csv", "restarts.csv", "soak.png", "summary.txt",
               "summary.json", "findings.txt"):
        if os.path.exists(os.path.join(OUT, fn)):
            os.remove(os.path.join(OUT, fn))
    shutil.rmtree(os.path.join(OUT, "logs"), ignore_errors=True)
    opts = dict(gossip_interval=1000, fail_timeout=5000, replica_timeout=1000,  # the defaults, not the tests' fast ones
                cache_size=CACHE, memtable_size=MEMTABLE)
    for k, v in zip(SERVER_OPTS[::2], SERVER_OPTS[1::2]):
        opts[k] = v
    log("settings: %g min, restart every %g s (nodes %s, down %g s), %d threads x %d keys, "
        "%g ops/s, cache-size %s, memtable-size %s, out %s" % (
            MINUTES, RESTART_EVERY, RESTART_NODES, DOWN, THREADS, KEYS, RATE, CACHE, MEMTABLE, OUT))
    c = ringtest.Cluster("soak")
    stats, restarts = Stats(), Restarts()
    stats.file = open(os.path.join(OUT, "findings.txt"), "w")
    stop = threading.Event()
    workers, sampler = [], None
    verdict = 1
    try:
        c.start(NODES, **opts)
        t_origin = time.time()
        time.sleep(2)
        idle = [status_kb(nd.pid)["VmRSS"] * 1024 for nd in c.nodes]
        cache_b, mem_b = size_bytes(CACHE), size_bytes(MEMTABLE)
        budgets = [x + cache_b + 3 * mem_b + OTHER_CF_MEMTABLES for x in idle]
        log("cluster up: %s; idle RSS %s MB; budget per node %s MB" % (
            ", ".join(nd.addr for nd in c.nodes), [round(x / (1 << 20), 1) for x in idle],
            [round(b / (1 << 20), 1) for b in budgets]))
        sampler = Sampler(c, stats, t_origin, os.path.join(OUT, "samples.csv"))
        sampler.start()
        t_load = time.time()
        t_end = t_load + MINUTES * 60
        workers = [Worker(t, c, stats, restarts, stop, t_origin) for t in range(THREADS)]
        for w in workers:
            w.start()
        phases = []
        k = 0
        next_restart = t_load + RESTART_EVERY
        next_phase = (t_load + PHASE, 0, None)
        last_report = t_load
        while time.time() < t_end:
            now = time.time()
            if next_phase and now >= next_phase[0]:
                phases.extend(phase_sample(c, next_phase[1], next_phase[2], t_origin))
                next_phase = None
            if now >= next_restart and RESTART_NODES:
                i = RESTART_NODES[k % len(RESTART_NODES)]
                sig = signal.SIGTERM if (k // len(RESTART_NODES)) % 2 == 0 else signal.SIGKILL
                k += 1
                rec = restart_node(c, i, sig, restarts, k)
                log("restart %d: node %d by %s (exit %s): stopped in %.1fs, serving %.1fs after "
                    "start, all up %.1fs later" % (k, i, rec["signal"], rec["exit"], rec["stop_s"],
                                                   rec["serving_s"], rec["allup_s"]))
                if sig == signal.SIGTERM and rec["exit"] != 0:
                    stats.error(i, "server_error", {"class": "server_error", "node": i,
                                                    "msg": "exit status %s after SIGTERM" % rec["exit"]})
                next_phase = (time.time() + PHASE, k, i)
                next_restart = max(next_restart + RESTART_EVERY, time.time() + PHASE + 5)
            if now - last_report >= 60:
                last_report = now
                with stats.lock:
                    ops = sum(stats.ops)
                log("%.1f min: %d ops (%.0f/s), %d unexpected errors, %d restart connection errors, "
                    "preloaded %d/%d keys" % ((now - t_load) / 60, ops, ops / (now - t_load),
                                              stats.unexpected(), sum(stats.errors["restart_conn"]),
                                              sum(w.preloaded for w in workers), THREADS * KEYS))
            time.sleep(0.2)
        stop.set()
        for w in workers:
            w.join(timeout=TIMEOUT + 30)
        t_end_load = time.time()
        for i, nd in enumerate(c.nodes):
            if not nd.alive():
                nd.spawn(timeout=120)
        c.wait_all_up(timeout=90)
        log("load stopped after %.1f min; final check from every node at QUORUM" %
            ((t_end_load - t_load) / 60))
        t_check = time.time()
        check = final_check(c, workers, t_origin)
        check["seconds"] = round(time.time() - t_check, 1)
        sampler.sample()
        sampler.finish()
        rows = sampler.rows
        hints = []
        for i in range(NODES):
            try:
                hints.append(c.client(i).info("hints").get("hints_pending"))
            except (redis.RedisError, OSError) as e:
                hints.append(repr(e))
        # stop the nodes, keep their logs
        exits = []
        logs = {}
        os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
        for i, nd in enumerate(c.nodes):
            exits.append(nd.stop(signal.SIGTERM, timeout=30))
            text = nd.log_text()
            logs[i] = log_summary(text)
            with open(os.path.join(OUT, "logs", "node%d.log" % i), "w") as f:
                f.write(text)

        figs, fails = analyse(rows, phases, budgets, t_load, t_end_load, t_origin)
        with stats.lock:
            errors = {cl: {"total": sum(v), "per_node": list(v)} for cl, v in stats.errors.items()}
            ops_total = sum(stats.ops)
            by_op = dict(stats.by_op)
        for cl, e in errors.items():
            if cl not in EXPECTED and e["total"]:
                fails.append("%d %s errors (per node %s)" % (e["total"], cl, e["per_node"]))
        if check["mismatches"] or check["errors"]:
            fails.append("final check: %d mismatches, %d errors" % (check["mismatches"], check["errors"]))
        for i, rc in enumerate(exits):
            if rc != 0:
                fails.append("node %d exited with %s on the final SIGTERM" % (i, rc))
        summary = {
            "settings": {"minutes": MINUTES, "restart_every_s": RESTART_EVERY, "down_s": DOWN,
                         "restart_nodes": RESTART_NODES, "threads": THREADS, "keys_per_thread": KEYS,
                         "rate": RATE, "cache_size": CACHE, "memtable_size": MEMTABLE,
                         "warmup_min": WARMUP, "phase_s": PHASE, "server_opts": opts},
            "load_minutes": round((t_end_load - t_load) / 60, 2),
            "ops": ops_total, "ops_per_s": round(ops_total / (t_end_load - t_load), 1),
            "ops_by_kind": by_op, "ops_per_node": list(stats.ops),
            "errors": errors, "noquorum_during_restart": stats.noquorum_in_restart,
            "restarts": restarts.records, "budget_bytes": budgets, "idle_rss_bytes": idle,
            "figures": figs, "final_check": {k: v for k, v in check.items() if k not in ("details", "slow_batches")},
            "hints_pending_at_end": hints, "final_exit_status": exits, "logs": logs,
            "sampler_info_failures": sampler.info_failures, "failures": fails,
            "loadavg": loadavg_figures(rows),
            "verdict": "PASS" if not fails else "FAIL",
        }
        with open(os.path.join(OUT, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
        write_csv(os.path.join(OUT, "phases.csv"), phases,
                  ["k", "restarted", "node", "t_s", "rss_kb", "fds", "fds_socket", "fds_data",
                   "fds_data_dup", "fds_deleted", "fds_other", "files_in_dir"])
        write_csv(os.path.join(OUT, "restarts.csv"),
                  [dict(r, t_stop=round(r["t_stop"] - t_origin, 1)) for r in restarts.records],
                  ["k", "node", "signal", "exit", "t_stop", "stop_s", "serving_s", "allup_s", "all_up", "pid"])
        with open(os.path.join(OUT, "findings.txt"), "a") as f:
            if stats.dropped_details:
                f.write("... %d more not kept\n" % stats.dropped_details)
            for d in check["details"]:
                f.write("final check: %s\n" % d)
            for d in check["slow_batches"]:
                f.write("final check, slow or failed batch: %s\n" % d)
        draw(os.path.join(OUT, "soak.png"), rows, budgets, restarts.records, t_origin)
        text = report(summary)
        with open(os.path.join(OUT, "summary.txt"), "w") as f:
            f.write(text)
        print(text, flush=True)
        verdict = 0 if not fails else 1
    finally:
        stop.set()
        if sampler is not None and sampler.is_alive():
            sampler.finish()
        if os.environ.get("RINGKV_KEEP"):
            log("keeping the cluster's data in %s" % c.dir)
        c.close()
    return verdict


def loadavg_figures(rows):
    """The machine's 1-minute load average over the run (the soak shares it)."""
    la = [float(r["loadavg"]) for r in rows if r.get("loadavg") not in (None, "")]
    if not la:
        return {}
    return {"min": min(la), "mean": round(sum(la) / len(la), 2), "max": max(la), "cpus": os.cpu_count()}


def report(s):
    L = []
    L.append("ringkv soak: %s" % s["verdict"])
    st = s["settings"]
    L.append("  %.1f min of load, restart every %g s of nodes %s (down %g s), %d threads x %d keys, "
             "target %g ops/s, cache-size %s, memtable-size %s" % (
                 s["load_minutes"], st["restart_every_s"], st["restart_nodes"], st["down_s"],
                 st["threads"], st["keys_per_thread"], st["rate"], st["cache_size"], st["memtable_size"]))
    L.append("  ops: %d (%.0f/s): %s; per node %s" % (s["ops"], s["ops_per_s"], s["ops_by_kind"],
                                                     s["ops_per_node"]))
    if s["loadavg"]:
        L.append("  machine load average during the run: mean %.1f, max %.1f on %d CPUs" % (
            s["loadavg"]["mean"], s["loadavg"]["max"], s["loadavg"]["cpus"]))
    L.append("  errors by class: " + ", ".join("%s %d" % (k, v["total"]) for k, v in s["errors"].items()) +
             " (NOQUORUM while a restart was under way: %d)" % s["noquorum_during_restart"])
    L.append("  restarts: %d (%s)" % (len(s["restarts"]), ", ".join(
        "%d:%s/%s" % (r["node"], r["signal"][3:], r["exit"]) for r in s["restarts"])))
    L.append("  memory (MB)    idle  budget   start  after-warmup  peak    end")
    for i, n in sorted(s["figures"]["nodes"].items()):
        L.append("    node %d     %6.1f  %6.1f  %6.1f  %6.1f        %6.1f  %6.1f" % (
            i, s["idle_rss_bytes"][i] / (1 << 20), n["budget_mb"], n["rss_start_mb"],
            n["rss_after_warmup_mb"], n["rss_peak_mb"], n["rss_end_mb"]))
        if "flat" in n:
            f = n["flat"]
            L.append("      flatness (after warm-up%s): max middle third %.1f, max last third %.1f "
                     "(%+.1f MB, %+.1f%%), slope over the second half %+.3f MB/min" % (
                         "" if s["figures"]["flat_judged"] else "; too short to judge",
                         f["max_mid"], f["max_last"], f["growth"], 100 * f["growth_rel"],
                         f["slope_mb_per_min"]))
    L.append("  phase samples (k, RSS MB, fds: all, sockets, other, data files open, files in the "
             "RocksDB dir, deleted):")
    for label, ps in s["figures"]["phases"].items():
        L.append("    %s: %s" % (label, " ".join("(%s)" % ",".join(str(x) for x in p) for p in ps)))
    fc = s["final_check"]
    L.append("  final check: %d keys x %d nodes = %d reads at QUORUM in %.1fs: %d present, %d absent, "
             "%d mismatches, %d errors (read again alone: %d right, %d not); %d keys had a write of "
             "unknown outcome" % (
                 fc["keys"], NODES, fc["reads"], fc["seconds"], fc["present"], fc["absent"],
                 fc["mismatches"], fc["errors"], fc["reread_ok"], fc["reread_bad"], fc["unsure_keys"]))
    L.append("  hints pending at the end: %s; exit status on SIGTERM: %s" % (
        s["hints_pending_at_end"], s["final_exit_status"]))
    for i, lg in s["logs"].items():
        L.append("  node %d log: %d notices, %d warnings%s" % (
            i, lg["notice"], lg["warning"], "".join("\n      %dx %s" % (n, w) for w, n in lg["warnings"][:8])))
    for f in s["failures"]:
        L.append("  FAIL: %s" % f)
    L.append("  outputs: %s/{samples.csv,soak.png,summary.txt,summary.json,phases.csv,restarts.csv,"
             "findings.txt,logs/}" % OUT)
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
