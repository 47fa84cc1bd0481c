"""Durability and expiry: a restart (SIGTERM or SHUTDOWN) keeps data, TTLs
and DBSIZE; with `--wal-fsync always` every write acknowledged before a
kill -9 is there after the restart; expired keys vanish on read at once and
from DBSIZE by active expiry within about a second."""
import os
import signal
import threading
import time
import unittest

from harness import RingKV, encode, wait_for


class ServerCase(unittest.TestCase):
    args = []

    def setUp(self):
        self.rk = RingKV(self.args)
        self.addCleanup(self.rk.close)
        self.rk.start()

    def fill(self, c):
        """Some data in several dbs, with and without TTLs."""
        for db in (0, 3, 15):
            c.cmd("SELECT", db)
            c.send(b"".join(encode("SET", "k:%d:%d" % (db, i), "v%d" % i) for i in range(500)))
            for _ in range(500):
                self.assertEqual(c.read_reply(), "+OK")
            self.assertEqual(c.cmd("SETEX", "ttl:%d" % db, 1000, "t"), "+OK")
            self.assertEqual(c.cmd("PEXPIREAT", "k:%d:0" % db, 4102444800123), 1)
            self.assertEqual(c.cmd("DEL", "k:%d:1" % db), 1)
        c.cmd("SELECT", 0)
        c.cmd("SET", b"bin\x00key", b"\x00\r\n\xff")

    def check(self, c, ttl_at_most=1000):
        for db in (0, 3, 15):
            c.cmd("SELECT", db)
            # 500 keys + the TTL key - the deleted one (+ the binary key in db 0)
            self.assertEqual(c.cmd("DBSIZE"), 500 + (1 if db == 0 else 0), db)
            self.assertEqual(c.cmd("GET", "k:%d:499" % db), b"v499")
            self.assertIsNone(c.cmd("GET", "k:%d:1" % db))
            self.assertEqual(c.cmd("PEXPIRETIME", "k:%d:0" % db), 4102444800123)
            ttl = c.cmd("TTL", "ttl:%d" % db)
            self.assertTrue(900 < ttl <= ttl_at_most, ttl)
            self.assertEqual(c.cmd("TTL", "k:%d:2" % db), -1)
            vals = c.cmd("MGET", *["k:%d:%d" % (db, i) for i in range(2, 500)])
            self.assertEqual(vals, [b"v%d" % i for i in range(2, 500)])
        c.cmd("SELECT", 0)
        self.assertEqual(c.cmd("GET", b"bin\x00key"), b"\x00\r\n\xff")
        ks = c.cmd("INFO", "keyspace").decode()
        self.assertIn("db0:keys=501,expires=2,", ks)
        self.assertIn("db3:keys=500,expires=2,", ks)
        self.assertIn("db15:keys=500,expires=2,", ks)


