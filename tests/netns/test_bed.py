"""The test bed itself (netbed.py, netdelay.c): the delays, loss, cuts and
reordering it promises are what packets between the namespaces really get,
and it leaves nothing behind -- closed, on SIGTERM, or SIGKILLed (then the
next run removes it).

Hosts a, b, c and the client host; a<->b "WAN" 20 ms +- 5 ms per direction,
a<->c "LAN" 0.2 ms +- 0.05 ms, b<->c 5 ms with no jitter.
"""
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netbed  # noqa: E402
from netbed import figure  # noqa: E402

LINKS = {("a", "b"): (20.0, 5.0), ("a", "c"): (0.2, 0.05), ("b", "c"): (5.0, 0.0)}


def skip_unless_available():
    why = netbed.unavailable()
    if why:
        raise unittest.SkipTest("network namespaces unavailable: " + why)


class Delays(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        skip_unless_available()
        cls.bed = netbed.Bed("bed")
        for h in ("a", "b", "c", netbed.CLIENT_HOST):
            cls.bed.add_host(h)
        for (x, y), (d, j) in LINKS.items():
            cls.bed.link(x, y, d, j)
        try:
            cls.bed.up()
        except Exception:
            cls.bed.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.bed.close()

    def tearDown(self):
        self.bed.heal()
        self.bed.set_loss(0, [(x, y) for x, y in self.bed.node_pairs()])
        self.bed.check()

    def test_ping_rtt_is_the_configured_delay_both_ways(self):
        """ping between every pair: the RTT is the sum of both directions'
        delays. No reply can come back sooner than both delays' lower
        bounds (each packet is held that long at least); the median is the
        configured RTT, plus the little a busy machine adds (the delayer
        runs SCHED_FIFO; ping itself does not, so its mean and maximum
        follow the machine's load and are only reported)."""
        for (x, y), (d, j) in sorted(LINKS.items()):
            r = self.bed.ping(x, y, count=100, interval=0.01)
            floor = 2 * (d - j)
            figure("bed.rtt.%s-%s" % (x, y),
                   "configured %.2f ms +- %.2f per direction (RTT %.2f, never below %.2f); "
                   "ping: min %.3f median %.3f p90 %.3f avg %.3f max %.3f ms, loss %.0f%% "
                   "(load %.1f)" % (d, j, 2 * d, floor, r["min"], r["p50"], r["p90"], r["avg"],
                                    r["max"], r["loss"], os.getloadavg()[0]))
            self.assertEqual(r["loss"], 0.0, r)
            self.assertGreaterEqual(r["min"], floor - 0.01, "a packet was not held for its delay")
            self.assertGreaterEqual(r["p50"], 2 * d - j, r)
            self.assertLess(r["p50"], 2 * d + j + 5.0, r)
        stats = self.bed.delayer_stats()
        for h, rows in sorted(stats.items()):
            for q in rows:
                figure("bed.delayer.%s.q%d" % (h, q["q"]),
                       "%d us +- %d: %d packets, drawn delay avg %d us; late by avg %d us, max "
                       "%d us, %d over 1 ms" % (q["delay_us"], q["jitter_us"], q["packets"],
                                                q["delay_avg_us"], q["late_avg_us"],
                                                q["late_max_us"], q["late_over_1ms"]))
        # the client host's links are not delayed
        r = self.bed.ping(netbed.CLIENT_HOST, "a", count=20, interval=0.01)
        figure("bed.rtt.cli-a", "not delayed: ping median %.3f ms" % r["p50"])
        self.assertLess(r["min"], 2 * 0.2, r)

    def test_jitter_reorders_packets(self):
        """Pings 2 ms apart through +-5 ms of jitter overtake each other; the
        delayer counts it, and the delays it drew average the configured
        one."""
        before = {r["q"]: r for r in self.bed.delayer_stats()["b"]}
        self.bed.ping("a", "b", count=300, interval=0.002)
        after = self.bed.delayer_stats()["b"]
        wan = [r for r in after if r["delay_us"] == 20000][0]
        got = wan["packets"] - before[wan["q"]]["packets"]
        reo = wan["reordered"] - before[wan["q"]]["reordered"]
        figure("bed.reorder", "pings 2 ms apart over a->b 20 ms +- 5: %d packets, %d released "
               "before one that arrived earlier" % (got, reo))
        self.assertGreaterEqual(got, 300)
        self.assertGreater(reo, 0)
        self.assertLess(abs(wan["delay_avg_us"] - 20000), 1000)

    def test_loss_drops_about_the_configured_share(self):
        """20% loss each way on a<->c: an echo and its reply both survive
        with probability 0.8^2, so ping loses about 36% (bounds are five
        standard deviations of 400 trials); then loss off: none lost."""
        self.bed.set_loss(0.2, [("a", "c"), ("c", "a")])
        r = self.bed.ping("a", "c", count=400, interval=0.005)
        figure("bed.loss", "20%% each way on a<->c: ping lost %.1f%% of 400 (expected 36%%)" %
               r["loss"])
        self.assertTrue(24.0 <= r["loss"] <= 48.0, r)
        self.bed.set_loss(0, [("a", "c"), ("c", "a")])
        r = self.bed.ping("a", "c", count=100, interval=0.005)
        self.assertEqual(r["loss"], 0.0, r)

    def test_cuts_drop_everything_one_way_or_both_and_heal(self):
        self.bed.cut("a", "c")
        self.assertEqual(self.bed.ping("a", "c", count=10, interval=0.01)["loss"], 100.0)
        # c's echoes reach a, but a's replies to c are cut
        self.assertEqual(self.bed.ping("c", "a", count=10, interval=0.01)["loss"], 100.0)
        self.assertEqual(self.bed.ping("a", "b", count=10, interval=0.01)["loss"], 0.0)
        self.bed.heal()
        self.assertEqual(self.bed.ping("a", "c", count=10, interval=0.01)["loss"], 0.0)

    def test_a_burst_over_the_wan_is_delayed_not_dropped(self):
        """8 MB over one TCP connection a->b through the 20 ms link: it
        arrives whole, and the kernel dropped nothing from our queues
        (maxlen, fail-open and the socket buffer hold a burst)."""
        data = os.urandom(8 << 20)
        want = hashlib.sha256(data).hexdigest()
        got = {}
        ready = threading.Event()
        b_addr = self.bed.host("b").addr

        def server():
            netbed.in_host(self.bed, "b")
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((b_addr, 7777))
            s.listen(1)
            s.settimeout(60)
            ready.set()
            conn, _ = s.accept()
            h = hashlib.sha256()
            n = 0
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            got["n"], got["sha"] = n, h.hexdigest()
            conn.close()
            s.close()

        def client():
            netbed.in_host(self.bed, "a")
            ready.wait(10)
            s = socket.create_connection((b_addr, 7777), timeout=60)
            t0 = time.time()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
            got["secs"] = time.time() - t0
            s.close()

        q0 = self.bed.queue_counters()["b"]
        ts = [threading.Thread(target=server), threading.Thread(target=client)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(90)
        q1 = self.bed.queue_counters()["b"]
        drops = sum(r["dropped"] + r["user_dropped"] for r in q1) - \
            sum(r["dropped"] + r["user_dropped"] for r in q0)
        stats = self.bed.delayer_stats()["b"]
        figure("bed.burst", "8 MB a->b over 20 ms +- 5: %.1f s (%.1f MB/s), kernel queue drops %d, "
               "most packets held at once %d" % (
                   got.get("secs", -1), 8 / max(got.get("secs", 1e-9), 1e-9), drops,
                   max(r["held_max"] for r in stats)))
        self.assertEqual(got.get("n"), len(data))
        self.assertEqual(got.get("sha"), want)
        self.assertEqual(drops, 0)


class Cleanup(unittest.TestCase):
    """Nothing is left: not after close(), not after SIGTERM, and what a
    SIGKILLed run leaves the next run removes."""

    @classmethod
    def setUpClass(cls):
        skip_unless_available()

    def ours(self, pid):
        return [ns for ns in netbed.namespaces() if ns.startswith("rkv-nt%d-" % pid)]

    def child(self):
        """A python that builds a bed with a delayed link, prints "up" and
        waits."""
        code = ("import sys, time; sys.path.insert(0, %r); import netbed\n"
                "b = netbed.Bed('child'); b.add_host('x'); b.add_host('y'); b.link('x', 'y', 5)\n"
                "b.up(); print('up', b.hosts['y'].delayer.pid, flush=True); time.sleep(60)\n"
                % os.path.dirname(os.path.abspath(__file__)))
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        netbed.track(p)
        line = []
        for raw in p.stdout:    # its log lines come first
            line = raw.split()
            if line[:1] == ["up"]:
                break
        self.assertEqual(line[:1], ["up"], "the child did not build its bed")
        self.assertEqual(len(self.ours(p.pid)), 3)
        return p, int(line[1])

    def test_close_removes_namespaces_and_processes(self):
        b = netbed.Bed("close")
        b.add_host("x")
        b.add_host("y")
        b.link("x", "y", 1)
        b.up()
        delayer = b.hosts["y"].delayer.pid
        p = subprocess.Popen(["ip", "netns", "exec", b.hosts["x"].ns, "sleep", "60"])
        netbed.track(p)
        b.close()
        self.assertEqual(self.ours(os.getpid()), [])
        self.assertIsNotNone(p.wait(5), "a process in a namespace survived close()")
        netbed.stop_proc(p)
        self.assertFalse(os.path.exists("/proc/%d" % delayer) and
                         "netdelay" in open("/proc/%d/cmdline" % delayer).read())

    def test_sigterm_removes_everything(self):
        p, delayer = self.child()
        os.kill(p.pid, signal.SIGTERM)
        p.wait(20)
        netbed.stop_proc(p)
        self.assertEqual(self.ours(p.pid), [])
        self.assertFalse(os.path.exists("/proc/%d" % delayer))

    def test_leftovers_of_a_sigkilled_run_are_removed_by_the_next(self):
        p, delayer = self.child()
        p.kill()
        p.wait(10)
        netbed.stop_proc(p)
        self.assertEqual(len(self.ours(p.pid)), 3, "a SIGKILLed run can not clean up")
        gone = netbed.remove_stale()
        self.assertEqual(len([g for g in gone if g.startswith("rkv-nt%d-" % p.pid)]), 3)
        self.assertEqual(self.ours(p.pid), [])
        deadline = time.time() + 5
        while os.path.exists("/proc/%d" % delayer) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists("/proc/%d" % delayer),
                         "the dead run's delayer still runs")

    def test_the_machines_own_namespace_is_untouched(self):
        """Building a bed adds no interface and no iptables rule to the
        namespace the test started in."""
        def snapshot():
            links = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE,
                                   text=True).stdout
            rules = subprocess.run(["iptables", "-w", "5", "-S"], stdout=subprocess.PIPE,
                                   text=True).stdout
            return ({l.split(":")[1].strip().split("@")[0] for l in links.splitlines()},
                    {r for r in rules.splitlines() if "RKV_" in r or "10.213." in r})
        l0, r0 = snapshot()
        b = netbed.Bed("root")
        b.add_host("x")
        b.add_host("y")
        b.link("x", "y", 1)
        try:
            b.up()
            l1, r1 = snapshot()
        finally:
            b.close()
        self.assertEqual(l1 - l0, set(), "new interfaces in the root namespace")
        self.assertEqual(r1, set())
