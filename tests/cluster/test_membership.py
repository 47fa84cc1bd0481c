"""Who may join: a node configured for another cluster (different
cluster-name or ring-partitions) is refused and says why; a node started
later with the cluster's seeds, or told RING JOIN, joins."""
import os
import time

from ringtest import ClusterTest


class Refusal(ClusterTest):
    def _odd_node_is_refused(self, opt, value, why):
        c = self.new_cluster(3)
        ids = {c.node_id(i) for i in range(3)}
        o = dict(c.nodes[0].opts)
        o[opt] = value
        odd = c.add_node(opts=o, fast=False)  # same seeds as the others: all of them
        odd_id = c.node_id(odd)
        self.assertNotIn(odd_id, ids)

        # the refusal is logged with its reason, by the nodes it contacted
        c.wait_until(lambda: any("Refusing cluster bus peer" in c.log(i) and why in c.log(i)
                                 for i in range(3)), 10, "a node to log the refusal")
        # and it keeps being refused: never in the others' RING NODES (watch
        # for a couple of seconds: 10 gossip rounds and a failure timeout)
        deadline = time.time() + 2.5
        while time.time() < deadline:
            for i in range(3):
                seen = {l.id for l in c.ring_nodes(i)}
                self.assertEqual(seen, ids, "node %d lists the refused node" % i)
                self.assertEqual(c.ring_info(i)["ring_nodes"], "3")
            time.sleep(0.25)
        # the refused node learned nothing about the cluster either
        self.assertEqual({l.id for l in c.ring_nodes(odd)}, {odd_id})
        lines = [l for i in range(3) for l in c.log(i).splitlines()
                 if "Refusing cluster bus peer" in l]
        self.assertTrue(all(why in l for l in lines), lines)
        self.assertTrue(any(c.addr(odd).split(":")[0] in l for l in lines), lines)
        # the cluster works as before; its keys do not land on the odd node
        r = c.client(0)
        for k in range(30):
            self.assertTrue(r.set("k%d" % k, k))
        self.assertEqual(c.client(odd).dbsize(), 0)
        for k in range(30):
            self.assertNotIn(c.addr(odd), c.client(1).execute_command("RING", "OWNERS", "k%d" % k))
        return c, odd

    def test_different_cluster_name_is_refused(self):
        c, odd = self._odd_node_is_refused("cluster-name", "someothercluster",
                                           "cluster-name 'someothercluster' differs")
        # the refused node's own log says it was refused, and why
        c.wait_until(lambda: "cluster-name" in c.log(odd) and "refused" in c.log(odd), 5,
                     "the refused node to log why")

    def test_different_ring_partitions_is_refused(self):
        c, odd = self._odd_node_is_refused("ring-partitions", "128",
                                           "ring-partitions 128 differs from ours 256")
        c.wait_until(lambda: "ring-partitions" in c.log(odd) and "refused" in c.log(odd), 5,
                     "the refused node to log why")


class Joining(ClusterTest):
    def test_late_node_with_seeds_and_ring_join(self):
        # 32 partitions: a joining node receives its partitions one transfer
        # tick (100 ms) at a time, about 26 s for the default 256 even when
        # they are empty (reported); the mechanics are the same with fewer.
        c = self.new_cluster(2, ring_partitions=32)
        r = c.client(0)
        old = {"j%d" % k: str(k) for k in range(40)}
        self.assertTrue(r.mset(old))
        # a node started later with the cluster's nodes as seeds
        late = c.add_node()
        c.wait_all_up(timeout=60)
        self.assertEqual(len(c.ring_nodes(0)), 3)
        self.assertEqual(c.ring_info(late)["ring_replicas_per_partition"], "3")
        # a node with no seeds, told to join through RING JOIN
        lone = c.add_node(seeds="")
        self.assertEqual(len(c.ring_nodes(lone)), 1)
        self.assertEqual(c.client(lone).execute_command("RING", "JOIN", c.addr(1)), "OK")
        c.wait_all_up(timeout=60)
        for i in range(4):
            self.assertEqual(len(c.ring_nodes(i)), 4, i)
            self.assertEqual(c.ring_info(i)["ring_replicas_per_partition"], "3")
        # the data written before the joins ends up where the ring now says
        # (a joining node pulls its partitions before it turns normal; the
        # RING JOIN node was already normal, a cluster of one, so it gets its
        # partitions pushed by their previous owners, a moment later)
        def placed():
            return all([x for x, _ in c.local(o, k)] == [v]
                       for k, v in old.items() for o in c.owners(k))
        c.wait_until(placed, 30, "every owner to hold the keys written before the joins")
        # and reads through every node (the new ones too) see it
        for i in range(4):
            ri = c.client(i)
            ri.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(ri.mget(sorted(old)), [old[k] for k in sorted(old)], "via %d" % i)
            self.assertEqual(ri.dbsize(), len(old))
        # the new members take writes and serve reads of new keys
        for k in range(20):
            self.assertTrue(c.client(lone).set("n%d" % k, k))
        for i in range(4):
            self.assertEqual(c.client(i).get("n7"), "7")


