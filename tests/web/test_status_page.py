"""The HTTP status page (GET /) and /metrics of a 3-node ringkv cluster,
as a person sees them: the page is loaded in headless Chromium (Debian's
package), its rendered DOM checked and screenshots kept in
tests/web/artifacts/ (status.png healthy, status-down.png with a node
killed, status-repair.png during an anti-entropy pass, status-join.png
during a join, status-4-nodes.png after it).

The tests run in order on one cluster (started with --http-port):
  1 healthy: every node's page draws the ring as <svg id="ring"> with 256
    <path class="partition"> (data-partition 0..255 once each), each
    colored like the swatch of the node in data-owner, that node being the
    first owner RING OWNERS gives for a key of that partition (found with
    the same XXH3 partition function), a node having the same color on
    every node's page; the <table id="nodes"> has one
    tr.node per RING NODES id, all up/normal, td.primary = partitions
    the node is first owner of (from RING OWNERS), td.held = partitions it
    holds a replica of (from RING OWNERS, and = ring_partitions_owned of
    its RING INFO), primaries adding up to 256; <p id="idle"> and
    <p id="hints"> are shown.
  2 node down: node 2 is killed (-9); once the others no longer list it up
    (fail-timeout), the reloaded pages show it down or suspect (the others
    up), then down; its partitions stay its own (a failure is not a
    membership change).
  3 repair: with node 2 down, 300 keys are written (it misses them); it
    is restarted, anti-entropy-rate lowered to 20 keys/s and RING REPAIR
    ASYNC started on it: its page shows a div.job progress bar (div.fill
    width = done/total of the detail text, 0..100%) and no idle text;
    when RING STATUS says idle, the page shows <p id="idle"> again and
    node 2 holds the keys.
  4 /metrics: Prometheus text format 0.0.4, parsed strictly (every
    non-comment line `name{labels} value`, no duplicate series, TYPE before
    samples), with ringkv_commands_total (+10 for 10 SETs) and
    ringkv_command_duration_seconds_bucket histograms whose buckets grow
    with le and end with le="+Inf" = _count; unknown paths answer 404.
  5 join: 1500 keys of 1 KB are written, a 4th node joins with
    handoff-rate 50kb/s (raised by CONFIG SET once its page showed both
    what follows: the rest of the transfer need not crawl): its page shows
    it joining and the join's progress
    as div.job#transfers (fill width = partitions received / partitions it
    gains, as the detail text says, = div.pct; screenshot status-join.png),
    any div.job#transfer of one partition well formed too; once the ring
    settles every page shows 4 nodes up/normal and the new ring's counts
    as in 1 (screenshot status-4-nodes.png), and the new node serves the
    data."""
import os
import re
import shutil
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
import ringtest  # noqa: E402
from testprocs import wait_until  # noqa: E402
import webtools  # noqa: E402

ARTIFACTS = os.environ.get("RINGKV_WEB_ARTIFACTS", os.path.join(HERE, "artifacts"))


