"""HyperLogLog commands on a healthy cluster behave like one Redis server,
whichever node a client talks to: PFADDs through every node land in one
sketch, PFCOUNT through every node counts them, and PFMERGE run by a node
that is not a replica of its destination (a multi-key command runs where it
arrives) keeps what the destination held and what it merged before."""
from ringtest import ClusterTest

HLL_STRING = "WRONGTYPE Key is not a valid HyperLogLog string value."


class HyperLogLogAcrossNodes(ClusterTest):
    def test_pfadd_pfcount_pfmerge_through_every_node(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, so reads and writes go over the bus.
        c = self.new_cluster(4, replication=2)
        cl = [c.client(i) for i in range(4)]

        # PFADD through every node: each one's elements are new
        for i in range(4):
            self.assertEqual(cl[i].pfadd("visits", *["u%d-%d" % (i, j) for j in range(5)]), 1)
        for i in range(4):
            self.assertEqual(cl[i].pfcount("visits"), 20, "via node %d" % i)
        # the same elements again, through other nodes: nothing rises
        for i in range(4):
            self.assertEqual(cl[(i + 1) % 4].pfadd("visits", *["u%d-%d" % (i, j)
                                                               for j in range(5)]), 0)

        # PFMERGE run by a node that holds no replica of the destination,
        # twice: the second merge keeps what the first brought
        outsider = next(i for i in range(4) if i not in c.owners("dest"))
        self.assertTrue(cl[outsider].pfmerge("dest", "visits"))
        for i in range(4):
            self.assertEqual(cl[i].pfcount("dest"), 20, "via node %d" % i)
        self.assertEqual(cl[0].pfadd("other", "a", "b", "c"), 1)
        self.assertTrue(cl[outsider].pfmerge("dest", "other"))
        for i in range(4):
            self.assertEqual(cl[i].pfcount("dest"), 23, "via node %d" % i)
        # a PFADD (at the destination's coordinator) on top of the merges
        writer = (outsider + 1) % 4
        self.assertEqual(cl[writer].pfadd("dest", "extra"), 1)
        self.assertTrue(cl[outsider].pfmerge("dest", "visits", "other"))
        for i in range(4):
            self.assertEqual(cl[i].pfcount("dest"), 24, "via node %d" % i)
            # several keys, in other partitions: the union
            self.assertEqual(cl[i].pfcount("visits", "other"), 23, "via node %d" % i)
            self.assertEqual(cl[i].pfcount("visits", "other", "nosuch"), 23)

        # a big set written through two nodes: the estimate within 2%
        n = 20000
        for part in range(4):
            p = cl[part % 2].pipeline(transaction=False)
            for k in range(part * n // 4, (part + 1) * n // 4, 500):
                p.pfadd("big", *["e%d" % x for x in range(k, k + 500)])
            p.execute()
        for i in range(4):
            est = cl[i].pfcount("big")
            self.assertLessEqual(abs(est - n), n * 0.02, "via node %d: %d" % (i, est))

        # WRONGTYPE through other nodes than the writer of the string
        self.assertTrue(cl[1].set("str", "v"))
        for i in (0, 2, 3):
            for args in (("PFADD", "str", "x"), ("PFCOUNT", "str"), ("PFCOUNT", "visits", "str"),
                         ("PFMERGE", "dest", "str"), ("PFMERGE", "str", "visits")):
                with self.assertRaises(Exception) as e:
                    cl[i].execute_command(*args)
                self.assertEqual(str(e.exception), HLL_STRING, args)
        self.assertEqual(cl[3].get("str"), "v")
        self.assertEqual(cl[2].pfcount("dest"), 24)
