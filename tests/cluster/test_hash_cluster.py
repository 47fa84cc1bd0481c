"""Hashes in a cluster behave like one Redis server's, whichever node a
client talks to: a hash written through one node reads the same through
every other, increments through every node in turn each see the previous
one, an HDEL through one node that empties the hash deletes it everywhere,
and a hash keeps working with one of its three replicas down."""
from ringtest import ClusterTest


class HashAcrossNodes(ClusterTest):
    def test_hash_written_through_one_node_reads_through_every_other(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, so the reads below go over the bus.
        c = self.new_cluster(4, replication=2)
        w = c.client(0)
        readers = [c.client(i) for i in (1, 2, 3)]
        fields = {"f%d" % i: "v%d" % i for i in range(50)}
        self.assertEqual(w.hset("h", mapping=fields), 50)
        for r in readers:
            self.assertEqual(r.hgetall("h"), fields)
            self.assertEqual(r.hlen("h"), 50)
            self.assertEqual(r.hget("h", "f7"), "v7")
            self.assertEqual(r.hmget("h", ["f1", "nope", "f49"]), ["v1", None, "v49"])
            self.assertEqual(r.type("h"), "hash")

        # HINCRBY through every node in turn: each sees the previous one's
        for n, i in enumerate([0, 1, 2, 3, 0, 2], start=1):
            self.assertEqual(c.client(i).hincrby("h", "ctr", 1), n)
        self.assertEqual(readers[1].hincrbyfloat("h", "ctr", 0.5), 6.5)
        for r in [w] + readers:
            self.assertEqual(r.hget("h", "ctr"), "6.5")

        # HSETNX: a field written through another node is not overwritten
        self.assertEqual(readers[0].hsetnx("h", "f1", "nope"), 0)
        self.assertEqual(readers[2].hsetnx("h", "new", "first"), 1)
        self.assertEqual(w.hsetnx("h", "new", "second"), 0)
        for r in [w] + readers:
            self.assertEqual(r.hget("h", "new"), "first")
            self.assertEqual(r.hget("h", "f1"), "v1")

        # HDEL through one node; HSCAN through another sees the rest
        self.assertEqual(readers[1].hdel("h", *["f%d" % i for i in range(0, 50, 2)]), 25)
        want = {"f%d" % i: "v%d" % i for i in range(1, 50, 2)}
        want.update({"ctr": "6.5", "new": "first"})
        got, cursor = {}, 0
        while True:
            cursor, page = readers[2].hscan("h", cursor, count=7)
            got.update(page)
            if cursor == 0:
                break
        self.assertEqual(got, want)

        # emptied through one node: gone through every node
        self.assertEqual(w.hdel("h", *want), len(want))
        for r in [w] + readers:
            self.assertEqual(r.exists("h"), 0)
            self.assertEqual(r.hgetall("h"), {})
            self.assertEqual(r.type("h"), "none")

        # WRONGTYPE across nodes
        self.assertTrue(w.set("s", "v"))
        for r in readers:
            with self.assertRaises(Exception) as e:
                r.hset("s", "f", "v")
            self.assertIn("WRONGTYPE", str(e.exception))

    def test_hash_works_with_a_replica_down(self):
        c = self.new_cluster(3, replication=3)
        w = c.client(0)
        self.assertEqual(w.hset("h", mapping={"a": "1", "b": "2"}), 2)
        c.stop(2)
        for i in (0, 1):
            r = c.client(i)
            self.assertEqual(r.hgetall("h"), {"a": "1", "b": "2"})
        self.assertEqual(c.client(1).hincrby("h", "a", 10), 11)
        self.assertEqual(w.hset("h", "c", "3"), 1)
        self.assertEqual(c.client(1).hdel("h", "b"), 1)
        self.assertEqual(w.hgetall("h"), {"a": "11", "c": "3"})
