"""Key commands on collection keys (sets, hashes, sorted sets, HyperLogLog),
on one ringkv-server with a real Redis 7.0 next to it as the oracle
(test_commands.OracleCase: each script line's expected reply is checked on
both servers; SAME = ringkv answers byte for byte what Redis answers).

Covers: SCAN (MATCH, COUNT, TYPE), KEYS and RANDOMKEY listing collection
keys with their types; RENAME, RENAMENX, COPY (DB, REPLACE), MOVE of every
type, the TTL kept (RENAME, MOVE) or copied (COPY), a string and a
collection overwriting each other both ways, the copy independent of its
source; OBJECT ENCODING/REFCOUNT/FREQ/IDLETIME/HELP and its errors; DUMP and
RESTORE (REPLACE, ABSTTL, TTL, IDLETIME/FREQ checks, BUSYKEY), a Redis
payload and a corrupted one refused with Redis's error.

Where ringkv differs from Redis on purpose (checked on ringkv only):
- OBJECT ENCODING of a collection is the encoding Redis uses for a large one
  of its type ("hashtable" for sets and hashes, "skiplist" for sorted sets,
  "raw" for HyperLogLog): ringkv stores every element under its own key, so
  no compact encoding (intset, listpack) exists;
- OBJECT IDLETIME is always 0 (no access times are kept);
- DUMP's payload is ringkv's own (dump.h), so it restores on ringkv only,
  and a Redis payload is refused as Redis refuses a foreign one.

These tests need the type commands (SADD/SMEMBERS, HSET/HGET, ZADD/ZSCORE,
PFADD/PFCOUNT); a test whose commands this build lacks is skipped, naming
them.
"""
import ctypes
import ctypes.util
import struct
import unittest

from harness import ReplyError
from test_commands import SAME, OracleCase, Sorted, arity

WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"
DUMP_BAD = "-ERR DUMP payload version or checksum are wrong"
LFU_ERR = ("-ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
           "Please note that when switching between policies at runtime LRU and LFU data "
           "will take some time to adjust.")


def xxh3(data):
    """XXH3-64 of data through the libxxhash the server links (ctypes)."""
    lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
    lib.XXH3_64bits.restype = ctypes.c_uint64
    lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return lib.XXH3_64bits(data, len(data))


def payload(body, version=0x524B):
    """A DUMP payload in ringkv's format (dump.h) around body."""
    head = body + struct.pack("<H", version)
    return head + struct.pack("<Q", xxh3(head))


