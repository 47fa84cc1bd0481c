"""redis-benchmark (redis-tools 7.0) against a 3-node ringkv cluster.

redis-benchmark 7.0 stops at the first error reply ("to avoid false
results"). Its default test list (no -t) is PING_INLINE, PING_MBULK, SET,
GET, INCR, then the list/set/hash/sorted-set tests, then MSET. So:
  - the default run must complete PING_INLINE, PING_MBULK, SET, GET and
    INCR and then stop on LPUSH's "ERR unknown command" (ringkv has no
    lists), with no other error;
  - each test of the default list is then run alone (-t): every string
    test (PING_INLINE, PING_MBULK, SET, GET, INCR, MSET) completes without
    an error, pipelined too (-P 16), and every data-type test fails only
    with "ERR unknown command '<its command>'";
  - the server agrees: INFO commandstats shows no failed or rejected
    SET/GET/INCR/MSET/PING calls, and the data is there: the benchmark's
    counter holds exactly the number of INCRs it ran (no lost or doubled
    increment with 20 concurrent clients), read through another node."""
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
# default tests ringkv has no data type for -> the command that fails first
DATATYPE_TESTS = {"lpush": "LPUSH", "rpush": "RPUSH", "lpop": "LPOP", "rpop": "RPOP",
                  "sadd": "SADD", "hset": "HSET", "spop": "SPOP", "zadd": "ZADD",
                  "zpopmin": "ZPOPMIN", "lrange_100": "LPUSH", "lrange_300": "LPUSH",
                  "lrange_500": "LPUSH", "lrange_600": "LPUSH"}
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
        rows = {}
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
        self.assertEqual(len(errors), 1, "%s: errors %r" % (cmd, errors))
        self.assertTrue(errors[0].startswith("ERR unknown command 'LPUSH'"), errors)
        self.assertEqual(other, [], "%s: other output on stderr" % cmd)
        self.assertEqual(rc, 1, "redis-benchmark 7.0 exits 1 at its first error")
        print("\n    default list: " + ", ".join("%s %.0f/s" % kv for kv in rows.items()))

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

    def test_3_each_datatype_test(self):
        for t, command in DATATYPE_TESTS.items():
            with self.subTest(test=t):
                rc, rows, errors, other, cmd = self.bench("-t", t, "-n", "100")
                self.assertNotEqual(rc, 0, cmd)
                self.assertEqual(len(errors), 1, "%s: %r" % (cmd, errors))
                self.assertTrue(errors[0].startswith("ERR unknown command '%s'" % command),
                                "%s: %r" % (cmd, errors))
                self.assertEqual(other, [], "%s: stderr" % cmd)


if __name__ == "__main__":
    unittest.main()
