"""redis-benchmark (redis-tools 7.0) against a 3-node ringkv cluster.

redis-benchmark 7.0 stops at the first error reply ("to avoid false
results"). Its default test list (no -t) runs, in this order: PING_INLINE,
PING_MBULK, SET, GET, INCR, LPUSH, RPUSH, LPOP, RPOP, SADD, HSET, SPOP,
ZADD, ZPOPMIN, "LPUSH (needed to benchmark LRANGE)", LRANGE_100,
LRANGE_300, LRANGE_500, LRANGE_600, MSET (10 keys). ringkv has strings,
sets, hashes and sorted sets but no lists, and the first list test comes
before the first set test. So:
  - the default run completes PING_INLINE, PING_MBULK, SET, GET and INCR
    and then stops on LPUSH's "ERR unknown command", with no other error
    and no result for any later test;
  - the default list without its list tests, in one run, completes every
    test in that order;
  - each string test (PING_INLINE, PING_MBULK, SET, GET, INCR, MSET) and
    each data-type test (SADD, HSET, SPOP, ZADD, ZPOPMIN) run alone (-t)
    completes without an error, pipelined too (-P 16);
  - each list test (LPUSH, RPUSH, LPOP, RPOP, LRANGE_*) fails only with
    "ERR unknown command '<its command>'" (LRANGE_*: the LPUSH that fills
    the list);
  - the server agrees: INFO commandstats shows no failed or rejected
    calls of the commands the benchmark sent, and the data is there, read
    through the other nodes: the benchmark's counter holds exactly the
    number of INCRs it ran (no lost or doubled increment with 20
    concurrent clients); without -r every SADD/HSET/ZADD writes the same
    member ("element:__rand_int__" taken literally) and the first SPOP or
    ZPOPMIN takes it, so after SADD myset holds that member, after SPOP it
    is gone, HSET leaves that field with the benchmark's 3-byte value and
    ZADD that member with score 0 until ZPOPMIN; with -r 100, 20 clients
    SADD up to 100 distinct members that every node lists alike, and the
    SPOPs that follow empty the set."""
import csv
import io
import re
import subprocess
import unittest

import ringtest


N = 2000        # requests per test
CLIENTS = 20
STRING_TESTS = {"ping_inline": "PING_INLINE", "ping_mbulk": "PING_MBULK", "set": "SET",
                "get": "GET", "incr": "INCR", "mset": "MSET (10 keys)"}
# redis-benchmark 7.0's default tests, in its order: the -t name and the CSV row
DEFAULT_ORDER = [("ping_inline", "PING_INLINE"), ("ping_mbulk", "PING_MBULK"), ("set", "SET"),
                 ("get", "GET"), ("incr", "INCR"), ("lpush", "LPUSH"), ("rpush", "RPUSH"),
                 ("lpop", "LPOP"), ("rpop", "RPOP"), ("sadd", "SADD"), ("hset", "HSET"),
                 ("spop", "SPOP"), ("zadd", "ZADD"), ("zpopmin", "ZPOPMIN"),
                 ("lrange_100", "LRANGE_100 (first 100 elements)"),
                 ("lrange_300", "LRANGE_300 (first 300 elements)"),
                 ("lrange_500", "LRANGE_500 (first 500 elements)"),
                 ("lrange_600", "LRANGE_600 (first 600 elements)"), ("mset", "MSET (10 keys)")]
# the set, hash and sorted-set tests: the command each sends
TYPE_TESTS = {"sadd": "SADD", "hset": "HSET", "spop": "SPOP", "zadd": "ZADD",
              "zpopmin": "ZPOPMIN"}
# list tests (ringkv has no lists) -> the command that fails first
LIST_TESTS = {"lpush": "LPUSH", "rpush": "RPUSH", "lpop": "LPOP", "rpop": "RPOP",
              "lrange_100": "LPUSH", "lrange_300": "LPUSH", "lrange_500": "LPUSH",
              "lrange_600": "LPUSH"}
