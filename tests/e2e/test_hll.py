"""HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) on one ringkv-server, with a
real Redis 7.0 next to it as the oracle (test_commands.OracleCase: each
script line's expected reply is checked on both servers).

Covers: PFADD's 1/0 (a register rose, the key was created, even with no
element), PFCOUNT of one key and of several (the count of the union, absent
keys as empty), PFMERGE (the union, destkey's own content kept, destkey
created when absent), arity errors, WRONGTYPE (Redis's "not a valid
HyperLogLog string value" for a string key, the ordinary text for another
type, the first key in argv order deciding), nothing written on an error,
the estimate within 2% for 100,000 elements, COMMAND INFO of the three.

Where ringkv differs from Redis on purpose: its HyperLogLog is not a Redis
string, so GET of an HLL key is WRONGTYPE (Redis returns the sketch's
bytes); those lines are checked on ringkv only.
"""
import unittest

from harness import ReplyError, encode
from test_commands import SAME, OracleCase, arity

HLL_STRING = "-WRONGTYPE Key is not a valid HyperLogLog string value."
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"


def pfadd_many(conn, key, elements, batch=1000):
    """PFADD of every element, `batch` per command, pipelined; returns the
    replies."""
    out = []
    cmds = [elements[i:i + batch] for i in range(0, len(elements), batch)]
    for chunk in cmds:
        conn.send(encode("PFADD", key, *chunk))
    for _ in cmds:
        out.append(conn.read_reply())
    return out


