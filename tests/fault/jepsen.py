"""jepsen.py -- randomized fault injection with a history checker.

A 5-node cluster (N=3, R=2, W=2) on 127.0.0.11..15 runs these workloads
through random nodes while faults come and go:
  unique    writers of unique keys (SET u<t>-<seq>); every +OK is recorded
            with its time; an error or a timeout is "not acknowledged"
  register  one writer per key writes increasing integers (sequentially),
            recording each acknowledged value and time
  reads     GETs (the server's R) of recently acknowledged unique keys and of
            registers, recording start time and result (strict mode reads
            with read-fanout needed: only R replicas asked at first)
  sets      Jepsen's Riak set test: writers add unique elements to a few
            shared keys: VGET, union of all siblings + the new element,
            VSET with the context; every acknowledged element is recorded
  csets     SADD of unique elements to a few shared set keys through random
            nodes, and SREM of some of them later; every acknowledged add and
            remove is recorded, and every remove whose outcome is unknown
  counters  INCRBY of a few shared keys through random nodes; the acknowledged
            increments are summed, and those whose outcome is unknown
Faults (one at a time, random victims): kill -9 and restart; SIGSTOP longer
than fail-timeout then SIGCONT; iptables cuts (one node isolated, halves
split, one-way cuts); a node wiped (data directory removed, same --node-id),
restarted and repaired (RING REPAIR on it, the operator's procedure); and
"membership": a new node joins (a kill -9 and restart of another node while
it pulls), a node leaves (RING LEAVE, a pair of the others cut meanwhile), a
node is killed and forgotten (RING FORGET), and a fresh node joins again, so
that the workload runs through every kind of ring change, where R + W > N
must hold as everywhere else.

After healing (cuts removed, SIGCONT, every node running), waiting for the
hints to drain and RING REPAIR on every node, the checker asserts:
  (c) the owners (RING OWNERS) of sampled keys hold identical versions
      (RING LOCAL, compared before any READ ALL could read-repair them);
  (a) every acknowledged unique write reads back with CONSISTENCY READ ALL,
      and every register reads back at least its last acknowledged value;
  (d) the union of the siblings of each set key (READ ALL) contains every
      acknowledged element;
  (e) each csets key (SMEMBERS, READ ALL) holds every acknowledged SADD's
      element that no SREM (acknowledged or not) removed;
  (f) each counter (GET, READ ALL) is at least the sum of its acknowledged
      increments and at most that plus the increments of unknown outcome;
  (b) strict mode only: no successful quorum read missed an acknowledged
      write: a read started after a write's ack that returned an older value
      (or nil) is a stale read. Registers are read with VGET: some sibling
      must be >= the last acknowledged value, unless a sibling comes from an
      unacknowledged write (indeterminate: it may have been applied after
      that ack and superseded it); the first sibling (what GET returns) older
      than that value is a stale read too when the newer write was sent more
      than 5 ms after the older one's ack (within 5 ms: an LWW tie, counted).
      Reads that overlapped a wiped node's down-and-repair window are counted
      apart (a wiped disk is a lost replica: R+W>N no longer promises
      anything until it is repaired).
Exit status 1 on any loss, stale read, divergence or unreadable key.

Usage: /usr/bin/python3 tests/fault/jepsen.py [--mode strict|sloppy|both]
       [--cycles N] [--hold S] [--seed N] [--long] [--faults kind,kind]
"""
import argparse
import os
import random
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import Net, iptables_rules, log, new_cluster  # noqa: E402
from testprocs import wait_until  # noqa: E402

OP_TIMEOUT = 3.0   # client socket timeout for workload operations
NODES = 5
ALL_SINGLE = ["kill9", "pause", "isolate", "split", "oneway", "wipe"]
# the short run (make test): four faults per mode, all six kinds between the two
SHORT_FAULTS = {"strict": ["kill9", "split", "pause", "wipe", "membership"],
                "sloppy": ["isolate", "oneway", "kill9", "wipe"]}
LONG_FAULTS = ALL_SINGLE + ["pause+isolate", "kill9+oneway", "split-minority-writes",
                            "membership"]


