"""Geo commands (t_geo.c) against a real Redis 7.0 as the oracle.

Each script line is sent to ringkv and to a redis-server started next to it
(tests/e2e/test_commands.py's OracleCase): `SAME` means ringkv must answer
byte for byte what Redis answers -- coordinates with Redis's 17 decimals,
distances with its 4, geohash strings, the order of results (also the
unsorted order COUNT ANY returns); an explicit value is checked on both
servers.

Covers: GEOADD (NX XX CH, bad coordinates, duplicates) GEOPOS GEODIST (units)
GEOHASH GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO
GEOSEARCH (FROMMEMBER FROMLONLAT BYRADIUS BYBOX ASC DESC COUNT ANY WITHCOORD
WITHDIST WITHHASH) GEOSEARCHSTORE (STOREDIST), STORE/STOREDIST; the geo set
read as a sorted set (ZSCORE ZRANGE ZREM TYPE); errors in Redis's order;
WRONGTYPE; RESP3; random points compared with Redis over many searches.
"""
import random
import unittest

from test_commands import SAME, SYNTAX, NOTINT, OracleCase, arity

NOTFLOAT = "-ERR value is not a valid float"
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value"
MEMBER = "-ERR could not decode requested zset member"
UNIT = "-ERR unsupported unit provided. please use M, KM, FT, MI"

SICILY = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"
CITIES = ("GEOADD nyc -73.9454966 40.747533 'lic market' -73.9733487 40.7648057 'central park n/q/r' "
          "-73.9903085 40.7362513 'union square' -74.0131604 40.7126674 'wtc one' "
          "-73.7858139 40.6428986 jfk -73.9375699 40.7498929 q4 -73.9564142 40.7480973 4545")


def setup(*lines):
    """Lines whose replies must only agree with Redis (building data)."""
    return [(line, SAME) for line in lines]


class GeoAddAndPoints(OracleCase):
    def test_geoadd_options(self):
        self.run_script([
            (SICILY, 2),
            ("GEOADD Sicily 13.361389 38.115556 Palermo", 0),
            ("GEOADD Sicily CH 13.361389 38.115556 Palermo 15 37 Catania", 1),
            ("GEOADD Sicily NX 1 1 Palermo 2 2 new", 1),
            ("GEOADD Sicily XX 3 3 Palermo 4 4 other", 0),
            ("GEOADD Sicily XX CH 5 5 Palermo", 1),
            ("GEOADD Sicily CH NX 6 6 Palermo 7 7 x", 1),
            ("GEOADD Sicily 1 1 dup 2 2 dup 3 3 dup", 1),  # the last one wins
            ("GEOPOS Sicily dup", SAME),
            ("GEOADD Sicily CH 5 5 dup2 5 5 dup2 6 6 dup2", 2),  # added, then changed
            ("GEOADD nokey XX 1 1 a", 0),
            ("EXISTS nokey", 0),
            ("ZRANGE Sicily 0 -1 WITHSCORES", SAME),
            ("ZCARD Sicily", SAME),
            ("TYPE Sicily", "+zset"),
        ])

    def test_geoadd_errors(self):
        self.run_script([
            (SICILY, 2),
            ("GEOADD Sicily NX XX 1 1 a", SYNTAX),
            ("GEOADD Sicily 1 1 a 2", SYNTAX),
            ("GEOADD Sicily 1 1", arity("geoadd")),
            ("GEOADD Sicily NX CH XX", SYNTAX),
            ("GEOADD Sicily CH CH CH", SYNTAX),
            ("GEOADD Sicily GT 1 1 a", SYNTAX),  # 4 arguments left: not triples
            ("GEOADD Sicily abc 1 a", NOTFLOAT),
            ("GEOADD Sicily 1 1 a 1 nan b", NOTFLOAT),  # nothing is added
            ("ZSCORE Sicily a", None),
            ("GEOADD Sicily 200 100 a", "-ERR invalid longitude,latitude pair 200.000000,100.000000"),
            ("GEOADD Sicily 10 85.06 a", SAME),
            ("GEOADD Sicily -180 -85.05112878 a 180 85.05112878 b", 2),
            ("GEOPOS Sicily a b", SAME),
            ("GEOHASH Sicily a b", SAME),
            ("GEOADD Sicily 0 0 zero", 1),
            ("GEOPOS Sicily zero", SAME),
            ("GEOHASH Sicily zero", SAME),
        ])

    def test_pos_hash_dist(self):
        self.run_script(setup(SICILY, CITIES) + [
            ("GEOPOS Sicily Palermo Catania nope", SAME),
            ("GEOPOS Sicily", []),
            ("GEOPOS nokey a b", [None, None]),
            ("GEOHASH Sicily Palermo Catania nope", [b"sqc8b49rny0", b"sqdtr74hyu0", None]),
            ("GEOHASH Sicily", []),
            ("GEOHASH nokey a", [None]),
            ("GEODIST Sicily Palermo Catania", b"166274.1516"),
            ("GEODIST Sicily Palermo Catania km", b"166.2742"),
            ("GEODIST Sicily Palermo Catania MI", SAME),
            ("GEODIST Sicily Palermo Catania ft", SAME),
            ("GEODIST Sicily Palermo Palermo", b"0.0000"),
            ("GEODIST Sicily Palermo nope", None),
            ("GEODIST nokey a b", None),
            ("GEODIST nokey a b parsecs", UNIT),
            ("GEODIST Sicily Palermo Catania km extra", SYNTAX),
            ("GEODIST Sicily Palermo", arity("geodist")),
            ("GEOPOS nyc 'lic market' jfk q4 4545", SAME),
            ("GEOHASH nyc 'lic market' jfk q4 4545", SAME),
            ("GEODIST nyc jfk 'wtc one' km", SAME),
            ("GEODIST nyc q4 4545", SAME),
        ])

    def test_as_sorted_set(self):
        self.run_script(setup(SICILY) + [
            ("ZSCORE Sicily Palermo", b"3479099956230698"),
            ("ZADD Sicily 3471579339700058 Agrigento", 1),
            ("GEOPOS Sicily Agrigento", SAME),
            ("ZREM Sicily Palermo", 1),
            ("GEOPOS Sicily Palermo", [None]),
            ("ZADD Sicily 0 zero", 1),
            ("GEOHASH Sicily zero", SAME),
            ("ZADD Sicily -5 neg", 1),
            ("GEOPOS Sicily neg", SAME),
            ("ZREM Sicily Catania Agrigento zero neg", 4),
            ("EXISTS Sicily", 0),
        ])

    def test_wrongtype(self):
        self.run_script([
            ("SET s v", "+OK"),
            ("SADD set a", 1),
            ("GEOADD s 1 1 a", WRONGTYPE),
            ("GEOADD set 1 1 a", WRONGTYPE),
            ("GEOADD s 1 1000 a", "-ERR invalid longitude,latitude pair 1.000000,1000.000000"),
            ("GEOPOS s a", WRONGTYPE),
            ("GEOHASH s a", WRONGTYPE),
            ("GEODIST s a b", WRONGTYPE),
            ("GEODIST s a b furlong", UNIT),
            ("GEORADIUS s 1 1 1 km", WRONGTYPE),
            ("GEORADIUS s 1 1000 1 km", WRONGTYPE),  # the type before the arguments
            ("GEORADIUSBYMEMBER s a 1 km", WRONGTYPE),
            ("GEOSEARCH set FROMLONLAT 1 1 BYRADIUS 1 km", WRONGTYPE),
            ("GEOSEARCHSTORE d s FROMLONLAT 1 1 BYRADIUS 1 km", WRONGTYPE),
            ("EXISTS d", 0),
            ("GET s", b"v"),
        ])


