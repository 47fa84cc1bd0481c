"""Sets across a cluster: a set written through one node reads the same
through every other, multi-key set commands work on keys whose replicas are
different nodes, and writes made on both sides of a partition merge as
docs/types.md says (an add-wins observed-remove set: SREM removes the adds
it saw, an SADD it did not see survives; DEL likewise)."""
from ringtest import ClusterTest


def members(r, key):
    return sorted(r.smembers(key))


class SetsAcrossNodes(ClusterTest):
    def test_set_commands_through_every_node(self):
        # 4 nodes, 2 replicas: most keys live on neither the writer nor the
        # reader, and the keys of one multi-key command on different nodes
        c = self.new_cluster(4, replication=2)
        clients = [c.client(i) for i in range(4)]
        w = clients[0]
        self.assertEqual(w.sadd("s", "a", "b", "c"), 3)
        for r in clients:
            self.assertEqual(members(r, "s"), ["a", "b", "c"])
            self.assertEqual(r.scard("s"), 3)
            self.assertTrue(r.sismember("s", "b"))
            self.assertEqual(r.type("s"), "set")

        # each node adds and removes in turn: each sees the previous one's
        for i, r in enumerate(clients):
            self.assertEqual(r.sadd("s", "n%d" % i), 1)
            self.assertEqual(r.srem("s", "n%d" % (i - 1) if i else "a"), 1)
        self.assertEqual(members(clients[2], "s"), ["b", "c", "n3"])

        # keys spread over the ring, so that the algebra below reads and
        # writes keys whose replicas differ
        keys = ["k%d" % i for i in range(8)]
        owners = {k: tuple(sorted(c.owners(k))) for k in keys}
        self.assertGreater(len(set(owners.values())), 1, owners)
        for i, k in enumerate(keys):
            self.assertEqual(clients[i % 4].sadd(k, *["m%d" % j for j in range(i, i + 4)]), 4)
        expect_union = sorted({"m%d" % j for i in range(8) for j in range(i, i + 4)})
        for r in clients:
            self.assertEqual(sorted(r.sunion(*keys)), expect_union)
            self.assertEqual(sorted(r.sinter("k2", "k3", "k4")), ["m4", "m5"])
            self.assertEqual(sorted(r.sdiff("k0", "k1")), ["m0"])
            self.assertEqual(r.execute_command("SINTERCARD", 2, "k5", "k6"), 3)
        self.assertEqual(clients[1].sunionstore("dst", *keys), len(expect_union))
        self.assertEqual(clients[3].sinterstore("dst2", "k0", "k3"), 1)
        for r in clients:
            self.assertEqual(members(r, "dst"), expect_union)
            self.assertEqual(members(r, "dst2"), ["m3"])

        # SMOVE between keys on different nodes: gone from one, in the other
        src, dst = next((a, b) for a in keys for b in keys if owners[a] != owners[b])
        moved = sorted(w.smembers(src))[0]
        self.assertTrue(clients[2].smove(src, dst, moved))
        for r in clients:
            self.assertFalse(r.sismember(src, moved))
            self.assertTrue(r.sismember(dst, moved))

        # SPOP everything through one node: the key is gone everywhere
        popped = clients[1].spop("k7", 10)
        self.assertEqual(sorted(popped), ["m10", "m7", "m8", "m9"])
        for r in clients:
            self.assertEqual(r.exists("k7"), 0)
            self.assertEqual(r.scard("k7"), 0)


class SetsUnderPartition(ClusterTest):
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

    def test_concurrent_srem_and_sadd_add_wins(self):
        c, A, B, C = self._partitioned()
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.sadd("s", "x", "y"), 2)

        # A alone removes x and y; then B and C (which never saw those
        # removes) add x again, with A down
        a = self._only(c, A, [B, C])
        self.assertEqual(a.srem("s", "x", "y"), 2)
        self.assertEqual(a.exists("s"), 0)
        c.restart(B, wait=False)
        c.restart(C)
        b = self._only(c, B, [A])
        self.assertEqual(b.sadd("s", "x"), 0)  # B still sees the x it had
        c.restart(A)
        c.wait_all_up()

        # healed: x is a member (B's add was not seen by A's SREM), y is
        # not (A's SREM saw it and nobody added it again)
        for i in (A, B, C):
            r = self._all_read(c, i)
            self.assertEqual(members(r, "s"), ["x"], "via node %d" % i)
            self.assertTrue(r.sismember("s", "x"))
            self.assertFalse(r.sismember("s", "y"))
            self.assertEqual(r.scard("s"), 1)

    def test_concurrent_del_and_sadd_keeps_the_new_member(self):
        c, A, B, C = self._partitioned()
        w = c.client(A)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        self.assertEqual(w.sadd("s", "x", "y"), 2)
        a = self._only(c, A, [B, C])
        self.assertEqual(a.delete("s"), 1)
        c.restart(B, wait=False)
        c.restart(C)
        b = self._only(c, B, [A])
        self.assertEqual(b.sadd("s", "z"), 1)
        c.restart(A)
        c.wait_all_up()
        for i in (A, B, C):
            r = self._all_read(c, i)
            self.assertEqual(members(r, "s"), ["z"], "via node %d" % i)
