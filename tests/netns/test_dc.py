"""Two data centers over a WAN (netbed.py): east (4 hosts) and west (3
hosts), `replication east:3,west:2`, 20 ms +- 5 ms per direction between
the DCs and 0.2 ms +- 0.05 inside each; the client host sits next to every
node (no delay on its links). Sloppy quorum, anti-entropy every 5 s, gossip
every 200 ms with a 1.5 s fail-timeout (the fault suite's settings).

1. Latency through east nodes: LOCAL_QUORUM reads and writes stay in the
   DC; EACH_QUORUM pays one WAN round trip, not more. A WAN round trip takes
   at least 30 ms (both directions' lower bounds), which no load can make
   shorter: so an operation under 30 ms did not wait for the WAN (asserted
   for 95% of the LOCAL_QUORUM ones; p99 is reported), an EACH_QUORUM never
   takes less, and one under 60 ms did not wait for two round trips in a
   row (asserted for the lower quartile; the median is reported: on a busy
   machine every process on the way waits for a CPU).
   Gossip marks no node down meanwhile (its log lines are counted).
2. East cut off from west (every packet between the DCs dropped) while the
   Jepsen-style workload writes at LOCAL_QUORUM through nodes of both DCs:
   both DCs keep acknowledging writes; after the heal, hints and the
   periodic anti-entropy (no RING REPAIR, no client reads) bring every
   replica of the keys written meanwhile to the same versions -- how many
   keys were behind and how long it took are the figures -- and then
   nothing acknowledged is lost and no replicas diverge (jepsen.check).
   Reads are LOCAL_QUORUM in both DCs: a read in one DC may miss a write
   acknowledged in the other (counted, not a failure: LOCAL_QUORUM promises
   no more). The long configuration (make netns-long) cuts for 30 s and
   repeats it in strict mode at QUORUM, where east keeps the majority of
   the replicas and no read may be stale.
"""
import os
import random
import sys
import time
import unittest

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netbed  # noqa: E402
import nsworkload  # noqa: E402
from netbed import figure, percentile  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
import jepsen  # noqa: E402

LONG = netbed.length() == "long"
LAYOUT = [("east", 4), ("west", 3)]
WAN = (20.0, 5.0)
LAN = (0.2, 0.05)
WAN_RTT_FLOOR = 2 * (WAN[0] - WAN[1])
PARTITION_S = 30 if LONG else 6
AAE_INTERVAL = 5
OPS = {"LOCAL_QUORUM": 2000 if LONG else 400, "EACH_QUORUM": 300 if LONG else 60,
       "QUORUM": 2000 if LONG else 200}


def ms(x):
    return "%.2f" % x