def now():
    return time.monotonic()


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.unique = {}        # key -> (value, t_ack)
        self.unique_keys = []   # acked keys in ack order
        self.unique_tried = []  # every unique key attempted
        self.unacked = 0
        self.reg = {}           # key -> [(int value, t_ack, via)] acknowledged
        self.reg_invoked = {}   # key -> {value: t_invoke} every attempt
        self.reg_unacked = 0
        self.reads = []         # (kind, key, t_start, result, via node)
        self.read_errors = 0
        self.sets = {}          # key -> set(elements acked)
        self.set_unacked = 0
        self.cset_added = {}    # key -> set(elements whose SADD was acknowledged)
        self.cset_removed = {}  # key -> set(elements an SREM was sent for, acked or not)
        self.cset_removed1 = {} # key -> set(elements an acknowledged SREM removed: it replied 1)
        self.cset_srem0 = 0     # acknowledged SREMs that replied 0 (did not see the element)
        self.cset_unacked = 0
        self.ctr_acked = {}     # key -> sum of acknowledged INCRBYs
        self.ctr_unknown = {}   # key -> sum of INCRBYs of unknown outcome
        self.ctr_ops = 0
        self.wipe_windows = []  # [t0, t1]
        self.t0 = now()
        self.events = []        # (t, fault description), for reports

    def event(self, desc):
        with self.lock:
            self.events.append((now(), desc))

    def when(self, t):
        """t relative to the start, and the last fault event before it."""
        last = [d for te, d in self.events if te <= t]
        return "t=%.2fs (last event: %s)" % (t - self.t0, last[-1] if last else "none")

    def in_wipe_window(self, t):
        return any(a <= t <= (b if b is not None else float("inf"))
                   for a, b in self.wipe_windows)


