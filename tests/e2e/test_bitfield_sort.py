"""BITFIELD, BITFIELD_RO, SORT and SORT_RO against a real Redis 7.0 as the oracle.

BITFIELD: GET/SET/INCRBY on signed and unsigned fields of every width, bit and
#n offsets, OVERFLOW WRAP/SAT/FAIL (the edges of i64 and u63 included), the
string growing to the last byte written, its TTL kept, keys INCR or SETBIT
wrote, a missing key created even when every write FAILs, BITFIELD_RO, every
error text (nothing written after one), WRONGTYPE against a set, RESP3 nulls,
and a seeded random run of a few hundred commands replied byte for byte as
Redis replies them.

SORT: numeric and ALPHA orders of sets (and of sorted sets and hash-field
patterns when this build has ZADD/HSET), ASC/DESC, every LIMIT clamping case,
BY and GET patterns over strings (counters too) and hash fields, GET #, a
pattern without '*', missing pattern keys, BY nosort, a set of 500 elements
sorted by 500 weight keys (more pattern reads than SORT keeps in flight), the
errors (syntax, LIMIT, non-numeric scores, WRONGTYPE), SORT_RO refusing STORE,
and what ringkv does differently, said in its replies: SORT ... STORE is refused
(ringkv has no lists yet), BY nosort lists a set in member order (Redis: hash
order), and a SORT whose patterns would read more than 100000 keys is refused
before it reads any.

Scripts run on ringkv and on a redis-server side by side (test_commands.py's
OracleCase): a line names the reply both must give, or SAME (byte for byte
Redis's), or Sorted (the same elements, any order).
"""
import random
import unittest

from harness import encode
from test_commands import SAME, OracleCase, Sorted, norm

SYNTAX = "-ERR syntax error"
NOTINT = "-ERR value is not an integer or out of range"
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"
BF_TYPE = ("-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
           "supported but i64 is.")
BF_OFFSET = "-ERR bit offset is not an integer or out of range"
BF_RO = "-ERR BITFIELD_RO only supports the GET subcommand"
NOTDOUBLE = "-ERR One or more scores can't be converted into double"
STORE = ("-ERR SORT ... STORE needs lists, which ringkv does not have yet (SORT without STORE "
         "returns the same elements)")


def arity(cmd):
    return "-ERR wrong number of arguments for '%s' command" % cmd


