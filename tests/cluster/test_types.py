"""Collections across replicas: what docs/types.md's table promises when
the two sides of a partition write the same keys, then meet again (every
replica reads the same merged state), and that a join moves a
collection's elements with its key.

The partition is made by killing nodes (as test_consistency.py does): only
A runs while one side writes, only B and C while the other does, with
CONSISTENCY ... ONE so that each side's writes are acknowledged alone, and
no periodic anti-entropy, so that only RING REPAIR moves the states
between replicas afterwards."""
import time

from ringtest import ClusterTest


def local_read(c, i, *cmd):
    """cmd through node i at READ ONE: its own copy (the read asks the
    receiving node first and answers with the first reply)."""
    return c.with_level(i, [cmd], read="ONE")[-1]


class PartitionedWrites(ClusterTest):
    def test_each_type_merges_as_the_table_says(self):
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        A, B, C = 0, 1, 2
        a = c.client(A)
        # before the partition, through A, every replica acknowledging
        a.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(a.sadd("s", "x", "y"), 2)
        self.assertEqual(a.hset("h", "f", "5"), 1)
        self.assertEqual(a.hset("h", "g", "keep"), 1)
        self.assertEqual(a.zadd("z", {"x": 4.1}), 1)
        self.assertEqual(a.pfadd("p", "a", "b"), 1)
        self.assertEqual(a.sadd("d", "x", "y"), 2)
        a.close()

        # side 1: A alone
        c.kill9(B)
        c.kill9(C)
        c.wait_seen_down(B)
        c.wait_seen_down(C)
        side1 = [
            ("SREM", "s", "x"),
            ("HDEL", "h", "f"),
            ("ZREM", "z", "x"),
            ("PFADD", "p", "c"),
            ("DEL", "d"),
        ]
        out = c.with_level(A, side1, read="ONE", write="ONE")
        self.assertEqual(out[-5:], [1, 1, 1, 1, 1], out)

        # side 2: B and C, A down; they never saw side 1
        c.restart(B, wait=False)
        c.restart(C)
        c.kill9(A)
        c.wait_seen_down(A)
        side2 = [
            ("SADD", "s", "x"),      # x is still a member here: 0 added
            ("HINCRBY", "h", "f", 7),
            ("ZINCRBY", "z", 2, "x"),
            ("PFADD", "p", "b", "d"),
            ("SADD", "d", "z"),
        ]
        out = c.with_level(B, side2, read="ONE", write="ONE")
        self.assertEqual(out[-5:], [0, 12, 6.1, 1, 1], out)

        # heal: every node up, anti-entropy once
        c.restart(A)
        c.wait_all_up()
        for i in range(3):
            c.repair(i)

        for i in range(3):
            self.assertEqual(sorted(local_read(c, i, "SMEMBERS", "s")), ["x", "y"], i)
            # B added x concurrently with A's SREM: add wins
            self.assertEqual(local_read(c, i, "HGET", "h", "f"), "7", i)
            self.assertEqual(local_read(c, i, "HGET", "h", "g"), "keep", i)
            # HDEL on one side, HINCRBY on the other: the increment alone
            self.assertEqual(float(local_read(c, i, "ZSCORE", "z", "x")), 2.0, i)
            self.assertEqual(local_read(c, i, "PFCOUNT", "p"), 4, i)
            self.assertEqual(sorted(local_read(c, i, "SMEMBERS", "d")), ["z"], i)
            self.assertEqual(local_read(c, i, "TYPE", "d"), "set", i)


class Join(ClusterTest):
    def test_a_join_moves_every_element_with_its_key(self):
        c = self.new_cluster(3, replication=2)
        cl = c.client(0)
        keys = ["set%d" % k for k in range(40)]
        p = cl.pipeline(transaction=False)
        for k in keys:
            p.sadd(k, *["m%d" % m for m in range(25)])
            p.hset("h" + k, mapping={"f%d" % m: str(m) for m in range(10)})
        p.execute()
        cl.close()
        new = c.add_node()
        c.wait_until(lambda: all("transfers: none" in c.cmd(i, "RING", "STATUS")
                                 for i in range(4)), 60, "transfers to end")
        want = sorted("m%d" % m for m in range(25))
        moved = 0
        for k in keys:
            owners = c.owners(k)
            if new in owners:
                moved += 1
            for o in owners:
                # each owner's own copy holds every element
                self.assertEqual(sorted(local_read(c, o, "SMEMBERS", k)), want, (k, o))
                self.assertEqual(local_read(c, o, "HGET", "h" + k, "f7"), "7", (k, o))
        self.assertGreater(moved, 0, "the join moved none of the keys")


