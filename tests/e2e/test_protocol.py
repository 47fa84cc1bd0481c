"""The wire: binary-safe keys and values, large values (10 KB, 1 MB, 64 MB),
10,000 pipelined commands answered in order, inline commands, and broken
input (protocol errors close the connection with Redis's exact error and
harm nothing already stored)."""
import os
import socket
import unittest

from harness import RedisOracle, RingKV, encode


class Wire(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rk = RingKV()
        try:
            cls.rk.start()
        except Exception:
            cls.rk.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rk.close()

    def setUp(self):
        self.c = self.rk.raw(timeout=60)
        self.addCleanup(self.c.close)
        self.assertEqual(self.c.cmd("FLUSHALL"), "+OK")

    def test_binary_safe_keys_and_values(self):
        c = self.c
        values = {
            b"nul\x00key": b"va\x00lue\x00",
            b"": b"empty key",
            b"empty value": b"",
            b"crlf\r\nkey": b"line1\r\nline2\r\n",
            b"\xff\xfe\x00\x01": bytes(range(256)),
            b"$3\r\nfoo": b"*1\r\n$4\r\nPING\r\n",
        }
        for k, v in values.items():
            self.assertEqual(c.cmd("SET", k, v), "+OK")
        for k, v in values.items():
            self.assertEqual(c.cmd("GET", k), v, k)
            self.assertEqual(c.cmd("STRLEN", k), len(v))
            self.assertEqual(c.cmd("EXISTS", k), 1)
        # "nul\0key" and "nul" are different keys
        self.assertIsNone(c.cmd("GET", b"nul"))
        self.assertEqual(c.cmd("DBSIZE"), len(values))
        self.assertEqual(sorted(c.cmd("KEYS", "*")), sorted(values))
        cursor, seen = b"0", []
        while True:
            cursor, keys = c.cmd("SCAN", cursor)
            seen += keys
            if cursor == b"0":
                break
        self.assertEqual(sorted(seen), sorted(values))
        self.assertEqual(c.cmd("MGET", *values.keys()), list(values.values()))
        self.assertEqual(c.cmd("APPEND", b"nul\x00key", b"\x00\r\n"), 10)
        self.assertEqual(c.cmd("GET", b"nul\x00key"), b"va\x00lue\x00\x00\r\n")
        self.assertEqual(c.cmd("GETRANGE", b"\xff\xfe\x00\x01", 0, 3), b"\x00\x01\x02\x03")
        self.assertEqual(c.cmd("RENAME", b"crlf\r\nkey", b"new\x00name"), "+OK")
        self.assertEqual(c.cmd("GET", b"new\x00name"), b"line1\r\nline2\r\n")
        self.assertEqual(c.cmd("DEL", b""), 1)
        self.assertIsNone(c.cmd("GET", b""))
        self.assertEqual(c.cmd("ECHO", b"a\x00b\r\n"), b"a\x00b\r\n")

    def test_large_values_round_trip(self):
        c = self.c
        for size in (10 * 1024, 1 << 20, 64 << 20):
            v = os.urandom(size)
            self.assertEqual(c.cmd("SET", "big", v), "+OK", size)
            self.assertEqual(c.cmd("STRLEN", "big"), size)
            self.assertEqual(c.cmd("GET", "big"), v, size)
            self.assertEqual(c.cmd("APPEND", "big", b"tail\x00"), size + 5)
            self.assertEqual(c.cmd("STRLEN", "big"), size + 5)
            self.assertEqual(c.cmd("GETRANGE", "big", size, -1), b"tail\x00")
            self.assertEqual(c.cmd("GETRANGE", "big", 0, 99), v[:100])
            self.assertEqual(c.cmd("GETRANGE", "big", size // 2, size // 2 + 999),
                             v[size // 2:size // 2 + 1000])
            self.assertEqual(c.cmd("GET", "big"), v + b"tail\x00", size)
            self.assertEqual(c.cmd("SETRANGE", "big", 1, b"XY"), size + 5)
            self.assertEqual(c.cmd("GETRANGE", "big", 0, 3), v[:1] + b"XY" + v[3:4])
            del v
        # the last one survives a restart too (blob files)
        self.rk.restart()
        with self.rk.raw(timeout=60) as c2:
            self.assertEqual(c2.cmd("STRLEN", "big"), (64 << 20) + 5)
            self.assertEqual(c2.cmd("GETRANGE", "big", -5, -1), b"tail\x00")

    def test_ten_thousand_pipelined_commands_answer_in_order(self):
        """Writes complete after the storage commit, reads at once: the
        replies must still leave in request order."""
        c = self.c
        reqs, want = [], []
        for i in range(2500):
            reqs.append(encode("SET", "p:%d" % i, "v%d" % i))
            want.append("+OK")
            reqs.append(encode("GET", "p:%d" % i))
            want.append(b"v%d" % i)
            reqs.append(encode("INCR", "counter"))
            want.append(i + 1)
            reqs.append(encode("GET", "counter"))
            want.append(str(i + 1).encode())
        self.assertEqual(len(reqs), 10000)
        c.send(b"".join(reqs))
        got = [c.read_reply() for _ in range(len(reqs))]
        mismatches = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
        self.assertEqual(mismatches[:5], [])
        self.assertEqual(c.cmd("DBSIZE"), 2501)
        # python3-redis pipeline
        r = self.rk.client()
        try:
            p = r.pipeline(transaction=False)
            for i in range(5000):
                p.set("q:%d" % i, i)
                p.get("q:%d" % i)
            res = p.execute()
            self.assertEqual(res[0::2], [True] * 5000)
            self.assertEqual(res[1::2], [str(i).encode() for i in range(5000)])
        finally:
            r.close()

    def test_a_client_that_stops_reading_gets_every_reply_later(self):
        """Replies the socket does not take at once wait in the server and
        leave once the client reads again, in order; meanwhile other clients
        are served, and afterwards the slow client is served as before."""
        c = self.c
        v = os.urandom(1 << 20)
        self.assertEqual(c.cmd("SET", "big", v), "+OK")
        # 40 MB of replies, far more than the socket buffers hold
        c.send(b"".join(encode("GET", "big") for _ in range(40)) + encode("PING"))
        with self.rk.raw() as other:
            for i in range(50):
                self.assertEqual(other.cmd("SET", "o:%d" % i, i), "+OK")
            self.assertEqual(other.cmd("GET", "o:49"), b"49")
        for i in range(40):
            self.assertEqual(c.read_reply(), v, i)
        self.assertEqual(c.read_reply(), "+PONG")
        for i in range(200):
            self.assertEqual(c.cmd("SET", "after:%d" % i, i), "+OK")
            self.assertEqual(c.cmd("GET", "after:%d" % i), str(i).encode())

    def test_inline_commands(self):
        c = self.c
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), "+PONG")
        c.send(b"SET a b\r\nGET a\r\n")
        self.assertEqual(c.read_reply(), "+OK")
        self.assertEqual(c.read_reply(), b"b")
        c.send(b"SET 'two words' \"quoted \\x41\\n\"\nGET 'two words'\n")
        self.assertEqual(c.read_reply(), "+OK")
        self.assertEqual(c.read_reply(), b"quoted A\n")
        c.send(b"\r\n\r\n   \r\nPING\r\n")  # empty lines are ignored
        self.assertEqual(c.read_reply(), "+PONG")
        c.send(b"GET\r\n")
        self.assertEqual(str(c.read_reply()), "ERR wrong number of arguments for 'get' command")
        c.send(b"*0\r\n*-1\r\nPING\r\n")
        self.assertEqual(c.read_reply(), "+PONG")
        # a request split at every byte
        data = encode("SET", "split", "value") + b"GET split\r\n"
        for i in range(len(data)):
            c.send(data[i:i + 1])
        self.assertEqual(c.read_reply(), "+OK")
        self.assertEqual(c.read_reply(), b"value")

    def protocol_error(self, data, expected):
        with self.rk.raw() as bad:
            bad.send(data)
            self.assertEqual(str(bad.read_reply()), expected, data)
            self.assertTrue(bad.closed_by_peer(5), "connection stays open after %r" % data)

    def test_protocol_errors_close_the_connection_and_harm_nothing(self):
        c = self.c
        self.assertEqual(c.cmd("SET", "safe", "value"), "+OK")
        self.assertEqual(c.cmd("SETEX", "safe2", 1000, "v2"), "+OK")
        self.protocol_error(b"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length")
        self.protocol_error(b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")
        self.protocol_error(b"*3\r\n$3\r\nSET\r\n$4\r\nsafe\r\n$2000000000\r\n",
                            "ERR Protocol error: invalid bulk length")
        self.protocol_error(b"*x\r\n", "ERR Protocol error: invalid multibulk length")
        self.protocol_error(b"*2\r\n*1\r\n", "ERR Protocol error: expected '$', got '*'")
        self.protocol_error(b'SET safe "unbalanced\r\n',
                            "ERR Protocol error: unbalanced quotes in request")
        self.protocol_error(b"SET safe 'x\r\nGET safe\r\n",
                            "ERR Protocol error: unbalanced quotes in request")
        # requests before the bad one in the same packet still run
        with self.rk.raw() as bad:
            bad.send(encode("SET", "before", "1") + b"*1\r\n$x\r\n" + encode("SET", "safe", "x"))
            self.assertEqual(bad.read_reply(), "+OK")
            self.assertEqual(str(bad.read_reply()), "ERR Protocol error: invalid bulk length")
            self.assertTrue(bad.closed_by_peer(5))
        # a client that disconnects in the middle of a request
        s = socket.create_connection(("127.0.0.1", self.rk.port))
        s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nsafe\r\n$100\r\nhalf")
        s.close()
        # random garbage
        with self.rk.raw() as bad:
            bad.send(os.urandom(4096).replace(b"\n", b" ") + b"\r\n")
            bad.closed_by_peer(2)
        self.assertEqual(self.rk.alive(), True)
        self.assertEqual(c.cmd("GET", "safe"), b"value")
        self.assertEqual(c.cmd("GET", "safe2"), b"v2")
        self.assertGreater(c.cmd("TTL", "safe2"), 990)
        self.assertEqual(c.cmd("GET", "before"), b"1")
        self.assertEqual(c.cmd("DBSIZE"), 3)

    def test_same_protocol_errors_as_redis(self):
        ro = RedisOracle()
        try:
            ro.start()
            cases = [b"*1\r\n$x\r\n", b"*x\r\n", b"*2\r\n*1\r\n", b'GET "a\r\n', b"*1\r\n$-1\r\n",
                     b"*1\r\n$3\r\nPINGX\r\n", b"*3\r\n$3\r\nSET\r\n"]
            for data in cases:
                replies = []
                for srv in (self.rk, ro):
                    with srv.raw(timeout=2) as x:
                        x.send(data)
                        try:
                            replies.append(x.read_raw_reply())
                        except (socket.timeout, ConnectionError) as e:
                            replies.append(type(e).__name__)
                self.assertEqual(replies[0], replies[1], data)
        finally:
            ro.close()


if __name__ == "__main__":
    unittest.main()
