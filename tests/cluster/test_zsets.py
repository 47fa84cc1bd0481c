"""Sorted sets across a cluster: a sorted set written through one node reads
the same through every other, the multi-key commands work on keys whose
replicas are different nodes, and writes made on both sides of a partition
merge as docs/types.md says (add-wins membership; ZADD's score is the last
writer's; ZINCRBY increments add up; ZREM removes what it saw, so a
concurrent ZINCRBY leaves the member with its increment alone). Reads
through each replica's score index (pops, ranks from one end, score ranges)
give what the merged replicas hold when a replica missed writes."""
from ringtest import ClusterTest


def zrange(r, key):
    return [(m, s) for m, s in r.zrange(key, 0, -1, withscores=True)]


class ZsetsAcrossNodes(ClusterTest):
    def test_zset_commands_through_every_node(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, and the keys of one multi-key command on different nodes
        c = self.new_cluster(4, replication=2)
        clients = [c.client(i) for i in range(4)]
        w = clients[0]
        self.assertEqual(w.zadd("z", {"a": 1, "b": 2, "c": 3}), 3)
        for r in clients:
            self.assertEqual(zrange(r, "z"), [("a", 1.0), ("b", 2.0), ("c", 3.0)])
            self.assertEqual(r.zcard("z"), 3)
            self.assertEqual(r.zscore("z", "b"), 2.0)
            self.assertEqual(r.zrank("z", "c"), 2)
            self.assertEqual(r.type("z"), "zset")

        # each node increments in turn: each sees the previous one's
        for r in clients:
            r.zincrby("z", 10, "a")
        for r in clients:
            self.assertEqual(r.zscore("z", "a"), 41.0)
            self.assertEqual(r.zrevrange("z", 0, 0), ["a"])

        # keys spread over the ring, so that the algebra below reads and
        # writes keys whose replicas differ
        keys = ["k%d" % i for i in range(8)]
        owners = {k: tuple(sorted(c.owners(k))) for k in keys}
        self.assertGreater(len(set(owners.values())), 1, owners)
        for i, k in enumerate(keys):
            self.assertEqual(clients[i % 4].zadd(k, {"m%d" % j: j for j in range(i, i + 4)}), 4)
        union = {"m%d" % j: float(sum(j for i in range(8) if i <= j < i + 4)) for j in range(11)}
        expect_union = sorted(union.items(), key=lambda x: (x[1], x[0]))
        for r in clients:
            self.assertEqual(r.zunion(keys, withscores=True), expect_union)
            self.assertEqual(r.zinter(["k2", "k3", "k4"], withscores=True),
                             [("m4", 12.0), ("m5", 15.0)])
            self.assertEqual(r.zdiff(["k0", "k1"]), ["m0"])
            self.assertEqual(r.execute_command("ZINTERCARD", 2, "k5", "k6"), 3)
        self.assertEqual(clients[1].zunionstore("dst", keys), len(union))
        self.assertEqual(clients[3].zinterstore("dst2", ["k0", "k3"], aggregate="MAX"), 1)
        self.assertEqual(clients[2].zrangestore("dst3", "k7", 1, 2), 2)
        for r in clients:
            self.assertEqual(zrange(r, "dst"), expect_union)
            self.assertEqual(zrange(r, "dst2"), [("m3", 3.0)])
            self.assertEqual(zrange(r, "dst3"), [("m8", 8.0), ("m9", 9.0)])

        # ZMPOP over keys on different nodes takes from the first that exists
        self.assertEqual(clients[2].zmpop(2, ["nokey", "k6"], min=True, count=2),
                         ["k6", [["m6", "6"], ["m7", "7"]]])
        # ZPOPMAX everything through one node: the key is gone everywhere
        self.assertEqual(clients[1].zpopmax("k6", 10), [("m9", 9.0), ("m8", 8.0)])
        self.assertEqual(clients[3].zremrangebyscore("k5", "-inf", "+inf"), 4)
        for r in clients:
            self.assertEqual(r.exists("k6"), 0)
            self.assertEqual(r.zcard("k6"), 0)
            self.assertEqual(r.exists("k5"), 0)

        # WRONGTYPE through any node
        w.set("str", "v")
        for r in clients:
            with self.assertRaises(Exception) as e:
                r.zadd("str", {"a": 1})
            self.assertIn("WRONGTYPE", str(e.exception))


class ZsetsUnderPartition(ClusterTest):
    def _partitioned(self):
        # strict: no fallback keeps a hint; no periodic anti-entropy: the
        # sides only meet through the reads at the end
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        return c, 0, 1, 2

    def _only(self, c, up, down):
        """Node up alone: the others killed and seen down; its client with
        WRITE ONE (READ ONE: it answers from its own copy)."""
        for d in down:
            c.kill9(d)
        for d in down:
            c.wait_seen_down(d, by=[up])
        r = c.client(up)
        r.execute_command("CONSISTENCY", "READ", "ONE", "WRITE", "ONE")
        return r

    def _all_read(self, c, i):
        r = c.client(i)
        r.execute_command("CONSISTENCY", "READ", "ALL")
        return r

    def _split(self, c, A, B, C, side_a, side_b):
        """side_a(client) with A alone, then side_b(client) with B and C
        (which never saw side a), then everyone back."""
        a = self._only(c, A, [B, C])
        side_a(a)
        c.restart(B, wait=False)
        c.restart(C)
        b = self._only(c, B, [A])
        side_b(b)
        c.restart(A)
        c.wait_all_up()

    def test_zrem_concurrent_with_zincrby_and_the_increments_add_up(self):
        c, A, B, C = self._partitioned()
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.zadd("z", {"x": 4.1, "y": 1, "n": 10}), 3)

        def side_a(a):
            self.assertEqual(a.zrem("z", "x"), 1)       # docs/types.md's example
            self.assertEqual(a.zincrby("z", 5, "n"), 15.0)

        def side_b(b):
            self.assertEqual(b.zincrby("z", 2, "x"), 6.1)
            self.assertEqual(b.zincrby("z", 7, "n"), 17.0)
            self.assertEqual(b.zadd("z", {"y": 3}), 0)

        self._split(c, A, B, C, side_a, side_b)
        for i in (A, B, C):
            r = self._all_read(c, i)
            # x: the ZREM removed the 4.1 it saw, not B's increment
            self.assertEqual(r.zscore("z", "x"), 2.0, "via node %d" % i)
            # n: both sides' increments
            self.assertEqual(r.zscore("z", "n"), 22.0, "via node %d" % i)
            self.assertEqual(r.zscore("z", "y"), 3.0, "via node %d" % i)
            self.assertEqual(r.zrange("z", 0, -1), ["x", "y", "n"], "via node %d" % i)

    def test_concurrent_zadds_last_writer_wins_and_del_keeps_the_new_member(self):
        c, A, B, C = self._partitioned()
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.zadd("z", {"x": 1}), 1)
        self.assertEqual(w.zadd("d", {"x": 1, "y": 2}), 2)

        def side_a(a):
            self.assertEqual(a.zadd("z", {"x": 100}), 0)
            self.assertEqual(a.delete("d"), 1)

        def side_b(b):
            self.assertEqual(b.zadd("z", {"x": 200}), 0)  # written later: wins
            self.assertEqual(b.zadd("d", {"z": 3}), 1)

        self._split(c, A, B, C, side_a, side_b)
        for i in (A, B, C):
            r = self._all_read(c, i)
            self.assertEqual(r.zscore("z", "x"), 200.0, "via node %d" % i)
            self.assertEqual(zrange(r, "d"), [("z", 3.0)], "via node %d" % i)


