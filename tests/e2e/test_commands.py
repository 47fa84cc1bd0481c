"""Every implemented data command, against a real Redis 7.0 as the oracle.

Each script line is sent to ringkv and to a redis-server started next to it,
on connections in the same state. A line either names the reply a user must
see (checked on BOTH servers, so the expectation itself is known to be what
Redis says) or `SAME` (ringkv must answer byte for byte what Redis answers).
A test collects every mismatch and fails with the full list.

Covers: GET SET (EX PX EXAT PXAT NX XX KEEPTTL GET and bad combinations)
SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX DEL UNLINK EXISTS
STRLEN APPEND GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT
EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT) TTL PTTL PERSIST EXPIRETIME
PEXPIRETIME TYPE SETBIT GETBIT BITCOUNT BITPOS BITOP LCS RENAME RENAMENX COPY
SELECT DBSIZE FLUSHDB FLUSHALL KEYS SCAN PING ECHO TIME, arity and unknown
command errors for every command, RESP3 replies, VGET/VSET.
"""
import shlex
import time
import unittest

from harness import RedisOracle, ReplyError, RingKV, encode

SAME = object()  # the reply must equal the oracle's


class Sorted:
    """Compare a list reply (or the key list of a SCAN reply) as a multiset."""

    def __init__(self, expected=SAME):
        self.expected = expected


def norm(v):
    if isinstance(v, ReplyError):
        return "-" + str(v)
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def sorted_reply(v):
    if isinstance(v, list) and len(v) == 2 and isinstance(v[1], list) and isinstance(v[0], bytes):
        return [v[0], sorted(v[1])]  # SCAN: cursor, keys
    return sorted(v) if isinstance(v, list) else v


class OracleCase(unittest.TestCase):
    """One ringkv and one redis-server for the whole class; every test starts
    from FLUSHALL on fresh connections."""

    rk_args = []

    @classmethod
    def setUpClass(cls):
        cls.rk = RingKV(cls.rk_args)
        cls.ro = RedisOracle()
        try:
            cls.rk.start()
            cls.ro.start()
        except Exception:
            cls.rk.close()
            cls.ro.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rk.close()
        cls.ro.close()

    def setUp(self):
        self.a = self.rk.raw()
        self.b = self.ro.raw()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        self.assertEqual(self.a.cmd("FLUSHALL"), "+OK")
        self.assertEqual(self.b.cmd("FLUSHALL"), "+OK")

    def run_script(self, script, a=None, b=None):
        a = a or self.a
        b = b or self.b
        problems = []
        for item in script:
            if isinstance(item, str) and item.startswith("SLEEP "):
                time.sleep(float(item.split()[1]))  # let keys expire
                continue
            line, expected = item
            args = shlex.split(line) if isinstance(line, str) else list(line)
            got = norm(a.cmd(*args))
            ref = norm(b.cmd(*args))
            show = line if isinstance(line, str) else repr(line)
            if isinstance(expected, Sorted):
                got, ref = sorted_reply(got), sorted_reply(ref)
                expected = expected.expected
                if expected is not SAME:
                    expected = sorted_reply(expected)
            if expected is SAME:
                if got != ref:
                    problems.append("%s\n    ringkv: %r\n    redis:  %r" % (show, got, ref))
            else:
                if ref != expected:
                    problems.append("%s\n    (test expectation is not what Redis says)\n"
                                    "    expected: %r\n    redis:    %r" % (show, expected, ref))
                if got != expected:
                    problems.append("%s\n    ringkv:   %r\n    expected: %r" % (show, got, expected))
        if problems:
            self.fail("%d of %d replies differ:\n%s" % (len(problems), len(script),
                                                        "\n".join(problems)))


SYNTAX = "-ERR syntax error"
NOTINT = "-ERR value is not an integer or out of range"
SET_EXPIRE = "-ERR invalid expire time in 'set' command"


def arity(cmd):
    if cmd == "exec":  # Redis: a rejected EXEC also ends the transaction
        return ("-EXECABORT Transaction discarded because of: wrong number of arguments "
                "for 'exec' command")
    return "-ERR wrong number of arguments for '%s' command" % cmd