class Leaving(ClusterTest):
    """What a node that left looks like afterwards: shown down and left, not
    counted up; its data directory is refused by the server (its partitions
    were handed over: serving or rejoining from it would bring back old
    values), and a fresh node at the same address joins as a new node."""

    def test_a_node_that_left_is_down_and_left_and_its_data_directory_is_refused(self):
        c = self.new_cluster(3, replication=2, ring_partitions=32)
        r = c.client(0)
        data = {"lv%d" % k: str(k) for k in range(50)}
        self.assertTrue(r.mset(data))
        gone = 2
        gone_id = c.node_id(gone)
        self.assertIn("LEAVING", c.cmd(gone, "RING", "LEAVE"))
        self.assertEqual(c.wait_exit(gone, 60), 0)

        def seen_gone(i):
            lines = [l for l in c.ring_nodes(i) if l.id == gone_id]
            return [(l.health, l.status) for l in lines] == [("down", "left")]
        c.wait_until(lambda: seen_gone(0) and seen_gone(1), 20,
                     "the others to list the node that left as down and left")
        for i in (0, 1):
            info = c.ring_info(i)
            self.assertEqual(info["ring_nodes_up"], "2", "node %d counts the node that left" % i)
            self.assertEqual(info["ring_members"], "2")

        # the same address and data directory, under any node id: refused
        nd = c.nodes[gone]
        nd.opts["node-id"] = "a-new-id"
        nd.spawn(wait=False)
        rc = nd.proc.wait(timeout=20)
        nd.stop(9)
        self.assertEqual(rc, 1)
        log = nd.log_text()
        self.assertIn("belongs to a node that left the cluster", log)
        self.assertIn("start this node with an empty data directory", log)

        # a fresh data directory at that address joins as a new node
        nd.dir = nd.dir + "-fresh"
        os.makedirs(nd.dir)
        nd.spawn()
        new_id = c.node_id(gone)
        self.assertEqual(new_id, "a-new-id")
        c.wait_until(lambda: all([l.status for l in c.ring_nodes(i) if l.id == new_id] ==
                                 ["normal"] for i in range(3)), 60,
                     "every node to see the fresh node normal")
        self.assertNotIn("it has our own node id", nd.log_text())
        for i in range(3):
            ri = c.client(i)
            ri.execute_command("CONSISTENCY", "READ", "ALL")
            self.assertEqual(ri.mget(sorted(data)), [data[k] for k in sorted(data)], "via %d" % i)
        self.assertEqual(c.ring_info(0)["ring_nodes_up"], "3")


class LearnsTheRingFirst(ClusterTest):
    """A joining node answers clients only once it knows the ring: before,
    the first requests a just-started node accepted were answered NOQUORUM
    (it routed by a ring of itself alone)."""

    def test_a_joining_node_opens_its_port_once_it_knows_the_ring(self):
        import signal
        import socket
        c = self.new_cluster(3, ring_partitions=32)
        self.assertTrue(c.client(0).set("early", "1"))
        for i in range(3):  # nobody answers the new node's gossip for now
            os.kill(c.nodes[i].pid, signal.SIGSTOP)
        try:
            o = dict(c.nodes[0].opts)
            o["fail-timeout"] = "30000"  # it waits for a seed this long at most
            new = c.add_node(opts=o, fast=False, start=False)
            nd = c.nodes[new]
            nd.spawn(wait=False)

            def refused():
                try:
                    socket.create_connection((nd.host, nd.port), timeout=1).close()
                    return False
                except ConnectionRefusedError:
                    return True
            c.wait_until(lambda: ", data in " in nd.log_text(), 10, "the new node to start")
            time.sleep(0.5)
            for _ in range(10):
                self.assertTrue(refused(), "the port opened before the ring was known")
                time.sleep(0.2)
            self.assertIn("Learning the ring from the seeds", nd.log_text())
        finally:
            for i in range(3):
                os.kill(c.nodes[i].pid, signal.SIGCONT)
        nd.wait_ready(20)
        r = c.client(new)  # from its very first request on, it routes right
        self.assertTrue(r.set("late", "2"))
        self.assertEqual(r.get("early"), "1")
        self.assertEqual(r.get("late"), "2")