class GeoSearch(OracleCase):
    def test_georadius(self):
        self.run_script(setup(SICILY, "GEOADD Sicily 13.583333 37.316667 Agrigento") + [
            ("GEORADIUS Sicily 15 37 200 km", SAME),
            ("GEORADIUS Sicily 15 37 200 km ASC", SAME),
            ("GEORADIUS Sicily 15 37 200 km DESC", SAME),
            ("GEORADIUS Sicily 15 37 200 km WITHDIST", SAME),
            ("GEORADIUS Sicily 15 37 200 km WITHCOORD", SAME),
            ("GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC", SAME),
            ("GEORADIUS Sicily 15 37 200 km WITHHASH COUNT 1", SAME),
            ("GEORADIUS Sicily 15 37 200 km COUNT 2 DESC", SAME),
            ("GEORADIUS Sicily 15 37 200 km COUNT 1 ANY", SAME),
            ("GEORADIUS Sicily 15 37 200 km COUNT 2 ANY ASC", SAME),
            ("GEORADIUS Sicily 15 37 1 km", []),
            ("GEORADIUS Sicily 15 37 124000 m", SAME),
            ("GEORADIUS Sicily 15 37 100 mi WITHDIST", SAME),
            ("GEORADIUS Sicily 15 37 500000 ft WITHDIST", SAME),
            ("GEORADIUS_RO Sicily 15 37 200 km WITHDIST", SAME),
            ("GEORADIUS nokey 15 37 200 km", []),
            ("GEORADIUSBYMEMBER Sicily Agrigento 100 km", SAME),
            ("GEORADIUSBYMEMBER Sicily Palermo 300 km WITHDIST DESC", SAME),
            ("GEORADIUSBYMEMBER_RO Sicily Palermo 300 km WITHCOORD", SAME),
            ("GEORADIUSBYMEMBER Sicily nope 300 km", MEMBER),
            ("GEORADIUSBYMEMBER nokey nope 300 km", []),
            ("GEORADIUSBYMEMBER nokey nope abc parsecs", []),  # no key: not parsed
            ("GEORADIUS Sicily 15 37 0 km", []),
        ])

    def test_georadius_errors(self):
        self.run_script(setup(SICILY) + [
            ("GEORADIUS Sicily 15 37 200", arity("georadius")),
            ("GEORADIUS Sicily 15 37 200 parsecs", UNIT),
            ("GEORADIUS Sicily 15 37 abc km", "-ERR need numeric radius"),
            ("GEORADIUS Sicily 15 37 -1 km", "-ERR radius cannot be negative"),
            ("GEORADIUS Sicily x 37 1 km", NOTFLOAT),
            ("GEORADIUS Sicily 181 37 1 km", "-ERR invalid longitude,latitude pair 181.000000,37.000000"),
            ("GEORADIUS Sicily 15 37 200 km COUNT", SYNTAX),
            ("GEORADIUS Sicily 15 37 200 km COUNT x", NOTINT),
            ("GEORADIUS Sicily 15 37 200 km COUNT 0", "-ERR COUNT must be > 0"),
            ("GEORADIUS Sicily 15 37 200 km COUNT -3", "-ERR COUNT must be > 0"),
            ("GEORADIUS Sicily 15 37 200 km ANY", "-ERR the ANY argument requires COUNT argument"),
            ("GEORADIUS Sicily 15 37 200 km BADOPT", SYNTAX),
            ("GEORADIUS Sicily 15 37 200 km STORE", SYNTAX),
            ("GEORADIUS Sicily 15 37 200 km FROMMEMBER Palermo", SYNTAX),
            ("GEORADIUS_RO Sicily 15 37 200 km STORE d", SYNTAX),
            ("GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST d", SYNTAX),
            ("GEORADIUS Sicily 15 37 200 km STORE d WITHDIST",
             "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
            ("GEORADIUS nokey 15 37 200 km STORE d WITHHASH",
             "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
            ("GEORADIUSBYMEMBER Sicily Palermo 200", arity("georadiusbymember")),
            ("GEORADIUSBYMEMBER Sicily Palermo x km", "-ERR need numeric radius"),
        ])

    def test_geosearch(self):
        self.run_script(setup(SICILY, "GEOADD Sicily 13.583333 37.316667 Agrigento", CITIES) + [
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC", SAME),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH", SAME),
            ("GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 200 200 km DESC WITHDIST", SAME),
            ("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km COUNT 1", SAME),
            ("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 300 km COUNT 2 ANY", SAME),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 m", []),
            ("GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 3 km ASC", SAME),
            ("GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km ASC", SAME),
            ("GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 30 km DESC WITHDIST", SAME),
            ("GEOSEARCH nyc FROMMEMBER q4 BYBOX 10 2 mi", SAME),
            ("GEOSEARCH nyc FROMMEMBER q4 BYBOX 10 2 mi WITHCOORD", SAME),
            ("GEOSEARCH nokey FROMMEMBER q4 BYBOX 10 2 mi", []),
            ("GEOSEARCH nokey FROMLONLAT 1 1 BYRADIUS 10 km", []),
        ])

    def test_geosearch_errors(self):
        self.run_script(setup(SICILY) + [
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km FROMMEMBER Palermo", SYNTAX),
            ("GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 200 km", SYNTAX),
            ("GEOSEARCH Sicily BYRADIUS 200 km ASC WITHDIST",
             "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"),
            ("geosearch Sicily BYRADIUS 200 km ASC WITHDIST",
             "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km", SYNTAX),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 WITHDIST ASC",
             "-ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"),
            ("GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 200 km", MEMBER),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km", "-ERR height or width cannot be negative"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX a 1 km", "-ERR need numeric width"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 a km", "-ERR need numeric height"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 yd", UNIT),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1", SYNTAX),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE d", SYNTAX),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST", SYNTAX),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km ANY",
             "-ERR the ANY argument requires COUNT argument"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37", arity("geosearch")),
            ("GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 km WITHDIST",
             "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
            ("GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE x", SYNTAX),
            ("EXISTS d", 0),
        ])

    def test_store(self):
        self.run_script(setup(SICILY, "GEOADD Sicily 13.583333 37.316667 Agrigento") + [
            ("GEORADIUS Sicily 15 37 200 km STORE d", 3),
            ("ZRANGE d 0 -1 WITHSCORES", SAME),
            ("GEOPOS d Palermo", SAME),
            ("GEORADIUS Sicily 15 37 200 km STOREDIST d COUNT 2 DESC", 2),
            ("ZRANGE d 0 -1 WITHSCORES", SAME),
            ("GEORADIUSBYMEMBER Sicily Palermo 100 km STOREDIST d", SAME),
            ("ZRANGE d 0 -1 WITHSCORES", SAME),
            ("GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 300 km", 3),
            ("ZRANGE d 0 -1 WITHSCORES", SAME),
            ("GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYBOX 300 300 km STOREDIST COUNT 2", 2),
            ("ZRANGE d 0 -1 WITHSCORES", SAME),
            ("GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1 km", 0),  # nothing: d goes
            ("EXISTS d", 0),
            ("SET str v", "+OK"),
            ("GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 200 km", 3),  # replaces a string
            ("TYPE str", "+zset"),
            ("SET str v", "+OK"),
            ("GEORADIUS nokey 15 37 200 km STORE str", 0),  # no source: the destination goes
            ("EXISTS str", 0),
            ("GEOADD d 1 1 a", 1),
            ("GEOSEARCHSTORE d nokey FROMLONLAT 1 1 BYRADIUS 1 km", 0),
            ("EXISTS d", 0),
            ("GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 100 km", 2),
            ("ZRANGE Sicily 0 -1", [b"Agrigento", b"Palermo"]),
        ])

    def test_resp3(self):
        for conn in (self.a, self.b):
            self.assertIsInstance(conn.cmd("HELLO", "3"), dict)
        self.run_script(setup(SICILY) + [
            ("GEOPOS Sicily Palermo nope", SAME),
            ("GEODIST Sicily Palermo Catania", b"166274.1516"),
            ("GEORADIUS Sicily 15 37 200 km WITHCOORD WITHDIST WITHHASH", SAME),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD", SAME),
        ])
        # the digits of a RESP3 double, as Redis prints them
        for line in ("GEOPOS Sicily Palermo Catania", "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 9 km WITHCOORD"):
            args = line.split()
            self.assertEqual(self.a.raw_cmd(*args), self.b.raw_cmd(*args), line)

    def test_command_info_rows(self):
        names = ("geoadd geopos geohash geodist georadius georadius_ro georadiusbymember "
                 "georadiusbymember_ro geosearch geosearchstore").split()
        for name in names:
            got = self.a.cmd("COMMAND", "INFO", name)[0]
            ref = self.b.cmd("COMMAND", "INFO", name)[0]
            self.assertEqual(got[1], ref[1], name)  # arity
            self.assertEqual(got[3:5], ref[3:5], name)  # first key
            kinds = {"+write", "+readonly"}
            self.assertEqual(kinds & set(got[2]), kinds & set(ref[2]), name)