class HyperLogLog(OracleCase):
    def has(self, *cmds):
        """Whether ringkv knows each command (other data types land separately)."""
        for c in cmds:
            r = self.a.cmd("COMMAND", "INFO", c)
            if not r or r[0] is None:
                return False
        return True

    def test_pfadd_replies_and_creation(self):
        self.run_script([
            ("PFADD hll", 1),            # creates an empty HLL
            ("EXISTS hll", 1),
            ("TYPE hll", "+string"),     # as Redis says, though ringkv's is no string
            ("PFCOUNT hll", 0),
            ("PFADD hll", 0),            # exists: nothing changes
            ("PFADD hll a b c", 1),
            ("PFADD hll a b c", 0),      # no register rose
            ("PFADD hll c b", 0),
            ("PFCOUNT hll", 3),
            ("PFADD hll ''", 1),         # the empty string is an element
            ("PFCOUNT hll", 4),
            ("PFADD hll d d d e", 1),
            ("PFCOUNT hll", 6),
            ("PFADD other x", 1),        # a key created with elements
            ("PFCOUNT other", 1),
            ("PFCOUNT nokey", 0),
            ("EXISTS nokey", 0),         # PFCOUNT creates nothing
            ("DEL hll", 1),
            ("EXISTS hll", 0),
            ("PFCOUNT hll", 0),
            ("PFADD hll a", 1),          # created again
            ("PFCOUNT hll", 1),
        ])

    def test_del_and_expiry(self):
        self.run_script([
            ("PFADD k a b c", 1),
            ("EXPIRE k 100", 1),
            ("PFADD k d", 1),            # a PFADD keeps the TTL
            ("TTL k", 100),
            ("PFADD src x", 1),
            ("PFMERGE k src", "+OK"),    # so does a PFMERGE into it
            ("TTL k", 100),
            ("PFCOUNT k", 5),
            ("PERSIST k", 1),
            ("TTL k", -1),
            ("PEXPIRE k 150", 1),
            "SLEEP 0.4",
            ("EXISTS k", 0),
            ("PFCOUNT k", 0),
            ("PFCOUNT k src", 1),
            ("PFADD k a", 1),            # created again, empty but for a
            ("PFCOUNT k", 1),
            ("TTL k", -1),
            ("DEL k src", 2),
            ("PFCOUNT k src", 0),
            ("PFMERGE k src", "+OK"),
            ("PFCOUNT k", 0),
            ("EXISTS k src", 1),
        ])

    def test_small_counts_are_exact(self):
        script = [("DEL hll", SAME)]
        for i in range(1, 11):
            script += [("PFADD hll e%d" % i, 1), ("PFCOUNT hll", i)]
        script += [("PFADD hll 1 2 3 4 5", 1), ("PFCOUNT hll", 15),
                   ("PFADD hll 6 7 8 8 9 10", 1), ("PFCOUNT hll", 20)]
        self.run_script(script)

    def test_binary_elements(self):
        self.run_script([
            (["PFADD", "bin", b"\x00\x01", b"\xff\xfe\r\n", b"a" * 10000], 1),
            (["PFADD", "bin", b"\x00\x01"], 0),
            ("PFCOUNT bin", 3),
        ])

    def test_arity_errors(self):
        self.run_script([
            ("PFADD", arity("pfadd")),
            ("PFCOUNT", arity("pfcount")),
            ("PFMERGE", arity("pfmerge")),
            ("EXISTS pfadd pfcount pfmerge", 0),
        ])

    def test_wrongtype_string_key(self):
        self.run_script([
            ("SET str v", "+OK"),
            ("PFADD hll a", 1),
            ("PFADD str a", HLL_STRING),
            ("PFADD str", HLL_STRING),
            ("PFCOUNT str", HLL_STRING),
            ("PFCOUNT hll str", HLL_STRING),
            ("PFCOUNT str hll", HLL_STRING),
            ("PFMERGE str hll", HLL_STRING),   # destkey checked
            ("PFMERGE dest str", HLL_STRING),  # a source checked
            ("EXISTS dest", 0),                # nothing written on an error
            ("PFMERGE hll str", HLL_STRING),
            ("PFCOUNT hll", 1),
            ("GET str", b"v"),                 # the string is untouched
        ])

    def test_wrongtype_of_other_types(self):
        if not self.has("sadd", "hset", "zadd"):
            self.skipTest("sets, hashes or sorted sets are not on this branch yet")
        self.run_script([
            ("SET str v", "+OK"),
            ("SADD set m", 1),
            ("HSET hash f v", 1),
            ("ZADD zset 1 m", 1),
            ("PFADD hll a", 1),
            ("PFADD set a", WRONGTYPE),
            ("PFADD hash", WRONGTYPE),
            ("PFCOUNT zset", WRONGTYPE),
            # several keys: the first bad key in argv order decides the text
            ("PFCOUNT hll set str", WRONGTYPE),
            ("PFCOUNT hll str set", HLL_STRING),
            ("PFMERGE set str", WRONGTYPE),
            ("PFMERGE str set", HLL_STRING),
            ("PFMERGE hll hash str", WRONGTYPE),
            ("PFMERGE hll str hash", HLL_STRING),
            ("PFMERGE dest zset", WRONGTYPE),
            ("EXISTS dest", 0),
            ("PFCOUNT hll", 1),
            ("SADD hll m", WRONGTYPE),
            ("HSET hll f v", WRONGTYPE),
            ("ZADD hll 1 m", WRONGTYPE),
        ])

    def test_an_hll_is_not_a_string_in_ringkv(self):
        """Redis's HLL is a string (GET returns its bytes); ringkv's is its own
        type, so string commands on it are WRONGTYPE and change nothing."""
        a = self.a
        self.assertEqual(a.cmd("PFADD", "hll", "a", "b"), 1)
        for cmd in (("GET", "hll"), ("APPEND", "hll", "x"), ("SETRANGE", "hll", "0", "x"),
                    ("STRLEN", "hll"), ("INCR", "hll")):
            r = a.cmd(*cmd)
            self.assertIsInstance(r, ReplyError, cmd)
            self.assertEqual("-" + str(r), WRONGTYPE, cmd)
        self.assertEqual(a.cmd("PFCOUNT", "hll"), 2)

    def test_pfmerge(self):
        self.run_script([
            ("PFADD hll1 a b c", 1),
            ("PFADD hll2 b c d", 1),
            ("PFADD hll3 c d e", 1),
            ("PFMERGE hll hll1 hll2 hll3", "+OK"),
            ("PFCOUNT hll", 5),
            ("PFCOUNT hll1", 3),            # the sources are unchanged
            ("PFCOUNT hll2", 3),
            # destkey keeps its own content: Redis merges into it
            ("PFADD d x y", 1),
            ("PFMERGE d hll1", "+OK"),
            ("PFCOUNT d", 5),
            ("PFMERGE d hll1", "+OK"),      # idempotent
            ("PFCOUNT d", 5),
            ("PFMERGE d", "+OK"),           # destkey alone
            ("PFCOUNT d", 5),
            # destkey created when absent, even with nothing to merge
            ("PFMERGE new", "+OK"),
            ("EXISTS new", 1),
            ("PFCOUNT new", 0),
            ("PFMERGE new2 nosuch1 nosuch2", "+OK"),
            ("EXISTS new2", 1),
            ("PFCOUNT new2", 0),
            # a source may be destkey itself, or repeated
            ("PFMERGE hll1 hll1 hll2 hll2", "+OK"),
            ("PFCOUNT hll1", 4),
            ("PFADD hll1 a b c d", 0),      # the merged registers are there
        ])

    def test_pfcount_of_several_keys(self):
        self.run_script([
            ("PFADD h1 a b c", 1),
            ("PFADD h2 b c d", 1),
            ("PFADD h3 c d e", 1),
            ("PFCOUNT h1 h2 h3", 5),
            ("PFCOUNT h1 h2", 4),
            ("PFCOUNT h1 h1", 3),
            ("PFCOUNT h1 nosuch h3", 5),
            ("PFCOUNT nosuch1 nosuch2", 0),
            ("EXISTS nosuch1 nosuch2", 0),
            ("PFCOUNT h1", 3),              # nothing was merged into h1
        ])

    def within(self, got, true, pct):
        self.assertLessEqual(abs(got - true), true * pct / 100.0,
                             "estimate %d for %d elements" % (got, true))

    def test_estimate_of_100k_elements(self):
        n = 100000
        elements = ["element:%d" % i for i in range(n)]
        replies = pfadd_many(self.a, "big", elements)
        self.assertTrue(all(r in (0, 1) for r in replies), replies[:5])
        self.assertEqual(replies[0], 1)
        pfadd_many(self.b, "big", elements)
        got, ref = self.a.cmd("PFCOUNT", "big"), self.b.cmd("PFCOUNT", "big")
        self.within(ref, n, 2)  # the expectation holds for Redis too
        self.within(got, n, 2)
        # adding them again changes nothing
        self.assertEqual(set(pfadd_many(self.a, "big", elements)), {0})
        self.assertEqual(self.a.cmd("PFCOUNT", "big"), got)

    def test_union_estimates(self):
        """Three overlapping sets of 30,000: PFCOUNT of the keys and PFCOUNT
        of their PFMERGE are the count of the union, within 2%."""
        sets = [["x%d" % i for i in range(k * 20000, k * 20000 + 30000)] for k in range(3)]
        true = len(set().union(*sets))  # 70,000
        for conn in (self.a, self.b):
            for k, s in enumerate(sets):
                pfadd_many(conn, "u%d" % k, s)
            union = conn.cmd("PFCOUNT", "u0", "u1", "u2")
            self.within(union, true, 2)
            self.within(conn.cmd("PFCOUNT", "u1"), 30000, 2)
            self.assertEqual(conn.cmd("PFMERGE", "all", "u0", "u1", "u2"), "+OK")
            self.assertEqual(conn.cmd("PFCOUNT", "all"), union)
            self.assertEqual(conn.cmd("PFCOUNT", "all", "u0", "u2"), union)

    def test_command_info(self):
        for name in ("pfadd", "pfcount", "pfmerge"):
            x = self.a.cmd("COMMAND", "INFO", name)[0]
            y = self.b.cmd("COMMAND", "INFO", name)[0]
            # name, arity, first key, last key, step
            self.assertEqual(x[:2] + x[3:6], y[:2] + y[3:6], name)
            flags = {(f.decode() if isinstance(f, bytes) else f).lstrip("+") for f in x[2]}
            self.assertIn("readonly" if name == "pfcount" else "write", flags, name)
        self.run_script([
            ("COMMAND GETKEYS pfmerge d s1 s2", [b"d", b"s1", b"s2"]),
            ("COMMAND GETKEYS pfcount a b", [b"a", b"b"]),
            ("COMMAND GETKEYS pfadd k e1 e2", [b"k"]),
        ])


if __name__ == "__main__":
    unittest.main()