class Restart(ServerCase):
    def test_sigterm_restart_keeps_data_ttls_and_dbsize(self):
        with self.rk.raw() as c:
            self.fill(c)
            self.check(c)
        self.assertEqual(self.rk.stop(), 0)  # SIGTERM: a clean exit
        self.rk.start(port=self.rk.port)
        with self.rk.raw() as c:
            self.check(c)

    def test_shutdown_then_restart(self):
        with self.rk.raw() as c:
            self.fill(c)
            c.send(encode("SHUTDOWN"))
            self.assertTrue(c.closed_by_peer(15))
        self.assertEqual(self.rk.wait_exit(15), 0)
        self.rk.start(port=self.rk.port)
        with self.rk.raw() as c:
            self.check(c)

    def test_flush_then_restart_keeps_dbsize_right(self):
        """FLUSHDB/FLUSHALL with no write after them, then a restart: DBSIZE
        and INFO keyspace count what is there, not what was there."""
        with self.rk.raw() as c:
            self.fill(c)
            c.cmd("SELECT", 3)
            self.assertEqual(c.cmd("FLUSHDB"), "+OK")
            c.cmd("SELECT", 0)
        self.rk.restart()
        with self.rk.raw() as c:
            ks = c.cmd("INFO", "keyspace").decode()
            self.assertIn("db0:keys=501,", ks)
            self.assertNotIn("db3:", ks)
            self.assertIn("db15:keys=500,", ks)
            self.assertEqual(c.cmd("FLUSHALL"), "+OK")
        self.rk.restart()
        with self.rk.raw() as c:
            self.assertEqual(c.cmd("INFO", "keyspace"), b"# Keyspace\r\n")
            for db in (0, 3, 15):
                c.cmd("SELECT", db)
                self.assertEqual(c.cmd("DBSIZE"), 0, db)
                self.assertEqual(c.cmd("KEYS", "*"), [])
            c.cmd("SELECT", 0)
            self.assertEqual(c.cmd("SET", "x", "1"), "+OK")
        self.rk.kill9()
        self.rk.start(port=self.rk.port)
        with self.rk.raw() as c:
            self.assertEqual(c.cmd("DBSIZE"), 1)
            self.assertEqual(c.cmd("INFO", "keyspace"), b"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")

    def test_ttl_survives_restart_and_expires_while_down(self):
        with self.rk.raw() as c:
            self.assertEqual(c.cmd("SET", "short", "v", "PX", 1500), "+OK")
            self.assertEqual(c.cmd("SET", "long", "v", "EX", 100), "+OK")
            self.assertEqual(c.cmd("SET", "forever", "v"), "+OK")
        t0 = time.time()
        self.rk.stop()
        time.sleep(max(0, 1.7 - (time.time() - t0)))
        self.rk.start(port=self.rk.port)
        with self.rk.raw() as c:
            self.assertIsNone(c.cmd("GET", "short"))  # expired while the server was down
            self.assertEqual(c.cmd("EXISTS", "short"), 0)
            self.assertTrue(95 <= c.cmd("TTL", "long") <= 100)
            self.assertEqual(c.cmd("TTL", "forever"), -1)
            self.assertTrue(wait_for(lambda: c.cmd("DBSIZE") == 2, timeout=3), c.cmd("DBSIZE"))


class Kill9(ServerCase):
    args = ["--wal-fsync", "always"]

    def test_every_acknowledged_write_survives_kill9(self):
        n = 1000
        with self.rk.raw() as c:
            for i in range(n):  # one at a time: each acknowledged before the next
                self.assertEqual(c.cmd("SET", "key:%d" % i, "val:%d" % i), "+OK")
            self.assertEqual(c.cmd("INCRBY", "counter", n), n)
            self.assertEqual(c.cmd("DEL", "key:0"), 1)
        self.rk.kill9()
        self.rk.start(port=self.rk.port)
        with self.rk.raw() as c:
            vals = c.cmd("MGET", *["key:%d" % i for i in range(n)])
            missing = [i for i in range(1, n) if vals[i] != b"val:%d" % i]
            self.assertEqual(missing, [], "acknowledged writes lost")
            self.assertIsNone(vals[0])  # an acknowledged delete stays deleted
            self.assertEqual(c.cmd("GET", "counter"), str(n).encode())
            self.assertEqual(c.cmd("DBSIZE"), n)

    def test_kill9_during_pipelined_writes(self):
        """Kill -9 while a client streams writes; every write whose +OK the
        client read before the kill must be there afterwards."""
        c = self.rk.raw(timeout=20)
        self.addCleanup(c.close)
        total = 50000
        acked = []
        stop = threading.Event()

        def writer():
            try:
                sent = 0
                while sent < total and not stop.is_set():
                    batch = b"".join(encode("SET", "w:%d" % i, "x%d" % i)
                                     for i in range(sent, min(sent + 200, total)))
                    c.send(batch)
                    for i in range(sent, min(sent + 200, total)):
                        if c.read_reply() != "+OK":
                            return
                        acked.append(i)
                    sent += 200
            except (OSError, ConnectionError):
                pass

        t = threading.Thread(target=writer)
        t.start()
        self.assertTrue(wait_for(lambda: len(acked) > 2000, timeout=30))
        os.kill(self.rk.pid, signal.SIGKILL)
        t.join(30)
        stop.set()
        self.rk.kill9()  # reap it
        n_acked = len(acked)
        self.assertGreater(n_acked, 2000)
        self.rk.start(port=self.rk.port)
        with self.rk.raw(timeout=60) as c2:
            lost = []
            for lo in range(0, n_acked, 1000):
                ids = acked[lo:lo + 1000]
                vals = c2.cmd("MGET", *["w:%d" % i for i in ids])
                lost += [i for i, v in zip(ids, vals) if v != b"x%d" % i]
            self.assertEqual(lost[:10], [], "%d of %d acknowledged writes lost" % (len(lost), n_acked))
            self.assertGreaterEqual(c2.cmd("DBSIZE"), n_acked)