class DataCenters(unittest.TestCase):
    MODE = "sloppy"
    LEVEL = "LOCAL_QUORUM"

    @classmethod
    def setUpClass(cls):
        why = netbed.unavailable()
        if why:
            raise unittest.SkipTest("network namespaces unavailable: " + why)
        cls.bed, placement = netbed.dc_bed("dc-" + cls.MODE, LAYOUT, WAN, LAN)
        cls.c = None
        try:
            cls.bed.up()
            cls.bed.enter(netbed.CLIENT_HOST)
            cls.c = netbed.NsCluster(cls.bed, "dc")
            t0 = time.time()
            opts = {"replication": "east:3,west:2", "quorum_mode": cls.MODE,
                    "anti_entropy_interval": AAE_INTERVAL, "replica_timeout": 1000}
            if cls.MODE == "strict":
                opts["read_fanout"] = "needed"
            if not LONG:
                # 64 partitions: a new node fetches each partition in its own
                # WAN round trips, one at a time (the figure below)
                opts["ring_partitions"] = 64
            cls.c.start_on(placement, timeout=120, **opts)
            figure("dc.%s.start" % cls.MODE,
                   "7 nodes started and every one sees all up with bus links in %.1f s "
                   "(ring-partitions %s)" % (
                       time.time() - t0, opts.get("ring_partitions", 256)))
            cls.sus0 = len(cls.c.suspicions())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.c is not None:
                cls.c.close()
        finally:
            cls.bed.close()

    def dc_nodes(self, dc):
        return [nd.index for nd in self.c.nodes if nd.opts["dc"] == dc]

    def client(self, i, level):
        def on_connect(conn):
            conn.on_connect()
            conn.send_command("CONSISTENCY", "READ", level, "WRITE", level)
            conn.read_response()
        nd = self.c.nodes[i]
        return redis.Redis(host=nd.host, port=nd.port, decode_responses=True, socket_timeout=10,
                           redis_connect_func=on_connect)

    def partition_and_heal(self, level, seconds):
        c, bed = self.c, self.bed
        east, west = self.dc_nodes("east"), self.dc_nodes("west")
        net = netbed.NsNet(bed)
        hist = jepsen.History()
        seed = int(os.environ.get("RINGKV_NETNS_SEED", "0")) or random.randrange(1, 1 << 30)
        rnd = random.Random(seed)
        wl = nsworkload.LevelWorkload(c, hist, seed, read=level, write=level)
        wl.start()
        try:
            time.sleep(2)
            t0 = nsworkload.totals(c)
            with hist.lock:
                n_before = len(hist.unique_tried)
            netbed.log("cutting east %s from west %s for %ds" % (east, west, seconds))
            hist.event("partition east|west")
            net.split(c, east, west)
            t_cut = jepsen.now()        # every rule in place
            time.sleep(seconds)
            t_heal = jepsen.now()
            net.heal()
            hist.event("healed")
        finally:
            wl.finish()    # no client reads from now on: nothing read-repairs
        th = time.time()
        with hist.lock:
            during = list(hist.unique_tried[n_before:])
            reg_acks = [(k, via, ta) for k, v in hist.reg.items() for _, ta, via in v
                        if t_cut <= ta <= t_heal]
        acks_by_dc = {dc: sum(1 for _, via, _ in reg_acks if c.nodes[via].opts["dc"] == dc)
                      for dc in ("east", "west")}
        # a write sent just before the cut may still be acknowledged just
        # after it (its acks were already held in a delayer): from a second
        # on, the cut is all there is
        acks_by_dc["west_after_1s"] = sum(1 for _, via, ta in reg_acks
                                          if c.nodes[via].opts["dc"] == "west" and ta >= t_cut + 1.0)
        keys = rnd.sample(during, min(2000, len(during))) + sorted(hist.reg) + \
            ["set%d" % i for i in range(3)]
        c.wait_all_up(ids=range(len(c.nodes)), timeout=60)
        t_up = time.time() - th
        secs, behind = nsworkload.wait_converged(c, keys, timeout=240)
        secs += t_up
        d = nsworkload.delta(t0, nsworkload.totals(c))
        figure("dc.%s.partition" % self.MODE,
               "east|west cut %ds under the workload at %s (seed %d): %d unique writes tried "
               "meanwhile; register writes acknowledged during the cut through east %d, "
               "through west %d (%d of them 1 s or more after the cut); after the heal every node saw all up in %.1f s; of %d sampled "
               "keys %d had replicas behind; all replicas identical %.1f s after the heal "
               "(hints and anti-entropy only); meanwhile hints delivered %d, "
               "anti-entropy keys repaired %d in %d exchanges, read repairs %d, sloppy "
               "fallbacks %d, NOQUORUM errors %d" % (
                   seconds, level, seed, len(during), acks_by_dc["east"], acks_by_dc["west"],
                   acks_by_dc["west_after_1s"],
                   t_up, len(keys), behind, secs, d["hints_delivered"], d["aae_keys_repaired"],
                   d["aae_exchanges"], d["read_repairs"], d["sloppy_fallbacks"],
                   d["noquorum_errors"]))
        counts, problems = jepsen.check(c, hist, self.MODE, rnd)
        figure("dc.%s.jepsen" % self.MODE, nsworkload.result_line(self.MODE, counts))
        return counts, problems, acks_by_dc, behind

    def test_1_latency_in_east_and_gossip(self):
        east = self.dc_nodes("east")
        rnd = random.Random(1)
        res = {}
        for level, n in OPS.items():
            cl = {i: self.client(i, level) for i in east}
            w, r = [], []
            for k in range(n):
                i = east[rnd.randrange(len(east))]
                key = "lat:%d" % rnd.randrange(500)
                t0 = time.perf_counter()
                self.assertTrue(cl[i].set(key, "v%d" % k))
                t1 = time.perf_counter()
                cl[i].get(key)
                t2 = time.perf_counter()
                w.append((t1 - t0) * 1000)
                r.append((t2 - t1) * 1000)
            for x in cl.values():
                x.close()
            res[level] = (w, r)
            figure("dc.%s.latency.%s" % (self.MODE, level),
                   "%d writes p50 %s p95 %s p99 %s max %s ms; %d reads p50 %s p95 %s p99 %s "
                   "max %s ms; %d of %d took %.0f ms or more (a WAN round trip's least) "
                   "(through east nodes; load %.1f)" % (
                       n, ms(percentile(w, 50)), ms(percentile(w, 95)), ms(percentile(w, 99)),
                       ms(max(w)), n, ms(percentile(r, 50)), ms(percentile(r, 95)),
                       ms(percentile(r, 99)), ms(max(r)),
                       sum(1 for x in w + r if x >= WAN_RTT_FLOOR), 2 * n, WAN_RTT_FLOOR,
                       os.getloadavg()[0]))
        sus = self.c.suspicions()[self.sus0:]
        figure("dc.%s.gossip" % self.MODE, "nodes suspected or declared down while all were healthy: %d%s" % (
            len(sus), "; " + " | ".join(l for _, l in sus[:5]) if sus else ""))
        lw, lr = res["LOCAL_QUORUM"]
        for name, xs in (("write", lw), ("read", lr)):
            # p95, not p99: on a shared 2-core machine a few operations in a
            # hundred can wait that long for a CPU (the figure shows p99)
            self.assertLess(percentile(xs, 95), WAN_RTT_FLOOR,
                            "LOCAL_QUORUM %ss: p95 %.1f ms, so more than 5%% waited as long "
                            "as a WAN round trip" % (name, percentile(xs, 95)))
        ew, er = res["EACH_QUORUM"]
        for name, xs in (("write", ew), ("read", er)):
            self.assertGreaterEqual(min(xs), WAN_RTT_FLOOR - 0.5,
                                    "an EACH_QUORUM %s did not wait for west" % name)
            # the lower quartile, not the median: at a load of 15 on 2
            # cores the median was measured at 57 ms (each process on the
            # way waits for a CPU); two round trips in a row would put
            # every operation at 60 ms or more
            self.assertLess(percentile(xs, 25), 2 * WAN_RTT_FLOOR,
                            "EACH_QUORUM %ss: lower quartile %.1f ms: more than one WAN round "
                            "trip" % (name, percentile(xs, 25)))
        self.assertEqual(sus, [], "gossip suspected healthy nodes")

    def test_2_dc_partition_then_hints_and_anti_entropy_catch_up(self):
        counts, problems, acks_by_dc, behind = self.partition_and_heal(self.LEVEL, PARTITION_S)
        self.assertEqual(problems, [])
        self.assertEqual(counts["lost"], 0)
        self.assertEqual(counts["diverged"], 0)
        if self.LEVEL == "LOCAL_QUORUM":
            self.assertGreater(acks_by_dc["east"], 0, "east stopped acknowledging writes")
            self.assertGreater(acks_by_dc["west"], 0, "west stopped acknowledging writes")
        else:
            self.assertGreater(acks_by_dc["east"], 0, "east (the majority) stopped")
            self.assertEqual(acks_by_dc["west_after_1s"], 0,
                             "west holds 2 of 5 replicas: it can not acknowledge at QUORUM")
            self.assertEqual(counts["stale_reads"], 0)
        self.assertGreater(behind, 0, "the cut left no replica behind: it cut nothing?")


@unittest.skipUnless(LONG, "long configuration only (make netns-long)")
class DataCentersStrict(DataCenters):
    MODE = "strict"
    LEVEL = "QUORUM"