class ZsetIndexWhenAReplicaMissedWrites(ClusterTest):
    def test_ranges_and_pops_read_the_merge_when_one_replica_lists_stale_members(self):
        # strict, no periodic anti-entropy: C keeps its stale copy (and its
        # stale score index) until the reads below, which ask every replica
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        A, B, C = 0, 1, 2
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.zadd("z", {"a%d" % i: i for i in range(1, 7)}), 6)
        c.kill9(C)
        c.wait_seen_down(C, by=[A, B])
        w.execute_command("CONSISTENCY", "WRITE", "QUORUM")
        # C misses these: its index still lists a1 and a2 first, not n
        self.assertEqual(w.zpopmin("z", 2), [("a1", 1.0), ("a2", 2.0)])
        self.assertEqual(w.zadd("z", {"n": 0, "a6": 60}), 1)
        c.restart(C)
        c.wait_all_up()
        before = sum(int(c.info(i, "ring").get("range_rereads", 0)) for i in (A, B, C))
        for i in (C, A, B):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(r.zrange("z", 0, 2, withscores=True),
                             [("n", 0.0), ("a3", 3.0), ("a4", 4.0)], "via node %d" % i)
            self.assertEqual(r.zrange("z", -2, -1), ["a5", "a6"], "via node %d" % i)
            self.assertEqual(r.zrevrange("z", 0, 0, withscores=True), [("a6", 60.0)])
            self.assertEqual(r.zrangebyscore("z", "-inf", 3.5), ["n", "a3"], "via node %d" % i)
            self.assertEqual(r.zrangebyscore("z", 1, 100, start=1, num=2), ["a4", "a5"])
            self.assertEqual(r.zrevrangebyscore("z", 5, "-inf", start=0, num=2), ["a5", "a4"])
            self.assertEqual(r.zcount("z", 0, 3), 2, "via node %d" % i)
        after = sum(int(c.info(i, "ring").get("range_rereads", 0)) for i in (A, B, C))
        # the replicas' lists differed: the members were read again by name
        self.assertGreater(after, before)
        # a pop through the stale node, reading every replica: the merged
        # smallest, and every replica ends without it
        r = c.client(C)
        r.execute_command("CONSISTENCY", "READ", "ALL", "WRITE", "ALL")
        self.assertEqual(r.zpopmin("z"), [("n", 0.0)])
        self.assertEqual(r.zpopmax("z"), [("a6", 60.0)])
        # C's own copy still lists a1 and a2 (nothing repaired collections
        # on it yet); anti-entropy brings it the pops it missed
        for i in (A, B, C):
            c.repair(i)
        for i in (A, B, C):
            q = c.client(i)
            q.execute_command("CONSISTENCY", "READ", "ONE")
            self.assertEqual(q.zrange("z", 0, -1), ["a3", "a4", "a5"], "via node %d" % i)
            self.assertEqual(q.zrange("z", 0, 0), ["a3"], "via node %d" % i)
        # popping the rest through the index deletes the key
        self.assertEqual(r.zpopmin("z", 3), [("a3", 3.0), ("a4", 4.0), ("a5", 5.0)])
        for i in (A, B, C):
            self.assertEqual(c.client(i).exists("z"), 0, "via node %d" % i)


class ZsetRanksWhileWriting(ClusterTest):
    def test_the_member_at_each_index_has_that_rank(self):
        # Redis's "ZRANK augmented skip list stress testing" through a
        # 3-node cluster: ZRANGE i i reads a run of the score index (with a
        # replica still applying the last write, the runs differ and are read
        # again by name), ZRANK the whole set: they must agree after every
        # write (a late replica's answer once slipped into a reread view)
        import random
        c = self.new_cluster(3, replication=3)
        clients = [c.client(i) for i in range(3)]
        rnd = random.Random(3)
        for k in range(2000):
            r = clients[k % 3]
            i = k % 128
            if rnd.random() < .2:
                r.zrem("myzset", i)
            else:
                r.zadd("myzset", {str(i): rnd.random()})
            card = r.zcard("myzset")
            if card > 0:
                index = rnd.randrange(card)
                ele = r.zrange("myzset", index, index)
                self.assertEqual(len(ele), 1, "write %d" % k)
                self.assertEqual(r.zrank("myzset", ele[0]), index, "write %d" % k)