class BitfieldCommands(OracleCase):
    def test_get_set_incrby(self):
        self.run_script([
            ("BITFIELD k SET i8 0 -100", [0]),
            ("BITFIELD k SET i8 0 101 GET i8 0 GET u8 0", [-100, 101, 101]),
            ("GET k", b"e"),
            ("BITFIELD k SET u8 #1 66 SET u8 #2 67", [0, 0]),
            ("GET k", b"eBC"),
            ("BITFIELD k INCRBY u8 #1 1 INCRBY i8 #2 -3 GET u16 8", [67, 64, 0x4340]),
            ("BITFIELD k GET u4 0 GET u4 4 GET i4 4 GET u1 7 GET i1 7", [6, 5, 5, 1, -1]),
            # fields that straddle bytes
            ("BITFIELD k SET u5 7 23 GET u5 7 GET u13 3", [20, 23, 1395]),
            ("BITFIELD k GET i64 0 GET u63 1 GET i64 60", SAME),
            ("GET k", SAME),
            ("BITFIELD k", []),
            ("BITFIELD nokey GET u8 0 GET i64 1000", [0, 0]),
            ("EXISTS nokey", 0),
            # offsets past the end read as zeros, and writes grow the string
            ("BITFIELD k GET u8 1000", [0]),
            ("BITFIELD k SET u8 100 255", [0]),
            ("STRLEN k", 14),
            ("GET k", SAME),
            ("BITFIELD k SET i16 #20 -2", [0]),
            ("STRLEN k", 42),
            ("BITFIELD k GET i16 #20 GET u16 #20", [-2, 65534]),
            # subcommand names and OVERFLOW types in any case
            ("BITFIELD k get i8 0 Set i8 0 1 INCRby i8 0 1 overflow Sat incrby i8 0 200", SAME),
        ])

    def test_overflow(self):
        self.run_script([
            # unsigned
            ("BITFIELD u SET u8 #0 100", [0]),
            ("BITFIELD u OVERFLOW WRAP INCRBY u8 #0 257 GET u8 #0", [101, 101]),
            ("BITFIELD u OVERFLOW WRAP INCRBY u8 #0 -102", [255]),
            ("BITFIELD u OVERFLOW SAT INCRBY u8 #0 1 INCRBY u8 #0 -1000", [255, 0]),
            ("BITFIELD u OVERFLOW FAIL INCRBY u8 #0 -1 INCRBY u8 #0 256 INCRBY u8 #0 255", [None, None, 255]),
            ("BITFIELD u GET u8 #0", [255]),
            # SET of a negative value into an unsigned field: Redis takes its
            # 64-bit pattern, which overflows upwards
            ("BITFIELD u SET u8 #0 -1", [255]),
            ("BITFIELD u OVERFLOW SAT SET u8 #0 -1 GET u8 #0", [255, 255]),
            ("BITFIELD u OVERFLOW FAIL SET u8 #0 -1 SET u8 #0 256 SET u8 #0 7", [None, None, 255]),
            ("BITFIELD u SET u2 0 5 GET u2 0", [0, 1]),
            # signed
            ("BITFIELD s SET i8 0 127", [0]),
            ("BITFIELD s INCRBY i8 0 1 INCRBY i8 0 -1", [-128, 127]),
            ("BITFIELD s OVERFLOW SAT INCRBY i8 0 100 INCRBY i8 0 -1000", [127, -128]),
            ("BITFIELD s OVERFLOW FAIL INCRBY i8 0 -1 INCRBY i8 0 255 GET i8 0", [None, 127, 127]),
            ("BITFIELD s OVERFLOW SAT SET i8 0 -1000 SET i8 0 1000 GET i8 0", [127, -128, 127]),
            ("BITFIELD s OVERFLOW WRAP SET i8 0 200 GET i8 0", [127, -56]),
            ("BITFIELD s SET i1 0 1 GET i1 0", SAME),
            # the widest types
            ("BITFIELD w SET i64 0 9223372036854775807 INCRBY i64 0 1", [0, -9223372036854775808]),
            ("BITFIELD w OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 1 INCRBY i64 0 1",
             [-9223372036854775808, -9223372036854775807, -9223372036854775806]),
            ("BITFIELD w OVERFLOW SAT SET i64 0 5 INCRBY i64 0 9223372036854775807", SAME),
            ("BITFIELD w OVERFLOW FAIL INCRBY i64 0 -9223372036854775808 INCRBY i64 0 1", SAME),
            ("BITFIELD w OVERFLOW SAT INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -9223372036854775808", SAME),
            ("BITFIELD w SET u63 0 9223372036854775807 INCRBY u63 0 1", SAME),
            ("BITFIELD w OVERFLOW SAT SET u63 0 1 INCRBY u63 0 9223372036854775807 INCRBY u63 0 -9223372036854775808", SAME),
            ("BITFIELD w OVERFLOW FAIL INCRBY u63 0 -9223372036854775808", SAME),
            ("GET w", SAME),
            # OVERFLOW applies to what follows it, until the next one
            ("BITFIELD o SET u4 0 15 OVERFLOW FAIL INCRBY u4 0 1 OVERFLOW WRAP INCRBY u4 0 1", [0, None, 0]),
        ])

    def test_errors_write_nothing(self):
        self.run_script([
            ("SET k abc", "+OK"),
            ("BITFIELD", arity("bitfield")),
            ("BITFIELD_RO", arity("bitfield_ro")),
            ("BITFIELD k GET", SYNTAX),
            ("BITFIELD k GET i8", SYNTAX),
            ("BITFIELD k SET i8 0", SYNTAX),
            ("BITFIELD k INCRBY i8 0", SYNTAX),
            ("BITFIELD k OVERFLOW", SYNTAX),
            ("BITFIELD k FOO i8 0", SYNTAX),
            ("BITFIELD k SET i8 0 1 GET i8", SYNTAX),  # the whole command is refused
            ("BITFIELD k OVERFLOW FOO SET i8 0 1", "-ERR Invalid OVERFLOW type specified"),
            ("BITFIELD k GET u64 0", BF_TYPE),
            ("BITFIELD k GET i65 0", BF_TYPE),
            ("BITFIELD k GET i0 0", BF_TYPE),
            ("BITFIELD k GET u0 0", BF_TYPE),
            ("BITFIELD k GET I8 0", BF_TYPE),
            ("BITFIELD k GET x8 0", BF_TYPE),
            ("BITFIELD k GET i 0", BF_TYPE),
            ("BITFIELD k GET i08 0", BF_TYPE),
            ("BITFIELD k GET i-8 0", BF_TYPE),
            ("BITFIELD k SET u8 -1 0", BF_OFFSET),
            ("BITFIELD k SET u8 #-1 0", BF_OFFSET),
            ("BITFIELD k SET u8 abc 0", BF_OFFSET),
            ("BITFIELD k SET u8 # 0", BF_OFFSET),
            ("BITFIELD k SET u8 4294967296 0", BF_OFFSET),
            ("BITFIELD k SET u8 #536870912 0", BF_OFFSET),
            ("BITFIELD k SET u8 #1152921504606846976 0", BF_OFFSET),
            ("BITFIELD k SET u8 0 abc", NOTINT),
            ("BITFIELD k SET u8 0 9223372036854775808", NOTINT),
            ("BITFIELD k INCRBY u8 0 1.5", NOTINT),
            ("BITFIELD k SET i8 0 1 SET u64 0 1", BF_TYPE),  # errors before anything runs
            ("GET k", b"abc"),
            ("BITFIELD_RO k GET i8 0 SET i8 0 1", BF_RO),
            ("BITFIELD_RO k INCRBY i8 0 1", BF_RO),
            ("BITFIELD_RO k OVERFLOW SAT GET i8 0", SAME),
            ("BITFIELD_RO k GET i8 0 GET u8 #2", [97, 99]),
            ("BITFIELD_RO k", []),
            ("BITFIELD_RO k GET u64 0", BF_TYPE),
            ("BITFIELD_RO nokey GET i8 0", [0]),
            ("GET k", b"abc"),
            ("EXISTS nokey", 0),
        ])

    def test_wrongtype_and_other_string_writers(self):
        self.run_script([
            ("SADD s a", 1),
            ("BITFIELD s GET u8 0", WRONGTYPE),
            ("BITFIELD s SET u8 0 1", WRONGTYPE),
            ("BITFIELD_RO s GET u8 0", WRONGTYPE),
            ("SMEMBERS s", [b"a"]),
            # a set made after a string was deleted (a tombstone is left)
            ("SET t v", "+OK"),
            ("DEL t", 1),
            ("SADD t a", 1),
            ("BITFIELD t GET u8 0", WRONGTYPE),
            ("BITFIELD t SET u8 0 1", WRONGTYPE),
            ("BITFIELD_RO t GET u8 0", WRONGTYPE),
            ("TYPE t", "+set"),
            # a key INCR wrote reads as its number's text, as in Redis
            ("INCRBY n 12", 12),
            ("BITFIELD n GET u8 0 GET u8 8", [ord("1"), ord("2")]),
            ("BITFIELD n INCRBY u8 8 1", [ord("3")]),
            ("GET n", b"13"),
            ("INCR n", 14),
            # SETBIT, APPEND and BITFIELD see each other
            ("SETBIT b 7 1", 0),
            ("BITFIELD b GET u8 0 SET u4 4 15", [1, 1]),
            ("APPEND b x", 2),
            ("BITFIELD b GET u8 0 GET u8 8", [15, ord("x")]),
            ("GETBIT b 4", 1),
            # the TTL stays
            ("SET e v EX 1000", "+OK"),
            ("BITFIELD e SET u8 16 65", [0]),
            ("GET e", b"v\x00A"),
            ("TTL e", 1000),
            # a missing key is created even when every write FAILs (zero
            # bytes up to the last one addressed), as Redis creates it
            ("BITFIELD f OVERFLOW FAIL INCRBY u2 10 9 SET i4 12 100", [None, None]),
            ("GET f", b"\x00\x00"),
            # an existing key that nothing changed keeps its bytes
            ("BITFIELD f OVERFLOW FAIL INCRBY u2 10 9", [None]),
            ("BITFIELD f SET u8 0 0", [0]),
            ("GET f", b"\x00\x00"),
            ("TYPE f", "+string"),
        ])

    def test_random_commands_reply_as_redis(self):
        """A seeded random mix of widths, offsets, values and OVERFLOW modes,
        over a few keys: every reply and the final bytes as Redis's."""
        rnd = random.Random(1507)
        script = []
        for _ in range(300):
            key = "r%d" % rnd.randrange(3)
            args = ["BITFIELD", key]
            for _ in range(rnd.randrange(1, 5)):
                sign = rnd.choice("iu")
                bits = rnd.randrange(1, 65 if sign == "i" else 64)
                off = rnd.choice([str(rnd.randrange(0, 200)), "#%d" % rnd.randrange(0, 8)])
                op = rnd.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                if op == "OVERFLOW":
                    args += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
                elif op == "GET":
                    args += ["GET", "%s%d" % (sign, bits), off]
                else:
                    v = rnd.choice([rnd.randrange(-300, 300), rnd.randrange(-2**63, 2**63),
                                    2**63 - 1, -2**63, 2**(bits - 1), -2**(bits - 1) - 1])
                    args += [op, "%s%d" % (sign, bits), off, str(v)]
            script.append((args, SAME))
        for k in range(3):
            script.append(("GET r%d" % k, SAME))
        self.run_script(script)

    def test_resp3_and_pipeline(self):
        """RESP3 nulls for FAILed operations; pipelined BITFIELDs each see the
        one before; inside MULTI as well."""
        for conn in (self.a, self.b):
            conn.cmd("HELLO", "3")
        problems = []
        for line in ["BITFIELD k OVERFLOW FAIL INCRBY u2 0 7 SET u8 8 1", "BITFIELD k GET u8 8",
                     "BITFIELD_RO k GET i8 8", "BITFIELD k"]:
            x, y = self.a.raw_cmd(*line.split()), self.b.raw_cmd(*line.split())
            if x != y:
                problems.append("%s\n    ringkv: %r\n    redis:  %r" % (line, x, y))
        self.assertEqual(problems, [], "\n".join(problems))
        script = [("BITFIELD", "p", "INCRBY", "u8", "0", "1")] * 5 + [
            ("MULTI",), ("BITFIELD", "p", "INCRBY", "u8", "0", "10"), ("BITFIELD_RO", "p", "GET", "u8", "0"),
            ("EXEC",)]
        replies = []
        for conn in (self.a, self.b):
            conn.send(b"".join(encode(*cmd) for cmd in script))
            replies.append([conn.read_reply() for _ in script])
        self.assertEqual(replies[0], replies[1])
        self.assertEqual(replies[0][-1], [[15], [15]])

    def test_command_info(self):
        """COMMAND INFO: Redis's arity, key positions and flags. SORT is a
        write in Redis (STORE); ringkv refuses STORE, so its SORT is a read."""
        names = ["bitfield", "bitfield_ro", "sort", "sort_ro"]
        ours = self.a.cmd("COMMAND", "INFO", *names)
        ref = self.b.cmd("COMMAND", "INFO", *names)
        for o, r in zip(ours, ref):
            self.assertEqual(o[0], r[0])
            self.assertEqual(o[1], r[1], o[0])  # arity
            self.assertEqual(o[3:6], r[3:6], o[0])  # first, last, step
            flags = [f.lstrip("+") for f in r[2]]
            if o[0] == b"sort":
                flags = ["readonly"]
            for f in ("write", "readonly"):
                self.assertEqual(f in [x.lstrip("+") for x in o[2]], f in flags, (o[0], f))
        for name in names:
            x = dict(zip(*[iter(self.a.cmd("COMMAND", "DOCS", name)[1])] * 2))
            y = dict(zip(*[iter(self.b.cmd("COMMAND", "DOCS", name)[1])] * 2))
            for field in (b"summary", b"since", b"group"):
                self.assertEqual(x[field], y[field], (name, field))