MEMBER = "element:__rand_int__"  # what SADD/HSET/ZADD send without -r
ERROR_RE = re.compile(r"Error from server: (.*)")


class BenchmarkTest(unittest.TestCase):
    cluster = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = ringtest.Cluster("bench", net=ringtest.CLIENTS_NET, first=31).start(
            3, replication=3)

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            cls.cluster.close()

    def bench(self, *args, node=0):
        c = self.cluster
        argv = ["redis-benchmark", "-h", c.host(node), "-p", str(c.port(node)), "-n", str(N),
                "-c", str(CLIENTS), "--csv"] + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        rows = {}  # in the order redis-benchmark ran them
        lines = [l for l in p.stdout.splitlines() if l.startswith('"')]
        for row in csv.reader(io.StringIO("\n".join(lines))):
            if row and row[0] != "test":
                rows[row[0]] = float(row[1])
        errors = ERROR_RE.findall(p.stderr) + ERROR_RE.findall(p.stdout)
        other = [l for l in (p.stderr.replace("\r", "\n")).splitlines()
                 if l.strip() and not ERROR_RE.search(l)]
        return p.returncode, rows, errors, other, " ".join(argv)

    def test_1_default_list(self):
        rc, rows, errors, other, cmd = self.bench()
        for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"):
            self.assertGreater(rows.get(name, 0), 0, "%s: no result for %s (rows %r, errors %r)" %
                               (cmd, name, rows, errors))
        self.assertEqual(list(rows), ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"],
                         "%s: LPUSH (the first list test, before SADD) ends the run" % cmd)
        self.assertEqual(len(errors), 1, "%s: errors %r" % (cmd, errors))
        self.assertTrue(errors[0].startswith("ERR unknown command 'LPUSH'"), errors)
        self.assertEqual(other, [], "%s: other output on stderr" % cmd)
        self.assertEqual(rc, 1, "redis-benchmark 7.0 exits 1 at its first error")
        print("\n    default list: " + ", ".join("%s %.0f/s" % kv for kv in rows.items()))

    def test_1_default_list_without_lists(self):
        tests = [(t, row) for t, row in DEFAULT_ORDER if t not in LIST_TESTS]
        rc, rows, errors, other, cmd = self.bench("-t", ",".join(t for t, _ in tests))
        self.assertEqual(errors, [], cmd)
        self.assertEqual(other, [], "%s: stderr" % cmd)
        self.assertEqual(rc, 0, cmd)
        self.assertEqual(list(rows), [row for _, row in tests], cmd)
        for name, rps in rows.items():
            self.assertGreater(rps, 0, "%s: %s" % (cmd, name))
        print("\n    default list without lists: " +
              ", ".join("%s %.0f/s" % (k.split(" ")[0], v) for k, v in rows.items()))

    def test_2_each_string_test(self):
        self.cluster.cmd(0, "CONFIG", "RESETSTAT")
        before = int(self.cluster.cmd(0, "GET", "counter:__rand_int__") or 0)
        incrs = 0
        for t, name in STRING_TESTS.items():
            for extra in ([], ["-P", "16"]):
                with self.subTest(test=t, pipeline=bool(extra)):
                    rc, rows, errors, other, cmd = self.bench("-t", t, *extra)
                    incrs += N if "INCR" in rows else 0
                    self.assertEqual(errors, [], cmd)
                    self.assertEqual(other, [], "%s: stderr" % cmd)
                    self.assertEqual(rc, 0, cmd)
                    self.assertGreater(rows.get(name, 0), 0, "%s: rows %r" % (cmd, rows))
        stats = self.cluster.client(0).info("commandstats")
        for cmd in ("set", "get", "incr", "mset", "ping"):
            st = stats.get("cmdstat_" + cmd)
            self.assertIsNotNone(st, "no commandstats for %s" % cmd)
            self.assertGreaterEqual(st["calls"], 2 * N, (cmd, st))
            self.assertEqual(st.get("failed_calls", 0), 0, (cmd, st))
            self.assertEqual(st.get("rejected_calls", 0), 0, (cmd, st))
        # what the benchmark wrote, read back through the other nodes
        self.assertEqual(incrs, 2 * N)
        for node in (1, 2):
            self.assertEqual(self.cluster.cmd(node, "GET", "key:__rand_int__"), "VXK")
            self.assertEqual(int(self.cluster.cmd(node, "GET", "counter:__rand_int__")),
                             before + incrs, "the counter after %d acknowledged INCRs" % incrs)

    def test_3_each_type_test(self):
        c = self.cluster
        c.cmd(0, "CONFIG", "RESETSTAT")
        c.cmd(0, "DEL", "myset", "myhash", "myzset")
        others = {node: c.client(node) for node in (1, 2)}
        for extra in ([], ["-P", "16"]):
            for t, name in TYPE_TESTS.items():
                with self.subTest(test=t, pipeline=bool(extra)):
                    rc, rows, errors, other, cmd = self.bench("-t", t, *extra)
                    self.assertEqual(errors, [], cmd)
                    self.assertEqual(other, [], "%s: stderr" % cmd)
                    self.assertEqual(rc, 0, cmd)
                    self.assertEqual(list(rows), [name], cmd)
                    self.assertGreater(rows[name], 0, cmd)
                    # what the benchmark left, read through the other nodes
                    for client in others.values():
                        if t == "sadd":
                            self.assertEqual(client.smembers("myset"), {MEMBER}, cmd)
                        elif t == "spop":
                            self.assertEqual(client.scard("myset"), 0, cmd)
                            self.assertEqual(client.exists("myset"), 0, cmd)
                        elif t == "hset":
                            self.assertEqual(client.hgetall("myhash"), {MEMBER: "VXK"}, cmd)
                        elif t == "zadd":
                            self.assertEqual(client.zrange("myzset", 0, -1, withscores=True),
                                             [(MEMBER, 0.0)], cmd)
                        else:
                            self.assertEqual(client.zcard("myzset"), 0, cmd)
        stats = c.client(0).info("commandstats")
        for command in TYPE_TESTS.values():
            st = stats.get("cmdstat_" + command.lower())
            self.assertIsNotNone(st, "no commandstats for %s" % command)
            self.assertGreaterEqual(st["calls"], 2 * N, (command, st))
            self.assertEqual(st.get("failed_calls", 0), 0, (command, st))
            self.assertEqual(st.get("rejected_calls", 0), 0, (command, st))

    def test_4_random_members(self):
        c = self.cluster
        c.cmd(0, "DEL", "myset")
        rc, rows, errors, other, cmd = self.bench("-t", "sadd", "-r", "100")
        self.assertEqual((rc, errors, other), (0, [], []), cmd)
        members = c.client(1).smembers("myset")
        self.assertEqual(c.client(2).smembers("myset"), members, "the nodes list alike")
        self.assertTrue(0 < len(members) <= 100, "%s: %d members" % (cmd, len(members)))
        want = re.compile(r"element:0000000000\d\d$")
        self.assertEqual([m for m in members if not want.match(m)], [], cmd)
        self.assertEqual(c.client(0).scard("myset"), len(members))
        rc, rows, errors, other, cmd = self.bench("-t", "spop")  # N pops of at most 100 members
        self.assertEqual((rc, errors, other), (0, [], []), cmd)
        for node in (0, 1, 2):
            self.assertEqual(c.client(node).scard("myset"), 0, "node %d: %s" % (node, cmd))

    def test_5_each_list_test(self):
        for t, command in LIST_TESTS.items():
            with self.subTest(test=t):
                rc, rows, errors, other, cmd = self.bench("-t", t, "-n", "100")
                self.assertNotEqual(rc, 0, cmd)
                self.assertEqual(len(errors), 1, "%s: %r" % (cmd, errors))
                self.assertTrue(errors[0].startswith("ERR unknown command '%s'" % command),
                                "%s: %r" % (cmd, errors))
                self.assertEqual(other, [], "%s: stderr" % cmd)


if __name__ == "__main__":
    unittest.main()