class StatusPageTest(unittest.TestCase):
    cluster = None

    @classmethod
    def setUpClass(cls):
        if not webtools.chromium_path():
            raise AssertionError("chromium is missing (tests/run-web.sh installs it)")
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="ringkv-web-", dir=ringtest.TMP_PARENT)
        cls.cluster = ringtest.Cluster("web", net=ringtest.WEB_NET, first=11)
        try:
            # anti-entropy on demand only: test 3 must find the data its
            # own RING REPAIR brings back, not a periodic pass's leftovers
            cls.cluster.start(3, http=True, replication=3, anti_entropy_interval=0)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            cls.cluster.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run(self, result=None):
        # the tests build on each other: after a failure, the rest is moot
        if result is not None and getattr(type(self), "_broken", None):
            result.startTest(self)
            result.addSkip(self, "an earlier status page test failed (%s)" % type(self)._broken)
            result.stopTest(self)
            return result
        res = super().run(result)
        if result is not None and any(t is self for t, _ in result.failures + result.errors):
            type(self)._broken = self._testMethodName
            print("\n==== node logs ====\n" + self.cluster.log_tails())
        return res

    # ------------------------------------------------------------ helpers

    def url(self, i, path="/"):
        return "http://%s:%d%s" % (self.cluster.host(i), self.cluster.http_port(i), path)

    def page(self, i):
        dom = webtools.parse_dom(webtools.chromium(self.url(i), "dom", tmp=self.tmp))
        self.assertIsNotNone(dom.find("svg", id="ring"), "no <svg id=ring> on node %d's page" % i)
        return dom

    def screenshot(self, i, name):
        out = os.path.join(ARTIFACTS, name)
        if os.path.exists(out):
            os.remove(out)
        webtools.chromium(self.url(i), "png", out=out, tmp=self.tmp)
        print("\n    screenshot: %s" % out)
        return out

    def rows(self, dom):
        table = dom.find("table", id="nodes")
        self.assertIsNotNone(table, "no <table id=nodes>")
        out = {}
        for tr in table.find_all("tr", cls="node"):
            nid = tr.attrs.get("data-node")
            self.assertNotIn(nid, out, "two rows for node %s" % nid)
            cells = {}
            for cls in ("health", "status", "primary", "held"):
                td = tr.find("td", cls=cls)
                self.assertIsNotNone(td, "row %s has no td.%s" % (nid, cls))
                cells[cls] = td.text().strip()
                if cls == "health":
                    self.assertIn(cells[cls], td.classes, "td.health's class names its state")
            sw = tr.find("span", cls="swatch")
            m = re.search(r"background:\s*(#[0-9a-fA-F]{3,6})", sw.attrs.get("style", "")) \
                if sw is not None else None
            cells["color"] = m.group(1).lower() if m else None
            out[nid] = cells
        return out

    def jobs(self, dom):
        return dom.find_all("div", cls="job")

    def bar_width(self, job):
        """The width% of a job's div.fill (0..100), = its div.pct (rounded)."""
        fill = job.find("div", cls="fill")
        self.assertIsNotNone(fill, "the job has a div.fill")
        m = re.search(r"width:\s*([0-9.]+)%", fill.attrs.get("style", ""))
        self.assertIsNotNone(m, fill.attrs)
        width = float(m.group(1))
        self.assertTrue(0 <= width <= 100, width)
        pct = job.find("div", cls="pct")
        self.assertIsNotNone(pct, "the job shows its percentage")
        # both are rounded from the same fraction: 5.47 shows as 5.5 and 5%
        m = re.fullmatch(r"(\d+)%", pct.text().strip())
        self.assertIsNotNone(m, pct.text())
        self.assertLessEqual(abs(int(m.group(1)) - width), 0.55, (pct.text(), width))
        return width

    def expected_ownership(self):
        """{partition: [owner ids]} from RING OWNERS (one key per partition)."""
        c = self.cluster
        info = c.ring_info(0)
        nparts = int(info["ring_partitions"])
        qbits = nparts.bit_length() - 1
        self.assertEqual(1 << qbits, nparts)
        ids = {l.addr: l.id for l in c.ring_nodes(0)}
        owners = {}
        conn = c.client(0)
        try:
            for p, key in sorted(webtools.keys_per_partition(nparts, qbits).items()):
                owners[p] = [ids[a] for a in conn.execute_command("RING", "OWNERS", key)]
        finally:
            conn.close()
        return owners

    # -------------------------------------------------------------- tests

    def check_pages_match_ring(self):
        """Every live node's page against RING OWNERS / RING INFO / RING NODES
        (all nodes up and normal, nothing running)."""
        c = self.cluster
        n = len(c.nodes)
        owners = self.expected_ownership()
        self.assertEqual(len(owners), 256)
        ids = [c.node_id(i) for i in range(n)]
        for p, o in owners.items():
            self.assertEqual(len(o), 3, "partition %d has %d owners" % (p, len(o)))
        primary = {nid: sum(1 for o in owners.values() if o[0] == nid) for nid in ids}
        held = {nid: sum(1 for o in owners.values() if nid in o) for nid in ids}
        page_colors = []
        for i in range(n):
            dom = self.page(i)
            rows = self.rows(dom)
            self.assertEqual(set(rows), set(ids), "node %d's table lists every node once" % i)
            for nid, r in rows.items():
                self.assertEqual((r["health"], r["status"]), ("up", "normal"), (i, nid))
                self.assertEqual(int(r["primary"]), primary[nid], "primary of %s on page %d" %
                                 (nid, i))
                self.assertEqual(int(r["held"]), held[nid], "held of %s on page %d" % (nid, i))
                owned = int(c.ring_info(ids.index(nid))["ring_partitions_owned"])
                self.assertEqual(int(r["held"]), owned, "held vs RING INFO of %s" % nid)
            self.assertEqual(sum(int(r["primary"]) for r in rows.values()), 256)
            self.assertEqual(sum(int(r["held"]) for r in rows.values()), 3 * 256)
            paths = dom.find("svg", id="ring").find_all("path", cls="partition")
            self.assertEqual(len(paths), 256, "partitions drawn on node %d's page" % i)
            self.assertEqual(sorted(int(p.attrs["data-partition"]) for p in paths),
                             list(range(256)))
            colors = {nid: r["color"] for nid, r in rows.items()}
            self.assertEqual(len(set(colors.values())), n, "one color per node: %r" % colors)
            page_colors.append(colors)
            for p in paths:
                part, owner = int(p.attrs["data-partition"]), p.attrs["data-owner"]
                self.assertEqual(owner, owners[part][0], "owner of partition %d" % part)
                self.assertEqual(p.attrs.get("fill", "").lower(), colors[owner],
                                 "partition %d is drawn in its owner's color" % part)
                self.assertTrue(p.attrs.get("d", "").startswith("M "), p.attrs)
            self.assertIsNotNone(dom.find("p", id="idle"), "idle text when nothing runs")
            self.assertEqual(self.jobs(dom), [])
            hints = dom.find("p", id="hints")
            self.assertIsNotNone(hints)
            self.assertRegex(hints.text(), r"\b0\b")
            self.assertIn(ids[i], dom.find("p", id="self").text())
        # the same ring drawn by any node looks the same: a node keeps its
        # color from one node's page to the next
        for i in range(1, n):
            self.assertEqual(page_colors[i], page_colors[0],
                             "node colors on node %d's page vs node 0's" % i)
        return primary, held

    def test_1_healthy_cluster(self):
        self.check_pages_match_ring()
        self.screenshot(0, "status.png")

    def test_2_node_down(self):
        c = self.cluster
        down_id = c.node_id(2)
        before = self.rows(self.page(0))
        c.kill9(2)
        t0 = time.time()
        c.wait_seen_down(2)
        detected = time.time() - t0
        for i in (0, 1):
            rows = self.rows(self.page(i))
            self.assertIn(rows[down_id]["health"], ("down", "suspect"), (i, rows[down_id]))
            for nid, r in rows.items():
                if nid != down_id:
                    self.assertEqual(r["health"], "up", (i, nid, r))
                self.assertEqual(r["status"], "normal", (i, nid, r))
                self.assertEqual(r["primary"], before[nid]["primary"],
                                 "a failure moves no partition")

        def shown_down():
            return self.rows(self.page(0))[down_id]["health"] == "down"

        wait_until(shown_down, 30, "node 0's page to show node 2 down", interval=0.5)
        print("\n    failure detected in %.1fs, page shows node 2 down after %.1fs" %
              (detected, time.time() - t0))
        self.screenshot(0, "status-down.png")

    def test_3_repair_progress(self):
        c = self.cluster
        self.assertFalse(c.nodes[2].alive(), "node 2 is still down from test_2")
        w = c.client(0)
        try:
            for k in range(300):
                w.set("missed:%d" % k, "v%d" % k)
        finally:
            w.close()
        c.restart(2)  # and wait until all are up
        for i in range(3):
            c.cmd(i, "CONFIG", "SET", "anti-entropy-rate", "20")
        rows = self.rows(self.page(0))
        self.assertEqual({r["health"] for r in rows.values()}, {"up"})
        reply = c.cmd(2, "RING", "REPAIR", "ASYNC")
        self.assertIn("started", reply)
        dom = self.page(2)
        jobs = self.jobs(dom)
        self.assertEqual(len(jobs), 1, "one job on node 2's page during the repair: %r" % jobs)
        self.assertIsNone(dom.find("p", id="idle"), "no idle text while a repair runs")
        job = jobs[0]
        self.assertEqual(job.attrs.get("id"), "repair")
        width = self.bar_width(job)
        detail = job.find("div", cls="detail").text()
        d = re.search(r"(\d+) of (\d+) partitions", detail)
        self.assertIsNotNone(d, detail)
        done, total = int(d.group(1)), int(d.group(2))
        self.assertEqual(total, 256, detail)
        self.assertAlmostEqual(width, 100.0 * done / total, delta=0.06)
        self.assertLess(done, total, "the pass was still running")
        self.assertIn("anti-entropy", job.find("div", cls="label").text())
        print("\n    repair bar: %s%% (%s)" % (width, detail))
        self.screenshot(2, "status-repair.png")
        wait_until(lambda: "idle" in c.cmd(2, "RING", "STATUS").splitlines()[0],
                               180, "the repair to finish", interval=0.5)
        for i in range(3):
            c.cmd(i, "CONFIG", "SET", "anti-entropy-rate", "10000")
        dom = self.page(2)
        self.assertIsNotNone(dom.find("p", id="idle"), "idle text after the repair")
        self.assertEqual(self.jobs(dom), [])
        missing = [k for k in range(300)
                   if not c.cmd(2, "RING", "LOCAL", "missed:%d" % k)]
        self.assertEqual(missing, [], "keys the repair should have brought to node 2")

    def test_4_metrics(self):
        c = self.cluster

        def fetch():
            with urllib.request.urlopen(self.url(0, "/metrics"), timeout=10) as r:
                self.assertEqual(r.status, 200)
                ctype = r.headers.get("Content-Type", "")
                self.assertTrue(ctype.startswith("text/plain"), ctype)
                self.assertIn("version=0.0.4", ctype)
                return r.read().decode("utf-8")

        samples, types = webtools.parse_prometheus(fetch())
        self.assertTrue(all(n.startswith("ringkv_") for n, _ in samples),
                        [n for n, _ in samples if not n.startswith("ringkv_")])
        self.assertEqual(types.get("ringkv_commands_total"), "counter")
        self.assertEqual(types.get("ringkv_command_duration_seconds"), "histogram")
        set_key = ("ringkv_commands_total", frozenset({("cmd", "set")}))
        before = samples.get(set_key, 0)
        conn = c.client(0)
        try:
            for k in range(10):
                conn.set("metric:%d" % k, "x")
        finally:
            conn.close()
        samples, types = webtools.parse_prometheus(fetch())
        self.assertEqual(samples.get(set_key, 0) - before, 10, "ringkv_commands_total{cmd=set}")
        # every histogram (per command, per consistency level): cumulative
        # buckets ending with le="+Inf" = _count, and a _sum
        hists = {}
        for (name, labels), v in samples.items():
            fam = name[:-len("_bucket")]
            if name.endswith("_bucket") and types.get(fam) == "histogram":
                le = dict(labels)["le"]
                rest = frozenset(kv for kv in labels if kv[0] != "le")
                hists.setdefault((fam, rest), []).append((float(le.replace("Inf", "inf")), v))
        self.assertIn(("ringkv_command_duration_seconds", frozenset({("cmd", "set")})), hists,
                      "a SET latency histogram")
        self.assertTrue(any(f == "ringkv_coordinator_duration_seconds" for f, _ in hists),
                        "a coordinator latency histogram")
        for (fam, labels), buckets in hists.items():
            buckets.sort()
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), "buckets of %s%s grow with le" % (fam, labels))
            self.assertEqual(buckets[-1][0], float("inf"))
            self.assertEqual(buckets[-1][1], samples[(fam + "_count", labels)],
                             "le=+Inf equals _count for %s%s" % (fam, labels))
            self.assertIn((fam + "_sum", labels), samples)
        self.assertGreaterEqual(samples[("ringkv_command_duration_seconds_count",
                                         frozenset({("cmd", "set")}))], 10)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.url(0, "/nosuchpage"), timeout=10)
        self.assertEqual(cm.exception.code, 404)

    def test_5_join(self):
        """A 4th node joins while holding data back (handoff-rate 50kb/s,
        until its page showed it joining and the progress bar): the pages
        show it joining and its transfers as a progress bar, then 4 nodes
        up/normal with the partition counts of the new ring."""
        c = self.cluster
        conn = c.client(0)
        try:
            pipe = conn.pipeline(transaction=False)
            for k in range(1500):
                pipe.set("join:%d" % k, ("%04d" % k) * 250)  # 1000 bytes
            pipe.execute()
        finally:
            conn.close()
        before = self.rows(self.page(0))
        i = c.add_node(handoff_rate="50kb")
        new_id = c.node_id(i)
        t0 = time.time()
        seen_joining, seen_bar, shot, released = set(), None, False, False
        deadline = time.time() + 180
        while True:
            self.assertLess(time.time(), deadline, "the join did not finish within 180 s")
            if shot and i in seen_joining and not released:
                # the joining state and the bar are on the pages: the rest of
                # the transfer at the default rate (CONFIG SET at runtime),
                # its bars still checked on every round (was ~30 s at 50kb/s)
                c.cmd(i, "CONFIG", "SET", "handoff-rate", "64mb")
                released = True
            for page in (i, 0):
                dom = self.page(page)
                rows = self.rows(dom)
                if new_id not in rows:
                    continue  # node 0 has not heard of it yet
                if rows[new_id]["status"] == "joining":
                    seen_joining.add(page)
                for job in self.jobs(dom):
                    jid = job.attrs.get("id")
                    self.assertIn(jid, ("transfers", "transfer"), "a job during the join")
                    width = self.bar_width(job)
                    detail = job.find("div", cls="detail").text()
                    if jid == "transfers":  # the whole join: partitions received
                        self.assertEqual(page, i, "only the joining node receives partitions")
                        d = re.search(r"(\d+) of (\d+) partitions received", detail)
                        self.assertIsNotNone(d, detail)
                        got, gains = int(d.group(1)), int(d.group(2))
                        self.assertTrue(0 <= got < gains <= 256, detail)
                        self.assertAlmostEqual(width, 100.0 * got / gains, delta=0.06)
                        seen_bar = "%s%% (%s)" % (width, detail)
                        if not shot:
                            self.screenshot(page, "status-join.png")
                            shot = True
                    else:  # one partition's transfer: keys moved of ~total
                        self.assertIn("transfer of partition", job.find("div", cls="label").text())
                        d = re.search(r"(\d+) of ~(\d+) keys", detail)
                        self.assertIsNotNone(d, detail)
                        if int(d.group(2)) > 0:
                            self.assertAlmostEqual(width, min(100.0, 100.0 * int(d.group(1)) /
                                                              int(d.group(2))), delta=0.06)
            rows = self.rows(self.page(0))
            if (len(rows) == 4 and all(r["status"] == "normal" for r in rows.values()) and
                    all(c.ring_info(j)["ring_changing"] == "0" for j in range(4))):
                break
        print("\n    join took %.1fs; seen joining on pages of nodes %s; transfer bar %s" % (
            time.time() - t0, sorted(seen_joining), seen_bar))
        self.assertIn(i, seen_joining, "the new node's page showed it joining")
        self.assertTrue(seen_bar, "the join's progress bar on the new node's page")
        c.wait_all_up()
        wait_until(lambda: all(self.jobs(self.page(j)) == [] for j in range(4)), 60,
                               "every page to be idle after the join", interval=0.5)
        primary, held = self.check_pages_match_ring()
        self.assertEqual(set(primary), set(before) | {new_id})
        self.assertGreater(primary[new_id], 0, "the new node is first owner of some partitions")
        self.assertEqual(sum(primary.values()), 256)
        self.screenshot(0, "status-4-nodes.png")
        conn = c.client(i)
        try:
            self.assertEqual(conn.get("join:1234"), "1234" * 250, "data through the new node")
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