class SortCommands(OracleCase):
    def has(self, cmd):
        return self.a.cmd("COMMAND", "INFO", cmd)[0] is not None

    def test_numeric_and_alpha(self):
        self.run_script([
            ("SADD s 3 1 2 10 -5 1.5 1e1x", 7),
            ("SORT s", NOTDOUBLE),
            ("SREM s 1e1x", 1),
            ("SORT s", [b"-5", b"1", b"1.5", b"2", b"3", b"10"]),
            ("SORT s ASC", [b"-5", b"1", b"1.5", b"2", b"3", b"10"]),
            ("SORT s DESC", [b"10", b"3", b"2", b"1.5", b"1", b"-5"]),
            ("SORT s ALPHA", [b"-5", b"1", b"1.5", b"10", b"2", b"3"]),
            ("SORT s ALPHA DESC", [b"3", b"2", b"10", b"1.5", b"1", b"-5"]),
            ("SORT s DESC ASC", SAME),  # the last one wins
            ("SORT_RO s", SAME),
            ("SORT_RO s DESC ALPHA", SAME),
            # what strtod takes: exponents, hex, infinities, spaces before;
            # equal numbers are ordered by their bytes
            ("SADD n 1e3 0x10 -inf inf ' 7' 7.0 7 +7 007", 9),
            ("SORT n", SAME),
            ("SORT n DESC", SAME),
            ("SADD n nan", 1),
            ("SORT n", NOTDOUBLE),
            ("SORT n ALPHA LIMIT 0 3", SAME),
            ("SADD n '7 '", 1),
            ("SREM n nan", 1),
            ("SORT n", NOTDOUBLE),
            ("SADD w apple banana cherry a b ab", 6),
            ("SORT w ALPHA", [b"a", b"ab", b"apple", b"b", b"banana", b"cherry"]),
            ("SORT w", NOTDOUBLE),
            (["SADD", "bin", b"b\x00z", b"b", b"a\xff"], 3),
            (["SORT", "bin", "ALPHA", "BY", "nosort"], Sorted(SAME)),
        ])

    def test_limit(self):
        self.run_script([("SADD s %s" % " ".join(str(i) for i in range(10)), 10)])
        script = []
        for start in (-5, -1, 0, 1, 3, 9, 10, 11, 100):
            for count in (-10, -1, 0, 1, 2, 5, 9, 10, 11, 1000):
                script.append(("SORT s LIMIT %d %d" % (start, count), SAME))
                script.append(("SORT s DESC LIMIT %d %d" % (start, count), SAME))
        script += [
            ("SORT s LIMIT 0 2 LIMIT 5 2", [b"5", b"6"]),
            ("SORT nokey LIMIT 0 10", []),
            ("SORT nokey LIMIT 5 -1", []),
            ("SORT s LIMIT 9223372036854775807 9223372036854775807", []),
            ("SORT s LIMIT -9223372036854775808 -9223372036854775808", SAME),
        ]
        self.run_script(script)

    def test_by_and_get_string_patterns(self):
        self.run_script([
            ("SADD s 3 1 2 10 -5", 5),
            ("MSET w_3 30 w_1 10 w_2 20 w_-5 100 name_1 one name_2 two name_3 three", "+OK"),
            # w_10 is missing: it weighs 0
            ("SORT s BY w_*", [b"10", b"1", b"2", b"3", b"-5"]),
            ("SORT s BY w_* DESC", [b"-5", b"3", b"2", b"1", b"10"]),
            ("SORT s BY w_* LIMIT 1 2", [b"1", b"2"]),
            ("SORT s BY w_* GET #", [b"10", b"1", b"2", b"3", b"-5"]),
            ("SORT s BY w_* GET name_* GET # GET w_*",
             [None, b"10", None, b"one", b"1", b"10", b"two", b"2", b"20",
              b"three", b"3", b"30", None, b"-5", b"100"]),
            ("SORT s GET name_* GET nostar", [None, None, b"one", None, b"two", None,
                                              b"three", None, None, None]),
            ("SORT s BY w_* ALPHA", [b"10", b"1", b"-5", b"2", b"3"]),  # missing first
            ("SORT s BY w_* ALPHA DESC LIMIT 0 2", [b"3", b"2"]),
            ("SORT_RO s BY w_* GET name_* LIMIT 0 3", [None, b"one", b"two"]),
            ("SORT s BY *", SAME),  # the elements' own keys: none exist
            ("SET 3 x", "+OK"),
            ("SORT s BY *", NOTDOUBLE),
            ("SORT s BY * ALPHA GET *", SAME),
            # '*' anywhere; only the first one is replaced
            ("MSET pre_3_post a x_1_* b", "+OK"),
            ("SORT s GET pre_*_post GET x_*_*", SAME),
            # counters weigh as numbers; keys of other types as missing
            ("INCRBY c_1 5", 5),
            ("INCRBY c_2 -5", -5),
            ("SADD c_3 member", 1),
            ("SORT s BY c_* GET c_*", SAME),
            ("MSET bad_1 1 bad_2 x", "+OK"),
            ("SORT s BY bad_*", NOTDOUBLE),
            ("SORT s BY bad_* ALPHA GET bad_*", SAME),
            # an empty pattern value weighs 0
            ("SET w_10 ''", "+OK"),
            ("SORT s BY w_*", SAME),
        ])

    def test_nosort_and_missing_keys(self):
        self.run_script([
            ("SADD s c a b", 3),
            ("SORT s BY nosort", Sorted([b"a", b"b", b"c"])),
            ("SORT s BY nosort GET #", Sorted([b"a", b"b", b"c"])),
            ("SORT s BY nosort LIMIT 0 10", Sorted(SAME)),
            ("SORT s BY # ALPHA", Sorted(SAME)),  # no '*': no sort either
            ("SORT nokey", []),
            ("SORT nokey BY w_* GET # GET w_*", []),
            ("SORT nokey ALPHA DESC LIMIT 0 1", []),
            ("SORT_RO nokey", []),
            ("EXISTS nokey", 0),
        ])
        # ringkv's own order for a set (Redis's is its hash order): members' bytes
        self.assertEqual(self.a.cmd("SORT", "s", "BY", "nosort"), [b"a", b"b", b"c"])
        self.assertEqual(self.a.cmd("SORT", "s", "BY", "nosort", "LIMIT", "1", "1"), [b"b"])

    def test_errors(self):
        self.run_script([
            ("SADD s 1 2", 2),
            ("SORT", arity("sort")),
            ("SORT_RO", arity("sort_ro")),
            ("SORT s FOO", SYNTAX),
            ("SORT s LIMIT", SYNTAX),
            ("SORT s LIMIT 1", SYNTAX),
            ("SORT s LIMIT a 1", NOTINT),
            ("SORT s LIMIT 1 b", NOTINT),
            ("SORT s LIMIT 1.5 1", NOTINT),
            ("SORT s BY", SYNTAX),
            ("SORT s GET", SYNTAX),
            ("SORT s GET # BY", SYNTAX),
            ("SORT s STORE", SYNTAX),
            ("SORT_RO s STORE dst", SYNTAX),
            ("SORT_RO s STORE", SYNTAX),
            ("SORT s LIMIT 0 1 FOO", SYNTAX),
            ("SET str x", "+OK"),
            ("SORT str", WRONGTYPE),
            ("SORT_RO str LIMIT 0 1", WRONGTYPE),
            ("SORT str FOO", SYNTAX),  # the arguments come first
            ("PFADD hll a", 1),
            ("SORT hll", WRONGTYPE),
        ])
        # STORE writes a list in Redis; ringkv has none yet: an error, and
        # nothing is written
        for line in ("SORT s STORE dst", "SORT s BY nosort STORE dst", "SORT nokey STORE dst",
                     "SORT s LIMIT 0 1 GET # STORE dst"):
            self.assertEqual(norm(self.a.cmd(*line.split())), STORE, line)
        self.assertEqual(self.a.cmd("EXISTS", "dst"), 0)
        self.assertEqual(norm(self.a.cmd("SORT", "s", "FOO", "STORE", "dst")), SYNTAX)

    def test_sorted_sets(self):
        if not self.has("zadd"):
            self.skipTest("this build has no sorted sets (ZADD)")
        self.run_script([
            ("ZADD z 3 c 1 a 2 b 2 bb 10 x -1 y", 6),
            # BY nosort: the sorted set's own order (score, then member)
            ("SORT z BY nosort", [b"y", b"a", b"b", b"bb", b"c", b"x"]),
            ("SORT z BY nosort DESC", [b"x", b"c", b"bb", b"b", b"a", b"y"]),
            ("SORT z BY nosort LIMIT 1 3", SAME),
            ("SORT z BY nosort DESC LIMIT 1 3", SAME),
            ("SORT z BY nosort LIMIT 4 100", SAME),
            ("SORT z BY nosort LIMIT 10 1", SAME),
            ("SORT z BY nosort DESC LIMIT -3 2", SAME),
            ("SORT z BY nosort GET # GET nostar", SAME),
            # otherwise the members are sorted (not by score)
            ("SORT z ALPHA", SAME),
            ("SORT z ALPHA DESC LIMIT 2 10", SAME),
            ("SORT z", NOTDOUBLE),
            ("ZADD zn 5 10 1 20 3 3 2 -1.5", 4),
            ("SORT zn", [b"-1.5", b"3", b"10", b"20"]),
            ("SORT zn DESC LIMIT 0 2", [b"20", b"10"]),
            ("SORT zn BY nosort GET #", [b"20", b"-1.5", b"3", b"10"]),
            ("MSET w_10 1 w_20 2 w_3 3", "+OK"),
            ("SORT zn BY w_* GET w_*", SAME),
            ("SORT_RO zn BY w_* DESC", SAME),
            ("ZREM zn 20", 1),
            ("SORT zn", SAME),
        ])

    def test_hash_field_patterns(self):
        if not self.has("hset"):
            self.skipTest("this build has no hashes (HSET)")
        self.run_script([
            ("SADD s a b c d", 4),
            ("HSET h_a w 3 name alice", 2),
            ("HSET h_b w 1 name bob", 2),
            ("HSET h_c w 2", 1),
            ("SET h_d w", "+OK"),  # a string: its field reads as missing
            ("SORT s BY h_*->w", [b"d", b"b", b"c", b"a"]),
            ("SORT s BY h_*->w DESC GET # GET h_*->name GET h_*->w",
             [b"a", b"alice", b"3", b"c", None, b"2", b"b", b"bob", b"1", b"d", None, None]),
            ("SORT s BY h_*->name ALPHA GET h_*->name", SAME),
            ("SORT s BY h_*->nofield GET h_*->w", SAME),
            ("SORT s ALPHA GET h_*", SAME),  # a hash read as a string: missing
            ("SORT s ALPHA GET h_*->", SAME),  # "->" with nothing after: a key name
            ("SET h_a-> arrow", "+OK"),
            ("SORT s ALPHA GET h_*->", SAME),
            ("HSET h_a x->y 9", 1),
            ("SORT s ALPHA GET h_*->x->y", SAME),  # the field is all after the first "->"
            ("HINCRBY h_b w 10", 11),
            ("SORT s BY h_*->w GET h_*->w", SAME),
            ("HSET h_c w notanumber", 0),
            ("SORT s BY h_*->w", NOTDOUBLE),
            ("SORT h_a", WRONGTYPE),
        ])

    def test_many_elements_and_pattern_reads(self):
        """500 members sorted by 500 weight keys, with two GET patterns: more
        reads than SORT keeps in flight at once, every reply as Redis's."""
        n = 500
        members = [str(i) for i in range(n)]
        weights = list(range(n))
        random.Random(7).shuffle(weights)
        for conn in (self.a, self.b):
            self.assertEqual(conn.cmd("SADD", "big", *members), n)
            args = []
            for m, w in zip(members, weights):
                args += ["w_" + m, str(w), "v_" + m, "val" + m]
            self.assertEqual(conn.cmd("MSET", *args), "+OK")
        self.run_script([
            ("SORT big", SAME),
            ("SORT big BY w_*", SAME),
            ("SORT big BY w_* DESC GET # GET v_* GET w_*", SAME),
            ("SORT big BY w_* LIMIT 100 50 GET v_*", SAME),
            ("SORT big ALPHA LIMIT 0 20 GET v_*", SAME),
            ("SORT_RO big BY v_* ALPHA LIMIT 490 20", SAME),
        ])

    def test_pattern_reads_are_bounded(self):
        """Redis reads as many pattern keys as asked; ringkv refuses, before
        reading any, a SORT whose BY and GET patterns would read more than
        100000 keys: here 25001 members by a weight pattern with three GETs."""
        n = 25001
        self.assertEqual(self.a.cmd("SADD", "huge", *[str(i) for i in range(n)]), n)
        got = self.a.cmd("SORT", "huge", "BY", "w_*", "GET", "a_*", "GET", "b_*", "GET", "c_*")
        self.assertEqual("-" + str(got),
                         "-ERR SORT would read 100004 keys through its BY/GET patterns, more than "
                         "ringkv's limit of 100000 per command (use LIMIT, or fewer GET patterns)")
        # with a LIMIT, only the window's GETs count: 25001 + 3 * 10
        self.assertEqual(self.a.cmd("SET", "a_0", "zero"), "+OK")
        got = self.a.cmd("SORT", "huge", "BY", "w_*", "LIMIT", "0", "10",
                         "GET", "a_*", "GET", "b_*", "GET", "c_*")
        self.assertEqual(len(got), 30)
        self.assertEqual(got[:3], [b"zero", None, None])
        # GET # and patterns without '*' read nothing
        got = self.a.cmd("SORT", "huge", "GET", "#", "GET", "#", "GET", "x", "GET", "#",
                         "GET", "a_*", "LIMIT", "0", "3")
        self.assertEqual(got, [b"0", b"0", None, b"0", b"zero", b"1", b"1", None, b"1", None,
                               b"2", b"2", None, b"2", None])

    def test_resp3_and_multi(self):
        for conn in (self.a, self.b):
            conn.cmd("HELLO", "3")
            conn.cmd("SADD", "s", "2", "1")
            conn.cmd("SET", "w_1", "x")
        problems = []
        for line in ["SORT s", "SORT s GET w_* GET #", "SORT nokey", "SORT s LIMIT 0 0",
                     "SORT_RO s DESC"]:
            x, y = self.a.raw_cmd(*line.split()), self.b.raw_cmd(*line.split())
            if x != y:
                problems.append("%s\n    ringkv: %r\n    redis:  %r" % (line, x, y))
        self.assertEqual(problems, [], "\n".join(problems))
        script = [("SADD", "m", "5"), ("SORT", "m"), ("MULTI",), ("SADD", "m", "4"),
                  ("SORT", "m", "GET", "#"), ("SORT_RO", "m", "DESC"), ("EXEC",)]
        replies = []
        for conn in (self.a, self.b):
            conn.send(b"".join(encode(*cmd) for cmd in script))
            replies.append([conn.read_reply() for _ in script])
        self.assertEqual(replies[0], replies[1])
        self.assertEqual(replies[0][-1], [1, [b"4", b"5"], [b"5", b"4"]])


if __name__ == "__main__":
    unittest.main()