class KeyspaceTypes(OracleCase):
    def need(self, *cmds):
        """Skips the test unless ringkv knows every command."""
        missing = []
        for c in cmds:
            r = self.a.cmd("COMMAND", "INFO", c)
            if not r or r[0] is None:
                missing.append(c)
        if missing:
            self.skipTest("needs %s (type commands not in this build)" % ", ".join(missing))

    def populate(self):
        """One key of each type, on both servers."""
        self.run_script([
            ("SET str v", "+OK"),
            ("SADD set a b c", 3),
            ("HSET hash f1 v1 f2 v2", 2),
            ("ZADD zset 1 x 2.5 y", 2),
            ("PFADD hll e1 e2 e3", 1),
        ])

    # ------------------------------------------------------------ SCAN / KEYS

    def test_scan_keys_list_every_type(self):
        self.need("sadd", "hset", "zadd", "pfadd")
        self.populate()
        self.run_script([
            ("KEYS *", Sorted([b"hash", b"hll", b"set", b"str", b"zset"])),
            ("KEYS *s*", Sorted([b"hash", b"set", b"str", b"zset"])),
            ("KEYS h*", Sorted([b"hash", b"hll"])),
            ("SCAN 0 COUNT 1000", Sorted([b"0", [b"hash", b"hll", b"set", b"str", b"zset"]])),
            ("SCAN 0 COUNT 1000 MATCH *s*", Sorted(SAME)),
            ("SCAN 0 COUNT 1000 TYPE set", [b"0", [b"set"]]),
            ("SCAN 0 COUNT 1000 TYPE hash", [b"0", [b"hash"]]),
            ("SCAN 0 COUNT 1000 TYPE zset", [b"0", [b"zset"]]),
            ("SCAN 0 COUNT 1000 TYPE STRING", Sorted([b"0", [b"hll", b"str"]])),
            ("SCAN 0 COUNT 1000 TYPE list", [b"0", []]),
            ("SCAN 0 COUNT 1000 TYPE nosuchtype", [b"0", []]),
            ("SCAN 0 COUNT 1000 MATCH h* TYPE hash", [b"0", [b"hash"]]),
            ("DBSIZE", 5),
            ("DEL set hash", 2),
            ("KEYS *", Sorted([b"hll", b"str", b"zset"])),
            ("SCAN 0 COUNT 1000 TYPE set", [b"0", []]),
            ("DEL str hll", 2),
            ("RANDOMKEY", b"zset"),  # the only key left is a collection
            ("DEL zset", 1),
            ("RANDOMKEY", None),
        ])

    def test_scan_sets_only(self):
        """SCAN with many set keys: every one comes back once over the cursor
        walk, typed (checks the whole iteration, not one page)."""
        self.need("sadd")
        want = set()
        for i in range(200):
            k = "s:%d" % i
            self.assertEqual(self.a.cmd("SADD", k, "m"), 1)
            want.add(k.encode())
            if i % 2:
                self.assertEqual(self.a.cmd("SET", "str:%d" % i, "v"), "+OK")
        seen, cursor = [], b"0"
        while True:
            cursor, keys = self.a.cmd("SCAN", cursor, "COUNT", 7, "TYPE", "set")
            seen.extend(keys)
            if cursor == b"0":
                break
        self.assertEqual(set(seen), want)
        self.assertEqual(len(self.a.cmd("KEYS", "s:*")), 200)
        self.assertEqual(self.a.cmd("DBSIZE"), 300)

    def test_expired_collections_are_not_listed(self):
        self.need("sadd")
        self.run_script([
            ("SADD gone a", 1),
            ("PEXPIRE gone 1", 1),
            "SLEEP 0.05",
            ("SADD kept a", 1),
            ("KEYS *", [b"kept"]),
            ("SCAN 0 COUNT 100", [b"0", [b"kept"]]),
            ("DEL kept", 1),
            ("KEYS *", []),
        ])

    # ------------------------------------------------------------ RENAME

    def test_rename_set(self):
        self.need("sadd", "smembers")
        self.run_script([
            ("SADD s a b c", 3),
            ("EXPIRE s 100", 1),
            ("RENAME s s2", "+OK"),
            ("EXISTS s", 0),
            ("TYPE s2", "+set"),
            ("SMEMBERS s2", Sorted([b"a", b"b", b"c"])),
            ("TTL s2", 100),                       # RENAME keeps the TTL
            ("SADD s2 d", 1),
            ("SMEMBERS s", []),
            ("RENAME s2 s2", "+OK"),
            ("RENAMENX s2 s2", 0),
            ("SMEMBERS s2", Sorted([b"a", b"b", b"c", b"d"])),
            # onto a string, and a string onto a set
            ("SET str v", "+OK"),
            ("EXPIRE str 50", 1),
            ("RENAME s2 str", "+OK"),
            ("TYPE str", "+set"),
            ("TTL str", 100),                      # the source's, not the target's
            ("SET plain p", "+OK"),
            ("RENAME plain str", "+OK"),
            ("TYPE str", "+string"),
            ("GET str", b"p"),
            ("TTL str", -1),
            ("SMEMBERS str", WRONGTYPE),
            ("DEL str", 1),
            ("EXISTS str", 0),                     # nothing of the set came back
            # RENAMENX onto an existing collection
            ("SADD x 1", 1),
            ("SADD y 2", 1),
            ("RENAMENX x y", 0),
            ("SMEMBERS y", [b"2"]),
            ("RENAMENX x z", 1),
            ("SMEMBERS z", [b"1"]),
            ("RENAME nokey z", "-ERR no such key"),
            ("RENAMENX nokey z", "-ERR no such key"),
            # a set onto a set: the target's old members go
            ("SADD p 1 2 3", 3),
            ("SADD q 9", 1),
            ("RENAME q p", "+OK"),
            ("SMEMBERS p", [b"9"]),
            ("SMEMBERS q", []),
            ("DBSIZE", 3),                         # y, z, p
        ])

    def test_rename_hash_zset_hll(self):
        self.need("hset", "hget", "zadd", "zscore", "pfadd", "pfcount")
        self.populate()
        self.run_script([
            ("RENAME hash h2", "+OK"),
            ("TYPE h2", "+hash"),
            ("HGET h2 f1", b"v1"),
            ("HGET h2 f2", b"v2"),
            ("HGET hash f1", None),
            ("RENAME zset z2", "+OK"),
            ("TYPE z2", "+zset"),
            ("ZSCORE z2 x", b"1"),
            ("ZSCORE z2 y", b"2.5"),
            ("EXISTS zset", 0),
            ("RENAME hll p2", "+OK"),
            ("PFCOUNT p2", 3),
            ("EXISTS hll", 0),
            # across types: a hash onto a sorted set, a sorted set onto an HLL
            ("RENAME h2 z2", "+OK"),
            ("TYPE z2", "+hash"),
            ("HGET z2 f2", b"v2"),
            ("ZSCORE z2 x", WRONGTYPE),
            ("ZADD zz 7 m", 1),
            ("RENAME zz p2", "+OK"),
            ("ZSCORE p2 m", b"7"),
            ("DBSIZE", 4),                         # str, set, z2, p2
        ])

    def test_string_read_of_a_string_overwritten_by_a_collection(self):
        """A string command on a key whose string was deleted and that holds
        a collection now (RENAME or COPY over it, or SET k v; DEL k; SADD k
        m) answers WRONGTYPE: the string's tombstone does not hide the
        collection (t_string.c's typed read)."""
        self.need("sadd")
        self.run_script([
            ("SET str v", "+OK"),
            ("SADD s m", 1),
            ("RENAME s str", "+OK"),
            ("TYPE str", "+set"),
            ("GET str", WRONGTYPE),
            ("SET k v", "+OK"),
            ("DEL k", 1),
            ("SADD k m", 1),
            ("GET k", WRONGTYPE),
            ("INCR k", WRONGTYPE),
        ])

    # ------------------------------------------------------------- COPY

    def test_copy_set(self):
        self.need("sadd", "smembers")
        self.run_script([
            ("SADD s a b", 2),
            ("COPY s c", 1),
            ("SMEMBERS c", Sorted([b"a", b"b"])),
            ("TTL c", -1),                         # no TTL made up
            ("SADD c z", 1),                       # the copy is independent
            ("SMEMBERS s", Sorted([b"a", b"b"])),
            ("COPY s c", 0),                       # exists, no REPLACE
            ("SMEMBERS c", Sorted([b"a", b"b", b"z"])),
            ("EXPIRE s 100", 1),
            ("COPY s c REPLACE", 1),
            ("SMEMBERS c", Sorted([b"a", b"b"])),
            ("TTL c", 100),                        # COPY copies the TTL
            ("TTL s", 100),
            ("COPY s c DB 3", 1),
            ("SELECT 3", "+OK"),
            ("SMEMBERS c", Sorted([b"a", b"b"])),
            ("TTL c", 100),
            ("SELECT 0", "+OK"),
            ("DEL s", 1),
            ("SMEMBERS c", Sorted([b"a", b"b"])),  # the copy outlives its source
            # a string over a set, a set over a string
            ("SET str v", "+OK"),
            ("COPY str c", 0),
            ("COPY str c REPLACE", 1),
            ("TYPE c", "+string"),
            ("GET c", b"v"),
            ("SADD t m", 1),
            ("COPY t c REPLACE", 1),
            ("TYPE c", "+set"),
            ("SMEMBERS c", [b"m"]),
            ("COPY nokey c", 0),
            ("COPY t t", "-ERR source and destination objects are the same"),
            ("COPY t t DB 0", "-ERR source and destination objects are the same"),
            ("COPY t t DB 1", 1),
            ("COPY t x DB 99", "-ERR DB index is out of range"),
            ("COPY t x FOO", "-ERR syntax error"),
        ])

    def test_copy_hash_zset_hll(self):
        self.need("hset", "hget", "zadd", "zscore", "pfadd", "pfcount")
        self.populate()
        self.run_script([
            ("COPY hash h2", 1),
            ("HSET h2 f1 changed", 0),
            ("HGET hash f1", b"v1"),
            ("HGET h2 f1", b"changed"),
            ("HGET h2 f2", b"v2"),
            ("COPY zset z2 DB 2", 1),
            ("SELECT 2", "+OK"),
            ("ZSCORE z2 y", b"2.5"),
            ("SELECT 0", "+OK"),
            ("COPY hll p2", 1),
            ("PFADD p2 e4", 1),
            ("PFCOUNT p2", 4),
            ("PFCOUNT hll", 3),
            ("PFADD empty", 1),                    # an empty HLL copies as one
            ("COPY empty e2", 1),
            ("EXISTS e2", 1),
            ("PFCOUNT e2", 0),
        ])

    # ------------------------------------------------------------- MOVE

    def test_move(self):
        self.need("sadd", "smembers")
        self.run_script([
            ("SADD s a b", 2),
            ("EXPIRE s 100", 1),
            ("MOVE s 1", 1),
            ("EXISTS s", 0),
            ("SELECT 1", "+OK"),
            ("SMEMBERS s", Sorted([b"a", b"b"])),
            ("TTL s", 100),                        # MOVE keeps the TTL
            ("SELECT 0", "+OK"),
            ("SADD s other", 1),
            ("MOVE s 1", 0),                       # exists in the target db
            ("SMEMBERS s", [b"other"]),
            ("MOVE nokey 1", 0),
            ("SET str v", "+OK"),
            ("MOVE str 2", 1),
            ("SELECT 2", "+OK"),
            ("GET str", b"v"),
            ("TTL str", -1),
            ("SELECT 0", "+OK"),
            ("MOVE s 0", "-ERR source and destination objects are the same"),
            ("MOVE s 99", "-ERR DB index is out of range"),
            ("MOVE s -1", "-ERR DB index is out of range"),
            ("MOVE s abc", "-ERR value is not an integer or out of range"),
            ("MOVE s 99999999999",
             "-ERR value is out of range, value must between -2147483648 and 2147483647"),
            ("MOVE s", arity("move")),
        ])

    # ------------------------------------------------------------- OBJECT

    def test_object_strings_and_errors(self):
        self.run_script([
            ("SET n 123", "+OK"),
            ("OBJECT ENCODING n", b"int"),
            ("OBJECT REFCOUNT n", 2147483647),     # a shared integer
            ("SET n 10001", "+OK"),
            ("OBJECT ENCODING n", b"int"),
            ("OBJECT REFCOUNT n", 1),
            ("SET n 01", "+OK"),
            ("OBJECT ENCODING n", b"embstr"),
            ("SET k v", "+OK"),
            ("OBJECT ENCODING k", b"embstr"),
            ("OBJECT REFCOUNT k", 1),
            ("SET k " + "x" * 45, "+OK"),
            ("OBJECT ENCODING k", b"raw"),
            ("OBJECT FREQ k", LFU_ERR),
            ("OBJECT ENCODING nokey", None),
            ("OBJECT FREQ nokey", None),
            ("OBJECT IDLETIME nokey", None),
            ("OBJECT REFCOUNT nokey", None),
            ("OBJECT HELP", SAME),
            ("OBJECT foo k", "-ERR unknown subcommand 'foo'. Try OBJECT HELP."),
            ("OBJECT", arity("object")),
            ("OBJECT ENCODING", "-ERR wrong number of arguments for 'object|encoding' command"),
            ("OBJECT ENCODING k x", "-ERR wrong number of arguments for 'object|encoding' command"),
            ("OBJECT HELP x", "-ERR wrong number of arguments for 'object|help' command"),
        ])
        self.assertEqual(self.a.cmd("OBJECT", "IDLETIME", "k"), 0)

    def test_object_collections(self):
        self.need("sadd", "hset", "zadd", "pfadd")
        self.populate()
        for key, enc in (("set", b"hashtable"), ("hash", b"hashtable"), ("zset", b"skiplist"),
                         ("hll", b"raw")):
            self.assertEqual(self.a.cmd("OBJECT", "ENCODING", key), enc, key)
            self.assertEqual(self.a.cmd("OBJECT", "REFCOUNT", key), 1, key)
            self.assertEqual(self.a.cmd("OBJECT", "IDLETIME", key), 0, key)
            self.assertEqual(str(self.a.cmd("OBJECT", "FREQ", key)), LFU_ERR[1:], key)
            self.assertEqual(str(self.b.cmd("OBJECT", "FREQ", key)), LFU_ERR[1:], key)

    # ------------------------------------------------------------- DUMP / RESTORE

    def roundtrip(self, key, check):
        """DUMP key, RESTORE it under another name, run check(name)."""
        p = self.a.cmd("DUMP", key)
        self.assertIsInstance(p, bytes)
        self.assertEqual(self.a.cmd("RESTORE", key + ":r", 0, p), "+OK")
        check(key + ":r")
        return p

    def test_dump_restore_string_and_set(self):
        self.need("sadd", "smembers")
        self.assertEqual(self.a.cmd("SET", "str", "hello"), "+OK")
        self.assertEqual(self.a.cmd("SADD", "set", "a", "b", ""), 3)
        self.assertIsNone(self.a.cmd("DUMP", "nokey"))
        self.roundtrip("str", lambda k: self.assertEqual(self.a.cmd("GET", k), b"hello"))
        p = self.roundtrip("set", lambda k: self.assertEqual(
            sorted(self.a.cmd("SMEMBERS", k)), [b"", b"a", b"b"]))
        a = self.a
        # BUSYKEY, REPLACE (over a string), TTL, ABSTTL
        self.assertEqual(str(a.cmd("RESTORE", "set:r", 0, p)),
                         "BUSYKEY Target key name already exists.")
        self.assertEqual(a.cmd("RESTORE", "str", 0, p, "REPLACE"), "+OK")
        self.assertEqual(a.cmd("TYPE", "str"), "+set")
        self.assertEqual(a.cmd("RESTORE", "t", 100000, p), "+OK")
        self.assertEqual(a.cmd("TTL", "t"), 100)
        self.assertEqual(a.cmd("RESTORE", "u", 4102444800000, p, "ABSTTL"), "+OK")
        self.assertEqual(a.cmd("PEXPIRETIME", "u"), 4102444800000)
        # an expiry already past: nothing created, what was there goes (REPLACE)
        self.assertEqual(a.cmd("RESTORE", "v", 1, p, "ABSTTL"), "+OK")
        self.assertEqual(a.cmd("EXISTS", "v"), 0)
        self.assertEqual(a.cmd("RESTORE", "u", 1, p, "ABSTTL", "REPLACE"), "+OK")
        self.assertEqual(a.cmd("EXISTS", "u"), 0)
        # IDLETIME and FREQ are accepted (and ignored)
        self.assertEqual(a.cmd("RESTORE", "w", 0, p, "IDLETIME", 10), "+OK")
        self.assertEqual(a.cmd("RESTORE", "w2", 0, p, "FREQ", 10), "+OK")

    def test_dump_restore_hash_zset_hll(self):
        self.need("hset", "hget", "zadd", "zscore", "pfadd", "pfcount")
        self.populate()
        self.roundtrip("hash", lambda k: self.assertEqual(
            [self.a.cmd("HGET", k, "f1"), self.a.cmd("HGET", k, "f2")], [b"v1", b"v2"]))
        self.roundtrip("zset", lambda k: self.assertEqual(
            [self.a.cmd("ZSCORE", k, "x"), self.a.cmd("ZSCORE", k, "y")], [b"1", b"2.5"]))
        self.roundtrip("hll", lambda k: self.assertEqual(self.a.cmd("PFCOUNT", k), 3))

    def test_restore_errors(self):
        # argument errors in Redis's order, before the payload is looked at
        self.run_script([
            ("SET k v", "+OK"),
            ("RESTORE x 0 abc", DUMP_BAD),
            ("RESTORE x -1 abc", "-ERR Invalid TTL value, must be >= 0"),
            ("RESTORE x abc abc", "-ERR value is not an integer or out of range"),
            ("RESTORE k 0 abc", "-BUSYKEY Target key name already exists."),
            ("RESTORE x 0 abc IDLETIME -1", "-ERR Invalid IDLETIME value, must be >= 0"),
            ("RESTORE x 0 abc FREQ 256", "-ERR Invalid FREQ value, must be >= 0 and <= 255"),
            ("RESTORE x 0 abc IDLETIME 1 FREQ 1", "-ERR syntax error"),
            ("RESTORE x 0 abc FOO", "-ERR syntax error"),
            ("RESTORE x 0", arity("restore")),
            ("DUMP", arity("dump")),
        ])
        # Redis's own payload: refused by version and checksum, nothing written
        redis_payload = self.b.cmd("DUMP", "k")
        self.assertEqual("-" + str(self.a.cmd("RESTORE", "x", 0, redis_payload)), DUMP_BAD)
        self.assertEqual(self.a.cmd("EXISTS", "x"), 0)
        # our payload, one byte changed, then cut short
        p = bytearray(self.a.cmd("DUMP", "k"))
        p[1] ^= 1
        self.assertEqual("-" + str(self.a.cmd("RESTORE", "x", 0, bytes(p))), DUMP_BAD)
        self.assertEqual("-" + str(self.a.cmd("RESTORE", "x", 0, bytes(p[:5]))), DUMP_BAD)
        # a well-formed envelope around a body that is not an image
        for body in (b"\x09\x01a",             # no such type
                     b"\x00\x05ab",            # a string shorter than it says
                     b"\x01\x00",              # an empty set
                     b"\x00\x01ab"):           # bytes left over
            self.assertEqual(str(self.a.cmd("RESTORE", "x", 0, payload(body))),
                             "ERR Bad data format", body)
        self.assertEqual(str(self.a.cmd("RESTORE", "x", 0, payload(b"\x00\x01a", 1))),
                         DUMP_BAD[1:])
        self.assertEqual(self.a.cmd("EXISTS", "x"), 0)
        self.assertEqual(self.a.cmd("RESTORE", "x", 0, payload(b"\x00\x02ok")), "+OK")
        self.assertEqual(self.a.cmd("GET", "x"), b"ok")
