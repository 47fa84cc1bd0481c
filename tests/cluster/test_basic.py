"""A healthy cluster behaves like one Redis server, whichever node a client
talks to: writes through one node read back through every other node,
pipelines keep their order, the keyspace commands (DBSIZE, KEYS, SCAN) cover
the whole cluster, a lone node is a single server, and redis-benchmark runs
clean against a node of a cluster."""
import re
import subprocess
import time

from ringtest import ClusterTest


class CommandsAcrossNodes(ClusterTest):
    def test_writes_through_one_node_read_through_every_other(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, so every read below goes over the bus.
        c = self.new_cluster(4, replication=2)
        w = c.client(0)
        readers = [c.client(i) for i in (1, 2, 3)]

        # SET / GET
        self.assertTrue(w.set("greeting", "hello"))
        for r in readers:
            self.assertEqual(r.get("greeting"), "hello")

        # INCR through every node in turn: each sees the previous one's
        for n, i in enumerate([0, 1, 2, 3, 0, 2], start=1):
            self.assertEqual(c.client(i).incr("counter"), n)
        self.assertEqual(w.incrby("counter", 10), 16)
        for r in readers:
            self.assertEqual(r.get("counter"), "16")

        # APPEND through another node than the one that created the key
        self.assertEqual(readers[0].append("greeting", " world"), len("hello world"))
        self.assertEqual(readers[2].get("greeting"), "hello world")
        self.assertEqual(w.strlen("greeting"), 11)

        # SETNX: an existing key (written elsewhere) is not overwritten
        self.assertFalse(readers[1].setnx("greeting", "nope"))
        self.assertTrue(readers[1].setnx("fresh", "first"))
        self.assertFalse(readers[0].setnx("fresh", "second"))
        for r in [w] + readers:
            self.assertEqual(r.get("fresh"), "first")
            self.assertEqual(r.get("greeting"), "hello world")

        # GETSET returns the value another node wrote
        self.assertEqual(readers[2].getset("fresh", "second"), "first")
        self.assertEqual(readers[0].get("fresh"), "second")

        # MSET through one node, MGET (in order, missing keys nil) through the others
        kv = {"m:%d" % i: "val-%d" % i for i in range(40)}
        self.assertTrue(w.mset(kv))
        names = sorted(kv) + ["m:missing"]
        for r in readers:
            self.assertEqual(r.mget(names), [kv[k] for k in sorted(kv)] + [None])

        # DEL through one node: gone everywhere
        self.assertEqual(readers[2].delete("m:0", "m:1", "m:missing"), 2)
        for r in [w] + readers:
            self.assertIsNone(r.get("m:0"))
            self.assertEqual(r.exists("m:0", "m:1", "m:2"), 1)

        # EXPIRE through one node: the TTL is seen through the others and
        # the key disappears everywhere when it is due
        self.assertTrue(w.set("temp", "soon gone"))
        self.assertTrue(readers[0].pexpire("temp", 800))
        for r in readers[1:]:
            pttl = r.pttl("temp")
            self.assertTrue(0 < pttl <= 800, pttl)
        self.assertTrue(w.set("temp2", "x", ex=100))
        self.assertTrue(90 <= readers[1].ttl("temp2") <= 100)
        self.assertEqual(readers[2].ttl("greeting"), -1)
        c.wait_until(lambda: all(r.get("temp") is None for r in [w] + readers), 5,
                     "the expired key to disappear through every node")
        for r in [w] + readers:
            self.assertEqual(r.exists("temp"), 0)
            self.assertEqual(r.pttl("temp"), -2)

        # binary-safe values survive the bus
        raw = bytes(range(256)) * 3
        wb = c.client(1, decode=False)
        self.assertTrue(wb.set(b"bin\x00key", raw))
        for i in (0, 2, 3):
            self.assertEqual(c.client(i, decode=False).get(b"bin\x00key"), raw)

    def test_keyspace_commands_cover_the_whole_cluster(self):
        c = self.new_cluster(4, replication=2)
        keys = ["user:%d" % i for i in range(300)]
        w = c.client(2)
        p = w.pipeline(transaction=False)
        for k in keys:
            p.set(k, k.upper())
        self.assertTrue(all(p.execute()))

        # each key lives exactly on its 2 owners; no node holds everything
        held = {i: 0 for i in range(4)}
        for k in keys[:120]:
            owners = c.owners(k)
            self.assertEqual(len(owners), 2, owners)
            self.assertEqual(c.owners(k, via=3), owners)  # every node agrees
            for i in range(4):
                vals = [v for v, _ in c.local(i, k)]
                if i in owners:
                    self.assertEqual(vals, [k.upper()], (k, i))
                    held[i] += 1
                else:
                    self.assertEqual(vals, [], "%s stored on non-owner node %d" % (k, i))
        for i in range(4):
            self.assertLess(held[i], 120, "node %d holds every key" % i)
            self.assertGreater(held[i], 0, "node %d holds no key" % i)

        for i in range(4):
            r = c.client(i)
            self.assertEqual(r.dbsize(), len(keys), "DBSIZE via node %d" % i)
            self.assertEqual(sorted(r.keys("*")), sorted(keys), "KEYS via node %d" % i)
            self.assertEqual(sorted(r.keys("user:1?")), sorted("user:1%d" % d for d in range(10)))
            # full SCAN iteration, small COUNT: every key exactly once
            seen = []
            cursor = 0
            rounds = 0
            while True:
                cursor, batch = r.scan(cursor=cursor, count=17)
                seen.extend(batch)
                rounds += 1
                if cursor == 0:
                    break
                self.assertLess(rounds, 100000)
            self.assertEqual(len(seen), len(keys), "SCAN via node %d returned duplicates or "
                             "missed keys" % i)
            self.assertEqual(sorted(seen), sorted(keys))
            self.assertGreater(rounds, 1)
            matched = list(r.scan_iter(match="user:2?", count=50))
            self.assertEqual(sorted(matched), sorted("user:2%d" % d for d in range(10)))

        # deletes through one node are seen by DBSIZE/KEYS through another
        self.assertEqual(c.client(0).delete(*keys[:100]), 100)
        self.assertEqual(c.client(3).dbsize(), 200)
        self.assertEqual(sorted(c.client(1).keys("*")), sorted(keys[100:]))
        self.assertEqual(sorted(c.client(1).scan_iter(count=23)), sorted(keys[100:]))


class Pipelining(ClusterTest):
    def test_2000_pipelined_writes_read_back_through_others_in_order(self):
        c = self.new_cluster(3)
        w = c.client(0)
        n = 2000
        p = w.pipeline(transaction=False)
        for i in range(n):
            p.set("pk:%d" % i, "v%d" % i)
            # a read of the key just written, in the same pipeline: its reply
            # must come right after the SET's and see it
            p.get("pk:%d" % i)
            if i % 100 == 0:
                p.incr("pipe:order")
        replies = p.execute(raise_on_error=False)
        expected = []
        ctr = 0
        for i in range(n):
            expected += [True, "v%d" % i]
            if i % 100 == 0:
                ctr += 1
                expected.append(ctr)
        self.assertEqual(len(replies), len(expected))
        bad = [(j, replies[j], expected[j]) for j in range(len(expected))
               if replies[j] != expected[j]]
        self.assertEqual(bad[:10], [], "%d replies out of order or wrong" % len(bad))
        c.wait_quiet()

        for i in (1, 2):
            r = c.client(i)
            p = r.pipeline(transaction=False)
            for k in range(n):
                p.get("pk:%d" % k)
            got = p.execute()
            self.assertEqual(got, ["v%d" % k for k in range(n)], "read back via node %d" % i)
            self.assertEqual(r.get("pipe:order"), str(ctr))
        self.assertEqual(c.client(2).dbsize(), n + 1)


class LoneNode(ClusterTest):
    def test_lone_node_is_a_single_server_and_says_under_replicated(self):
        c = self.empty_cluster()
        i = c.add_node(opts={}, seeds="", fast=False)  # defaults: replication 3, R=W=2
        r = c.client(i)
        self.assertTrue(r.set("a", "1"))
        self.assertEqual(r.get("a"), "1")
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.append("a", "2"), 2)
        self.assertEqual(r.mget("a", "n", "zz"), ["12", "1", None])
        self.assertEqual(r.dbsize(), 2)
        self.assertEqual(sorted(r.keys("*")), ["a", "n"])
        ctx_vals = r.execute_command("VGET", "a")
        self.assertEqual(ctx_vals[1:], ["12"])
        self.assertEqual(r.delete("a"), 1)
        self.assertIsNone(r.get("a"))
        self.assertEqual(r.execute_command("RING", "OWNERS", "n"), [c.addr(i)])
        # the default levels stay 2/2 (with one replica they are capped at 1)
        cons = r.execute_command("CONSISTENCY")
        self.assertEqual(cons[:4], ["read", "2", "write", "2"])
        self.assertEqual(cons[4:], ["mode", c.ring_info(i)["quorum_mode"]])

        info = c.ring_info(i)
        self.assertEqual(info["ring_nodes"], "1")
        self.assertEqual(info["ring_replication"], "3")
        self.assertEqual(info["ring_replicas_per_partition"], "1")
        self.assertEqual(info["ring_under_replicated"], "1")
        self.assertEqual(info["ring_partitions_owned"], info["ring_partitions"])
        info2 = r.info("ring")
        self.assertEqual(str(info2.get("ring_under_replicated")), "1")
        self.assertEqual(str(info2.get("ring_replicas_per_partition")), "1")
        lines = c.ring_nodes(i)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].myself)

        # a survivor of a restart too
        c.restart(i)
        self.assertEqual(c.client(i).get("n"), "1")


