"""Versions across replicas: concurrent writes become siblings that VGET
shows and VSET resolves, stale replicas are repaired by reads, INCR
through one node never loses an increment, and deletes that replicas
stored blind (as merge operands) are collected after tombstone-grace."""
import os
import signal
import threading
import time

from ringtest import ClusterTest


class Siblings(ClusterTest):
    def test_partitioned_writes_become_siblings_and_vset_resolves_them(self):
        # strict: no fallback keeps a hint; no periodic anti-entropy: only
        # the reads below may move versions between replicas
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        A, B, C = 0, 1, 2
        k = "sib"
        self.assertEqual(sorted(c.owners(k)), [0, 1, 2])

        # only A is up: k=x through A with WRITE ONE
        c.kill9(B)
        c.kill9(C)
        c.wait_seen_down(B)
        c.wait_seen_down(C)
        a = c.client(A)
        a.execute_command("CONSISTENCY", "WRITE", "ONE")
        self.assertTrue(a.set(k, "x"))
        self.assertEqual([v for v, _ in c.local(A, k)], ["x"])

        # B and C back, A down: k=y through B with WRITE ONE. B and C never
        # saw x (no hints, no anti-entropy, nothing read it), so y is concurrent.
        c.restart(B, wait=False)
        c.restart(C)
        self.assertEqual(c.local(B, k), [])
        self.assertEqual(c.local(C, k), [])
        c.kill9(A)
        c.wait_seen_down(A)
        b = c.client(B)
        b.execute_command("CONSISTENCY", "WRITE", "ONE")
        self.assertTrue(b.set(k, "y"))
        c.restart(A)
        self.assertEqual([v for v, _ in c.local(A, k)], ["x"])

        # VGET with READ ALL through every node: both siblings, newest first
        for i in (A, B, C):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            reply = r.execute_command("VGET", k)
            self.assertEqual(reply[1:], ["y", "x"], "VGET via node %d" % i)
            self.assertTrue(reply[0], "empty causal context")
            # plain GET: one value, the newest by HLC
            self.assertEqual(r.get(k), "y")
        # read repair spreads the merge, never "the newest" only: every
        # replica ends up holding both siblings
        c.wait_until(lambda: all(sorted(v for v, _ in c.local(i, k)) == ["x", "y"]
                                 for i in (A, B, C)), 10, "every replica to hold both siblings")

        # VSET with the context resolves both into one value, everywhere
        ctx = c.client(C).execute_command("VGET", k)[0]
        self.assertEqual(c.client(C).execute_command("VSET", k, ctx, "z"), "OK")
        c.wait_until(lambda: all([v for v, _ in c.local(i, k)] == ["z"] for i in (A, B, C)), 10,
                     "every replica to hold exactly one version, z")
        for i in (A, B, C):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(r.execute_command("VGET", k)[1:], ["z"])
            self.assertEqual(r.get(k), "z")

    def test_vset_with_a_stale_context_keeps_the_newer_write(self):
        # a resolution that did not see a later write supersedes only what
        # it saw: the later write survives as a sibling
        c = self.new_cluster(3)
        r = c.client(0)
        r.execute_command("CONSISTENCY", "READ", "ALL", "WRITE", "ALL")
        self.assertTrue(r.set("k", "v1"))
        ctx = r.execute_command("VGET", "k")[0]
        other = c.client(1)
        other.execute_command("CONSISTENCY", "READ", "ALL", "WRITE", "ALL")
        ctx2 = other.execute_command("VGET", "k")[0]
        self.assertEqual(other.execute_command("VSET", "k", ctx2, "v2"), "OK")
        self.assertEqual(r.execute_command("VSET", "k", ctx, "v3"), "OK")
        got = r.execute_command("VGET", "k")
        self.assertEqual(sorted(got[1:]), ["v2", "v3"])
        # an empty context creates a sibling of everything
        self.assertEqual(c.client(2).execute_command("VSET", "new", "", "a"), "OK")
        self.assertEqual(r.execute_command("VGET", "new")[1:], ["a"])


