"""BITFIELD and SORT in a cluster behave like one Redis server's, whichever
node a client talks to: BITFIELD INCRBYs sent through every node, in turn or at once, each see the
previous ones (the command runs at the key's version coordinator, under its
key lock),
and SORT's BY and GET patterns read keys whose replicas are other nodes, also
with one of three replicas down."""
import random
import threading

from ringtest import ClusterTest


def expected_sort(members, weights, values, desc=False, start=0, count=None):
    """SORT key BY w_* GET # GET v_* as Redis computes it: by weight, then by
    the member's bytes; a missing weight is 0, a missing value nil."""
    order = sorted(members, key=lambda m: (weights.get(m, 0), m.encode()), reverse=desc)
    if count is not None:
        order = order[start:start + count]
    out = []
    for m in order:
        out += [m, values.get(m)]
    return out


class BitfieldSortAcrossNodes(ClusterTest):
    def test_bitfield_through_every_node(self):
        # 4 nodes, 2 replicas: the key's version coordinator is one node, and
        # the others forward BITFIELD there
        c = self.new_cluster(4, replication=2)
        clients = [c.client(i) for i in range(4)]
        n = 0
        for _ in range(3):
            for r in clients:
                n += 1
                self.assertEqual(r.execute_command("BITFIELD", "bf", "INCRBY", "u8", "#1", "1",
                                                   "GET", "u8", "#0"), [n, 0])
        for r in clients:
            self.assertEqual(r.execute_command("BITFIELD_RO", "bf", "GET", "u8", "#1"), [12])
            self.assertEqual(r.execute_command("BITFIELD", "bf", "GET", "u16", "0"), [12])
            self.assertEqual(r.get("bf"), "\x00\x0c")
        # concurrent INCRBYs through every node: they run one after the other
        # at the key's version coordinator, so none is lost and every reply
        # is a different count
        replies, errors = [], []

        def incr(i):
            r = c.client(i)
            try:
                for _ in range(25):
                    replies.append(r.execute_command("BITFIELD", "ctr", "INCRBY", "u16", "0", "1")[0])
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=incr, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(sorted(replies), list(range(1, 101)))
        for r in clients:
            self.assertEqual(r.execute_command("BITFIELD_RO", "ctr", "GET", "u16", "0"), [100])
        # OVERFLOW FAIL writes nothing, through any node
        self.assertEqual(clients[2].execute_command("BITFIELD", "bf", "OVERFLOW", "FAIL",
                                                    "INCRBY", "u4", "12", "100"), [None])
        self.assertEqual(clients[3].get("bf"), "\x00\x0c")
        # WRONGTYPE across nodes
        self.assertEqual(clients[0].sadd("set", "a"), 1)
        for r in clients[1:]:
            with self.assertRaises(Exception) as e:
                r.execute_command("BITFIELD", "set", "SET", "u8", "0", "1")
            self.assertIn("WRONGTYPE", str(e.exception))

    def test_sort_patterns_read_keys_on_other_nodes(self):
        c = self.new_cluster(4, replication=2)
        clients = [c.client(i) for i in range(4)]
        members = ["m%d" % i for i in range(200)]
        rnd = random.Random(11)
        weights = {m: rnd.randrange(1000) for m in members[:180]}  # 20 weigh nothing
        values = {m: "value-of-" + m for m in members if m not in ("m3", "m77")}
        # the pattern keys live all over the ring
        owners = {tuple(sorted(c.owners("w_" + m))) for m in members[:20]}
        self.assertGreater(len(owners), 1, owners)
        self.assertEqual(clients[0].sadd("s", *members), 200)
        for i, (m, w) in enumerate(weights.items()):
            clients[i % 4].set("w_" + m, w)
        clients[1].mset({"v_" + m: v for m, v in values.items()})
        want = expected_sort(members, weights, values)
        for r in clients:
            self.assertEqual(r.execute_command("SORT", "s", "BY", "w_*", "GET", "#", "GET", "v_*"),
                             want)
            self.assertEqual(r.execute_command("SORT_RO", "s", "BY", "w_*", "DESC", "LIMIT", "10",
                                               "5", "GET", "#", "GET", "v_*"),
                             expected_sort(members, weights, values, True, 10, 5))
        # a weight changed through one node is seen by the next SORT anywhere
        clients[3].set("w_m0", -1)
        weights["m0"] = -1
        self.assertEqual(clients[2].execute_command("SORT", "s", "BY", "w_*", "LIMIT", "0", "1"),
                         ["m0"])

    def test_sort_with_a_replica_down(self):
        c = self.new_cluster(3, replication=3)
        w = c.client(0)
        members = ["a", "b", "c", "d"]
        self.assertEqual(w.sadd("s", *members), 4)
        w.mset({"w_a": 4, "w_b": 3, "w_c": 2, "w_d": 1, "v_a": "A", "v_c": "C"})
        c.stop(2)
        for i in (0, 1):
            r = c.client(i)
            self.assertEqual(r.execute_command("SORT", "s", "BY", "w_*", "GET", "v_*"),
                             [None, "C", None, "A"])
            self.assertEqual(r.execute_command("SORT", "s", "ALPHA", "DESC"), ["d", "c", "b", "a"])
        self.assertEqual(c.client(1).execute_command("BITFIELD", "bits", "SET", "u8", "0", "65"),
                         [0])
        self.assertEqual(w.get("bits"), "A")
