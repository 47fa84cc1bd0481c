"""test_soaklib.py -- the soak's pure parts: the ledger's idea of what a read
may return, error classes, the flatness figures, and the PNG writer's
container (decoded back with zlib). Runs in a second, before every soak:
`python3 tests/soak/test_soaklib.py`."""
import os
import struct
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis  # noqa: E402

import pngchart  # noqa: E402
from soaklib import (DELETED, MARGIN, KeyState, Write, certainly_not_sent, classify,  # noqa: E402
                     flatness, growth_ok, lsq_slope, parse_value, value)


class Values(unittest.TestCase):
    def test_value_is_sized_named_and_deterministic(self):
        v = value("soak:1:2", 7, 10240)
        self.assertEqual(len(v), 10240)
        self.assertEqual(parse_value(v), ("soak:1:2", 7))
        self.assertEqual(v, value("soak:1:2", 7, 10240))
        self.assertNotEqual(v[20:], value("soak:1:2", 8, 10240)[20:])
        self.assertEqual(len(value("soak:1:2", 7, 64)), 64)

    def test_parse_rejects_foreign_bytes(self):
        self.assertIsNone(parse_value(b"hello"))
        self.assertIsNone(parse_value(b"a|x|y"))


class Ledger(unittest.TestCase):
    def test_never_written_is_absent(self):
        ks = KeyState()
        self.assertTrue(ks.read_ok(None, "k", 0, 1))
        self.assertFalse(ks.read_ok(value("k", 1, 100), "k", 0, 1))
        self.assertEqual(ks.del_count(0, 1), 0)

    def test_acked_value_only(self):
        ks = KeyState()
        ks.ack(Write(1, 100))
        ks.ack(Write(2, 200))
        self.assertTrue(ks.read_ok(value("k", 2, 200), "k", 0, 1))
        self.assertFalse(ks.read_ok(value("k", 1, 100), "k", 0, 1))  # stale
        self.assertFalse(ks.read_ok(None, "k", 0, 1))  # lost
        self.assertFalse(ks.read_ok(value("other", 2, 200), "k", 0, 1))  # foreign
        self.assertFalse(ks.read_ok(value("k", 2, 200)[:-1] + b"!", "k", 0, 1))  # corrupt
        self.assertEqual(ks.del_count(0, 1), 1)

    def test_unknown_outcomes_widen_until_the_next_ack(self):
        ks = KeyState()
        ks.ack(Write(1, 100))
        ks.unsure(Write(2, 100))
        ks.unsure(DELETED)
        for got in (value("k", 1, 100), value("k", 2, 100), None):
            self.assertTrue(ks.read_ok(got, "k", 0, 1))
        self.assertIsNone(ks.del_count(0, 1))
        ks.ack(Write(3, 100))
        self.assertEqual(ks.unknown, [])
        self.assertFalse(ks.read_ok(value("k", 2, 100), "k", 0, 1))

    def test_expiry_window(self):
        ks = KeyState()
        ks.ack(Write(1, 100, 100.0, 100.2))  # expires between 100.0 and 100.2
        v = value("k", 1, 100)
        self.assertTrue(ks.read_ok(v, "k", 90, 91))
        self.assertFalse(ks.read_ok(None, "k", 90, 91))
        t = 100.0 - MARGIN + 0.1  # near the moment: either
        self.assertTrue(ks.read_ok(v, "k", t, t + 0.1))
        self.assertTrue(ks.read_ok(None, "k", t, t + 0.1))
        self.assertIsNone(ks.del_count(t, t + 0.1))
        t = 100.2 + MARGIN + 0.1
        self.assertTrue(ks.read_ok(None, "k", t, t + 0.1))
        self.assertFalse(ks.read_ok(v, "k", t, t + 0.1))
        self.assertEqual(ks.del_count(t, t + 0.1), 0)

    def test_deleted(self):
        ks = KeyState()
        ks.ack(Write(1, 100))
        ks.ack(DELETED)
        self.assertTrue(ks.read_ok(None, "k", 0, 1))
        self.assertFalse(ks.read_ok(value("k", 1, 100), "k", 0, 1))  # resurrected


class Errors(unittest.TestCase):
    def test_classes(self):
        refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        self.assertEqual(classify(refused, True), "restart_conn")
        self.assertEqual(classify(refused, False), "conn_unexpected")
        self.assertTrue(certainly_not_sent(refused))
        closed = redis.ConnectionError("Connection closed by server.")
        self.assertFalse(certainly_not_sent(closed))
        self.assertEqual(classify(redis.TimeoutError("Timeout reading"), True), "timeout")
        self.assertEqual(classify(redis.ResponseError("NOQUORUM 1 of 2 acks"), True), "noquorum")
        self.assertEqual(classify(redis.ResponseError("WRONGTYPE Operation against"), False), "client")
        self.assertEqual(classify(redis.ResponseError("ERR syntax error"), False), "client")
        self.assertEqual(classify(redis.ResponseError("ERR storage failed"), False), "server_error")
        self.assertEqual(classify(ConnectionResetError(104, "reset"), True), "restart_conn")


class Figures(unittest.TestCase):
    def test_slope(self):
        self.assertAlmostEqual(lsq_slope([(t, 3 + 2 * t) for t in range(10)]), 2.0)
        self.assertEqual(lsq_slope([(1, 5)]), 0.0)

    def test_flat_and_growing(self):
        flat = [(t, 100 + (t % 7)) for t in range(0, 900)]
        f = flatness(flat, 0, 900)
        self.assertLess(abs(f["slope"]), 0.01)
        self.assertTrue(growth_ok(f["max_mid"], f["max_last"], 0.05, 8))
        leak = [(t, 100 + t / 10) for t in range(0, 900)]
        f = flatness(leak, 0, 900)
        self.assertAlmostEqual(f["slope"], 0.1, places=3)
        self.assertFalse(growth_ok(f["max_mid"], f["max_last"], 0.05, 8))
        self.assertIsNone(flatness(leak, 1000, 2000))


class Png(unittest.TestCase):
    def test_chart_is_a_valid_png(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "c.png")
            pngchart.chart(p, [{"title": "rss (MB)", "series": [("a", (255, 0, 0), [(0, 1), (1, None), (2, 3)])],
                                "hlines": [(4, (0, 0, 255), "budget")], "vlines": [(1, (9, 9, 9))]}],
                           xlabel="minutes", title="t", width=300, panel_height=200)
            with open(p, "rb") as f:
                data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        pos, chunks = 8, {}
        while pos < len(data):
            n, = struct.unpack(">I", data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
            crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
            self.assertEqual(crc, zlib.crc32(kind + body) & 0xFFFFFFFF)
            chunks[kind] = body
            pos += 12 + n
        w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
        self.assertEqual((w, depth, ctype), (300, 8, 2))
        raw = zlib.decompress(chunks[b"IDAT"])
        self.assertEqual(len(raw), h * (1 + 3 * w))
        self.assertIn(b"\xff\x00\x00", raw)  # the series was drawn

    def test_ticks_cover_the_range(self):
        for lo, hi in ((0, 94.5), (0.2, 29.9), (3, 3), (10, 11)):
            t = pngchart.nice_ticks(lo, hi)
            self.assertLessEqual(t[0], lo)
            self.assertGreaterEqual(t[-1], hi)


if __name__ == "__main__":
    unittest.main(verbosity=1)