class ReadRepair(ClusterTest):
    def test_read_repairs_a_replica_that_missed_a_write(self):
        # strict (no hints) and no periodic anti-entropy: only the read
        # below can bring the missed write to node 2
        c = self.new_cluster(3, replication=3, read_quorum=2, write_quorum=2,
                             quorum_mode="strict", anti_entropy_interval=0)
        a = c.client(0)
        self.assertTrue(a.set("old", "v1"))
        c.wait_until(lambda: [v for v, _ in c.local(2, "old")] == ["v1"], 5,
                     "node 2 to hold v1")

        # node 2 misses two writes: an update and a new key
        c.kill9(2)
        c.wait_seen_down(2)
        self.assertTrue(a.set("old", "v2"))
        self.assertTrue(a.set("new", "n1"))
        c.restart(2)
        self.assertEqual([v for v, _ in c.local(2, "old")], ["v1"])
        self.assertEqual(c.local(2, "new"), [])
        before = int(c.ring_info(0)["read_repairs"])
        before_info = int(a.info("ring")["read_repairs"])
        self.assertEqual(before, before_info)

        a.execute_command("CONSISTENCY", "READ", "ALL")
        self.assertEqual(a.get("old"), "v2")
        self.assertEqual(a.get("new"), "n1")

        c.wait_until(lambda: [v for v, _ in c.local(2, "old")] == ["v2"], 5,
                     "node 2 to be repaired to v2")
        c.wait_until(lambda: [v for v, _ in c.local(2, "new")] == ["n1"], 5,
                     "node 2 to be repaired with the new key")
        after = int(c.ring_info(0)["read_repairs"])
        self.assertGreaterEqual(after, before + 2)
        self.assertGreaterEqual(int(a.info("ring")["read_repairs"]), before + 2)
        # the repaired version is the original one (same clock), not a new one
        clocks = {i: [ck for _, ck in c.local(i, "old")] for i in range(3)}
        self.assertEqual(clocks[2], clocks[0], clocks)
        self.assertEqual(clocks[1], clocks[0], clocks)
        # a read with ONE through the repaired node now sees the write
        r2 = c.client(2)
        r2.execute_command("CONSISTENCY", "READ", "ONE")
        self.assertEqual(r2.get("old"), "v2")
        self.assertEqual(r2.get("new"), "n1")
        # nothing left to repair: another read repairs nothing
        a.get("old")
        a.get("new")
        self.assertEqual(int(c.ring_info(0)["read_repairs"]), after)


class ReadFanout(ClusterTest):
    """read-fanout needed asks as many replicas as the level needs, this
    node's copy first; a replica that hangs costs a read
    read-retry-ms, then a held-back replica answers in its place."""

    def _bus_sent(self, c, i):
        return int(c.client(i).info("ring")["bus_requests_sent"])

    def _gets(self, r, keys):
        p = r.pipeline(transaction=False)
        for k in keys:
            p.get(k)
        return p.execute()

    def test_reads_ask_what_the_level_needs_and_retry_a_hung_replica(self):
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0,
                             read_fanout="needed", read_retry_ms=50)
        a = c.client(0)
        keys = ["fan:%d" % i for i in range(300)]
        p = a.pipeline(transaction=False)
        for k in keys:
            p.set(k, k)
        self.assertEqual(p.execute(), [True] * len(keys))
        # QUORUM of 3: this node's copy and one other, one bus request a read
        before = self._bus_sent(c, 0)
        self.assertEqual(self._gets(a, keys), keys)
        needed = self._bus_sent(c, 0) - before
        self.assertGreaterEqual(needed, len(keys))
        self.assertLess(needed, len(keys) * 1.3, "one bus request per read, plus gossip")
        a.config_set("read-fanout", "all")
        before = self._bus_sent(c, 0)
        self.assertEqual(self._gets(a, keys), keys)
        every = self._bus_sent(c, 0) - before
        self.assertGreaterEqual(every, 2 * len(keys))
        a.config_set("read-fanout", "needed")
        print("\n    fanout: %d bus requests for %d QUORUM reads (needed), %d (all)"
              % (needed, len(keys), every))

        # node 1 hangs (not yet suspected by gossip): every read still
        # answers right, in about read-retry-ms, never replica-timeout
        retries = int(a.info("ring")["read_retries"])
        pid = c.nodes[1].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            slowest = 0.0
            for k in keys[:40]:
                t0 = time.monotonic()
                self.assertEqual(a.get(k), k)
                slowest = max(slowest, time.monotonic() - t0)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertLess(slowest, 0.5, "a read waited for the hung replica")
        self.assertGreater(int(a.info("ring")["read_retries"]), retries)
        print("    hung replica: slowest of 40 reads %.0f ms" % (slowest * 1000))