if __name__ == "__main__":
    import unittest
    unittest.main()


class ReadFanoutNeeded(ClusterTest):
    def test_collection_reads_ask_only_what_the_level_needs_and_survive_a_hung_replica(self):
        # read-fanout needed: a collection read asks its own copy and one
        # more replica (R=2 of N=3); a hung one is replaced by the held-back
        # one after read-retry-ms, and every answer is still the merge of R
        c = self.new_cluster(3, replication=3, read_fanout="needed")
        clients = [c.client(i) for i in range(3)]
        w = clients[0]
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.sadd("s", *["m%d" % i for i in range(50)]), 50)
        self.assertEqual(w.hset("h", mapping={"f%d" % i: i for i in range(20)}), 20)
        self.assertEqual(w.zadd("z", {"z%d" % i: i for i in range(30)}), 30)
        for r in clients:
            self.assertEqual(r.scard("s"), 50)
            self.assertEqual(r.hget("h", "f7"), "7")
            self.assertEqual(r.zrange("z", 0, 2), ["z0", "z1", "z2"])
        # keys whose replicas come in different orders: from nodes 0 and 1,
        # some ask the hung node 2 first (which depends on the ring's tokens)
        keys = ["k%d" % i for i in range(24)]
        for k in keys:
            self.assertEqual(w.sadd(k, "a", "b"), 2)
        retries = lambda: sum(int(c.info(i, "ring").get("read_retries", 0)) for i in range(3))
        before = retries()
        c.pause(2)
        try:
            for i in (0, 1):
                r = clients[i]
                self.assertEqual(r.scard("s"), 50)
                self.assertEqual(r.hgetall("h")["f19"], "19")
                self.assertEqual(r.zrevrange("z", 0, 0), ["z29"])
                self.assertEqual(r.zscore("z", "z3"), 3.0)
                for k in keys:
                    self.assertEqual(r.smembers(k), {"a", "b"}, "%s via node %d" % (k, i))
        finally:
            c.resume(2)
        self.assertGreater(retries(), before)


class CountsFromFigures(ClusterTest):
    def test_scard_hlen_zcard_agree_with_the_merge_when_a_replica_missed_writes(self):
        # SCARD, HLEN and ZCARD answer from each replica's figures (count and
        # digest) when the replicas asked agree, else from a whole read: a
        # replica that missed writes must not change the answer
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        A, B, C = 0, 1, 2
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.sadd("s", *["m%d" % i for i in range(300)]), 300)
        self.assertEqual(w.hset("h", mapping={"f%d" % i: i for i in range(200)}), 200)
        self.assertEqual(w.zadd("z", {"z%d" % i: i for i in range(100)}), 100)
        for i in (A, B, C):
            r = c.client(i)
            self.assertEqual((r.scard("s"), r.hlen("h"), r.zcard("z")), (300, 200, 100))
        c.kill9(C)
        c.wait_seen_down(C, by=[A, B])
        w.execute_command("CONSISTENCY", "WRITE", "QUORUM")
        self.assertEqual(w.srem("s", *["m%d" % i for i in range(10)]), 10)
        self.assertEqual(w.sadd("s", "n1", "n2", "n3", "n4", "n5"), 5)
        self.assertEqual(w.hdel("h", "f1", "f2"), 2)
        self.assertEqual(w.zpopmin("z", 3), [("z0", 0.0), ("z1", 1.0), ("z2", 2.0)])
        w.delete("gone")
        self.assertEqual(w.sadd("gone", "x"), 1)
        c.restart(C)
        c.wait_all_up()
        for i in (C, A, B):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(r.scard("s"), 295, "via node %d" % i)
            self.assertEqual(r.hlen("h"), 198, "via node %d" % i)
            self.assertEqual(r.zcard("z"), 97, "via node %d" % i)
            self.assertEqual(r.scard("gone"), 1, "via node %d" % i)
        # DEL, then the key again: counted from the new elements only
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        w.delete("s")
        self.assertEqual(w.sadd("s", "a", "b"), 2)
        for i in (A, B, C):
            c.repair(i)
        for i in (A, B, C):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ONE")  # its own figures
            self.assertEqual((r.scard("s"), r.hlen("h"), r.zcard("z")), (2, 198, 97),
                             "via node %d" % i)