class Expiry(ServerCase):
    def test_expired_keys_vanish_on_read_at_once(self):
        with self.rk.raw() as c:
            for i in range(20):
                self.assertEqual(c.cmd("SET", "e%d" % i, "v", "PX", 200), "+OK")
            self.assertEqual(c.cmd("SET", "keep", "v"), "+OK")
            time.sleep(0.25)
            # every read path sees them gone, whether or not active expiry ran
            self.assertIsNone(c.cmd("GET", "e0"))
            self.assertEqual(c.cmd("EXISTS", "e1", "e2"), 0)
            self.assertEqual(c.cmd("TTL", "e3"), -2)
            self.assertEqual(c.cmd("PTTL", "e3"), -2)
            self.assertEqual(c.cmd("TYPE", "e4"), "+none")
            self.assertEqual(c.cmd("STRLEN", "e5"), 0)
            self.assertEqual(c.cmd("MGET", "e6", "keep"), [None, b"v"])
            self.assertEqual(c.cmd("KEYS", "e*"), [])
            self.assertEqual(c.cmd("GETRANGE", "e7", 0, -1), b"")
            self.assertEqual(c.cmd("SCAN", 0, "MATCH", "e*", "COUNT", 1000), [b"0", []])
            self.assertEqual(str(c.cmd("RENAME", "e8", "x")), "ERR no such key")
            self.assertEqual(c.cmd("COPY", "e9", "x"), 0)
            self.assertEqual(c.cmd("SETNX", "e10", "new"), 1)
            self.assertEqual(c.cmd("TTL", "e10"), -1)
            self.assertEqual(c.cmd("INCR", "e11"), 1)
            self.assertEqual(c.cmd("APPEND", "e12", "x"), 1)
            self.assertEqual(c.cmd("GET", "e12"), b"x")
            self.assertIsNone(c.cmd("SET", "e13", "v", "XX"))
            self.assertIsNone(c.cmd("GETDEL", "e14"))
            self.assertEqual(c.cmd("LCS", "e15", "keep"), b"")

    def test_active_expiry_drops_dbsize(self):
        with self.rk.raw() as c:
            n = 300
            c.send(b"".join(encode("SET", "x%d" % i, "v", "PX", 300) for i in range(n)))
            for _ in range(n):
                self.assertEqual(c.read_reply(), "+OK")
            for db in (0, 7):
                c.cmd("SELECT", db)
                c.cmd("SET", "keep%d" % db, "v")
            c.cmd("SELECT", 7)
            c.cmd("SET", "y", "v", "PX", 300)
            c.cmd("SELECT", 0)
            self.assertEqual(c.cmd("DBSIZE"), n + 1)
            before = int(self.stat(c, "expired_keys"))
            time.sleep(0.3)
            # nobody reads the keys: only active expiry can lower DBSIZE
            t0 = time.time()
            self.assertTrue(wait_for(lambda: c.cmd("DBSIZE") == 1, timeout=3),
                            "DBSIZE still %d" % c.cmd("DBSIZE"))
            self.assertLess(time.time() - t0, 1.5)
            c.cmd("SELECT", 7)
            self.assertTrue(wait_for(lambda: c.cmd("DBSIZE") == 1, timeout=2))
            c.cmd("SELECT", 0)
            self.assertEqual(int(self.stat(c, "expired_keys")) - before, n + 1)
            ks = c.cmd("INFO", "keyspace").decode()
            self.assertIn("db0:keys=1,expires=0,", ks)
            self.assertIn("db7:keys=1,expires=0,", ks)
        # and the counts stay right across a restart
        self.rk.restart()
        with self.rk.raw() as c:
            self.assertEqual(c.cmd("DBSIZE"), 1)
            c.cmd("SELECT", 7)
            self.assertEqual(c.cmd("DBSIZE"), 1)

    @staticmethod
    def stat(c, name):
        for line in c.cmd("INFO", "stats").decode().split("\r\n"):
            if line.startswith(name + ":"):
                return line.split(":", 1)[1]
        raise AssertionError("no %s in INFO stats" % name)


if __name__ == "__main__":
    unittest.main()