class Counters(ClusterTest):
    CLIENTS = 4
    PER_CLIENT = 250
    BATCH = 50

    def _hammer(self, c, via):
        """CLIENTS threads, client t through node via[t], each pipelining
        PER_CLIENT INCRs of one counter. -> (replies per client, errors)."""
        replies = [[] for _ in via]
        errors = []

        def work(t):
            r = c.client(via[t])
            try:
                for _ in range(self.PER_CLIENT // self.BATCH):
                    p = r.pipeline(transaction=False)
                    for _ in range(self.BATCH):
                        p.incr("ctr")
                    for x in p.execute(raise_on_error=False):
                        if isinstance(x, int):
                            replies[t].append(x)
                        else:
                            errors.append(repr(x))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(repr(e))

        th = [threading.Thread(target=work, args=(t,)) for t in range(len(via))]
        for t in th:
            t.start()
        for t in th:
            t.join(120)
        return replies, errors

    def test_pipelined_incr_from_several_clients_through_one_node_is_exact(self):
        c = self.new_cluster(3)
        replies, errors = self._hammer(c, [0] * self.CLIENTS)
        self.assertEqual(errors, [])
        total = self.CLIENTS * self.PER_CLIENT
        flat = [x for rs in replies for x in rs]
        self.assertEqual(len(flat), total)
        # every INCR got its own value: no two saw the same count
        self.assertEqual(sorted(flat), list(range(1, total + 1)))
        for rs in replies:
            self.assertEqual(rs, sorted(rs), "a client's replies went backwards")
        for i in range(3):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(r.get("ctr"), str(total), "via node %d" % i)
            self.assertEqual(r.execute_command("VGET", "ctr")[1:], [str(total)])

    def test_concurrent_incr_through_different_nodes(self):
        # README: single-key read-modify-writes run at the key's version
        # coordinator (forward.c forwardCommand), whose per-key lock
        # orders them, so with every node up INCRs through different nodes
        # are exact: the replies are 1..total and the counter ends at total.
        c = self.new_cluster(3)
        replies, errors = self._hammer(c, [0, 1, 2, 0])
        self.assertEqual(errors, [])
        total = self.CLIENTS * self.PER_CLIENT
        flat = [x for rs in replies for x in rs]
        self.assertEqual(len(flat), total)
        self.assertEqual(sorted(flat), list(range(1, total + 1)))
        r0 = c.client(0)
        r0.execute_command("CONSISTENCY", "READ", "ALL")
        final = int(r0.get("ctr"))
        self.assertEqual(final, total)
        for i in (1, 2):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(r.get("ctr"), str(final))
        # one more INCR through one node resolves whatever siblings are left
        self.assertEqual(r0.incr("ctr"), final + 1)
        c.wait_until(lambda: all(c.client(i).execute_command("VGET", "ctr")[1:] == [str(final + 1)]
                                 for i in range(3)), 5, "one value everywhere")
        print("\n    concurrent INCR through 3 nodes: %d acknowledged, counter %d (%d lost)" %
              (total, final, total - final))

    def test_incr_through_partitioned_nodes_adds_both_increments(self):
        # README: during a failure two nodes may each coordinate a key; an
        # INCR is a contribution of the node that coordinated it (not a new
        # version), so increments made on both sides add up once the sides
        # meet. Made deterministic by a partition: A alone, then B and C.
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        A, B, C = 0, 1, 2
        a = c.client(A)
        a.execute_command("CONSISTENCY", "READ", "ALL", "WRITE", "ALL")
        self.assertTrue(a.set("cnt", "10"))
        c.kill9(B)
        c.kill9(C)
        c.wait_seen_down(B)
        c.wait_seen_down(C)
        a1 = c.client(A)
        a1.execute_command("CONSISTENCY", "READ", "ONE", "WRITE", "ONE")
        self.assertEqual(a1.incr("cnt"), 11)
        self.assertEqual(a1.incrby("cnt", 5), 16)
        c.restart(B, wait=False)
        c.restart(C)
        c.kill9(A)
        c.wait_seen_down(A)
        b1 = c.client(B)
        b1.execute_command("CONSISTENCY", "READ", "ONE", "WRITE", "ONE")
        self.assertEqual(b1.incr("cnt"), 11)  # B and C never saw A's increments
        c.restart(A)
        for i in (A, B, C):
            r = c.client(i)
            r.execute_command("CONSISTENCY", "READ", "ALL")
            # 10, then A's 1 and 5 and B's 1: nothing lost, nothing twice
            self.assertEqual(r.execute_command("VGET", "cnt")[1:], ["17"], "via node %d" % i)
            self.assertEqual(r.get("cnt"), "17")
        r = c.client(C)
        r.execute_command("CONSISTENCY", "READ", "ALL")
        self.assertEqual(r.incr("cnt"), 18)
        # a SET clears the increments it saw, and only those
        self.assertTrue(r.set("cnt", "100"))
        self.assertEqual(r.incr("cnt"), 101)


class BlindWrites(ClusterTest):
    def test_deletes_stored_blind_are_collected_on_every_replica_after_the_grace(self):
        """A replica stores what it is sent as a RocksDB merge operand; the
        compaction filter that collects tombstones older than tombstone-grace
        sees merged values only, a compaction later. Every node (each the
        version coordinator of some keys, a replica of the others) must end
        up holding none of the deleted keys, and the live ones intact."""
        c = self.new_cluster(3, replication=3, tombstone_grace=1, memtable_size="2mb",
                             anti_entropy_interval=0)
        r = c.client(0)
        p = r.pipeline(transaction=False)
        for i in range(300):
            p.set("dead:%d" % i, "x" * 50)
            p.set("live:%d" % i, "v%d" % i)
        p.execute()
        p = r.pipeline(transaction=False)
        for i in range(300):
            p.delete("dead:%d" % i)
        self.assertEqual(p.execute(), [1] * 300)

        def held(n):
            p = c.client(n).pipeline(transaction=False)
            for i in range(300):
                p.execute_command("RING", "LOCAL", "dead:%d" % i)
            return sum(1 for x in p.execute() if x)

        self.assertEqual([held(n) for n in range(3)], [300, 300, 300],
                         "every replica holds the tombstones at first")
        time.sleep(1.5)  # past tombstone-grace
        rounds = [0]

        def collected():
            # writes fill the 2 MB memtables: flushes, then compactions
            p = r.pipeline(transaction=False)
            for i in range(5000):
                p.set("fill:%d:%d" % (rounds[0], i), "y" * 200)
            p.execute()
            rounds[0] += 1
            return [held(n) for n in range(3)] == [0, 0, 0]

        c.wait_until(collected, 120, "every node to collect the old tombstones")
        for n in range(3):
            p = c.client(n).pipeline(transaction=False)
            for i in range(300):
                p.execute_command("RING", "LOCAL", "live:%d" % i)
            self.assertEqual([x[0][0] if x else None for x in p.execute()],
                             ["v%d" % i for i in range(300)], "node %d's live keys" % n)