class GeoRandom(OracleCase):
    """Random points and searches: every reply the same as Redis's."""

    def test_random_searches(self):
        rnd = random.Random(1234)
        args = ["GEOADD", "pts"]
        for i in range(1500):
            args += ["%.6f" % rnd.uniform(-180, 180), "%.6f" % rnd.uniform(-80, 80), "p%d" % i]
        # dense cluster for the small searches
        for i in range(500):
            args += ["%.6f" % rnd.uniform(12, 14), "%.6f" % rnd.uniform(40, 42), "c%d" % i]
        script = [(args, 2000)]
        for _ in range(60):
            lon, lat = rnd.uniform(-180, 180), rnd.uniform(-85, 85)
            if rnd.random() < 0.5:
                lon, lat = rnd.uniform(11, 15), rnd.uniform(39, 43)
            r = rnd.choice([1, 10, 50, 150, 500, 3000, 8000])
            w, h = rnd.choice([5, 50, 300, 2000]), rnd.choice([5, 50, 300, 2000])
            script += [
                (["GEOSEARCH", "pts", "FROMLONLAT", "%.6f" % lon, "%.6f" % lat, "BYRADIUS", str(r),
                  "km", "WITHDIST", "ASC"], SAME),
                (["GEOSEARCH", "pts", "FROMLONLAT", "%.6f" % lon, "%.6f" % lat, "BYBOX", str(w),
                  str(h), "km", "WITHCOORD", "DESC"], SAME),
                (["GEORADIUS", "pts", "%.6f" % lon, "%.6f" % lat, str(r), "km", "COUNT", "5",
                  "ANY", "WITHHASH"], SAME),
                (["GEORADIUS", "pts", "%.6f" % lon, "%.6f" % lat, str(r), "km"], SAME),
            ]
        for i in range(0, 2000, 97):
            m = "p%d" % i if i < 1500 else "c%d" % (i - 1500)
            script += [(["GEORADIUSBYMEMBER", "pts", m, "700", "km", "WITHDIST", "ASC",
                         "COUNT", "20"], SAME),
                       (["GEODIST", "pts", m, "p%d" % (i // 2), "mi"], SAME),
                       (["GEOHASH", "pts", m], SAME),
                       (["GEOPOS", "pts", m], SAME)]
        self.run_script(script)


if __name__ == "__main__":
    unittest.main()