class Benchmark(ClusterTest):
    def test_redis_benchmark_against_one_node_of_three(self):
        c = self.new_cluster(3)
        nd = c.nodes[0]
        t0 = time.time()
        p = subprocess.run(["redis-benchmark", "-h", nd.host, "-p", str(nd.port), "-t", "set,get",
                            "-n", "20000", "-r", "100000", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 0, out)
        self.assertNotRegex(out, r"(?i)error|ERR |NOQUORUM|CLUSTERDOWN|Connection refused", out)
        # -q prints progress lines ended by \r, then one final line per test
        final = [l.strip() for l in re.split(r"[\r\n]", out) if "requests per second" in l]
        rps = dict(re.findall(r"^(SET|GET): ([0-9.]+) requests per second", "\n".join(final), re.M))
        self.assertEqual(sorted(rps), ["GET", "SET"], out)
        for t in ("SET", "GET"):
            self.assertGreater(float(rps[t]), 0, out)
        print("\n    redis-benchmark in %.1fs: SET %s rps, GET %s rps" %
              (elapsed, rps.get("SET"), rps.get("GET")))
        # the keys it wrote are readable through the other nodes (once the
        # third replica of each write has caught up: see wait_quiet)
        c.wait_quiet()
        sample = c.client(0).keys("key:*")
        self.assertGreater(len(sample), 1000)
        self.assertEqual(c.client(1).dbsize(), len(sample))
        for k in sample[:50]:
            self.assertIsNotNone(c.client(2).get(k))
