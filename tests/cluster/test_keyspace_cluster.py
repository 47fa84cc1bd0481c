"""Key commands on collection keys across a cluster, whichever node a client
talks to: SCAN/KEYS/RANDOMKEY list every collection key with its type (each
partition read from its replicas over the bus and merged, metadata
included), RENAME/COPY/MOVE of a collection run by a node that is a replica
of neither key, DUMP through one node restored through another."""
from ringtest import ClusterTest


def scan_all(cl, **kw):
    """Every key a full SCAN iteration returns (with repeats, in order)."""
    out, cursor = [], 0
    while True:
        cursor, keys = cl.scan(cursor, count=5, **kw)
        out.extend(keys)
        if cursor == 0:
            return out


class KeyspaceAcrossNodes(ClusterTest):
    def test_scan_rename_copy_dump_through_every_node(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, so scans, reads and writes go over the bus
        c = self.new_cluster(4, replication=2)
        cl = [c.client(i) for i in range(4)]
        sets = ["set:%d" % i for i in range(20)]
        hlls = ["hll:%d" % i for i in range(5)]
        strs = ["str:%d" % i for i in range(10)]
        for i, k in enumerate(sets):
            self.assertEqual(cl[i % 4].sadd(k, "a", "b%d" % i), 2)
        for i, k in enumerate(hlls):
            self.assertEqual(cl[(i + 1) % 4].pfadd(k, "x", "y"), 1)
        for i, k in enumerate(strs):
            self.assertTrue(cl[(i + 2) % 4].set(k, "v"))
        every = set(sets + hlls + strs)
        for i in range(4):
            self.assertEqual(set(cl[i].keys("*")), every, "KEYS via node %d" % i)
            self.assertEqual(sorted(cl[i].keys("set:*")), sorted(sets), "via node %d" % i)
            got = scan_all(cl[i])
            self.assertEqual(set(got), every, "SCAN via node %d" % i)
            self.assertEqual(set(scan_all(cl[i], _type="set")), set(sets), "via node %d" % i)
            self.assertEqual(set(scan_all(cl[i], _type="string")), set(hlls + strs))
            self.assertEqual(scan_all(cl[i], _type="hash"), [])
            self.assertEqual(cl[i].dbsize(), len(every), "via node %d" % i)
            self.assertIn(cl[i].randomkey(), every)

        # RENAME and COPY run by a node that replicates neither key: each
        # destination name is picked so that such a node exists
        def outsider(*keys):
            owners = set()
            for k in keys:
                owners |= set(c.owners(k))
            return next((i for i in range(4) if i not in owners), None)

        def dest(src, prefix, avoid=()):
            for n in range(100):
                name = "%s:%d" % (prefix, n)
                if name not in avoid and outsider(src, name) is not None:
                    return name, outsider(src, name)
            self.fail("no destination name for %s" % src)

        moved, o = dest("set:0", "moved")
        self.assertTrue(cl[o].expire("set:0", 100))
        self.assertTrue(cl[o].rename("set:0", moved))
        hllcopy, o = dest("hll:0", "hllcopy")
        self.assertTrue(cl[o].copy("hll:0", hllcopy))
        over, o = dest("set:1", "str", avoid=strs[1:])       # a set over a string
        self.assertTrue(cl[0].set(over, "old"))
        self.assertTrue(cl[o].rename("set:1", over))
        under, o = dest("str:1", "set", avoid=sets[:2] + sets[3:])  # a string over a set
        self.assertTrue(cl[0].sadd(under, "old"))
        self.assertTrue(cl[o].copy("str:1", under, replace=True))
        self.assertTrue(cl[0].move("set:3", 1))
        for i in range(4):
            self.assertEqual(cl[i].smembers(moved), {"a", "b0"}, "via node %d" % i)
            self.assertGreater(cl[i].ttl(moved), 90)
            self.assertEqual(cl[i].exists("set:0", "set:1", "set:3"), 0)
            self.assertEqual(cl[i].pfcount(hllcopy), 2)
            self.assertEqual(cl[i].type(over), "set")
            self.assertEqual(cl[i].smembers(over), {"a", "b1"})
            self.assertEqual(cl[i].type(under), "string")
            self.assertEqual(cl[i].get(under), "v")
            self.assertEqual(set(scan_all(cl[i], _type="set")),
                             (set(sets) - {"set:0", "set:1", "set:3", under}) | {moved, over},
                             "via node %d" % i)
        c1 = c.client(1, db=1)
        self.assertEqual(c1.smembers("set:3"), {"a", "b3"})

        # DUMP through one node, RESTORE through another, both away from the key
        raw = [c.client(i, decode=False) for i in range(4)]
        p = raw[outsider("set:4")].dump("set:4")
        restored, o = dest("set:4", "restored")
        self.assertTrue(raw[o].restore(restored, 0, p))
        for i in range(4):
            self.assertEqual(cl[i].smembers(restored), {"a", "b4"}, "via node %d" % i)
            self.assertEqual(cl[i].object("encoding", restored), "hashtable")
