"""nsworkload.py -- the Jepsen-style workload and checker of tests/fault
(jepsen.py: Workload, History, Faults, heal_all, check) run against a
cluster in network namespaces (netbed.NsCluster): what differs here is only
how clients connect (a consistency level per connection) and how the run is
driven (loss on the links, a data-center partition).

API:
  LevelWorkload(c, hist, seed, read=None, write=None)
      jepsen.Workload whose every connection starts with CONSISTENCY
      READ read WRITE write (redis-py runs it again on each reconnect)
  replicas_differ(c, keys) -> [key]
      keys whose owners (RING OWNERS) hold different versions (RING LOCAL:
      no read, so no read repair)
  wait_converged(c, keys, timeout) -> (seconds, differing at the first look)
      polls replicas_differ until it is empty; AssertionError on timeout
  totals(c) -> {counter: sum over the nodes} of the INFO counters reports use
  run_lossy(bed, c, net, mode, seconds, loss, faults, seed) -> (counts, problems, info)
      the workload for seconds with loss on every node link (and faults:
      jepsen.Faults kinds, run one after another meanwhile), then loss off,
      healed, hints drained, RING REPAIR everywhere, jepsen.check
"""
import os
import random
import sys
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import jepsen  # noqa: E402
from faultlib import log  # noqa: E402


class LevelWorkload(jepsen.Workload):
    def __init__(self, cluster, hist, seed, read=None, write=None):
        super().__init__(cluster, hist, seed)
        self.levels = []
        if read:
            self.levels += ["READ", read]
        if write:
            self.levels += ["WRITE", write]

    def _connect(self, nd, decode):
        levels = self.levels

        def on_connect(conn):
            conn.on_connect()
            if levels:
                conn.send_command("CONSISTENCY", *levels)
                if str(conn.read_response()).upper() not in ("OK", "B'OK'", "TRUE"):
                    raise redis.ConnectionError("CONSISTENCY refused")

        return redis.Redis(host=nd.host, port=nd.port, decode_responses=decode,
                           socket_timeout=jepsen.OP_TIMEOUT, socket_connect_timeout=1.0,
                           redis_connect_func=on_connect)


def replicas_differ(c, keys):
    owners = {}
    for k0 in range(0, len(keys), 500):
        chunk = keys[k0:k0 + 500]
        for k, r in zip(chunk, c.with_level(0, [["RING", "OWNERS", k] for k in chunk])):
            owners[k] = [c.index_of(a) for a in r]
    local = {}
    for i in range(len(c.nodes)):
        mine = [k for k in keys if i in owners[k]]
        for k0 in range(0, len(mine), 500):
            chunk = mine[k0:k0 + 500]
            for k, r in zip(chunk, c.with_level(i, [["RING", "LOCAL", k] for k in chunk])):
                local[(i, k)] = None if isinstance(r, Exception) else \
                    sorted((tuple(p) for p in r), key=lambda p: (p[0] is None, p[0] or "", p[1]))
    return [k for k in keys
            if any(local.get((i, k)) != local.get((owners[k][0], k)) for i in owners[k][1:])]


def wait_converged(c, keys, timeout=180.0, interval=0.5):
    t0 = time.time()
    first = None
    while True:
        try:
            d = replicas_differ(c, keys)
        except (redis.RedisError, OSError) as e:
            d = ["(error: %r)" % e]
        if first is None:
            first = len(d)
        if not d:
            return time.time() - t0, first
        if time.time() - t0 > timeout:
            raise AssertionError("replicas of %d of %d keys still differ after %.0fs, e.g. %s" %
                                 (len(d), len(keys), timeout, d[:5]))
        time.sleep(interval)


COUNTERS = [("ring", "read_repairs"), ("ring", "noquorum_errors"), ("ring", "sloppy_fallbacks"),
            ("ring", "late_acks"), ("hints", "hints_delivered"), ("hints", "hints_dropped"),
            ("antientropy", "aae_keys_repaired"), ("antientropy", "aae_exchanges"),
            ("antientropy", "aae_passes")]


def totals(c):
    return {f: jepsen.sum_info(c, s, f) for s, f in COUNTERS}


def delta(a, b):
    return {k: b[k] - a[k] for k in a}


def result_line(mode, counts):
    return ("acknowledged writes %d (unacknowledged %d), lost %d, unreadable %d; register acks "
            "%d lost %d; set elements acked %d lost %d; reads %d, stale %d (during a wipe %d), "
            "older unacknowledged values read %d, LWW ties %d; keys compared %d, diverged %d" % (
                counts["acked_writes"], counts["unacked_writes"], counts["lost"],
                counts["unreadable"], counts["register_acks"], counts["register_lost"],
                counts["set_elements_acked"], counts["set_elements_lost"], counts["reads"],
                counts["stale_reads"], counts["stale_reads_wiped_replica"],
                counts["reads_of_unacked_writes"], counts["lww_ties"], counts["keys_compared"],
                counts["diverged"]))


def run_lossy(bed, c, net, mode, seconds, loss, faults=(), seed=None, hold=2.0):
    """The Jepsen-style run of tests/fault/jepsen.py on a NsCluster with
    loss on every link between nodes: returns (counts, problems, info)."""
    seed = seed if seed is not None else int(os.environ.get("RINGKV_NETNS_SEED", "0")) or \
        random.randrange(1, 1 << 30)
    rnd = random.Random(seed)
    log("=== netns jepsen %s: loss %.1f%% on every node link, %ds, faults %s, seed %d" % (
        mode, loss * 100, seconds, list(faults) or "none", seed))
    hist = jepsen.History()
    wl = jepsen.Workload(c, hist, seed)
    t0 = totals(c)
    bed.set_loss(loss)
    wl.start()
    try:
        ff = jepsen.Faults(c, net, hist, rnd, hold)
        end = time.time() + seconds
        for kind in faults:
            time.sleep(max(0.0, min(1.0, end - time.time())))
            ff.run(kind)
        time.sleep(max(0.0, end - time.time()))
        if wl.errors:
            raise AssertionError("workload threads failed: %s" % wl.errors)
    finally:
        wl.finish()
    bed.set_loss(0)
    hist.event("loss off")
    bed.check()
    jepsen.heal_all(c, net)
    th = time.time()
    c.wait_hints_drained(timeout=60)
    t_hints = time.time() - th
    tr = time.time()
    for i in range(len(c.nodes)):
        c.repair(i, timeout=300)
    t_repair = time.time() - tr
    info = delta(t0, totals(c))
    info.update({"seed": seed, "hints_drained_s": t_hints, "repair_s": t_repair,
                 "faults": list(ff.done)})
    counts, problems = jepsen.check(c, hist, mode, rnd)
    return counts, problems, info