class Workload:
    def __init__(self, cluster, hist, seed):
        self.c = cluster
        self.h = hist
        self.stop = threading.Event()
        self.threads = []
        self.seed = seed
        self.reg_keys = ["reg%d" % i for i in range(4)]
        self.set_keys = ["set%d" % i for i in range(3)]
        self.cset_keys = ["cset%d" % i for i in range(3)]
        self.ctr_keys = ["ctr%d" % i for i in range(2)]

    def _clients(self, decode=True):
        """A thread's connections: node index -> client, made on first use
        (nodes join during a run)."""
        return {"decode": decode}

    def _connect(self, nd, decode):
        """A client of node nd (subclasses add what each connection needs)."""
        return redis.Redis(host=nd.host, port=nd.port, decode_responses=decode,
                           socket_timeout=OP_TIMEOUT, socket_connect_timeout=1.0)

    def _pick(self, cl, rnd):
        """A random member of the cluster (not one that left or is leaving)
        and the thread's client for it: (index, client)."""
        m = self.c.members()
        i = m[rnd.randrange(len(m))]
        if i not in cl:
            cl[i] = self._connect(self.c.nodes[i], cl["decode"])
        return i, cl[i]

    def _run(self, name, fn, *args):
        def body():
            try:
                fn(*args)
            except Exception as e:  # a workload bug must not pass silently
                self.errors.append("%s: %r" % (name, e))
                raise
        t = threading.Thread(target=body, name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def start(self):
        self.errors = []
        for t in range(2):
            self._run("unique%d" % t, self.unique_writer, t)
        for t in range(2):
            self._run("reg%d" % t, self.register_writer, t, self.reg_keys[t::2])
        for t in range(2):
            self._run("reader%d" % t, self.reader, t)
        for t in range(3):
            self._run("set%d" % t, self.set_writer, t)
        for t in range(2):
            self._run("cset%d" % t, self.cset_writer, t)
        for t in range(2):
            self._run("ctr%d" % t, self.counter_writer, t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
            if t.is_alive():
                raise RuntimeError("workload thread %s did not stop" % t.name)
        if self.errors:
            raise RuntimeError("workload threads failed: %s" % self.errors)

    @staticmethod
    def _close(cl):
        for k, x in cl.items():
            if k == "decode":
                continue
            try:
                x.close()
            except Exception:
                pass

    def unique_writer(self, tid):
        rnd = random.Random(self.seed * 100 + tid)
        cl = self._clients()
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                key, val = "u%d-%d" % (tid, seq), "v%d-%d" % (tid, seq)
                with self.h.lock:
                    self.h.unique_tried.append(key)
                try:
                    ok = self._pick(cl, rnd)[1].set(key, val)
                except (redis.RedisError, OSError):
                    ok = False
                t = now()
                with self.h.lock:
                    if ok is True:
                        self.h.unique[key] = (val, t)
                        self.h.unique_keys.append(key)
                    else:
                        self.h.unacked += 1
                if ok is not True:
                    time.sleep(0.01)
        finally:
            self._close(cl)

    def register_writer(self, tid, keys):
        rnd = random.Random(self.seed * 100 + 10 + tid)
        cl = self._clients()
        n = {k: 0 for k in keys}
        try:
            while not self.stop.is_set():
                key = keys[rnd.randrange(len(keys))]
                n[key] += 1
                via, c = self._pick(cl, rnd)
                with self.h.lock:
                    self.h.reg_invoked.setdefault(key, {})[n[key]] = now()
                try:
                    ok = c.set(key, str(n[key]))
                except (redis.RedisError, OSError):
                    ok = False
                t = now()
                with self.h.lock:
                    if ok is True:
                        self.h.reg.setdefault(key, []).append((n[key], t, via))
                    else:
                        self.h.reg_unacked += 1
                if ok is not True:
                    time.sleep(0.01)
        finally:
            self._close(cl)

    def reader(self, tid):
        rnd = random.Random(self.seed * 100 + 20 + tid)
        cl = self._clients()
        try:
            while not self.stop.is_set():
                with self.h.lock:
                    keys = self.h.unique_keys
                    if rnd.random() < 0.3 or not keys:
                        kind, key = "reg", self.reg_keys[rnd.randrange(len(self.reg_keys))]
                    else:
                        kind = "unique"
                        lo = max(0, len(keys) - 300) if rnd.random() < 0.8 else 0
                        key = keys[rnd.randrange(lo, len(keys))]
                t0 = now()
                via, c = self._pick(cl, rnd)
                try:
                    if kind == "reg":
                        # every sibling, newest (by HLC) first: the first is
                        # what a plain GET returns
                        v = [None if x is None else int(x)
                             for x in c.execute_command("VGET", key)[1:]]
                    else:
                        v = c.get(key)
                except (redis.RedisError, OSError):
                    with self.h.lock:
                        self.h.read_errors += 1
                    time.sleep(0.01)
                    continue
                with self.h.lock:
                    self.h.reads.append((kind, key, t0, v, via))
        finally:
            self._close(cl)

    def set_writer(self, tid):
        rnd = random.Random(self.seed * 100 + 30 + tid)
        cl = self._clients(decode=False)
        seq = 0
        try:
            while not self.stop.is_set():
                key = self.set_keys[rnd.randrange(len(self.set_keys))]
                seq += 1
                elem = "%d.%d" % (tid, seq)
                c = self._pick(cl, rnd)[1]
                ok = False
                try:
                    r = c.execute_command("VGET", key)
                    ctx, sibs = r[0], r[1:]
                    cur = set()
                    for s in sibs:
                        if s:
                            cur.update(s.decode().split())
                    cur.add(elem)
                    ok = c.execute_command("VSET", key, ctx, " ".join(sorted(cur)))
                    ok = ok in (True, b"OK", "OK")
                except (redis.RedisError, OSError):
                    ok = False
                with self.h.lock:
                    if ok:
                        self.h.sets.setdefault(key, set()).add(elem)
                    else:
                        self.h.set_unacked += 1
                if not ok:
                    time.sleep(0.01)
        finally:
            self._close(cl)


    def cset_writer(self, tid):
        rnd = random.Random(self.seed * 100 + 40 + tid)
        cl = self._clients()
        seq = 0
        mine = []  # (key, elem) this thread added (acked) and has not removed
        try:
            while not self.stop.is_set():
                c = self._pick(cl, rnd)[1]
                if mine and rnd.random() < 0.25:
                    key, elem = mine.pop(rnd.randrange(len(mine)))
                    with self.h.lock:  # before sending: an unknown outcome may remove it
                        self.h.cset_removed.setdefault(key, set()).add(elem)
                    try:
                        n = c.srem(key, elem)
                    except (redis.RedisError, OSError):
                        with self.h.lock:
                            self.h.cset_unacked += 1
                        time.sleep(0.01)
                        continue
                    with self.h.lock:
                        if n == 1:
                            self.h.cset_removed1.setdefault(key, set()).add(elem)
                        else:
                            self.h.cset_srem0 += 1
                    continue
                key = self.cset_keys[rnd.randrange(len(self.cset_keys))]
                seq += 1
                elem = "%d.%d" % (tid, seq)
                try:
                    ok = c.sadd(key, elem) == 1
                except (redis.RedisError, OSError):
                    ok = False
                with self.h.lock:
                    if ok:
                        self.h.cset_added.setdefault(key, set()).add(elem)
                        mine.append((key, elem))
                    else:
                        self.h.cset_unacked += 1
                if not ok:
                    time.sleep(0.01)
        finally:
            self._close(cl)

    def counter_writer(self, tid):
        rnd = random.Random(self.seed * 100 + 50 + tid)
        cl = self._clients()
        try:
            while not self.stop.is_set():
                key = self.ctr_keys[rnd.randrange(len(self.ctr_keys))]
                by = 1 + rnd.randrange(5)
                c = self._pick(cl, rnd)[1]
                try:
                    c.incrby(key, by)
                    ok = True
                except (redis.RedisError, OSError):
                    ok = False
                with self.h.lock:
                    self.h.ctr_ops += 1
                    d = self.h.ctr_acked if ok else self.h.ctr_unknown
                    d[key] = d.get(key, 0) + by
                if not ok:
                    time.sleep(0.01)
        finally:
            self._close(cl)


# ------------------------------------------------------------------ faults

class Faults:
    def __init__(self, cluster, net, hist, rnd, hold):
        self.c = cluster
        self.net = net
        self.h = hist
        self.rnd = rnd
        self.hold = hold
        self.done = []

    def _victim(self):
        return self.rnd.choice(self.c.members())

    def settle(self):
        self.c.wait_all_up(ids=self.c.members(), timeout=40)

    def membership(self, say):
        return membership_phase(self, say)

    def run(self, kind):
        c, net, rnd, hold = self.c, self.net, self.rnd, self.hold

        def say(msg):  # the log, and the history's timeline
            self.h.event(msg)
            log(msg)

        mem = c.members()
        n = len(mem)
        desc = kind
        if kind == "kill9":
            v = self._victim()
            desc = "kill -9 node %d, restart after %.1fs" % (v, hold)
            say(desc)
            c.kill9(v)
            time.sleep(hold)
            c.nodes[v].spawn()
        elif kind == "pause":
            v = self._victim()
            desc = "SIGSTOP node %d for %.1fs" % (v, hold)
            say(desc)
            c.pause(v)
            time.sleep(hold)
            c.resume(v)
        elif kind == "isolate":
            v = self._victim()
            desc = "isolate node %d for %.1fs" % (v, hold)
            say(desc)
            net.isolate(c, v)
            time.sleep(hold)
            net.heal()
        elif kind in ("split", "split-minority-writes"):
            order = list(mem)
            rnd.shuffle(order)
            a, b = sorted(order[:n // 2]), sorted(order[n // 2:])
            desc = "split %s | %s for %.1fs" % (a, b, hold)
            say(desc)
            net.split(c, a, b)
            time.sleep(hold if kind == "split" else 2 * hold)
            net.heal()
        elif kind == "oneway":
            pairs = set()
            while len(pairs) < 2:
                i, j = rnd.sample(mem, 2)
                pairs.add((i, j))
            desc = "one-way cuts %s for %.1fs" % (sorted(pairs), hold)
            say(desc)
            for i, j in pairs:
                net.cut_oneway(c, i, j)
            time.sleep(hold)
            net.heal()
        elif kind == "wipe":
            v = self._victim()
            desc = "wipe node %d (down %.1fs), restart, RING REPAIR on it" % (v, hold / 2)
            say(desc)
            with self.h.lock:
                self.h.wipe_windows.append([now(), None])
            c.wipe(v, start=False)
            time.sleep(hold / 2)
            c.nodes[v].spawn()
            self.settle()
            c.repair(v, timeout=120)
            with self.h.lock:
                self.h.wipe_windows[-1][1] = now()
        elif kind == "pause+isolate":
            v, w = rnd.sample(mem, 2)
            desc = "SIGSTOP node %d and isolate node %d for %.1fs" % (v, w, hold)
            say(desc)
            c.pause(v)
            net.isolate(c, w)
            time.sleep(hold)
            net.heal()
            c.resume(v)
        elif kind == "kill9+oneway":
            v, i, j = rnd.sample(mem, 3)
            desc = "kill -9 node %d and cut %d->%d for %.1fs" % (v, i, j, hold)
            say(desc)
            c.kill9(v)
            net.cut_oneway(c, i, j)
            time.sleep(hold)
            net.heal()
            c.nodes[v].spawn()
        elif kind == "membership":
            desc = self.membership(say)
        else:
            raise ValueError(kind)
        self.h.event("healed: " + desc)
        self.settle()
        self.h.event("settled: " + desc)
        self.done.append(desc)


def node_status(c, i, of):
    """[status] of node `of` in node i's RING NODES ([] if not listed)."""
    return [l.status for l in c.ring_nodes(i) if l.addr == c.nodes[of].addr]


def membership_phase(faults, say):
    """Join, leave, forget, join: the ring changes four times under the
    workload, with a kill -9 and a cut in between. Returns a description."""
    c, net, rnd, hold = faults.c, faults.net, faults.rnd, faults.hold
    steps = []

    def wait_status(of, want, timeout):
        wait_until(lambda: all(node_status(c, i, of) == [want] for i in c.live() if i != of),
                   timeout, "every member to list node %d %s" % (of, want), interval=0.2)

    def join(with_kill):
        j = c.add_node()
        say("node %d joins" % j)
        if with_kill:
            v = rnd.choice([i for i in c.members() if i != j])
            say("kill -9 node %d while node %d joins, restart after %.1fs" % (v, j, hold))
            c.kill9(v)
            time.sleep(hold)
            c.nodes[v].spawn()
        wait_status(j, "normal", 120)
        steps.append("join %d%s" % (j, " (kill -9 %d meanwhile)" % v if with_kill else ""))

    join(True)
    faults.settle()

    # leave, with a pair of the others cut meanwhile
    l = rnd.choice(c.members())
    c.gone.add(l)  # clients and checks stop using it from now on
    say("RING LEAVE on node %d" % l)
    reply = c.cmd(l, "RING", "LEAVE")
    others = [i for i in c.members()]
    a, b = rnd.sample(others, 2)
    say("cut %d<->%d for %.1fs while node %d leaves: %s" % (a, b, hold, l, reply))
    net.cut_pair(c, a, b)
    time.sleep(hold)
    net.heal()
    rc = c.wait_exit(l, 120)
    if rc != 0:
        raise AssertionError("node %d left with exit status %s" % (l, rc))
    steps.append("leave %d (cut %d<->%d meanwhile)" % (l, a, b))
    faults.settle()

    # forget a node killed for good
    f = rnd.choice(c.members())
    say("kill -9 node %d for good, RING FORGET it" % f)
    c.kill9(f)
    c.gone.add(f)
    c.wait_seen_down(f, by=c.members(), timeout=30)
    by = rnd.choice(c.members())
    c.cmd(by, "RING", "FORGET", c.nodes[f].id)
    wait_status(f, "left", 120)
    steps.append("forget %d (via %d)" % (f, by))
    faults.settle()

    join(False)
    return "membership: " + ", ".join(steps)


def heal_all(c, net):
    net.heal()
    for i in c.members():
        if c.nodes[i].paused:
            c.resume(i)
    for i in c.members():
        if not c.nodes[i].alive():
            c.nodes[i].spawn()
    c.wait_all_up(ids=c.members(), timeout=60)


# ----------------------------------------------------------------- checker

def sum_info(c, section, field):
    tot = 0
    for i in c.members():
        try:
            tot += int(float(c.info(i, section).get(field, "0")))
        except (redis.RedisError, OSError, ValueError):
            pass
    return tot


def check(c, hist, mode, rnd, sample=2000):
    """Runs the checks on a healed, repaired cluster. Returns (counts, problems)."""
    counts = {}
    problems = []
    mem = c.members()

    # the same ring everywhere
    hashes = {c.ring_info(i).get("ring_hash") for i in mem}
    if len(hashes) != 1:
        problems.append("ring views differ: %s" % hashes)

    # (c) identical versions on the owners of sampled keys, before any READ ALL
    with hist.lock:
        tried = list(hist.unique_tried)
    keys = rnd.sample(tried, min(sample, len(tried))) + list(hist.reg.keys()) + \
        ["reg%d" % i for i in range(4) if "reg%d" % i not in hist.reg] + \
        ["set%d" % i for i in range(3)]
    keys = list(dict.fromkeys(keys))
    owners = {}
    for k0 in range(0, len(keys), 500):
        chunk = keys[k0:k0 + 500]
        res = c.with_level(mem[0], [["RING", "OWNERS", k] for k in chunk])
        for k, r in zip(chunk, res):
            owners[k] = [c.index_of(a) for a in r]
    local = {}  # (node, key) -> sorted versions
    for i in mem:
        mine = [k for k in keys if i in owners[k]]
        for k0 in range(0, len(mine), 500):
            chunk = mine[k0:k0 + 500]
            res = c.with_level(i, [["RING", "LOCAL", k] for k in chunk])
            for k, r in zip(chunk, res):
                if isinstance(r, Exception):
                    problems.append("RING LOCAL %s on node %d: %r" % (k, i, r))
                    continue
                local[(i, k)] = sorted((tuple(p) for p in r),
                                       key=lambda p: (p[0] is None, p[0] or "", p[1]))
    diverged = []
    for k in keys:
        vs = [local.get((i, k)) for i in owners[k]]
        if any(v != vs[0] for v in vs[1:]):
            diverged.append(k)
    counts["keys_compared"] = len(keys)
    counts["diverged"] = len(diverged)
    for k in diverged[:10]:
        problems.append("diverged replicas of %s: %s" % (
            k, "; ".join("node %d=%s" % (i, local.get((i, k))) for i in owners[k])))

    # (a) every acknowledged unique write, READ ALL
    with hist.lock:
        acked = dict(hist.unique)
    lost, unreadable = [], []
    items = list(acked.items())
    for k0 in range(0, len(items), 1000):
        chunk = items[k0:k0 + 1000]
        via = rnd.choice(mem)
        res = c.with_level(via, [["GET", k] for k, _ in chunk], read="ALL")
        for (k, (v, _)), r in zip(chunk, res):
            if isinstance(r, Exception):
                # retry once on another connection before calling it unreadable
                try:
                    r = c.with_level(mem[(mem.index(via) + 1) % len(mem)], [["GET", k]],
                                     read="ALL")[0]
                except (redis.RedisError, OSError) as e:
                    r = e
            if isinstance(r, Exception):
                unreadable.append((k, repr(r)))
            elif r != v:
                lost.append((k, v, r))
    counts["acked_writes"] = len(acked)
    counts["unacked_writes"] = hist.unacked
    counts["lost"] = len(lost)
    counts["unreadable"] = len(unreadable)
    for k, v, r in lost[:10]:
        problems.append("LOST acknowledged write %s=%s: READ ALL returns %r (owners %s)" %
                        (k, v, r, c.owners(k, via=mem[0])))
    for k, e in unreadable[:10]:
        problems.append("acknowledged key %s unreadable with READ ALL: %s" % (k, e))

    # registers: the last acknowledged value, or a later one, among the
    # siblings (READ ALL), unless an unacknowledged write (indeterminate: it
    # may have been applied after the last ack) superseded it
    reg_lost = 0
    hist_reg_acked = {k: {val for val, _, _ in v} for k, v in hist.reg.items()}
    for k, acks in sorted(hist.reg.items()):
        last = acks[-1][0]
        r = c.with_level(mem[0], [["VGET", k]], read="ALL")[0]
        vals = [] if isinstance(r, Exception) else [int(x) for x in r[1:] if x is not None]
        late = [x for x in vals if x not in hist_reg_acked.get(k, ())]
        if not vals or (max(vals) < last and not late):
            reg_lost += 1
            problems.append("register %s: last acknowledged %d, READ ALL VGET returns %r" %
                            (k, last, r))
    counts["register_acks"] = sum(len(a) for a in hist.reg.values())
    counts["register_lost"] = reg_lost

    # (d) sets: nothing acknowledged vanished
    set_acked = set_lost = 0
    for k, elems in sorted(hist.sets.items()):
        r = c.with_level(mem[0], [["VGET", k]], read="ALL")[0]
        if isinstance(r, Exception):
            problems.append("set %s unreadable: %r" % (k, r))
            set_lost += len(elems)
            set_acked += len(elems)
            continue
        have = set()
        for s in r[1:]:
            if s:
                have.update(s.split())
        missing = elems - have
        set_acked += len(elems)
        set_lost += len(missing)
        if missing:
            problems.append("set %s: %d acknowledged elements lost, e.g. %s (siblings now %d)" %
                            (k, len(missing), sorted(missing)[:10], len(r) - 1))
    counts["set_elements_acked"] = set_acked
    counts["set_elements_lost"] = set_lost
    counts["set_unacked"] = hist.set_unacked

    # (e) sets of SADD/SREM: every acknowledged element no SREM was sent for
    cset_acked = cset_lost = cset_removed_present = 0
    for k in sorted(set(hist.cset_added) | set(hist.cset_removed)):
        added, removed = hist.cset_added.get(k, set()), hist.cset_removed.get(k, set())
        r = c.with_level(mem[0], [["SMEMBERS", k]], read="ALL")[0]
        if isinstance(r, Exception):
            problems.append("set %s unreadable: %r" % (k, r))
            cset_lost += len(added - removed)
            continue
        have = set(r)
        keep = added - removed
        cset_acked += len(keep)
        missing = keep - have
        cset_lost += len(missing)
        cset_removed_present += len(removed & have)
        gone_back = hist.cset_removed1.get(k, set()) & have
        if gone_back and mode == "strict":
            problems.append("SADD set %s: %d elements an acknowledged SREM removed are back, e.g. %s" %
                            (k, len(gone_back), sorted(gone_back)[:10]))
        if missing:
            problems.append("SADD set %s: %d acknowledged elements lost, e.g. %s" %
                            (k, len(missing), sorted(missing)[:10]))
    counts["cset_elements_acked"] = cset_acked
    counts["cset_elements_lost"] = cset_lost
    counts["cset_removed_present"] = cset_removed_present
    counts["cset_srem_missed"] = hist.cset_srem0

    # (f) counters: acknowledged <= value <= acknowledged + unknown
    ctr_off = 0
    for k in sorted(set(hist.ctr_acked) | set(hist.ctr_unknown)):
        lo = hist.ctr_acked.get(k, 0)
        hi = lo + hist.ctr_unknown.get(k, 0)
        r = c.with_level(mem[0], [["GET", k]], read="ALL")[0]
        try:
            v = int(r)
        except (TypeError, ValueError):
            problems.append("counter %s unreadable: %r" % (k, r))
            ctr_off += 1
            continue
        if not lo <= v <= hi:
            ctr_off += 1
            problems.append("counter %s = %d, acknowledged increments sum to %d, with those of "
                            "unknown outcome %d" % (k, v, lo, hi))
    counts["counter_increments"] = hist.ctr_ops
    counts["counter_acked_sum"] = sum(hist.ctr_acked.values())
    counts["counters_off"] = ctr_off

    # (b) stale reads. Unique keys: GET must return the acknowledged value.
    # Registers (read with VGET): the read missed an acknowledged write when
    # no sibling is at least the last value acknowledged before the read
    # started. An unacknowledged write is indeterminate: it may take effect at
    # any later time (a COORD stuck behind a cut reaches its coordinator after
    # the heal, which then creates a version over what it holds by then), so
    # a read whose siblings include an unacknowledged value is not judged.
    # Separately, the first sibling is what a plain GET returns (newest by
    # HLC): if it is older than the last acknowledged value although that
    # value (or a later one) is among the siblings, last-writer-wins chose
    # against real time. Within the clock's resolution (the newer write was
    # sent less than LWW_SLACK after the older one was acknowledged) that is
    # a tie LWW can not break and is only counted; beyond it the HLC order
    # contradicts real time and it is a stale read.
    LWW_SLACK = 0.005
    stale, excused, indeterminate, ties = [], 0, 0, 0
    reg_acks = {k: list(v) for k, v in hist.reg.items()}
    reg_acked = {k: {val: ta for val, ta, _ in v} for k, v in reg_acks.items()}
    for kind, key, t0, res, via in hist.reads:
        why = None
        if kind == "unique":
            v, ta = acked[key]
            if ta < t0 and res != v:
                why = "read returned %r, acknowledged %r %s" % (res, v, hist.when(ta))
        else:
            before = [(val, ta, w) for val, ta, w in reg_acks.get(key, []) if ta < t0]
            if not before:
                continue
            want, ta, wvia = max(before)
            vals = [x for x in res if x is not None]
            top = max(vals) if vals else None
            if top is None or top < want:
                if any(x not in reg_acked[key] for x in vals):
                    # an unacknowledged write applied late (after want's
                    # ack) may have superseded want, whatever its value
                    indeterminate += 1
                    continue
                why = "VGET siblings %s miss acknowledged %d (acked %s via node %s)" % (
                    res, want, hist.when(ta), wvia)
            elif res[0] is None or res[0] < want:
                first = res[0]
                if first is None or first not in reg_acked[key]:
                    indeterminate += 1
                    continue
                gap = hist.reg_invoked[key][top] - reg_acked[key][first]
                if gap <= LWW_SLACK:
                    ties += 1
                    continue
                why = ("GET would return %d, older than acknowledged %d: siblings %s, the "
                       "write of %d was sent %.1f ms after %d was acknowledged (%s)" % (
                           first, want, res, top, gap * 1000, first, hist.when(ta)))
        if why:
            if hist.in_wipe_window(t0):
                excused += 1
            else:
                stale.append((kind, key, why + "; read %s via node %d" % (hist.when(t0), via)))
    counts["reads"] = len(hist.reads)
    counts["read_errors"] = hist.read_errors
    counts["stale_reads"] = len(stale)
    counts["stale_reads_wiped_replica"] = excused
    counts["reads_of_unacked_writes"] = indeterminate
    counts["lww_ties"] = ties
    if mode == "strict":
        for kind, key, why in stale[:10]:
            problems.append("STALE read of %s %s: %s" % (kind, key, why))
    return counts, problems


# ------------------------------------------------------------------- a run

def run_mode(mode, cycles, hold, seed, kinds, calm, aae_interval):
    rnd = random.Random(seed)
    # strict mode, where a stale read is a failure, reads with read-fanout
    # needed (R replicas asked, the others only on failure or after
    # read-retry-ms); sloppy with the default, every replica
    fanout = "needed" if mode == "strict" else "all"
    log("=== %s mode: %d fault cycles, hold %.1fs, anti-entropy-interval %d, read-fanout %s, seed %d" %
        (mode, cycles, hold, aae_interval, fanout, seed))
    c = new_cluster("jepsen-%s" % mode)
    net = None
    wl = None
    ok = False
    t_start = time.time()
    try:
        net = Net()
        c.start(NODES, quorum_mode=mode, replication=3, read_quorum=2, write_quorum=2,
                anti_entropy_interval=aae_interval, read_fanout=fanout)
        hist = History()
        wl = Workload(c, hist, seed)
        wl.start()
        faults = Faults(c, net, hist, rnd, hold)
        time.sleep(calm)
        schedule = list(kinds)
        rnd.shuffle(schedule)
        while len(schedule) < cycles:
            schedule.append(rnd.choice(kinds))
        for kind in schedule[:cycles]:
            faults.run(kind)
            time.sleep(calm)
            if wl.errors:
                break
        log("healing; stopping the workload")
        wl.finish()
        heal_all(c, net)
        t_heal = time.time()
        try:
            c.wait_hints_drained(timeout=60)
            hints_stuck = None
        except AssertionError as e:
            hints_stuck = str(e)
        t_rep = time.time()
        replies = [c.repair(i, timeout=300) for i in c.members()]
        log("hints drained in %.1fs; RING REPAIR on every node in %.1fs: %s" %
            (t_rep - t_heal, time.time() - t_rep, "; ".join(map(str, replies))))
        stats = {
            "sloppy_fallbacks": sum_info(c, "ring", "sloppy_fallbacks"),
            "read_repairs": sum_info(c, "ring", "read_repairs"),
            "noquorum_errors": sum_info(c, "ring", "noquorum_errors"),
            "hints_delivered": sum_info(c, "hints", "hints_delivered"),
            "hints_dropped": sum_info(c, "hints", "hints_dropped"),
            "aae_keys_repaired": sum_info(c, "antientropy", "aae_keys_repaired"),
        }
        counts, problems = check(c, hist, mode, rnd)
        if hints_stuck:
            problems.append("hints did not drain after healing: %s" % hints_stuck)
        log("%s mode: faults: %s" % (mode, "; ".join(faults.done)))
        log("%s mode: %s" % (mode, ", ".join("%s=%s" % kv for kv in stats.items())))
        print("RESULT %s: acknowledged writes %d (unacknowledged %d), lost %d, unreadable %d, "
              "register acks %d lost %d, reads %d, stale reads %d%s (during a wipe window %d), "
              "older unacknowledged values read %d, LWW ties %d, keys compared %d, diverged replicas %d, "
              "set elements acked %d lost %d, SADD set elements acked %d lost %d "
              "(an SREM sent but present %d, SREMs that did not see their element %d), "
              "INCRBY ops %d acked sum %d counters off %d "
              "(%.0fs)" % (
                  mode, counts["acked_writes"], counts["unacked_writes"], counts["lost"],
                  counts["unreadable"], counts["register_acks"], counts["register_lost"],
                  counts["reads"], counts["stale_reads"],
                  "" if mode == "strict" else " (sloppy: not a failure)",
                  counts["stale_reads_wiped_replica"], counts["reads_of_unacked_writes"], counts["lww_ties"],
                  counts["keys_compared"],
                  counts["diverged"], counts["set_elements_acked"],
                  counts["set_elements_lost"], counts["cset_elements_acked"],
                  counts["cset_elements_lost"], counts["cset_removed_present"],
                  counts["cset_srem_missed"], counts["counter_increments"], counts["counter_acked_sum"],
                  counts["counters_off"], time.time() - t_start), flush=True)
        for p in problems:
            print("PROBLEM %s: %s" % (mode, p), flush=True)
        ok = not problems
        return ok, counts
    finally:
        if wl is not None:
            wl.stop.set()
        if not ok and os.environ.get("RINGKV_FAULT_LOGS"):
            print(c.log_tails(4000))
        if not ok:
            print("(data and logs of the %s run: %s%s)" % (
                mode, c.dir, "" if os.environ.get("RINGKV_KEEP") else ", removed; "
                "RINGKV_KEEP=1 keeps them"), flush=True)
        c.close()
        if net is not None:
            net.close()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="both", choices=["strict", "sloppy", "both"])
    ap.add_argument("--long", action="store_true", help="more cycles, combined faults")
    ap.add_argument("--cycles", type=int, default=None)
    ap.add_argument("--hold", type=float, default=None, help="seconds a fault lasts")
    ap.add_argument("--calm", type=float, default=None, help="seconds between faults")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--faults", default=None,
                    help="comma-separated fault kinds to draw from (default: the run's list)")
    ap.add_argument("--aae-interval", type=int, default=None,
                    help="anti-entropy-interval of the nodes (0: only RING REPAIR)")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else int(os.environ.get("RINGKV_FAULT_SEED", "0")) or \
        random.randrange(1, 1 << 30)
    hold = a.hold or (3.0 if a.long else 2.0)
    calm = a.calm if a.calm is not None else (1.0 if a.long else 0.3)
    aae = a.aae_interval if a.aae_interval is not None else (5 if a.long else 0)
    modes = ["strict", "sloppy"] if a.mode == "both" else [a.mode]
    print("jepsen: seed %d (rerun with --seed %d)" % (seed, seed), flush=True)
    allok = True
    for i, m in enumerate(modes):
        kinds = a.faults.split(",") if a.faults else LONG_FAULTS if a.long else SHORT_FAULTS[m]
        cycles = a.cycles or (30 if a.long else len(kinds))
        ok, _ = run_mode(m, cycles, hold, seed + i, kinds, calm, aae)
        allok = allok and ok
    left = [l for l in iptables_rules().splitlines() if "RINGKV_FAULT_%d" % os.getpid() in l]
    if left:
        print("PROBLEM: iptables rules left: %s" % left)
        allok = False
    print("jepsen: %s" % ("PASS" if allok else "FAIL"), flush=True)
    return 0 if allok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
