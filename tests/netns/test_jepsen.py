"""The Jepsen-style workload and checker of tests/fault/jepsen.py on hosts of
their own, with loss and reordering on every link between nodes.

Five hosts in one data center, N=3, R=2, W=2 (as jepsen.py), every link
between two nodes 1 ms +- 1 ms per direction (packets of one connection
closer than 2 ms overtake each other) and a share of its packets dropped
(iptables statistic): TCP retransmits and reorders under the bus, the
gossip and the clients' coordinators. Strict and sloppy mode each: the
workload runs with the loss on (the long configuration adds jepsen.py's
faults -- kill -9, SIGSTOP, isolation, a split, one-way cuts -- at the
same time, as real packets being dropped between hosts), then the loss
stops, everything heals, hints drain, RING REPAIR runs on every node, and
jepsen.check asserts: no acknowledged write lost or unreadable, no
diverged replicas, no acknowledged set element lost, and in strict mode no
stale read. The kernel's TCP counters show that the loss and reordering
reached TCP (retransmitted and out-of-order segments).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netbed  # noqa: E402
import nsworkload  # noqa: E402
from netbed import figure  # noqa: E402

LONG = netbed.length() == "long"
NODES = 5
LINK = (1.0, 1.0)
if LONG:
    RUNS = {"strict": [(0.01, 40, ["isolate", "kill9", "split"]), (0.03, 40, ["pause", "oneway"])],
            "sloppy": [(0.01, 40, ["oneway", "split", "kill9"]), (0.03, 40, ["isolate", "pause"])]}
else:
    RUNS = {"strict": [(0.02, 12, [])], "sloppy": [(0.03, 12, [])]}


class LossyLinks(unittest.TestCase):
    def run_mode(self, mode):
        why = netbed.unavailable()
        if why:
            self.skipTest("network namespaces unavailable: " + why)
        for loss, seconds, faults in RUNS[mode]:
            bed = netbed.Bed("jepsen-" + mode)
            names = ["n%d" % i for i in range(NODES)]
            for n in names:
                bed.add_host(n)
            bed.add_host(netbed.CLIENT_HOST)
            for a in names:
                for b in names:
                    if a < b:
                        bed.link(a, b, *LINK)
            c = None
            try:
                bed.up()
                bed.enter(netbed.CLIENT_HOST)
                c = netbed.NsCluster(bed, "j" + mode)
                c.start_on([(n, "dc1", "rack1") for n in names], quorum_mode=mode,
                           replication=3, read_quorum=2, write_quorum=2,
                           anti_entropy_interval=0, replica_timeout=1000,
                           read_fanout="needed" if mode == "strict" else "all")
                tcp0 = netbed.tcp_counters(bed)
                net = netbed.NsNet(bed)
                counts, problems, info = nsworkload.run_lossy(bed, c, net, mode, seconds, loss,
                                                              faults)
                tcp = {k: v - tcp0[k] for k, v in netbed.tcp_counters(bed).items()}
                reo = sum(q["reordered"] for rows in bed.delayer_stats().values() for q in rows)
                sus = c.suspicions()
                tag = "jepsen.%s.loss%d%s" % (mode, round(loss * 100), ".faults" if faults else "")
                figure(tag, "%d s, %.0f%% loss and 1 ms +- 1 ms on every node link%s (seed %d): %s"
                       % (seconds, loss * 100, "; faults: " + "; ".join(info["faults"])
                          if faults else "", info["seed"], nsworkload.result_line(mode, counts)))
                figure(tag + ".net", "TCP segments retransmitted %d, received out of order %d, "
                       "reorderings detected %d, RTO timeouts %d; packets the delayers released "
                       "before an earlier one %d; gossip suspicions %d%s" % (
                           tcp["RetransSegs"], tcp["TCPOFOQueue"],
                           tcp["TCPSACKReorder"] + tcp["TCPTSReorder"], tcp["TCPTimeouts"], reo,
                           len(sus), " (faults on)" if faults else ""))
                figure(tag + ".repair", "after the loss stopped: hints drained in %.1f s, RING "
                       "REPAIR on every node in %.1f s; over the run: hints delivered %d, "
                       "anti-entropy keys repaired %d, read repairs %d, NOQUORUM errors %d, "
                       "sloppy fallbacks %d, late acks %d" % (
                           info["hints_drained_s"], info["repair_s"], info["hints_delivered"],
                           info["aae_keys_repaired"], info["read_repairs"],
                           info["noquorum_errors"], info["sloppy_fallbacks"], info["late_acks"]))
                for p in problems:
                    print("PROBLEM %s: %s" % (mode, p), flush=True)
                self.assertEqual(problems, [])
                self.assertEqual(counts["lost"], 0)
                self.assertEqual(counts["diverged"], 0)
                if mode == "strict":
                    self.assertEqual(counts["stale_reads"], 0)
                self.assertGreater(counts["acked_writes"], 0)
                self.assertGreater(tcp["RetransSegs"], 0, "no packet was lost?")
            except BaseException:
                if c is not None and os.environ.get("RINGKV_FAULT_LOGS"):
                    print(c.log_tails(4000))
                raise
            finally:
                try:
                    if c is not None:
                        c.close()
                finally:
                    bed.close()

    def test_strict(self):
        self.run_mode("strict")

    def test_sloppy(self):
        self.run_mode("sloppy")