class StringCommands(OracleCase):
    def test_get_set_and_options(self):
        self.run_script([
            ("GET k", None),
            ("SET k v", "+OK"),
            ("GET k", b"v"),
            ("SET k v2 NX", None),
            ("GET k", b"v"),
            ("SET k v2 XX", "+OK"),
            ("SET nokey v XX", None),
            ("EXISTS nokey", 0),
            ("SET k2 v NX", "+OK"),
            ("SET k v3 GET", b"v2"),
            ("SET fresh v GET", None),
            ("GET fresh", b"v"),
            ("SET k v4 NX GET", b"v3"),
            ("GET k", b"v3"),
            ("SET k v5 XX GET", b"v3"),
            ("SET k v EX 100", "+OK"),
            ("TTL k", 100),
            ("SET k v PX 100000", "+OK"),
            ("TTL k", 100),
            ("SET k v EXAT 4102444800", "+OK"),
            ("EXPIRETIME k", 4102444800),
            ("SET k v PXAT 4102444800123", "+OK"),
            ("PEXPIRETIME k", 4102444800123),
            ("SET k other KEEPTTL", "+OK"),
            ("PEXPIRETIME k", 4102444800123),
            ("GET k", b"other"),
            ("SET k plain", "+OK"),
            ("TTL k", -1),
            # invalid combinations
            ("SET k v NX XX", SYNTAX),
            ("SET k v EX 10 PX 100", SYNTAX),
            ("SET k v EX 10 EXAT 4102444800", SYNTAX),
            ("SET k v PX 10 KEEPTTL", SYNTAX),
            ("SET k v EX 10 KEEPTTL", SYNTAX),
            ("SET k v EX", SYNTAX),
            ("SET k v FOO", SYNTAX),
            ("SET k v NX NX XX", SYNTAX),
            ("SET k v GET GET", b"plain"),
            # invalid expire times
            ("SET k v EX 0", SET_EXPIRE),
            ("SET k v EX -1", SET_EXPIRE),
            ("SET k v PX 0", SET_EXPIRE),
            ("SET k v EXAT 0", SET_EXPIRE),
            ("SET k v PXAT -5", SET_EXPIRE),
            ("SET k v EX 9999999999999999", SET_EXPIRE),
            ("SET k v PX 9223372036854775807", SET_EXPIRE),
            ("SET k v EXAT 9223372036854775807", SET_EXPIRE),
            ("SET k v EX abc", NOTINT),
            ("SET k v PX 1.5", NOTINT),
            ("GET k", b"v"),  # nothing above changed it
            ("SET", arity("set")),
            ("SET k", arity("set")),
            ("GET", arity("get")),
            ("GET a b", arity("get")),
        ])

    def test_setnx_setex_psetex_getset_getdel(self):
        self.run_script([
            ("SETNX k v", 1),
            ("SETNX k w", 0),
            ("GET k", b"v"),
            ("SETEX k 100 v", "+OK"),
            ("TTL k", 100),
            ("SETEX k 0 v", "-ERR invalid expire time in 'setex' command"),
            ("SETEX k -3 v", "-ERR invalid expire time in 'setex' command"),
            ("SETEX k abc v", NOTINT),
            ("SETEX k 10", arity("setex")),
            ("PSETEX k 100000 v", "+OK"),
            ("TTL k", 100),
            ("PSETEX k 0 v", "-ERR invalid expire time in 'psetex' command"),
            ("PSETEX k x v", NOTINT),
            ("GETSET k new", b"v"),
            ("TTL k", -1),  # GETSET drops the TTL
            ("GETSET nokey new", None),
            ("GET nokey", b"new"),
            ("GETSET k", arity("getset")),
            ("GETDEL k", b"new"),
            ("GETDEL k", None),
            ("EXISTS k", 0),
            ("GETDEL", arity("getdel")),
            ("SETNX k", arity("setnx")),
        ])

    def test_getex(self):
        self.run_script([
            ("GETEX nokey", None),
            ("GETEX nokey EX 10", None),
            ("EXISTS nokey", 0),
            ("SET k v", "+OK"),
            ("GETEX k", b"v"),
            ("TTL k", -1),
            ("GETEX k EX 100", b"v"),
            ("TTL k", 100),
            ("GETEX k PERSIST", b"v"),
            ("TTL k", -1),
            ("GETEX k PX 200000", b"v"),
            ("TTL k", 200),
            ("GETEX k EXAT 4102444800", b"v"),
            ("EXPIRETIME k", 4102444800),
            ("GETEX k PXAT 4102444800999", b"v"),
            ("PEXPIRETIME k", 4102444800999),
            ("GETEX k EX 10 PX 10", SYNTAX),
            ("GETEX k PERSIST EX 10", SYNTAX),
            ("GETEX k FOO", SYNTAX),
            ("GETEX k EX", SYNTAX),
            ("GETEX k EX abc", NOTINT),
            ("GETEX k EX 0", "-ERR invalid expire time in 'getex' command"),
            ("GETEX k PX -1", "-ERR invalid expire time in 'getex' command"),
            ("PEXPIRETIME k", 4102444800999),  # failed GETEX left it alone
            ("GETEX", arity("getex")),
        ])

    def test_mget_mset_msetnx(self):
        self.run_script([
            ("MSET a 1 b 2 c 3", "+OK"),
            ("MGET a b nokey c", [b"1", b"2", None, b"3"]),
            ("MSET a 1 b", arity("mset")),
            ("MSET a", arity("mset")),
            ("MSETNX a 9 d 4", 0),
            ("EXISTS d", 0),
            ("GET a", b"1"),
            ("MSETNX d 4 e 5", 1),
            ("MGET d e", [b"4", b"5"]),
            ("MSETNX d 1 e", arity("msetnx")),
            ("MGET", arity("mget")),
            ("MSET a x a y", "+OK"),
            ("GET a", b"y"),
        ])

    def test_del_unlink_exists_strlen_append(self):
        self.run_script([
            ("MSET a 1 b 2 c 3", "+OK"),
            ("EXISTS a a b nokey", 3),
            ("DEL a nokey", 1),
            ("DEL a", 0),
            ("UNLINK b c nokey", 2),
            ("EXISTS a b c", 0),
            ("DBSIZE", 0),
            ("DEL", arity("del")),
            ("UNLINK", arity("unlink")),
            ("EXISTS", arity("exists")),
            ("SET s hello", "+OK"),
            ("STRLEN s", 5),
            ("STRLEN nokey", 0),
            ("APPEND s world", 10),
            ("GET s", b"helloworld"),
            ("APPEND new x", 1),
            ("APPEND new ''", 1),
            ("GET new", b"x"),
            ("STRLEN", arity("strlen")),
            ("APPEND s", arity("append")),
        ])

    def test_getrange_setrange(self):
        self.run_script([
            ("SET s 'This is a string'", "+OK"),
            ("GETRANGE s 0 3", b"This"),
            ("GETRANGE s -3 -1", b"ing"),
            ("GETRANGE s 0 -1", b"This is a string"),
            ("GETRANGE s 10 100", b"string"),
            ("GETRANGE s 5 2", b""),
            ("GETRANGE s 100 200", b""),
            ("GETRANGE s -100 2", b"Thi"),
            ("SUBSTR s 0 3", b"This"),
            ("GETRANGE nokey 0 -1", b""),
            ("GETRANGE s 0 abc", NOTINT),
            ("GETRANGE s 0", arity("getrange")),
            ("SETRANGE s 5 XX", 16),
            ("GET s", b"This XX a string"),
            ("SETRANGE s 20 end", 23),
            ("GET s", b"This XX a string\x00\x00\x00\x00end"),
            ("SETRANGE new 2 ab", 4),
            ("GET new", b"\x00\x00ab"),
            ("SETRANGE empty 0 ''", 0),
            ("EXISTS empty", 0),
            ("SETRANGE s -1 x", "-ERR offset is out of range"),
            ("SETRANGE s 536870912 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
            ("SETRANGE s abc x", NOTINT),
            ("SETRANGE s 1", arity("setrange")),
        ])

    def test_counters(self):
        self.run_script([
            ("INCR n", 1),
            ("INCR n", 2),
            ("DECR n", 1),
            ("INCRBY n 10", 11),
            ("DECRBY n 20", -9),
            ("INCRBY n -1", -10),
            ("GET n", b"-10"),
            ("INCRBY n abc", NOTINT),
            ("INCRBY n 1.5", NOTINT),
            ("SET s hello", "+OK"),
            ("INCR s", NOTINT),
            ("SET sp ' 1'", "+OK"),
            ("INCR sp", NOTINT),
            ("SET big 9223372036854775807", "+OK"),
            ("INCR big", "-ERR increment or decrement would overflow"),
            ("SET small -9223372036854775808", "+OK"),
            ("DECR small", "-ERR increment or decrement would overflow"),
            ("DECRBY n -9223372036854775808", "-ERR decrement would overflow"),
            ("INCRBY n 99999999999999999999", NOTINT),
            ("GET n", b"-10"),
            ("INCRBYFLOAT f 1.5", b"1.5"),
            ("INCRBYFLOAT f 0.1", SAME),
            ("INCRBYFLOAT f -1.6", SAME),
            ("INCRBYFLOAT f 1e3", SAME),
            ("INCRBYFLOAT f 5.0e3", SAME),
            ("SET f 10.50", "+OK"),
            ("INCRBYFLOAT f 0.1", b"10.6"),
            ("INCRBYFLOAT f abc", "-ERR value is not a valid float"),
            ("INCRBYFLOAT s 1", "-ERR value is not a valid float"),
            ("INCRBYFLOAT f 1e400", SAME),
            ("INCRBYFLOAT f 1e5000", "-ERR value is not a valid float"),
            ("INCRBYFLOAT f inf", SAME),
            ("INCR", arity("incr")),
            ("INCRBY n", arity("incrby")),
            ("DECRBY n", arity("decrby")),
            ("DECR a b", arity("decr")),
            ("INCRBYFLOAT f", arity("incrbyfloat")),
        ])

    def test_bits(self):
        self.run_script([
            ("SETBIT b 7 1", 0),
            ("SETBIT b 7 1", 1),
            ("GET b", b"\x01"),
            ("SETBIT b 7 0", 1),
            ("GETBIT b 7", 0),
            ("SETBIT b 100 1", 0),
            ("STRLEN b", 13),
            ("GETBIT b 100", 1),
            ("GETBIT b 1000", 0),
            ("GETBIT nokey 0", 0),
            ("SETBIT b -1 1", "-ERR bit offset is not an integer or out of range"),
            ("SETBIT b 4294967296 1", "-ERR bit offset is not an integer or out of range"),
            ("SETBIT b 0 2", "-ERR bit is not an integer or out of range"),
            ("GETBIT b x", "-ERR bit offset is not an integer or out of range"),
            ("SETBIT b 0", arity("setbit")),
            ("SET f foobar", "+OK"),
            ("BITCOUNT f", 26),
            ("BITCOUNT f 0 0", 4),
            ("BITCOUNT f 1 1", 6),
            ("BITCOUNT f 1 1 BYTE", 6),
            ("BITCOUNT f 5 30 BIT", 17),
            ("BITCOUNT f -2 -1", 7),
            ("BITCOUNT f 0", SYNTAX),
            ("BITCOUNT f 0 1 FOO", SYNTAX),
            ("BITCOUNT f a b", NOTINT),
            ("BITCOUNT nokey", 0),
            ("BITCOUNT", arity("bitcount")),
            (["SET", "p", b"\xff\xf0\x00"], "+OK"),
            ("BITPOS p 0", 12),
            ("BITPOS p 1", 0),
            ("BITPOS p 1 2", -1),
            ("BITPOS p 0 1", 12),
            ("BITPOS p 1 7 15 BIT", 7),
            ("BITPOS p 0 0 -1 BYTE", 12),
            (["SET", "ff", b"\xff\xff"], "+OK"),
            ("BITPOS ff 0", 16),
            ("BITPOS ff 0 0 -1", -1),
            ("BITPOS ff 0 0", 16),
            ("BITPOS nokey 0", 0),
            ("BITPOS nokey 1", -1),
            ("BITPOS p 2", "-ERR The bit argument must be 1 or 0."),
            ("BITPOS p 1 0 1 FOO", SYNTAX),
            ("BITPOS p", arity("bitpos")),
            ("SET k1 foobar", "+OK"),
            ("SET k2 abcdef", "+OK"),
            ("BITOP AND dest k1 k2", 6),
            ("GET dest", b"`bc`ab"),
            ("BITOP OR dest k1 k2", 6),
            ("GET dest", b"goofev"),
            ("BITOP XOR dest k1 k2", 6),
            ("GET dest", b"\x07\r\x0c\x06\x04\x14"),
            ("BITOP NOT dest k1", 6),
            ("GET dest", b"\x99\x90\x90\x9d\x9e\x8d"),
            ("SET short ab", "+OK"),
            ("BITOP OR dest k1 short", 6),
            ("GET dest", SAME),
            ("BITOP NOT dest k1 k2", "-ERR BITOP NOT must be called with a single source key."),
            ("BITOP FOO dest k1", SYNTAX),
            ("BITOP AND dest nokey nokey2", 0),
            ("EXISTS dest", 0),
            ("BITOP AND dest", arity("bitop")),
        ])

    def test_lcs(self):
        self.run_script([
            ("MSET key1 ohmytext key2 mynewtext", "+OK"),
            ("LCS key1 key2", b"mytext"),
            ("LCS key1 key2 LEN", 6),
            ("LCS key1 key2 IDX", SAME),
            ("LCS key1 key2 IDX MINMATCHLEN 4", SAME),
            ("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN", SAME),
            ("LCS key1 key2 IDX WITHMATCHLEN", SAME),
            ("LCS key1 key2 LEN IDX",
             "-ERR If you want both the length and indexes, please just use IDX."),
            ("LCS key1 key2 FOO", SYNTAX),
            ("LCS key1 key2 MINMATCHLEN abc", NOTINT),
            ("LCS nokey key2", b""),
            ("LCS nokey nokey2 LEN", 0),
            ("LCS key1", arity("lcs")),
        ])


    def test_which_writes_keep_the_ttl(self):
        script = []
        for write, keeps in [("APPEND k 1", True), ("SETRANGE k 0 9", True), ("INCR k", True),
                             ("INCRBYFLOAT k 1.5", True), ("SETBIT k 0 1", True),
                             ("GETEX k", True), ("SET k v KEEPTTL", True), ("GETSET k x", False),
                             ("SET k v", False), ("MSET k v", False), ("SETNX k v", True)]:
            script += [("SETEX k 100 5", "+OK"), (write, SAME), ("TTL k", 100 if keeps else -1)]
        script += [
            ("SETEX k 100 v", "+OK"),
            ("SET dest x EX 100", "+OK"),
            ("BITOP OR dest k", 1),
            ("TTL dest", -1),
            ("COPY k c", 1),
            ("TTL c", 100),
            ("RENAME c r", "+OK"),
            ("TTL r", 100),
        ]
        self.run_script(script)

    def test_writes_over_expired_keys(self):
        """A key past its expiry is gone for every command at once, even
        before active expiry collects it."""
        script = []
        for write in ["SET k v KEEPTTL", "GETEX k PERSIST", "INCR k", "SETRANGE k 3 x",
                      "EXPIRE k 100", "PERSIST k", "SETBIT k 3 1", "COPY k k2", "RENAME k k3",
                      "MSETNX k 1 z 2", "SET k new NX GET", "SET k new XX", "GETSET k x",
                      "LCS k k", "BITOP NOT d k", "APPEND k x", "INCRBYFLOAT k 1", "GETDEL k",
                      "STRLEN k", "GETRANGE k 0 -1", "BITCOUNT k", "TYPE k", "EXISTS k"]:
            script += [("SET k 5 PX 100", "+OK"), "SLEEP 0.15", (write, SAME), ("GET k", SAME),
                       ("TTL k", SAME)]
        script += [
            ("SET k3 v PX 100", "+OK"),
            ("SET k4 v", "+OK"),
            "SLEEP 0.15",
            ("RENAMENX k4 k3", 1),
            ("GET k3", b"v"),
            ("SET k v PX 100", "+OK"),
            ("COPY k c", 1),
            ("RENAME k r", "+OK"),
            "SLEEP 0.15",
            ("EXISTS c r k", 0),
            ("SET k v PX 300", "+OK"),
            ("GETEX k EX 100", b"v"),
            "SLEEP 0.35",
            ("TTL k", 100),
        ]
        self.run_script(script)

    def test_edge_values(self):
        self.run_script([
            ("SET e ''", "+OK"),
            ("GET e", b""),
            ("STRLEN e", 0),
            ("APPEND e ''", 0),
            ("EXISTS e", 1),
            ("LCS e e", b""),
            ("BITCOUNT e", 0),
            ("BITPOS e 0", -1),
            ("BITPOS e 1", -1),
            ("GETRANGE e 0 -1", b""),
            ("INCR e", NOTINT),
            ("SET a hello", "+OK"),
            ("GETRANGE a 0 -100", b"h"),
            ("GETRANGE a -1 -2", b""),
            ("GETRANGE a 9223372036854775807 9223372036854775807", b""),
            ("GETRANGE a -9223372036854775808 9223372036854775807", b"hello"),
            ("SETRANGE a 0 ''", 5),
            ("SET i 007", "+OK"),
            ("INCR i", NOTINT),
            ("SET i 1e2", "+OK"),
            ("INCR i", NOTINT),
            ("INCRBYFLOAT i 1", b"101"),
            ("SET i '1 '", "+OK"),
            ("INCRBYFLOAT i 1", "-ERR value is not a valid float"),
            ("SET i 0x10", "+OK"),
            ("INCRBYFLOAT i 1", SAME),
            ("SET i 3", "+OK"),
            ("INCRBYFLOAT i 1e-20", SAME),
            ("INCRBYFLOAT i -3", SAME),
            ("SET i 10", "+OK"),
            ("INCRBYFLOAT i 0.00001", b"10.00001"),
            ("DECRBY i 9223372036854775807", NOTINT),
            ("SET i -9223372036854775800", "+OK"),
            ("DECRBY i 10", "-ERR increment or decrement would overflow"),
            ("DEL a a", 1),
            ("SET a 1", "+OK"),
            ("MSETNX x 1 x 2", 1),
            ("GET x", b"2"),
            ("COPY a b DB 1 REPLACE DB 2", 1),
            ("COPY a b REPLACE REPLACE", 1),
            ("EXPIRE a -9223372036854775808", SAME),
            ("SET a b", "+OK"),
            ("EXPIRE a 9223372036854775", "-ERR invalid expire time in 'expire' command"),
            ("PEXPIRE a 9223372036854775000", SAME),
            ("PEXPIREAT a 9223372036854775000", SAME),
            ("EXPIREAT a 9223372036854775", SAME),
            ("GETEX a EXAT 9223372036854775", SAME),
            ("GETEX a PXAT 9223372036854775807", SAME),
            ("SET a b EXAT 9223372036854775", SAME),
            ("SETEX a 9223372036854775 v", "-ERR invalid expire time in 'setex' command"),
            ("TTL a", SAME),
            ("ECHO ''", b""),
            ("PING ''", b""),
            ([b"SET", b"k" * 100000, b"long key"], "+OK"),
            ([b"GET", b"k" * 100000], b"long key"),
            (["MGET"] + ["m%d" % i for i in range(5000)], SAME),
        ])


class KeyspaceCommands(OracleCase):
    def test_expire_family(self):
        self.run_script([
            ("SET k v", "+OK"),
            ("EXPIRE k 100", 1),
            ("TTL k", 100),
            ("EXPIRE k 100 NX", 0),
            ("EXPIRE k 200 XX", 1),
            ("TTL k", 200),
            ("EXPIRE k 50 GT", 0),
            ("EXPIRE k 300 GT", 1),
            ("EXPIRE k 400 LT", 0),
            ("EXPIRE k 50 LT", 1),
            ("TTL k", 50),
            ("EXPIRE k 10 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible"),
            ("EXPIRE k 10 GT LT", "-ERR GT and LT options at the same time are not compatible"),
            ("EXPIRE k 10 FOO", "-ERR Unsupported option FOO"),
            ("EXPIRE k abc", NOTINT),
            ("EXPIRE nokey 10", 0),
            ("PERSIST k", 1),
            ("PERSIST k", 0),
            ("PERSIST nokey", 0),
            ("TTL k", -1),
            ("PTTL k", -1),
            ("TTL nokey", -2),
            ("PTTL nokey", -2),
            ("EXPIRE k 10 GT", 0),  # no TTL counts as infinite
            ("EXPIRE k 10 LT", 1),
            ("PERSIST k", 1),
            ("EXPIRE k 10 XX", 0),
            ("EXPIRE k 9223372036854775807", "-ERR invalid expire time in 'expire' command"),
            ("PEXPIRE k 9223372036854775807", "-ERR invalid expire time in 'pexpire' command"),
            ("EXPIREAT k 9223372036854775807", "-ERR invalid expire time in 'expireat' command"),
            ("PEXPIRE k 100000 LT", 1),
            ("TTL k", 100),
            ("EXPIREAT k 4102444800", 1),
            ("EXPIRETIME k", 4102444800),
            ("PEXPIRETIME k", 4102444800000),
            ("PEXPIREAT k 4102444800123 GT", 1),
            ("PEXPIRETIME k", 4102444800123),
            ("EXPIRETIME k", 4102444800),
            ("EXPIRETIME nokey", -2),
            ("PEXPIRETIME nokey", -2),
            ("SET p v", "+OK"),
            ("EXPIRETIME p", -1),
            ("PEXPIRETIME p", -1),
            # a time in the past deletes at once
            ("EXPIRE k -1", 1),
            ("EXISTS k", 0),
            ("SET k v", "+OK"),
            ("EXPIREAT k 1", 1),
            ("EXISTS k", 0),
            ("SET k v", "+OK"),
            ("PEXPIRE k 0", 1),
            ("GET k", None),
            ("EXPIRE k", arity("expire")),
            ("TTL", arity("ttl")),
            ("PERSIST", arity("persist")),
            ("EXPIRETIME", arity("expiretime")),
        ])

    def test_type_rename_copy(self):
        self.run_script([
            ("SET a 1", "+OK"),
            ("TYPE a", "+string"),
            ("TYPE nokey", "+none"),
            ("RENAME a b", "+OK"),
            ("GET b", b"1"),
            ("EXISTS a", 0),
            ("RENAME nokey x", "-ERR no such key"),
            ("RENAME b b", "+OK"),
            ("GET b", b"1"),
            ("RENAMENX b c", 1),
            ("SET d 2", "+OK"),
            ("RENAMENX c d", 0),
            ("GET c", b"1"),
            ("RENAMENX nokey d", "-ERR no such key"),
            ("SETEX t 100 v", "+OK"),
            ("RENAME t t2", "+OK"),
            ("TTL t2", 100),
            ("RENAME a", arity("rename")),
            ("COPY d e", 1),
            ("COPY d e", 0),
            ("SET d 3", "+OK"),
            ("COPY d e REPLACE", 1),
            ("GET e", b"3"),
            ("COPY d e DB 1", 1),
            ("COPY d e DB 16", "-ERR DB index is out of range"),
            ("COPY d e DB abc", NOTINT),
            ("COPY d e FOO", SYNTAX),
            ("COPY nokey e", 0),
            ("COPY d d", "-ERR source and destination objects are the same"),
            ("COPY t2 t3", 1),
            ("TTL t3", 100),
            ("SELECT 1", "+OK"),
            ("GET e", b"3"),
            ("SELECT 0", "+OK"),
            ("COPY d", arity("copy")),
        ])

    def test_select_dbsize_flush(self):
        script = []
        for db in range(16):
            script += [("SELECT %d" % db, "+OK"), ("SET k%d v" % db, "+OK"),
                       ("SET shared %d" % db, "+OK")]
        for db in range(16):
            script += [("SELECT %d" % db, "+OK"), ("DBSIZE", 2), ("GET shared", str(db).encode())]
        script += [
            ("SELECT 16", "-ERR DB index is out of range"),
            ("SELECT -1", "-ERR DB index is out of range"),
            ("SELECT abc", NOTINT),
            ("SELECT", arity("select")),
            ("GET shared", b"15"),  # a failed SELECT keeps the db
            ("SELECT 3", "+OK"),
            ("FLUSHDB", "+OK"),
            ("DBSIZE", 0),
            ("SELECT 2", "+OK"),
            ("DBSIZE", 2),
            ("FLUSHDB ASYNC", "+OK"),
            ("FLUSHDB SYNC", "+OK"),
            ("FLUSHDB FOO", SYNTAX),
            ("DBSIZE", 0),
            ("SELECT 4", "+OK"),
            ("DBSIZE", 2),
            ("FLUSHALL FOO", SYNTAX),
            ("FLUSHALL", "+OK"),
            ("DBSIZE", 0),
            ("SELECT 0", "+OK"),
            ("DBSIZE", 0),
            ("DBSIZE x", arity("dbsize")),
        ]
        self.run_script(script)

    def test_keys_and_scan(self):
        self.run_script([
            ("MSET one 1 two 2 three 3 four 4 five 5", "+OK"),
            ("KEYS *", Sorted([b"five", b"four", b"one", b"three", b"two"])),
            ("KEYS t*", Sorted([b"three", b"two"])),
            ("KEYS *o*", Sorted([b"four", b"one", b"two"])),
            ("KEYS [ft]??", Sorted([b"two"])),
            ("KEYS nomatch*", []),
            ("KEYS", arity("keys")),
            ("SCAN 0 COUNT 100", Sorted([b"0", [b"five", b"four", b"one", b"three", b"two"]])),
            ("SCAN 0 MATCH t* COUNT 100", Sorted([b"0", [b"three", b"two"]])),
            ("SCAN 0 TYPE string COUNT 100", Sorted([b"0", [b"five", b"four", b"one", b"three", b"two"]])),
            ("SCAN 0 TYPE hash COUNT 100", [b"0", []]),
            ("SCAN abc", "-ERR invalid cursor"),
            ("SCAN 0 COUNT 0", SYNTAX),
            ("SCAN 0 COUNT abc", NOTINT),
            ("SCAN 0 FOO", SYNTAX),
            ("SCAN 0 MATCH", SYNTAX),
            ("SCAN", arity("scan")),
        ])

    def test_scan_full_iteration_returns_every_key(self):
        c = self.a
        n = 3000
        c.send(b"".join(encode("SET", "user:%d" % i, i) for i in range(n)) +
               b"".join(encode("SET", "other:%d" % i, i) for i in range(200)))
        for _ in range(n + 200):
            self.assertEqual(c.read_reply(), "+OK")
        c.cmd("SELECT", 1)
        c.cmd("SET", "user:db1", "x")
        c.cmd("SELECT", 0)
        for count in (1, 10, 1000):
            seen = []
            cursor = b"0"
            calls = 0
            while True:
                cursor, keys = c.cmd("SCAN", cursor, "COUNT", count)
                seen += keys
                calls += 1
                self.assertLess(calls, 100000)
                if cursor == b"0":
                    break
            want = set(b"user:%d" % i for i in range(n)) | set(b"other:%d" % i for i in range(200))
            self.assertEqual(set(seen), want, "COUNT %d" % count)
            if count == 10:
                self.assertGreater(calls, 20)  # it is incremental, not one reply
        seen = set()
        cursor = b"0"
        while True:
            cursor, keys = c.cmd("SCAN", cursor, "MATCH", "other:*", "COUNT", 50)
            seen |= set(keys)
            if cursor == b"0":
                break
        self.assertEqual(seen, set(b"other:%d" % i for i in range(200)))
        self.assertEqual(len(c.cmd("KEYS", "*")), n + 200)
        self.assertEqual(c.cmd("DBSIZE"), n + 200)

    def test_ping_echo_time(self):
        self.run_script([
            ("PING", "+PONG"),
            ("PING hello", b"hello"),
            ("PING a b", arity("ping")),
            ("ECHO 'hello world'", b"hello world"),
            ("ECHO", arity("echo")),
            ("ECHO a b", arity("echo")),
            ("TIME x", arity("time")),
        ])
        sec, usec = self.a.cmd("TIME")
        self.assertLess(abs(int(sec) - time.time()), 5)
        self.assertTrue(0 <= int(usec) < 1000000)

    def test_unknown_command_and_generic_errors(self):
        self.run_script([
            ("FOO bar baz", "-ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' "),
            ("foo", "-ERR unknown command 'foo', with args beginning with: "),
            ("GETT k", "-ERR unknown command 'GETT', with args beginning with: 'k' "),
            (["x" * 200, "a"], SAME),
            ("get a b c", arity("get")),
            ("GeT k", None),
        ])

    def test_wrong_arity_of_every_command(self):
        """Too few and too many arguments, for every command both servers
        know, give Redis's exact error (and change nothing)."""
        names = self.a.cmd("COMMAND", "LIST")
        info = self.a.cmd("COMMAND", "INFO", *names)
        known = self.b.cmd("COMMAND", "INFO", *names)  # None: ringkv's own
        script = []
        for entry, ref in zip(info, known):
            name, ar = entry[0].decode(), entry[1]
            if ref is None:
                continue
            if ar > 0:
                script.append(([name] + ["x"] * ar, arity(name)))
            if abs(ar) > 1:
                script.append(([name] + ["x"] * (abs(ar) - 2), arity(name)))
        self.assertGreater(len(script), 60)
        self.run_script(script)
        self.assertEqual(self.a.cmd("DBSIZE"), 0)


class Resp3(OracleCase):
    """After HELLO 3 the replies are RESP3 types, as Redis 7.0 sends them
    (compared as exact bytes)."""

    def test_resp3_replies(self):
        for c in (self.a, self.b):
            r = c.cmd("HELLO", "3")
            self.assertIsInstance(r, dict)
            self.assertEqual(r["proto"], 3)
        problems = []
        for line in ["GET nokey", "SET k v", "GET k", "MGET k nokey", "INCRBYFLOAT f 1.5",
                     "CONFIG GET maxclients", "SET n 1", "INCR n", "SET k v GET", "SET k v NX",
                     "GETEX nokey", "LCS k k IDX", "LCS k k LEN", "BITCOUNT k", "TTL k",
                     "EXPIRETIME k", "TYPE k", "PING", "ECHO x", "CLIENT GETNAME", "COPY k j",
                     "EXISTS j", "SCAN 0 MATCH k", "KEYS k", "SET k v PX 0", "GETDEL nokey",
                     "BITPOS k 1", "LCS k k IDX WITHMATCHLEN"]:
            args = shlex.split(line)
            x, y = self.a.raw_cmd(*args), self.b.raw_cmd(*args)
            if x != y:
                problems.append("%s\n    ringkv: %r\n    redis:  %r" % (line, x, y))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_resp3_types_seen_by_a_user(self):
        c = self.a
        hello = c.cmd("HELLO", "3")
        self.assertEqual(hello["server"], b"redis")
        self.assertEqual(hello["version"], b"7.0.15")
        self.assertEqual(hello["mode"], b"standalone")
        self.assertEqual(hello["role"], b"master")
        self.assertEqual(hello["modules"], [])
        self.assertEqual(hello["id"], c.cmd("CLIENT", "ID"))
        c.send(encode("GET", "nokey"))
        self.assertEqual(c._line(), b"_")  # RESP3 null
        c.send(encode("CONFIG", "GET", "timeout"))
        self.assertEqual(c._line(), b"%1")  # a map
        c.read_reply(), c.read_reply()
        # HELLO 2 goes back to RESP2
        hello2 = c.cmd("HELLO", "2")
        self.assertIsInstance(hello2, list)
        c.send(encode("GET", "nokey"))
        self.assertEqual(c._line(), b"$-1")


class Versions(OracleCase):
    """VGET/VSET: ringkv's causal-context commands (no oracle: Redis has none)."""

    def test_vget_vset(self):
        c = self.a
        self.assertEqual(c.cmd("VGET", "k"), [b"", None])
        self.assertEqual(c.cmd("SET", "k", "v1"), "+OK")
        ctx1, *vals = c.cmd("VGET", "k")
        self.assertEqual(vals, [b"v1"])
        self.assertTrue(ctx1)
        # a resolution written with that context replaces the value
        self.assertEqual(c.cmd("VSET", "k", ctx1, "a"), "+OK")
        ctx2, *vals = c.cmd("VGET", "k")
        self.assertEqual(vals, [b"a"])
        self.assertNotEqual(ctx2, ctx1)
        self.assertEqual(c.cmd("GET", "k"), b"a")
        # a write with a stale context is concurrent: both are kept as siblings
        self.assertEqual(c.cmd("VSET", "k", ctx1, "b"), "+OK")
        ctx3, *vals = c.cmd("VGET", "k")
        self.assertEqual(sorted(vals), [b"a", b"b"])
        self.assertEqual(vals[0], b"b")  # newest first
        self.assertEqual(c.cmd("GET", "k"), b"b")  # plain GET: the newest
        # writing with the merged context resolves them
        self.assertEqual(c.cmd("VSET", "k", ctx3, "merged"), "+OK")
        _, *vals = c.cmd("VGET", "k")
        self.assertEqual(vals, [b"merged"])
        # an empty context supersedes nothing
        self.assertEqual(c.cmd("VSET", "k", "", "x"), "+OK")
        _, *vals = c.cmd("VGET", "k")
        self.assertEqual(sorted(vals), [b"merged", b"x"])
        # errors
        self.assertEqual(norm(c.cmd("VSET", "k", "garbage!", "v")),
                         "-ERR invalid causal context (pass the first element of VGET's reply, or \"\")")
        self.assertEqual(norm(c.cmd("VSET", "k", "v")), arity("vset"))
        self.assertEqual(norm(c.cmd("VGET")), arity("vget"))
        _, *vals = c.cmd("VGET", "k")
        self.assertEqual(sorted(vals), [b"merged", b"x"])  # bad input harmed nothing
        # a delete leaves a context and no value
        self.assertEqual(c.cmd("DEL", "k"), 1)
        ctx, val = c.cmd("VGET", "k")
        self.assertTrue(ctx)
        self.assertIsNone(val)
        self.assertEqual(c.cmd("EXISTS", "k"), 0)
        # VSET on a new key
        self.assertEqual(c.cmd("VSET", "new", "", "x"), "+OK")
        self.assertEqual(c.cmd("GET", "new"), b"x")


if __name__ == "__main__":
    unittest.main()
