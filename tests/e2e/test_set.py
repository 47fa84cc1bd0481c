"""The set commands, against a real Redis 7.0 as the oracle.

Covers SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE
SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN: their
replies, their errors (arity, syntax, ranges), WRONGTYPE against a string key
(which stays untouched), the deletion of a set its last member left (its TTL
goes with it, as in Redis), *STORE overwriting a destination of any type, a
full SSCAN iteration, RESP3 reply types, and sets surviving a restart.

Scripts run on ringkv and on a redis-server side by side (test_commands.py's
OracleCase): a line names the reply both must give, or SAME (byte for byte
Redis's), or Sorted (the same members, any order: Redis lists a set in hash
order, ringkv in name order). Random commands (SPOP, SRANDMEMBER) are checked
for what a user may rely on: sizes, membership, distinctness, removal.
"""
import unittest

from harness import RingKV, encode
from test_commands import SAME, OracleCase, Sorted

SYNTAX = "-ERR syntax error"
NOTINT = "-ERR value is not an integer or out of range"
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"


def arity(cmd):
    return "-ERR wrong number of arguments for '%s' command" % cmd


def members(*names):
    return Sorted([n.encode() if isinstance(n, str) else n for n in names])


class SetCommands(OracleCase):
    def test_sadd_srem_membership_and_cardinality(self):
        self.run_script([
            ("SADD s a", 1),
            ("SADD s a", 0),
            ("SADD s b c a", 2),
            ("SADD s d d d", 1),  # a member named twice is added once
            ("SCARD s", 4),
            ("SMEMBERS s", members("a", "b", "c", "d")),
            ("SISMEMBER s a", 1),
            ("SISMEMBER s zz", 0),
            ("SISMEMBER nokey a", 0),
            ("SMISMEMBER s a zz b", [1, 0, 1]),
            ("SMISMEMBER s zz", [0]),
            ("SMISMEMBER nokey a b", [0, 0]),
            ("SREM s a zz", 1),
            ("SREM s a", 0),
            ("SREM s b b", 1),
            ("SREM nokey a", 0),
            ("SCARD s", 2),
            ("SCARD nokey", 0),
            ("SMEMBERS nokey", []),
            ("SMEMBERS s", members("c", "d")),
            ("TYPE s", "+set"),
            ("EXISTS s", 1),
            # binary-safe members, the empty member, numbers as strings
            (["SADD", "bin", b"\x00\xff", b"", b"10", b"010"], 4),
            (["SISMEMBER", "bin", b""], 1),
            (["SISMEMBER", "bin", b"\x00\xff"], 1),
            ("SISMEMBER bin 10", 1),
            ("SISMEMBER bin 0010", 0),
            ("SMEMBERS bin", members(b"\x00\xff", b"", b"10", b"010")),
        ])

    def test_emptied_set_is_deleted(self):
        """Redis deletes a set whose last member goes: EXISTS 0, TYPE none,
        and the TTL it had does not apply to a set created again."""
        self.run_script([
            ("SADD s a b", 2),
            ("EXPIRE s 1000", 1),
            ("SREM s a b", 2),
            ("EXISTS s", 0),
            ("TYPE s", "+none"),
            ("SCARD s", 0),
            ("SADD s c", 1),
            ("TTL s", -1),
            ("SPOP s", b"c"),
            ("EXISTS s", 0),
            ("SADD s x y", 2),
            ("EXPIRE s 1000", 1),
            ("SPOP s 5", members("x", "y")),
            ("EXISTS s", 0),
            ("SADD s z", 1),
            ("TTL s", -1),
            ("SADD src m", 1),
            ("SMOVE src dst m", 1),
            ("EXISTS src", 0),
            ("SMEMBERS dst", [b"m"]),
            ("SREM dst m", 1),
            ("EXISTS dst", 0),
            ("DEL s", 1),
            ("EXISTS s", 0),
            ("SADD s again", 1),
            ("SMEMBERS s", [b"again"]),
        ])

    def test_wrongtype_against_a_string(self):
        """Every set command against a string key answers WRONGTYPE and
        leaves the string as it was."""
        script = [("SET str v", "+OK"), ("SADD s a", 1)]
        for line in ["SADD str a", "SREM str a", "SISMEMBER str a", "SMISMEMBER str a b",
                     "SMEMBERS str", "SCARD str", "SPOP str", "SPOP str 2", "SPOP str 0",
                     "SRANDMEMBER str", "SRANDMEMBER str 2", "SRANDMEMBER str -2",
                     "SRANDMEMBER str 0", "SMOVE str s a", "SMOVE s str a", "SMOVE str str a",
                     "SINTER str", "SINTER s str", "SINTER nokey str", "SINTERCARD 1 str",
                     "SINTERCARD 2 nokey str", "SINTERSTORE d str s", "SINTERSTORE d s str",
                     "SUNION s str", "SUNIONSTORE d str", "SDIFF str s", "SDIFF s str",
                     "SDIFF nokey str", "SDIFFSTORE d s str", "SSCAN str 0"]:
            script.append((line, WRONGTYPE))
        script += [
            ("GET str", b"v"),
            ("TYPE str", "+string"),
            ("EXISTS d", 0),
            ("SMEMBERS s", [b"a"]),
            ("SMOVE nokey str a", 0),  # Redis: a missing source answers 0 first
            ("SMOVE s nokey zz", 0),
            ("SSCAN str abc", "-ERR invalid cursor"),  # the cursor is checked first
        ]
        self.run_script(script)

    def test_argument_errors(self):
        self.run_script([
            ("SADD s a b c", 3),
            ("SADD s", arity("sadd")),
            ("SREM s", arity("srem")),
            ("SISMEMBER s", arity("sismember")),
            ("SISMEMBER s a b", arity("sismember")),
            ("SMISMEMBER s", arity("smismember")),
            ("SMEMBERS", arity("smembers")),
            ("SCARD", arity("scard")),
            ("SPOP", arity("spop")),
            ("SPOP s 1 2", SYNTAX),
            ("SPOP s -1", "-ERR value is out of range, must be positive"),
            ("SPOP s abc", "-ERR value is out of range, must be positive"),
            ("SPOP nokey -1", "-ERR value is out of range, must be positive"),
            ("SRANDMEMBER", arity("srandmember")),
            ("SRANDMEMBER s 1 2", SYNTAX),
            ("SRANDMEMBER s abc", NOTINT),
            ("SRANDMEMBER s 1.5", NOTINT),
            ("SRANDMEMBER s -9223372036854775808", SAME),
            ("SRANDMEMBER s 9223372036854775808", NOTINT),
            ("SMOVE s d", arity("smove")),
            ("SINTER", arity("sinter")),
            ("SINTERCARD", arity("sintercard")),
            ("SINTERCARD 1", arity("sintercard")),
            ("SINTERCARD 0 s", "-ERR numkeys should be greater than 0"),
            ("SINTERCARD -1 s", "-ERR numkeys should be greater than 0"),
            ("SINTERCARD a s", "-ERR numkeys should be greater than 0"),
            ("SINTERCARD 2 s", "-ERR Number of keys can't be greater than number of args"),
            ("SINTERCARD 1 s t", SYNTAX),
            ("SINTERCARD 1 s LIMIT", SYNTAX),
            ("SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative"),
            ("SINTERCARD 1 s LIMIT a", "-ERR LIMIT can't be negative"),
            ("SINTERCARD 1 s limit 1 LIMIT 2", 2),
            ("SINTERSTORE d", arity("sinterstore")),
            ("SUNION", arity("sunion")),
            ("SUNIONSTORE d", arity("sunionstore")),
            ("SDIFF", arity("sdiff")),
            ("SDIFFSTORE d", arity("sdiffstore")),
            ("SSCAN s", arity("sscan")),
            ("SSCAN s abc", "-ERR invalid cursor"),
            ("SSCAN s ' 0'", "-ERR invalid cursor"),
            ("SSCAN s 0 COUNT 0", SYNTAX),
            ("SSCAN s 0 COUNT abc", NOTINT),
            ("SSCAN s 0 MATCH", SYNTAX),
            ("SSCAN s 0 FOO bar", SYNTAX),
            ("SSCAN s 0 TYPE string", SYNTAX),
            ("SSCAN nokey 0 FOO", [b"0", []]),  # Redis: no options parsed for a missing key
            ("SMEMBERS s", members("a", "b", "c")),  # nothing above changed the set
            ("EXISTS d", 0),
        ])

    def test_spop(self):
        c = self.a
        self.run_script([
            ("SPOP nokey", None),
            ("SPOP nokey 3", []),
            ("SPOP nokey 0", []),
            ("SADD one x", 1),
            ("SPOP one 0", []),
            ("SPOP one", b"x"),
            ("SPOP one", None),
            ("SADD one y", 1),
            ("SPOP one 1", [b"y"]),
            ("EXISTS one", 0),
        ])
        names = [b"m%d" % i for i in range(26)]
        self.assertEqual(c.cmd("SADD", "s", *names), 26)
        popped = []
        for count in (11, 9, 0, 4, 1, 0, 1, 0):
            got = c.cmd("SPOP", "s", count)
            self.assertEqual(len(got), count)
            popped += got
        self.assertEqual(sorted(popped), sorted(names))  # each member popped once
        self.assertEqual(c.cmd("SCARD", "s"), 0)
        self.assertEqual(c.cmd("EXISTS", "s"), 0)
        self.assertEqual(c.cmd("SADD", "s", *names), 26)
        got = c.cmd("SPOP", "s", 30)  # more than the set: the whole set
        self.assertEqual(sorted(got), sorted(names))
        self.assertEqual(c.cmd("EXISTS", "s"), 0)
        self.assertEqual(c.cmd("SADD", "s", *names), 26)
        rest = set(names)
        for _ in range(26):
            m = c.cmd("SPOP", "s")
            self.assertIn(m, rest)
            rest.discard(m)
        self.assertEqual(c.cmd("SPOP", "s"), None)
        self.assertEqual(c.cmd("EXISTS", "s"), 0)

    def test_srandmember(self):
        c = self.a
        self.run_script([
            ("SRANDMEMBER nokey", None),
            ("SRANDMEMBER nokey 5", []),
            ("SRANDMEMBER nokey -5", []),
            ("SRANDMEMBER nokey 0", []),
            ("SADD one x", 1),
            ("SRANDMEMBER one", b"x"),
            ("SRANDMEMBER one 0", []),
            ("SRANDMEMBER one 1", [b"x"]),
            ("SRANDMEMBER one 3", [b"x"]),
            ("SRANDMEMBER one -3", [b"x", b"x", b"x"]),
        ])
        names = [b"m%d" % i for i in range(50)]
        self.assertEqual(c.cmd("SADD", "s", *names), 50)
        seen = set()
        for _ in range(200):
            m = c.cmd("SRANDMEMBER", "s")
            self.assertIn(m, names)
            seen.add(m)
        self.assertGreater(len(seen), 25)  # not always the same few
        for count in (1, 5, 20, 49, 50):
            got = c.cmd("SRANDMEMBER", "s", count)
            self.assertEqual(len(got), count)
            self.assertEqual(len(set(got)), count)  # distinct
            self.assertTrue(set(got) <= set(names))
        self.assertEqual(sorted(c.cmd("SRANDMEMBER", "s", 100)), sorted(names))
        got = c.cmd("SRANDMEMBER", "s", -200)  # repeats allowed
        self.assertEqual(len(got), 200)
        self.assertTrue(set(got) <= set(names))
        self.assertGreater(len(set(got)), 25)
        self.assertEqual(c.cmd("SCARD", "s"), 50)  # nothing removed

    def test_smove(self):
        self.run_script([
            ("SADD src a b", 2),
            ("SADD dst c", 1),
            ("SMOVE src dst a", 1),
            ("SMEMBERS src", [b"b"]),
            ("SMEMBERS dst", members("a", "c")),
            ("SMOVE src dst zz", 0),
            ("SMOVE nokey dst a", 0),
            ("SADD dst b", 1),
            ("SMOVE src dst b", 1),  # already in dst: moved anyway
            ("EXISTS src", 0),
            ("SMEMBERS dst", members("a", "b", "c")),
            ("SMOVE dst dst a", 1),  # same key: a no-op answering membership
            ("SMOVE dst dst zz", 0),
            ("SMEMBERS dst", members("a", "b", "c")),
            ("SMOVE dst fresh c", 1),
            ("SMEMBERS fresh", [b"c"]),
            ("TYPE fresh", "+set"),
        ])

    def test_set_algebra(self):
        self.run_script([
            ("SADD s1 a b c d", 4),
            ("SADD s2 c d e", 3),
            ("SADD s3 d e f", 3),
            ("SINTER s1", members("a", "b", "c", "d")),
            ("SINTER s1 s2", members("c", "d")),
            ("SINTER s1 s2 s3", [b"d"]),
            ("SINTER s1 nokey", []),
            ("SINTER nokey s1", []),
            ("SINTER s1 s1 s1", members("a", "b", "c", "d")),
            ("SUNION s1 s2", members("a", "b", "c", "d", "e")),
            ("SUNION nokey s1 s3 nokey2", members("a", "b", "c", "d", "e", "f")),
            ("SUNION nokey", []),
            ("SDIFF s1 s2", members("a", "b")),
            ("SDIFF s1 s2 s3", members("a", "b")),
            ("SDIFF s1 nokey", members("a", "b", "c", "d")),
            ("SDIFF nokey s1", []),
            ("SDIFF s1 s1", []),
            ("SDIFF s3 s1", members("e", "f")),
            ("SINTERCARD 2 s1 s2", 2),
            ("SINTERCARD 1 s1", 4),
            ("SINTERCARD 1 s1 LIMIT 3", 3),
            ("SINTERCARD 1 s1 LIMIT 0", 4),
            ("SINTERCARD 1 s1 LIMIT 10", 4),
            ("SINTERCARD 3 s1 s2 s3", 1),
            ("SINTERCARD 2 s1 nokey", 0),
            ("SINTERCARD 1 nokey LIMIT 10", 0),
            ("SINTERSTORE d s1 s2", 2),
            ("SMEMBERS d", members("c", "d")),
            ("SUNIONSTORE d s2 s3", 4),
            ("SMEMBERS d", members("c", "d", "e", "f")),
            ("SDIFFSTORE d s1 s2", 2),
            ("SMEMBERS d", members("a", "b")),
            ("SINTERSTORE d s1 nokey", 0),  # an empty result deletes the destination
            ("EXISTS d", 0),
            ("SINTERSTORE d s1 nokey", 0),
            ("SUNIONSTORE d nokey", 0),
            ("EXISTS d", 0),
            # the destination may be a source
            ("SUNIONSTORE s1 s1 s3", 6),
            ("SMEMBERS s1", members("a", "b", "c", "d", "e", "f")),
            ("SDIFFSTORE s1 s1 s3", 3),
            ("SMEMBERS s1", members("a", "b", "c")),
            ("SINTERSTORE s2 s2 s3", 2),
            ("SMEMBERS s2", members("d", "e")),
            ("SDIFFSTORE s2 s2 s2", 0),
            ("EXISTS s2", 0),
        ])

    def test_store_overwrites_the_destination(self):
        """A *STORE replaces what the destination held, whatever its type,
        and its TTL; an empty result deletes it."""
        self.run_script([
            ("SADD a x y", 2),
            ("SADD b y z", 2),
            ("SET d string", "+OK"),
            ("SUNIONSTORE d a b", 3),
            ("TYPE d", "+set"),
            ("SMEMBERS d", members("x", "y", "z")),
            ("SADD d old", 1),
            ("EXPIRE d 1000", 1),
            ("SINTERSTORE d a b", 1),
            ("SMEMBERS d", [b"y"]),
            ("TTL d", -1),
            ("SET d string", "+OK"),
            ("SDIFFSTORE d a a", 0),
            ("EXISTS d", 0),
            ("GET d", None),
            ("SET d string", "+OK"),
            ("SINTERSTORE d nokey", 0),
            ("EXISTS d", 0),
        ])

    def test_sscan(self):
        c = self.a
        self.run_script([
            ("SSCAN nokey 0", [b"0", []]),
            ("SADD s a b c", 3),
            ("SSCAN s 0", Sorted([b"0", [b"a", b"b", b"c"]])),
            ("SSCAN s 0 MATCH a*", [b"0", [b"a"]]),
            ("SSCAN s 0 MATCH * COUNT 100", Sorted([b"0", [b"a", b"b", b"c"]])),
            ("SSCAN s 0 MATCH nomatch", [b"0", []]),
        ])
        names = [b"user:%d" % i for i in range(1000)] + [b"other:%d" % i for i in range(100)]
        c.send(b"".join(encode("SADD", "big", *names[i:i + 100])
                        for i in range(0, len(names), 100)))
        for _ in range(0, len(names), 100):
            self.assertEqual(c.read_reply(), 100)
        for count, match, want in ((None, None, names), (7, None, names), (1000, None, names),
                                   (50, b"other:*", names[1000:]), (10, b"user:1?", names[10:20])):
            got, cursor, calls = [], b"0", 0
            while True:
                args = ["SSCAN", "big", cursor]
                if count:
                    args += ["COUNT", count]
                if match:
                    args += ["MATCH", match]
                cursor, page = c.cmd(*args)
                got += page
                calls += 1
                self.assertLess(calls, 2000)
                if cursor == b"0":
                    break
            self.assertEqual(sorted(got), sorted(want), (count, match))
            self.assertEqual(len(got), len(set(got)))  # each member once
        # a cursor past the end finishes the iteration
        self.assertEqual(c.cmd("SSCAN", "big", "100000"), [b"0", []])

    def test_large_set(self):
        c = self.a
        names = [b"%d" % i for i in range(5000)]
        self.assertEqual(c.cmd("SADD", "big", *names), 5000)
        self.assertEqual(c.cmd("SCARD", "big"), 5000)
        self.assertEqual(sorted(c.cmd("SMEMBERS", "big")), sorted(names))
        self.assertEqual(c.cmd("SREM", "big", *names[:4000]), 4000)
        self.assertEqual(c.cmd("SCARD", "big"), 1000)
        self.assertEqual(sorted(c.cmd("SMEMBERS", "big")), sorted(names[4000:]))
        self.assertEqual(c.cmd("SISMEMBER", "big", "3999"), 0)
        self.assertEqual(c.cmd("SISMEMBER", "big", "4000"), 1)

    def test_resp3_reply_types(self):
        """After HELLO 3: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a
        count answer a set (~), SRANDMEMBER with a count an array, SSCAN an
        array; the exact bytes are Redis's (single-member results)."""
        for conn in (self.a, self.b):
            conn.cmd("HELLO", "3")
            conn.cmd("SADD", "s", "x")
            conn.cmd("SADD", "t", "x")
        problems = []
        for line in ["SMEMBERS s", "SMEMBERS nokey", "SINTER s t", "SINTER s nokey", "SUNION s t",
                     "SDIFF s nokey", "SDIFF s t", "SRANDMEMBER s 1", "SRANDMEMBER s -2",
                     "SRANDMEMBER nokey 1", "SRANDMEMBER s", "SRANDMEMBER nokey", "SSCAN s 0",
                     "SSCAN nokey 0", "SMISMEMBER s x y", "SCARD s", "SPOP nokey 1", "SPOP nokey",
                     "SPOP s 0", "SPOP s 5", "SPOP t", "SINTERCARD 1 s"]:
            args = line.split()
            x, y = self.a.raw_cmd(*args), self.b.raw_cmd(*args)
            if x != y:
                problems.append("%s\n    ringkv: %r\n    redis:  %r" % (line, x, y))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_pipeline_and_multi(self):
        """Pipelined set commands answer in order, each seeing the ones
        before it (SINTERCARD too, whose keys are not locked); inside
        MULTI/EXEC as well."""
        script = [("SADD", "p", "1", "2"), ("SINTERCARD", "1", "p"), ("SUNIONSTORE", "q", "p"),
                  ("SCARD", "q"), ("SMOVE", "p", "q", "1"), ("SINTERCARD", "2", "p", "q"),
                  ("SREM", "p", "2"), ("EXISTS", "p"), ("SINTERCARD", "1", "p"),
                  ("MULTI",), ("SADD", "m", "a"), ("SMEMBERS", "m"), ("SPOP", "m", "5"),
                  ("SADD", "m", "b"), ("SINTERCARD", "1", "m"), ("EXEC",)]
        replies = []
        for conn in (self.a, self.b):
            conn.send(b"".join(encode(*cmd) for cmd in script))
            replies.append([conn.read_reply() for _ in script])
        self.assertEqual(replies[0], replies[1])
        self.assertEqual(replies[0][-1], [1, [b"a"], [b"a"], 1, 1])

    def test_command_info_and_docs(self):
        """COMMAND INFO gives Redis's arity, flags and key positions for
        every set command; COMMAND DOCS its group and summary."""
        names = ["sadd", "srem", "sismember", "smismember", "smembers", "scard", "spop",
                 "srandmember", "smove", "sinter", "sintercard", "sinterstore", "sunion",
                 "sunionstore", "sdiff", "sdiffstore", "sscan"]
        ours = self.a.cmd("COMMAND", "INFO", *names)
        ref = self.b.cmd("COMMAND", "INFO", *names)
        for o, r in zip(ours, ref):
            self.assertEqual(o[0], r[0])
            self.assertEqual(o[1], r[1], o[0])  # arity
            flags = [f.lstrip("+") for f in r[2]]
            for f in ("write", "readonly", "fast"):
                self.assertEqual(f in [x.lstrip("+") for x in o[2]], f in flags, (o[0], f))
            self.assertEqual(o[3:6], r[3:6], o[0])  # first, last, step
        for name in names:
            for conn in (self.a, self.b):
                docs = conn.cmd("COMMAND", "DOCS", name)  # RESP2: [name, [field, value...]]
                self.assertEqual(docs[0], name.encode())
                fields = dict(zip(docs[1][::2], docs[1][1::2]))
                self.assertEqual(fields[b"group"], b"set", name)
                ref = dict(zip(*[iter(self.b.cmd("COMMAND", "DOCS", name)[1])] * 2))
                self.assertEqual(fields[b"summary"], ref[b"summary"], name)
                self.assertEqual(fields[b"since"], ref[b"since"], name)


class SetPersistence(unittest.TestCase):
    """A set is stored: it is all there after a restart."""

    def test_set_survives_a_restart(self):
        srv = RingKV()
        self.addCleanup(srv.close)
        srv.start()
        c = srv.raw()
        self.assertEqual(c.cmd("SADD", "s", "a", "b", "c"), 3)
        self.assertEqual(c.cmd("SREM", "s", "b"), 1)
        self.assertEqual(c.cmd("SADD", "gone", "x"), 1)
        self.assertEqual(c.cmd("SPOP", "gone"), b"x")
        c.close()
        srv.restart()
        c = srv.raw()
        self.addCleanup(c.close)
        self.assertEqual(sorted(c.cmd("SMEMBERS", "s")), [b"a", b"c"])
        self.assertEqual(c.cmd("SCARD", "s"), 2)
        self.assertEqual(c.cmd("EXISTS", "gone"), 0)
        self.assertEqual(c.cmd("SADD", "s", "b"), 1)


if __name__ == "__main__":
    unittest.main()
