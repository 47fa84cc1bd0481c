"""The hash commands (src/t_hash.c) against a real Redis 7.0 as the oracle.

Each script line is sent to one ringkv-server and to a redis-server started
next to it (test_commands.OracleCase): a line names the reply a user must
see (checked on both servers, so the expectation is known to be Redis's) or
SAME (ringkv must answer what Redis answers). Replies whose order Redis does
not define (HKEYS, HVALS, HGETALL, HSCAN pages, HRANDFIELD) are compared as
multisets or checked for the properties Redis documents.

Covers: HSET HSETNX HMSET HGET HMGET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS
HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN: replies, every error and its
order of checks, WRONGTYPE against a string key (and nothing written), numbers
formatted as Redis formats them, an emptied hash deleted, RESP3 replies,
COMMAND INFO rows, expiry, a hash across a restart.
"""
import shlex
import unittest

import test_commands as tc
from harness import ReplyError, encode

SAME = tc.SAME
Sorted = tc.Sorted
SYNTAX = tc.SYNTAX
NOTINT = tc.NOTINT
arity = tc.arity
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"
NOTFLOAT = "-ERR value is not a valid float"

HASH_COMMANDS = ["hset", "hsetnx", "hmset", "hget", "hmget", "hdel", "hexists", "hlen",
                 "hstrlen", "hkeys", "hvals", "hgetall", "hincrby", "hincrbyfloat",
                 "hrandfield", "hscan"]


def pairs(flat):
    """A flat [f1, v1, f2, v2...] reply as a dict (fields are unique)."""
    it = iter(flat)
    d = dict(zip(it, it))
    assert len(d) * 2 == len(flat), flat
    return d


