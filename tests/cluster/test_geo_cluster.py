"""Geo searches across a cluster: a geo set written through one node is
searched through every node with the answers of a real redis-server holding
the same points (each search reads the geohash cells around its point
through the replicas' score indexes, t_geo.c), and a replica that missed
writes does not change what a search at CONSISTENCY READ ALL finds."""
import random

import redis

from ringtest import ClusterTest, RedisOracle


def plain(r):
    """r with redis-py's parsing of the geo replies off (it needs the
    options its own geosearch() passes): raw replies, compared as they are."""
    for name in ("GEOSEARCH", "GEORADIUS", "GEORADIUSBYMEMBER", "GEOSEARCHSTORE"):
        r.response_callbacks.pop(name, None)
    return r


def searches(rnd, members):
    """A few searches of each kind, from random points and members."""
    out = []
    for _ in range(6):
        lon, lat = rnd.uniform(-1, 1), rnd.uniform(44, 46)
        km = rnd.choice([5, 20, 60, 250])
        out.append(("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYRADIUS", km, "km", "ASC",
                    "WITHDIST"))
        out.append(("GEOSEARCH", "g", "FROMMEMBER", rnd.choice(members), "BYBOX", km, km / 2,
                    "km", "DESC", "COUNT", 7))
        out.append(("GEORADIUS", "g", lon, lat, km, "km", "WITHCOORD", "ASC"))
        out.append(("GEORADIUSBYMEMBER", "g", rnd.choice(members), km, "km", "COUNT", 5, "ASC"))
    return out


class GeoAcrossNodes(ClusterTest):
    def setUp(self):
        super().setUp()
        self.oracle = RedisOracle().start()
        self.addCleanup(self.oracle.close)
        self.ref = plain(redis.Redis(host=self.oracle.host, port=self.oracle.port,
                                     decode_responses=True))

    def add(self, clients, rnd, first, n):
        members = []
        for j in range(first, first + n, 500):
            args = []
            for k in range(j, min(j + 500, first + n)):
                args += [rnd.uniform(-2, 2), rnd.uniform(43, 47), "p%d" % k]
                members.append("p%d" % k)
            for c in clients:
                c.execute_command("GEOADD", "g", *args)
        return members

    def same(self, r, cmd, msg):
        self.assertEqual(r.execute_command(*cmd), self.ref.execute_command(*cmd),
                         "%s: %r" % (msg, cmd))

    def test_searches_through_every_node_answer_as_redis(self):
        c = self.new_cluster(3, replication=3)
        rnd = random.Random(5)
        clients = [plain(c.client(i)) for i in range(3)]
        members = self.add([clients[0], self.ref], rnd, 0, 3000)
        for cmd in searches(rnd, members):
            for i, r in enumerate(clients):
                self.same(r, cmd, "via node %d" % i)
        # GEOSEARCHSTORE through another node, read back everywhere
        cmd = ("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", 0, 45, "BYRADIUS", 40, "km", "ASC")
        self.assertEqual(clients[1].execute_command(*cmd), self.ref.execute_command(*cmd))
        for r in clients:
            self.assertEqual(r.zrange("dst", 0, -1, withscores=True),
                             self.ref.zrange("dst", 0, -1, withscores=True))

    def test_a_replica_that_missed_writes_does_not_change_a_read_all_search(self):
        c = self.new_cluster(3, replication=3, quorum_mode="strict", anti_entropy_interval=0)
        rnd = random.Random(9)
        w = plain(c.client(0))
        members = self.add([w, self.ref], rnd, 0, 1500)
        c.kill9(2)
        c.wait_seen_down(2, by=[0, 1])
        # node 2 misses these: new points, and members removed or moved
        members += self.add([w, self.ref], rnd, 1500, 500)
        gone = rnd.sample(members[:1500], 200)
        for m in (w, self.ref):
            m.zrem("g", *gone)
            m.execute_command("GEOADD", "g", 0.0, 45.0, "p7", 0.01, 45.01, "p8")
        c.restart(2)
        c.wait_all_up()
        left = [m for m in members if m not in set(gone)]
        for i in (2, 0, 1):
            r = plain(c.client(i))
            r.execute_command("CONSISTENCY", "READ", "ALL")
            for cmd in searches(random.Random(11), left):
                self.same(r, cmd, "via node %d" % i)