class HashCommands(tc.OracleCase):
    def test_hset_hget_hmset_hsetnx(self):
        self.run_script([
            ("HSET h f1 v1", 1),
            ("HSET h f1 v1b f2 v2 f3 v3", 2),
            ("HSET h f2 x f2 y", 0),  # a repeated field: counted once, last value wins
            ("HGET h f2", b"y"),
            ("HSET h new a new b", 1),
            ("HGET h new", b"b"),
            ("HGET h f1", b"v1b"),
            ("HGET h nofield", None),
            ("HGET nokey f", None),
            ("HMSET h f4 v4 f5 v5", "+OK"),
            ("HMGET h f1 nofield f4 f5 f1", [b"v1b", None, b"v4", b"v5", b"v1b"]),
            ("HMGET nokey a b", [None, None]),
            ("HLEN h", 6),
            ("HLEN nokey", 0),
            ("HEXISTS h f1", 1),
            ("HEXISTS h nofield", 0),
            ("HEXISTS nokey f", 0),
            ("HSTRLEN h f1", 3),
            ("HSTRLEN h nofield", 0),
            ("HSTRLEN nokey f", 0),
            ("HSETNX h f1 other", 0),
            ("HGET h f1", b"v1b"),
            ("HSETNX h f6 v6", 1),
            ("HGET h f6", b"v6"),
            ("HSETNX fresh f v", 1),
            ("TYPE fresh", "+hash"),
            ("EXISTS h fresh", 2),
            ("HSET h empty ''", 1),  # an empty value is a value
            ("HGET h empty", b""),
            ("HSTRLEN h empty", 0),
            ("HEXISTS h empty", 1),
            ((b"HSET", b"bin", b"f\x00\xff", b"v\x00\r\n"), 1),
            ((b"HGET", b"bin", b"f\x00\xff"), b"v\x00\r\n"),
            ((b"HGET", b"bin", b"f\x00"), None),
            ("HSET h f", arity("hset")),
            ("HSET h f v g", arity("hset")),
            ("HMSET h f", arity("hmset")),
            ("HMSET h f v g", arity("hmset")),
            ("HSETNX h f", arity("hsetnx")),
            ("HSETNX h f v w", arity("hsetnx")),
            ("HGET h", arity("hget")),
            ("HMGET h", arity("hmget")),
            ("HLEN h", 8),  # no failed command above wrote anything
        ])

    def test_hdel_and_emptied_hash(self):
        self.run_script([
            ("HSET h a 1 b 2 c 3 d 4", 4),
            ("HDEL h a", 1),
            ("HDEL h a", 0),
            ("HDEL h nofield", 0),
            ("HDEL h b b nofield", 1),  # a repeated field: deleted once
            ("HLEN h", 2),
            ("HGET h b", None),
            ("HEXISTS h b", 0),
            ("HDEL nokey f", 0),
            # the last fields go: the key goes (Redis deletes an emptied hash)
            ("HDEL h c d x", 2),
            ("EXISTS h", 0),
            ("TYPE h", "+none"),
            ("HLEN h", 0),
            ("HGETALL h", []),
            ("KEYS *", []),
            ("DBSIZE", 0),
            # and it can be created again, fresh
            ("HSET h c again", 1),
            ("HGETALL h", [b"c", b"again"]),
            ("HDEL h c", 1),
            ("EXISTS h", 0),
            # a string can take the emptied key's name
            ("SET h str", "+OK"),
            ("GET h", b"str"),
            ("DEL h", 1),
            # DEL of a hash
            ("HSET h x 1 y 2", 2),
            ("DEL h", 1),
            ("HGETALL h", []),
            ("HSET h z 3", 1),
            ("HGETALL h", [b"z", b"3"]),  # nothing of before the DEL comes back
            ("HDEL h", arity("hdel")),
        ])

    def test_hincrby(self):
        self.run_script([
            ("HINCRBY h f 5", 5),  # creates the key and the field
            ("TYPE h", "+hash"),
            ("HINCRBY h f -7", -2),
            ("HGET h f", b"-2"),
            ("HSET h n 17179869184", 1),
            ("HINCRBY h n 1", 17179869185),
            ("HINCRBY h n 17179869184", 34359738369),
            ("HSET h big 9223372036854775806", 1),
            ("HINCRBY h big 1", 9223372036854775807),
            ("HINCRBY h big 1", "-ERR increment or decrement would overflow"),
            ("HSET h small -9223372036854775807", 1),
            ("HINCRBY h small -1", -9223372036854775808),
            ("HINCRBY h small -1", "-ERR increment or decrement would overflow"),
            ("HGET h small", b"-9223372036854775808"),
            ("HSET h s ' 11'", 1),
            ("HINCRBY h s 1", "-ERR hash value is not an integer"),
            ("HSET h s '11 '", 0),
            ("HINCRBY h s 1", "-ERR hash value is not an integer"),
            ("HSET h s abc", 0),
            ("HINCRBY h s 1", "-ERR hash value is not an integer"),
            ("HSET h s 1.5", 0),
            ("HINCRBY h s 1", "-ERR hash value is not an integer"),
            ("HGET h s", b"1.5"),
            ("HSET h s 010", 0),
            ("HINCRBY h s 1", "-ERR hash value is not an integer"),
            ("HINCRBY h f abc", NOTINT),
            ("HINCRBY h f 1.5", NOTINT),
            ("HINCRBY h f 9223372036854775808", NOTINT),
            ("HINCRBY h f ''", NOTINT),
            ("HINCRBY h f 0", -2),
            ("HINCRBY nokey f abc", NOTINT),
            ("EXISTS nokey", 0),
            ("HINCRBY h f", arity("hincrby")),
            ("HINCRBY h f 1 2", arity("hincrby")),
            ("HGETALL h", Sorted(SAME)),
        ])

    def test_hincrbyfloat_and_number_formats(self):
        script = [
            ("HINCRBYFLOAT h f 10.5", b"10.5"),
            ("HINCRBYFLOAT h f 0.1", b"10.6"),
            ("HINCRBYFLOAT h f -0.6", b"10"),
            ("HINCRBY h f 1", 11),  # an integer again, as in Redis
            ("HINCRBYFLOAT h f 5.0e3", b"5011"),
            ("HINCRBYFLOAT h f 2.0e2", b"5211"),
            ("HSET h g 1.0", 1),
            ("HGET h g", b"1.0"),  # nothing added yet: the bytes as written
            ("HINCRBYFLOAT h g 0", b"1"),
            ("HSET h big 17179869184", 1),
            ("HINCRBYFLOAT h big 17179869184.5", b"34359738368.5"),
            ("HSET h s ' 1'", 1),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float"),
            ("HSET h s '1 '", 0),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float"),
            ("HSET h s abc", 0),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float"),
            ((b"HSET", b"h", b"nul", b"1\x002"), 1),
            ("HINCRBYFLOAT h nul 1", "-ERR hash value is not a float"),
            ("HINCRBYFLOAT h f abc", NOTFLOAT),
            ("HINCRBYFLOAT h f ''", NOTFLOAT),
            ("HINCRBYFLOAT h f +inf", "-ERR value is NaN or Infinity"),
            ("HINCRBYFLOAT h f -inf", "-ERR value is NaN or Infinity"),
            ("HINCRBYFLOAT h f nan", NOTFLOAT),
            ("HSET h m 1.7e308", 1),
            ("HINCRBYFLOAT h m 1.7e308", SAME),  # long double: no overflow, as Redis
            ("HSET h inf inf", 1),
            ("HINCRBYFLOAT h inf 1", "-ERR increment would produce NaN or Infinity"),
            ("HINCRBYFLOAT nokey f +inf", "-ERR value is NaN or Infinity"),
            ("HINCRBYFLOAT h f", arity("hincrbyfloat")),
        ]
        # results whose formatting must be Redis's, digit for digit
        for i, (start, inc) in enumerate([("0", "0.1"), ("1.1", "2.2"), ("3", "1e-5"),
                                          ("10", "-10"), ("-0.5", "0.25"), ("1e10", "1"),
                                          ("0", "1e-20"), ("123456789012345678", "1"),
                                          ("5", "3.0"), ("0.1", "0.2"), ("1", "-1.5"),
                                          ("99999999999999999", "0.5")]):
            script.append(("HSET n f%d %s" % (i, start), 1))
            script.append(("HINCRBYFLOAT n f%d %s" % (i, inc), SAME))
            script.append(("HINCRBYFLOAT n f%d %s" % (i, inc), SAME))
            script.append(("HGET n f%d" % i, SAME))
            script.append(("HSTRLEN n f%d" % i, SAME))
        self.run_script(script)

    def test_hkeys_hvals_hgetall(self):
        self.run_script([
            ("HKEYS nokey", []),
            ("HVALS nokey", []),
            ("HGETALL nokey", []),
            ("HSET h b 2 a 1 c 3 dd 4", 4),
            ("HKEYS h", Sorted([b"a", b"b", b"c", b"dd"])),
            ("HVALS h", Sorted([b"1", b"2", b"3", b"4"])),
            ("HINCRBY h a 10", 11),
            ("HINCRBYFLOAT h b 0.5", b"2.5"),
            ("HVALS h", Sorted([b"11", b"2.5", b"3", b"4"])),
            ("HKEYS h x", arity("hkeys")),
            ("HVALS h x", arity("hvals")),
            ("HGETALL h x", arity("hgetall")),
            ("HLEN h x", arity("hlen")),
        ])
        got = pairs(self.a.cmd("HGETALL", "h"))
        self.assertEqual(got, pairs(self.b.cmd("HGETALL", "h")))
        self.assertEqual(got, {b"a": b"11", b"b": b"2.5", b"c": b"3", b"dd": b"4"})

    def test_big_hash(self):
        """1000 fields written in one pipeline, read back by every command."""
        n = 1000
        for c in (self.a, self.b):
            c.send(b"".join(encode("HSET", "big", "field:%d" % i, "value:%d" % i)
                            for i in range(n)))
            for _ in range(n):
                self.assertEqual(c.read_reply(), 1)
        want = {b"field:%d" % i: b"value:%d" % i for i in range(n)}
        self.assertEqual(self.a.cmd("HLEN", "big"), n)
        self.assertEqual(pairs(self.a.cmd("HGETALL", "big")), want)
        self.assertEqual(sorted(self.a.cmd("HKEYS", "big")), sorted(want))
        self.assertEqual(sorted(self.a.cmd("HVALS", "big")), sorted(want.values()))
        self.assertEqual(self.a.cmd("HMGET", "big", "field:0", "field:999", "nope"),
                         [b"value:0", b"value:999", None])
        self.assertEqual(self.a.cmd("HDEL", "big", *["field:%d" % i for i in range(0, n, 2)]),
                         n // 2)
        self.assertEqual(self.a.cmd("HLEN", "big"), n // 2)
        self.assertEqual(self.a.cmd("HDEL", "big", *["field:%d" % i for i in range(n)]), n // 2)
        self.assertEqual(self.a.cmd("EXISTS", "big"), 0)

    def test_wrongtype_against_a_string(self):
        script = [("SET s v", "+OK")]
        for line in ["HSET s f v", "HSETNX s f v", "HMSET s f v", "HGET s f", "HMGET s f g",
                     "HDEL s f", "HEXISTS s f", "HLEN s", "HSTRLEN s f", "HKEYS s",
                     "HVALS s", "HGETALL s", "HINCRBY s f 1", "HINCRBYFLOAT s f 1.5",
                     "HRANDFIELD s", "HRANDFIELD s 3", "HRANDFIELD s -3 WITHVALUES",
                     "HSCAN s 0", "HSCAN s 0 COUNT 0", "HSCAN s 0 BADOPTION"]:
            script.append((line, WRONGTYPE))
        script += [
            # the argument checks Redis makes before it looks at the key come first
            ("HINCRBY s f abc", NOTINT),
            ("HINCRBYFLOAT s f abc", NOTFLOAT),
            ("HINCRBYFLOAT s f inf", "-ERR value is NaN or Infinity"),
            ("HSCAN s abc", "-ERR invalid cursor"),
            ("HRANDFIELD s abc", NOTINT),
            ("HRANDFIELD s 1 foo", SYNTAX),
            ("HSET s f", arity("hset")),
            # and nothing was written: the string is intact
            ("GET s", b"v"),
            ("TYPE s", "+string"),
        ]
        self.run_script(script)

    def test_string_commands_against_a_hash(self):
        self.run_script([
            ("HSET h f v", 1),
            ("GET h", WRONGTYPE),
            ("INCR h", WRONGTYPE),
            ("APPEND h x", WRONGTYPE),
            ("STRLEN h", WRONGTYPE),
            ("TYPE h", "+hash"),
            ("SET h plain", "+OK"),  # SET replaces any type
            ("TYPE h", "+string"),
            ("HGET h f", WRONGTYPE),
        ])

    def test_hrandfield(self):
        a = self.a
        self.run_script([
            ("HRANDFIELD nokey", None),
            ("HRANDFIELD nokey 5", []),
            ("HRANDFIELD nokey -5 WITHVALUES", []),
            ("HSET h a 1 b 2 c 3 d 4 e 5", 5),
            ("HRANDFIELD h 0", []),
            ("HRANDFIELD h 0 WITHVALUES", []),
            ("HRANDFIELD h 10", Sorted([b"a", b"b", b"c", b"d", b"e"])),
            ("HRANDFIELD h 5 WITHVALUES",
             Sorted([b"1", b"2", b"3", b"4", b"5", b"a", b"b", b"c", b"d", b"e"])),
            ("HRANDFIELD h abc", NOTINT),
            ("HRANDFIELD h 1.5", NOTINT),
            ("HRANDFIELD h 1 WITHVALUES extra", SYNTAX),
            ("HRANDFIELD h 1 NOVALUES", SYNTAX),
            ("HRANDFIELD h -9223372036854775808",
             "-ERR value is out of range, value must between -9223372036854775807 and "
             "9223372036854775807"),
            ("HRANDFIELD h -9223372036854770000 WITHVALUES", "-ERR value is out of range"),
            ("HRANDFIELD h 9223372036854770000 WITHVALUES", "-ERR value is out of range"),
            ("HRANDFIELD", arity("hrandfield")),
        ])
        fields = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4", b"e": b"5"}
        seen = set()
        for _ in range(200):
            f = a.cmd("HRANDFIELD", "h")
            self.assertIn(f, fields)
            seen.add(f)
        self.assertEqual(seen, set(fields))  # every field comes up (p of a miss ~ 1e-19)
        for count in (1, 2, 3, 4):
            got = a.cmd("HRANDFIELD", "h", count)
            self.assertEqual(len(got), count)
            self.assertEqual(len(set(got)), count)  # distinct
            self.assertTrue(set(got) <= set(fields))
            got = pairs(a.cmd("HRANDFIELD", "h", count, "WITHVALUES"))
            self.assertEqual(len(got), count)
            for f, v in got.items():
                self.assertEqual(fields[f], v)
        got = a.cmd("HRANDFIELD", "h", -100)
        self.assertEqual(len(got), 100)
        self.assertTrue(set(got) <= set(fields))
        self.assertGreater(len(set(got)), 1)  # repeats allowed, not one field 100 times
        got = a.cmd("HRANDFIELD", "h", -50, "WITHVALUES")
        self.assertEqual(len(got), 100)
        for i in range(0, 100, 2):
            self.assertEqual(fields[got[i]], got[i + 1])
        # a one-field hash with a negative count repeats it
        a.cmd("HSET", "one", "only", "x")
        self.assertEqual(a.cmd("HRANDFIELD", "one", -3), [b"only"] * 3)
        self.assertEqual(a.cmd("HRANDFIELD", "one", -2, "WITHVALUES"),
                         [b"only", b"x", b"only", b"x"])

    def restore_obuf_limit(self):
        with self.rk.raw() as c:
            c.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 1gb 256mb 60")

    def test_hrandfield_huge_negative_count_stops_at_the_output_limit(self):
        """HRANDFIELD h -9223372036854775807 is valid (Redis accepts it); as in
        Redis, the reply stops once it passes the client's hard output limit
        and that client is disconnected; the server and others carry on."""
        a = self.a
        self.assertEqual(a.cmd("CONFIG", "SET", "client-output-buffer-limit",
                               "normal 4mb 0 0"), "+OK")
        self.addCleanup(self.restore_obuf_limit)
        a.cmd("HSET", "h", "f", "v")
        a.send(encode("HRANDFIELD", "h", "-9223372036854775807"))
        self.assertTrue(a.closed_by_peer(timeout=60))
        with self.rk.raw() as other:
            self.assertEqual(other.cmd("PING"), "+PONG")
            self.assertEqual(other.cmd("HRANDFIELD", "h", -3), [b"f", b"f", b"f"])

    def test_hscan(self):
        self.run_script([
            ("HSCAN nokey 0", [b"0", []]),
            ("HSCAN nokey 0 COUNT 0", [b"0", []]),  # options are not looked at then
            ("HSET h f1 v1 f2 v2 x3 v3", 3),
            ("HSCAN h 0 COUNT 100", Sorted(SAME)),
            ("HSCAN h abc", "-ERR invalid cursor"),
            ("HSCAN h 1.5", "-ERR invalid cursor"),
            ("HSCAN h ' 1'", "-ERR invalid cursor"),
            ("HSCAN h 0 COUNT 0", SYNTAX),
            ("HSCAN h 0 COUNT -1", SYNTAX),
            ("HSCAN h 0 COUNT abc", NOTINT),
            ("HSCAN h 0 MATCH", SYNTAX),
            ("HSCAN h 0 FOO bar", SYNTAX),
            ("HSCAN h", arity("hscan")),
        ])
        a = self.a
        got = a.cmd("HSCAN", "h", 0, "COUNT", 100)
        self.assertEqual(got[0], b"0")
        self.assertEqual(pairs(got[1]), {b"f1": b"v1", b"f2": b"v2", b"x3": b"v3"})
        got = a.cmd("HSCAN", "h", 0, "MATCH", "f*", "COUNT", 100)
        self.assertEqual(pairs(got[1]), {b"f1": b"v1", b"f2": b"v2"})

    def scan_all(self, key, count, match=None):
        out, cursor, calls = [], b"0", 0
        while True:
            args = ["HSCAN", key, cursor, "COUNT", count] + (["MATCH", match] if match else [])
            cursor, items = self.a.cmd(*args)
            out += items
            calls += 1
            self.assertLess(calls, 100000)
            if cursor == b"0":
                return out, calls

    def test_hscan_full_iteration(self):
        n = 1500
        self.a.send(b"".join(encode("HSET", "h", "f:%d" % i, i) for i in range(n)))
        for _ in range(n):
            self.assertEqual(self.a.read_reply(), 1)
        want = {b"f:%d" % i: b"%d" % i for i in range(n)}
        for count in (1, 10, 1000, 5000):
            items, calls = self.scan_all("h", count)
            self.assertEqual(pairs(items), want, "COUNT %d" % count)
            if count == 10:
                self.assertGreater(calls, 20)  # incremental, not one reply
        items, _ = self.scan_all("h", 20, "f:1*")
        self.assertEqual(pairs(items), {k: v for k, v in want.items() if k.startswith(b"f:1")})

    def test_hscan_returns_fields_present_throughout(self):
        """Redis's SCAN guarantee: a field present from the first call to the
        last is returned, whatever is deleted or added in between."""
        n = 600
        a = self.a
        a.send(b"".join(encode("HSET", "h", "f:%d" % i, "v") for i in range(n)))
        for _ in range(n):
            a.read_reply()
        keep = {b"f:%d" % i for i in range(0, n, 3)}
        dropped = [b"f:%d" % i for i in range(n) if b"f:%d" % i not in keep]
        seen, cursor, step = set(), b"0", 0
        while True:
            cursor, items = a.cmd("HSCAN", "h", cursor, "COUNT", 25)
            seen |= set(items[0::2])
            # between pages: delete some fields, add new ones
            for f in dropped[step * 20:(step + 1) * 20]:
                a.cmd("HDEL", "h", f)
            a.cmd("HSET", "h", "new:%d" % step, "v")
            step += 1
            if cursor == b"0":
                break
        self.assertEqual(keep - seen, set())

    def test_expiry(self):
        """A hash's TTL is the key's: writes to its fields keep it, it goes
        with the whole hash, and what is written after it fired is a new
        hash without a TTL."""
        self.run_script([
            ("HSET h a 1 b 2", 2),
            ("EXPIRE h 100", 1),
            ("HSET h c 3", 1),
            ("HINCRBY h a 1", 2),
            ("HINCRBYFLOAT h a 0.5", b"2.5"),
            ("HDEL h b", 1),
            ("HSETNX h d 4", 1),
            ("TTL h", 100),
            ("PEXPIRE h 300", 1),
            "SLEEP 0.6",
            ("HGET h a", None),
            ("HLEN h", 0),
            ("HGETALL h", []),
            ("HEXISTS h c", 0),
            ("EXISTS h", 0),
            ("HSCAN h 0", [b"0", []]),
            ("HRANDFIELD h", None),
            ("HINCRBY h a 1", 1),  # from 0: the old value went with the key
            ("HGETALL h", [b"a", b"1"]),
            ("TTL h", -1),
            ("HSET h x y", 1),
            ("PERSIST h", 0),
            ("HLEN h", 2),
        ])

    def test_command_info_rows(self):
        """COMMAND INFO gives Redis's arity and key positions for each."""
        mine = self.a.cmd("COMMAND", "INFO", *HASH_COMMANDS)
        ref = self.b.cmd("COMMAND", "INFO", *HASH_COMMANDS)
        for m, r in zip(mine, ref):
            self.assertIsNotNone(m, r[0])
            self.assertEqual(m[:2] + m[3:6], r[:2] + r[3:6], m[0])
            want = {f for f in r[2] if f in (b"write", b"readonly", b"fast")}
            self.assertEqual(set(m[2]) & {b"write", b"readonly", b"fast"}, want, m[0])
        docs = self.a.cmd("COMMAND", "DOCS", "hset", "hrandfield")
        self.assertIn(b"summary", docs[b"hset"] if isinstance(docs, dict) else docs[1])

    def test_transaction(self):
        self.run_script([
            ("MULTI", "+OK"),
            ("HSET h a 1", "+QUEUED"),
            ("HINCRBY h a 5", "+QUEUED"),
            ("HINCRBYFLOAT h a 0.5", "+QUEUED"),
            ("HDEL h a", "+QUEUED"),
            ("HLEN h", "+QUEUED"),
            ("EXEC", [1, 6, b"6.5", 1, 0]),
            ("EXISTS h", 0),
        ])


class HashResp3(tc.OracleCase):
    """After HELLO 3, exactly Redis's bytes for the replies whose order is
    fixed, and Redis's shapes for the others."""

    def test_resp3(self):
        for c in (self.a, self.b):
            c.cmd("HELLO", "3")
        problems = []
        for line in ["HGETALL nokey", "HSET h f v", "HGETALL h", "HGET h f", "HGET h nope",
                     "HMGET h f nope", "HKEYS h", "HVALS h", "HRANDFIELD h", "HRANDFIELD nokey",
                     "HRANDFIELD h 1 WITHVALUES", "HRANDFIELD h -2 WITHVALUES",
                     "HRANDFIELD h 3", "HRANDFIELD nokey 2 WITHVALUES", "HSCAN h 0",
                     "HINCRBYFLOAT h n 1.5", "HLEN h", "HSTRLEN h f"]:
            args = shlex.split(line)
            x, y = self.a.raw_cmd(*args), self.b.raw_cmd(*args)
            if x != y:
                problems.append("%s\n    ringkv: %r\n    redis:  %r" % (line, x, y))
        self.assertEqual(problems, [], "\n".join(problems))
        self.a.cmd("HSET", "h", "g", "w")
        m = self.a.cmd("HGETALL", "h")
        self.assertEqual(m, {"f": b"v", "g": b"w", "n": b"1.5"})
        got = self.a.cmd("HRANDFIELD", "h", 3, "WITHVALUES")
        self.assertEqual(sorted(got), [[b"f", b"v"], [b"g", b"w"], [b"n", b"1.5"]])


class HashRestart(unittest.TestCase):
    def test_hash_survives_restart(self):
        from harness import RingKV
        srv = RingKV()
        self.addCleanup(srv.close)
        srv.start()
        with srv.raw() as c:
            self.assertEqual(c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3"), 3)
            self.assertEqual(c.cmd("HINCRBYFLOAT", "h", "a", "0.5"), b"1.5")
            self.assertEqual(c.cmd("HDEL", "h", "b"), 1)
        srv.restart()
        with srv.raw() as c:
            self.assertEqual(pairs(c.cmd("HGETALL", "h")), {b"a": b"1.5", b"c": b"3"})
            self.assertEqual(c.cmd("HLEN", "h"), 2)
            self.assertEqual(c.cmd("TYPE", "h"), "+hash")
            self.assertIsInstance(c.cmd("GET", "h"), ReplyError)


if __name__ == "__main__":
    unittest.main()
