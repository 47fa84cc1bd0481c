"""The python3-redis (Debian) client against a ringkv node.

Usage: /usr/bin/python3 lib_python.py HOST PORT DB
Speaks the line protocol of tests/clients/run.py: prints "ok NAME" or
"FAIL NAME: why" for each check, "RESTART" when the node it talks to
should be restarted (then waits for a line on stdin), and "DONE" at the end.
The checks are the same in every lib_* program (see run.py)."""
import sys
import time

import redis

HOST, PORT, DB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host=HOST, port=PORT, db=DB, socket_timeout=20, socket_connect_timeout=10)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def raises(fn, exc, contains):
    try:
        fn()
    except exc as e:
        if contains.lower() not in str(e).lower():
            raise AssertionError("error %r does not mention %r" % (str(e), contains))
        return e
    raise AssertionError("no %s raised (wanted one mentioning %r)" % (exc.__name__, contains))


def check(name, fn):
    try:
        fn()
        print("ok " + name, flush=True)
    except Exception as e:  # report and go on with the next check
        print("FAIL %s: %s: %s" % (name, type(e).__name__, str(e).replace("\n", " | ")[:600]),
              flush=True)


def t_ping():
    eq(r.ping(), True, "PING")


def t_strings():
    r.delete("s1", "s2")
    eq(r.set("s1", "hello"), True, "SET")
    eq(r.get("s1"), b"hello", "GET")
    eq(r.get("missing"), None, "GET missing")
    eq(r.append("s1", " world"), 11, "APPEND")
    eq(r.strlen("s1"), 11, "STRLEN")
    eq(r.getrange("s1", 0, 4), b"hello", "GETRANGE")
    eq(r.set("s1", "x", nx=True), None, "SET NX on an existing key")
    eq(r.set("s2", "y", xx=True), None, "SET XX on a missing key")
    eq(r.set("s2", "y", nx=True), True, "SET NX on a missing key")
    eq(r.getdel("s2"), b"y", "GETDEL")
    eq(r.get("s2"), None, "GET after GETDEL")


def t_binary():
    val = bytes(range(256)) * 4 + b"\r\n\x00*1\r\n$3\r\n"
    key = "ключ ✓ \x00\r\n".encode()
    eq(r.set(key, val), True, "SET binary")
    eq(r.get(key), val, "GET binary")
    eq(r.strlen(key), len(val), "STRLEN binary")


def t_large():
    val = (b"0123456789abcdef" * 65536)  # 1 MiB
    eq(r.set("big", val), True, "SET 1 MiB")
    eq(r.get("big"), val, "GET 1 MiB")


def t_counters():
    r.delete("c", "f", "c2")
    eq(r.incr("c"), 1, "INCR")
    eq(r.incrby("c", 41), 42, "INCRBY")
    eq(r.decr("c"), 41, "DECR")
    eq(r.decrby("c", 40), 1, "DECRBY")
    eq(r.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT")
    eq(r.incrbyfloat("f", 0.1), 1.6, "INCRBYFLOAT 0.1")
    eq(r.get("c"), b"1", "GET counter")
    eq(r.get("f"), b"1.6", "GET float counter")
    # a SET value, float steps back to an integer, then INCR works again
    eq(r.set("c2", 10), True, "SET 10")
    eq(r.incrbyfloat("c2", 0.5), 10.5, "INCRBYFLOAT 0.5")
    eq(r.incrbyfloat("c2", 0.5), 11.0, "INCRBYFLOAT 0.5 again")
    eq(r.get("c2"), b"11", "GET after the float steps")
    eq(r.incr("c2"), 12, "INCR after INCRBYFLOAT")
    eq(r.incrby("c2", -20), -8, "INCRBY negative")
    raises(lambda: r.incrbyfloat("c2", "abc"), redis.ResponseError, "not a valid float")


def t_multikey():
    keys = ["m%d" % i for i in range(10)]
    eq(r.mset({k: "v" + k for k in keys}), True, "MSET")
    eq(r.mget(keys + ["missing"]), [("v" + k).encode() for k in keys] + [None], "MGET")
    eq(r.exists("m1", "m2", "missing"), 2, "EXISTS")
    eq(r.delete("m1", "m2", "m3", "missing"), 3, "DEL")
    eq(r.mget("m1", "m4"), [None, b"vm4"], "MGET after DEL")
    eq(r.unlink("m4", "m5"), 2, "UNLINK")


def t_expiry():
    r.delete("e1", "e2", "e3", "e4")
    eq(r.set("e1", "v", ex=100), True, "SET EX")
    t = r.ttl("e1")
    if not 95 <= t <= 100:
        raise AssertionError("TTL %r not in 95..100" % t)
    pt = r.pttl("e1")
    if not 95000 <= pt <= 100000:
        raise AssertionError("PTTL %r not in 95000..100000" % pt)
    eq(r.expire("e1", 200), True, "EXPIRE")
    if not 195 <= r.ttl("e1") <= 200:
        raise AssertionError("TTL after EXPIRE 200: %r" % r.ttl("e1"))
    eq(r.persist("e1"), True, "PERSIST")
    eq(r.ttl("e1"), -1, "TTL after PERSIST")
    eq(r.ttl("missing"), -2, "TTL missing")
    eq(r.expire("missing", 10), False, "EXPIRE missing")
    at = int(time.time()) + 100
    eq(r.set("e4", "v", exat=at), True, "SET EXAT")
    eq(r.expiretime("e4"), at, "EXPIRETIME")
    eq(r.set("e2", "v", px=300), True, "SET PX")
    eq(r.setex("e3", 1, "v"), True, "SETEX")
    time.sleep(1.3)
    eq(r.get("e2"), None, "GET after PX expiry")
    eq(r.get("e3"), None, "GET after SETEX expiry")
    eq(r.exists("e2", "e3"), 0, "EXISTS after expiry")
    eq(r.ttl("e2"), -2, "TTL after expiry")
    eq(r.get("e1"), b"v", "persisted key still there")


def t_pipeline():
    p = r.pipeline(transaction=False)
    for i in range(100):
        p.set("p:%d" % i, i)
    for i in range(100):
        p.incr("p:%d" % i)
        p.get("p:%d" % i)
    p.set("p:str", "abc")
    p.incr("p:str")  # an error in the middle
    p.get("p:str")
    res = p.execute(raise_on_error=False)
    eq(len(res), 303, "replies")
    eq(res[:100], [True] * 100, "SET replies")
    for i in range(100):
        eq(res[100 + 2 * i], i + 1, "INCR reply %d" % i)
        eq(res[101 + 2 * i], str(i + 1).encode(), "GET reply %d" % i)
    eq(res[300], True, "SET p:str")
    if not isinstance(res[301], redis.ResponseError) or "not an integer" not in str(res[301]):
        raise AssertionError("INCR on a string in a pipeline gave %r" % (res[301],))
    eq(res[302], b"abc", "GET after the error")
    # the default (raising) mode raises the library's error type
    p = r.pipeline(transaction=False)
    p.incr("p:str").get("p:str")
    raises(p.execute, redis.ResponseError, "not an integer")


def t_transaction():
    r.delete("t1", "t2")
    p = r.pipeline()  # redis-py's default pipeline is MULTI/EXEC
    p.set("t1", "a").incr("t2").get("t1").incr("t2").mget("t1", "t2")
    eq(p.execute(), [True, 1, b"a", 2, [b"a", b"2"]], "EXEC replies")
    # the same thing with a context manager and explicit multi()
    with r.pipeline() as p:
        p.multi()
        p.set("t3", "x")
        p.get("t3")
        eq(p.execute(), [True, b"x"], "EXEC replies (multi())")


def t_transaction_error():
    r.delete("te", "te2")
    p = r.pipeline()
    p.set("te", "notanumber").incr("te").set("te2", "after")
    e = raises(p.execute, redis.ResponseError, "not an integer")
    # commands after the failed one still ran (no rollback, as in Redis)
    eq(r.get("te2"), b"after", "command after the error ran")
    eq(r.get("te"), b"notanumber", "value")
    # raise_on_error=False gives the error in its slot
    p = r.pipeline()
    p.set("te", "x").incr("te").get("te")
    res = p.execute(raise_on_error=False)
    eq(res[0], True, "SET")
    if not isinstance(res[1], redis.ResponseError):
        raise AssertionError("slot 1 is %r" % (res[1],))
    eq(res[2], b"x", "GET")
    del e


def t_transaction_abort():
    r.delete("ta")
    p = r.pipeline()
    p.set("ta", "x")
    p.execute_command("GET")  # wrong arity: refused when queued
    raises(p.execute, redis.ResponseError, "wrong number of arguments")
    eq(r.get("ta"), None, "nothing of an aborted transaction ran")


def t_watch():
    # (redis-py's Redis.watch() only warns "call WATCH from a Pipeline")
    raises(lambda: r.execute_command("WATCH", "w"), redis.ResponseError, "WATCH")
    with r.pipeline() as p:
        raises(lambda: p.watch("w"), redis.ResponseError, "WATCH")
    # the optimistic-locking helper built on WATCH fails loudly, not silently
    raises(lambda: r.transaction(lambda pipe: pipe.set("w", "1"), "w"),
           redis.ResponseError, "WATCH")
    eq(r.get("w"), None, "the transaction function did not run")
    eq(r.execute_command("UNWATCH"), True, "UNWATCH")
    eq(r.ping(), True, "PING after WATCH error")


def t_errors():
    r.set("en", "abc")
    raises(lambda: r.incr("en"), redis.ResponseError, "not an integer")
    raises(lambda: r.lpush("l", "x"), redis.ResponseError, "unknown command")
    raises(lambda: r.execute_command("GET", "a", "b"), redis.ResponseError,
           "wrong number of arguments")
    raises(lambda: r.set("en", "v", ex=-5), redis.ResponseError, "invalid expire")
    eq(r.ping(), True, "PING after errors")
    eq(r.get("en"), b"abc", "GET after errors")


def t_sets():
    r.delete("s1", "s2", "s3", "sd", "sbig")
    eq(r.sadd("s1", "a", "b", "c"), 3, "SADD")
    eq(r.sadd("s1", "a", "d"), 1, "SADD an existing and a new member")
    eq(r.srem("s1", "b", "nope"), 1, "SREM")
    eq(r.smembers("s1"), {b"a", b"c", b"d"}, "SMEMBERS")
    eq(r.sismember("s1", "a"), True, "SISMEMBER a member")
    eq(r.sismember("s1", "b"), False, "SISMEMBER a removed member")
    eq(r.scard("s1"), 3, "SCARD")
    eq(r.scard("missing"), 0, "SCARD missing")
    eq(r.smembers("missing"), set(), "SMEMBERS missing")
    eq(r.sadd("s2", "c", "d", "e"), 3, "SADD s2")
    eq(r.sinter("s1", "s2"), {b"c", b"d"}, "SINTER")
    eq(r.sinter("s1", "missing"), set(), "SINTER with a missing key")
    eq(r.sunionstore("sd", "s1", "s2"), 4, "SUNIONSTORE")
    eq(r.smembers("sd"), {b"a", b"c", b"d", b"e"}, "SMEMBERS of the SUNIONSTORE destination")
    eq(r.type("sd"), b"set", "TYPE")
    member = bytes(range(256)) + b"\r\n"
    eq(r.sadd("s3", member, b""), 2, "SADD binary and empty members")
    eq(r.smembers("s3"), {member, b""}, "SMEMBERS binary")
    eq(r.sismember("s3", member), True, "SISMEMBER binary")
    eq(r.srem("s2", "c", "d", "e"), 3, "SREM every member")
    eq(r.exists("s2"), 0, "a set without members does not exist")
    members = {("m%d" % i).encode() for i in range(300)}
    eq(r.sadd("sbig", *members), 300, "SADD 300 members")
    for count in (None, 7, 1000):
        seen = list(r.sscan_iter("sbig", count=count))
        eq(len(seen), len(set(seen)), "SSCAN COUNT %s: members returned twice" % count)
        eq(set(seen), members, "SSCAN COUNT %s" % count)
    eq(sorted(r.sscan_iter("sbig", match="m1*")), sorted(m for m in members if m.startswith(b"m1")),
       "SSCAN MATCH m1*")


def t_hashes():
    r.delete("h1", "hbig")
    eq(r.hset("h1", mapping={"name": "ringkv", "n": 10, "f": "1.5"}), 3, "HSET a mapping")
    eq(r.hset("h1", "name", "rk"), 0, "HSET an existing field")
    eq(r.hget("h1", "name"), b"rk", "HGET")
    eq(r.hget("h1", "nope"), None, "HGET a missing field")
    eq(r.hget("missing", "name"), None, "HGET a missing key")
    eq(r.hgetall("h1"), {b"name": b"rk", b"n": b"10", b"f": b"1.5"}, "HGETALL")
    eq(r.hgetall("missing"), {}, "HGETALL missing")
    eq(r.hincrby("h1", "n", 5), 15, "HINCRBY")
    eq(r.hincrby("h1", "new", -3), -3, "HINCRBY a new field")
    eq(r.hincrbyfloat("h1", "f", 0.25), 1.75, "HINCRBYFLOAT")
    raises(lambda: r.hincrby("h1", "name", 1), redis.ResponseError, "hash value is not an integer")
    eq(r.hdel("h1", "name", "nope"), 1, "HDEL")
    eq(r.hlen("h1"), 3, "HLEN")
    eq(r.hexists("h1", "name"), False, "HEXISTS a deleted field")
    eq(r.hmget("h1", "n", "name", "new"), [b"15", None, b"-3"], "HMGET")
    eq(r.hgetall("h1"), {b"n": b"15", b"f": b"1.75", b"new": b"-3"}, "HGETALL after the changes")
    eq(r.type("h1"), b"hash", "TYPE")
    eq(r.hdel("h1", "n", "f", "new"), 3, "HDEL every field")
    eq(r.exists("h1"), 0, "a hash without fields does not exist")
    fields = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(300)}
    eq(r.hset("hbig", mapping=fields), 300, "HSET 300 fields")
    for count in (None, 7, 1000):
        seen = list(r.hscan_iter("hbig", count=count))
        eq(len(seen), len({f for f, _ in seen}), "HSCAN COUNT %s: fields returned twice" % count)
        eq(dict(seen), fields, "HSCAN COUNT %s" % count)
    eq(dict(r.hscan_iter("hbig", match="f1*")),
       {f: v for f, v in fields.items() if f.startswith(b"f1")}, "HSCAN MATCH f1*")


def t_zsets():
    r.delete("z1", "zbig")
    eq(r.zadd("z1", {"a": 1, "b": 2.5, "c": -3, "d": 1}), 4, "ZADD a mapping")
    eq(r.zadd("z1", {"a": 1, "e": 10}), 1, "ZADD an existing and a new member")
    eq(r.zrange("z1", 0, -1, withscores=True),
       [(b"c", -3.0), (b"a", 1.0), (b"d", 1.0), (b"b", 2.5), (b"e", 10.0)], "ZRANGE WITHSCORES")
    eq(r.zrange("z1", 0, 1), [b"c", b"a"], "ZRANGE 0 1")
    eq(r.zrangebyscore("z1", 1, 2.5), [b"a", b"d", b"b"], "ZRANGEBYSCORE 1 2.5")
    eq(r.zrangebyscore("z1", "(1", "+inf", withscores=True), [(b"b", 2.5), (b"e", 10.0)],
       "ZRANGEBYSCORE (1 +inf WITHSCORES")
    eq(r.zincrby("z1", 0.5, "a"), 1.5, "ZINCRBY")
    eq(r.zincrby("z1", 2, "new"), 2.0, "ZINCRBY a new member")
    eq(r.zscore("z1", "a"), 1.5, "ZSCORE")
    eq(r.zrevrank("z1", "e"), 0, "ZREVRANK of the highest")
    eq(r.zrevrank("z1", "c"), 5, "ZREVRANK of the lowest")
    eq(r.zrevrank("z1", "nope"), None, "ZREVRANK of a missing member")
    eq(r.zrem("z1", "b", "nope"), 1, "ZREM")
    eq(r.zpopmin("z1"), [(b"c", -3.0)], "ZPOPMIN")
    eq(r.zpopmin("z1", 2), [(b"d", 1.0), (b"a", 1.5)], "ZPOPMIN 2")
    eq(r.zcard("z1"), 2, "ZCARD")
    eq(r.zadd("z1", {"e": 20, "nope": 1}, xx=True, ch=True), 1, "ZADD XX CH")
    eq(r.zadd("z1", {"inf": float("inf")}), 1, "ZADD inf")
    eq(r.zrange("z1", 0, -1, withscores=True),
       [(b"new", 2.0), (b"e", 20.0), (b"inf", float("inf"))], "ZRANGE WITHSCORES after the changes")
    raises(lambda: r.zincrby("z1", "abc", "e"), redis.ResponseError, "not a valid float")
    eq(r.type("z1"), b"zset", "TYPE")
    eq(r.zpopmin("z1", 10), [(b"new", 2.0), (b"e", 20.0), (b"inf", float("inf"))], "ZPOPMIN 10")
    eq(r.exists("z1"), 0, "a sorted set without members does not exist")
    eq(r.zpopmin("z1"), [], "ZPOPMIN missing")
    members = {("m%d" % i).encode(): float(i) / 4 for i in range(300)}
    eq(r.zadd("zbig", members), 300, "ZADD 300 members")
    seen = list(r.zscan_iter("zbig", count=7))
    eq(len(seen), 300, "ZSCAN: pairs")
    eq(dict(seen), members, "ZSCAN")
    eq(r.zrangebyscore("zbig", 10, 11), [b"m40", b"m41", b"m42", b"m43", b"m44"],
       "ZRANGEBYSCORE 10 11")


def t_hll():
    r.delete("p1", "p2", "p3", "pbig")
    eq(r.pfadd("p1", "a", "b", "c"), 1, "PFADD")
    eq(r.pfadd("p1", "a", "b"), 0, "PFADD nothing new")
    eq(r.pfcount("p1"), 3, "PFCOUNT")
    eq(r.pfadd("p2", "c", "d"), 1, "PFADD p2")
    eq(r.pfcount("p1", "p2"), 4, "PFCOUNT of two")
    eq(r.pfmerge("p3", "p1", "p2"), True, "PFMERGE")
    eq(r.pfcount("p3"), 4, "PFCOUNT of the merge")
    eq(r.pfcount("missing"), 0, "PFCOUNT missing")
    p = r.pipeline(transaction=False)
    for i in range(0, 20000, 1000):
        p.pfadd("pbig", *["e%d" % j for j in range(i, i + 1000)])
    p.execute()
    n = r.pfcount("pbig")
    if abs(n - 20000) > 20000 * 0.03:
        raise AssertionError("PFCOUNT of 20000 elements: %d" % n)


def t_types_pipeline():
    keys = ["xp:s", "xp:h", "xp:z", "xp:p", "xp:c"]
    r.delete(*keys)
    p = r.pipeline(transaction=False)
    p.sadd("xp:s", "a", "b")
    p.hset("xp:h", mapping={"f": "v", "n": 1})
    p.zadd("xp:z", {"m": 1, "n": 2})
    p.pfadd("xp:p", "a", "b", "c")
    p.incrby("xp:c", 5)
    p.incrbyfloat("xp:c", 0.5)
    p.smembers("xp:s")
    p.hincrby("xp:h", "n", 2)
    p.hgetall("xp:h")
    p.zincrby("xp:z", 5, "m")
    p.zrange("xp:z", 0, -1, withscores=True)
    p.pfcount("xp:p")
    p.sadd("xp:h", "x")  # WRONGTYPE in the middle
    p.scard("xp:s")
    p.get("xp:c")
    for i in range(100):
        p.sadd("xp:s", "m%d" % i)
        p.hset("xp:h", "f%d" % i, i)
        p.zadd("xp:z", {"m%d" % i: i})
    p.scard("xp:s").hlen("xp:h").zcard("xp:z").zrevrank("xp:z", "m")
    res = p.execute(raise_on_error=False)
    eq(len(res), 15 + 300 + 4, "replies")
    eq(res[:6], [2, 2, 2, 1, 5, 5.5], "write replies")
    eq(res[6], {b"a", b"b"}, "SMEMBERS")
    eq(res[7], 3, "HINCRBY")
    eq(res[8], {b"f": b"v", b"n": b"3"}, "HGETALL")
    eq(res[9], 6.0, "ZINCRBY")
    eq(res[10], [(b"n", 2.0), (b"m", 6.0)], "ZRANGE WITHSCORES")
    eq(res[11], 3, "PFCOUNT")
    if not isinstance(res[12], redis.ResponseError) or "WRONGTYPE" not in str(res[12]):
        raise AssertionError("SADD on a hash in a pipeline gave %r" % (res[12],))
    eq(res[13:15], [2, b"5.5"], "SCARD and GET after the error")
    eq(res[15:315], [1] * 300, "SADD/HSET/ZADD replies")
    # m (score 6) ranks below m7..m99 and m6 (equal scores: the greater member first)
    eq(res[315:], [102, 102, 102, 94], "SCARD, HLEN, ZCARD, ZREVRANK")
    # the default (raising) mode raises the library's error type
    p = r.pipeline(transaction=False)
    p.scard("xp:s").zadd("xp:s", {"x": 1})
    raises(p.execute, redis.ResponseError, "WRONGTYPE")


def t_types_transaction():
    keys = ["xt:s", "xt:h", "xt:z", "xt:p", "xt:c"]
    r.delete(*keys)
    p = r.pipeline()  # MULTI/EXEC
    p.sadd("xt:s", "a").hset("xt:h", "f", "1").zadd("xt:z", {"m": 2}).pfadd("xt:p", "x")
    p.incr("xt:c")
    p.sismember("xt:s", "a").hincrby("xt:h", "f", 4).zincrby("xt:z", 1, "m").pfcount("xt:p")
    p.smembers("xt:s").hgetall("xt:h").zrange("xt:z", 0, -1, withscores=True).get("xt:c")
    eq(p.execute(), [1, 1, 1, 1, 1, True, 5, 3.0, 1, {b"a"}, {b"f": b"5"}, [(b"m", 3.0)], b"1"],
       "EXEC replies")
    # WRONGTYPE inside EXEC: the error in its slot, the other commands ran
    p = r.pipeline()
    p.sadd("xt:s", "b").hget("xt:s", "f").zadd("xt:z", {"m2": 4}).srem("xt:s", "a")
    res = p.execute(raise_on_error=False)
    eq(res[0], 1, "SADD")
    if not isinstance(res[1], redis.ResponseError) or "WRONGTYPE" not in str(res[1]):
        raise AssertionError("HGET on a set inside EXEC gave %r" % (res[1],))
    eq(res[2:], [1, 1], "ZADD, SREM after the error")
    eq(r.smembers("xt:s"), {b"b"}, "the set after EXEC")
    eq(r.zscore("xt:z", "m2"), 4.0, "the sorted set after EXEC")
    # raising mode: the library raises, the commands still ran
    p = r.pipeline()
    p.hset("xt:h", "g", "2").incr("xt:s").hset("xt:h", "h", "3")
    raises(p.execute, redis.ResponseError, "WRONGTYPE")
    eq(r.hgetall("xt:h"), {b"f": b"5", b"g": b"2", b"h": b"3"}, "the hash after EXEC")
    # a command refused while queueing aborts the whole transaction
    p = r.pipeline()
    p.sadd("xt:s", "zz").hset("xt:h", "zz", "1")
    p.execute_command("ZADD", "xt:z")  # wrong arity
    raises(p.execute, redis.ResponseError, "wrong number of arguments")
    eq(r.sismember("xt:s", "zz"), False, "SADD of an aborted transaction did not run")
    eq(r.hexists("xt:h", "zz"), False, "HSET of an aborted transaction did not run")


def t_wrongtype():
    keys = ["wt:str", "wt:set", "wt:hash", "wt:zset", "wt:hll"]
    r.delete(*keys)
    r.set("wt:str", "v")
    r.sadd("wt:set", "m")
    r.hset("wt:hash", "f", "v")
    r.zadd("wt:zset", {"m": 1})
    r.pfadd("wt:hll", "a")
    wrong = "WRONGTYPE Operation against a key holding the wrong kind of value"
    for what, fn in [("SADD on a string", lambda: r.sadd("wt:str", "x")),
                     ("HSET on a string", lambda: r.hset("wt:str", "f", "x")),
                     ("ZADD on a string", lambda: r.zadd("wt:str", {"x": 1})),
                     ("GET on a set", lambda: r.get("wt:set")),
                     ("INCR on a set", lambda: r.incr("wt:set")),
                     ("HGET on a set", lambda: r.hget("wt:set", "f")),
                     ("ZRANGE on a set", lambda: r.zrange("wt:set", 0, -1)),
                     ("PFADD on a set", lambda: r.pfadd("wt:set", "x")),
                     ("SMEMBERS on a hash", lambda: r.smembers("wt:hash")),
                     ("ZADD on a hash", lambda: r.zadd("wt:hash", {"m": 1})),
                     ("HGETALL on a sorted set", lambda: r.hgetall("wt:zset")),
                     ("SISMEMBER on a sorted set", lambda: r.sismember("wt:zset", "m")),
                     ("SUNIONSTORE from a hash",
                      lambda: r.sunionstore("wt:new", "wt:set", "wt:hash")),
                     ("SADD on a HyperLogLog", lambda: r.sadd("wt:hll", "x"))]:
        e = raises(fn, redis.ResponseError, "WRONGTYPE")
        eq(str(e), wrong, what)
    e = raises(lambda: r.pfadd("wt:str", "x"), redis.ResponseError, "WRONGTYPE")
    eq(str(e), "WRONGTYPE Key is not a valid HyperLogLog string value.", "PFADD on a string")
    # nothing was written
    eq([r.type(k) for k in keys], [b"string", b"set", b"hash", b"zset", b"string"], "TYPE")
    eq(r.get("wt:str"), b"v", "the string")
    eq(r.smembers("wt:set"), {b"m"}, "the set")
    eq(r.hgetall("wt:hash"), {b"f": b"v"}, "the hash")
    eq(r.zrange("wt:zset", 0, -1, withscores=True), [(b"m", 1.0)], "the sorted set")
    eq(r.pfcount("wt:hll"), 1, "the HyperLogLog")
    eq(r.exists("wt:new"), 0, "no SUNIONSTORE destination")
    eq(r.ping(), True, "PING after WRONGTYPE errors")


def t_scan():
    eq(r.flushdb(), True, "FLUSHDB")
    keys = {("sc:%d" % i).encode() for i in range(400)}
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "1")
    p.execute()
    for count in (None, 7, 1000):
        seen = list(r.scan_iter(count=count))
        if len(seen) != len(set(seen)):
            dup = sorted({k for k in seen if seen.count(k) > 1})[:5]
            raise AssertionError("COUNT %s: keys returned twice: %r" % (count, dup))
        if set(seen) != keys:
            raise AssertionError("COUNT %s: %d keys, missing %r, extra %r" % (
                count, len(seen), sorted(keys - set(seen))[:5], sorted(set(seen) - keys)[:5]))
    sub = {k for k in keys if k.startswith(b"sc:1")}
    seen = list(r.scan_iter(match="sc:1*", count=50))
    eq(sorted(seen), sorted(sub), "SCAN MATCH sc:1*")
    # the cursor protocol by hand: ends at 0
    cur, n, rounds = 0, 0, 0
    while True:
        cur, batch = r.scan(cur, count=100)
        n += len(batch)
        rounds += 1
        if cur == 0:
            break
        if rounds > 100000:
            raise AssertionError("SCAN cursor never returned to 0")
    eq(n, 400, "keys by cursor loop")
    eq(r.dbsize(), 400, "DBSIZE")
    eq(sorted(r.keys("sc:1*")), sorted(sub), "KEYS sc:1*")


def t_reconnect_prepare():
    eq(r.set("rc", "before"), True, "SET before the restart")
    r.delete("rc:s", "rc:h", "rc:z")
    eq(r.sadd("rc:s", "a", "b"), 2, "SADD before the restart")
    eq(r.hset("rc:h", mapping={"f": "v"}), 1, "HSET before the restart")
    eq(r.zadd("rc:z", {"m": 1.5}), 1, "ZADD before the restart")


def t_reconnect():
    # the first command after the node restarted: the library reconnects
    eq(r.get("rc"), b"before", "GET after the restart")
    eq(r.set("rc2", "after"), True, "SET after the restart")
    eq(r.get("rc2"), b"after", "GET after the restart")
    eq(r.smembers("rc:s"), {b"a", b"b"}, "SMEMBERS after the restart")
    eq(r.hgetall("rc:h"), {b"f": b"v"}, "HGETALL after the restart")
    eq(r.zrange("rc:z", 0, -1, withscores=True), [(b"m", 1.5)], "ZRANGE after the restart")


if __name__ == "__main__":
    print("version redis-py %s" % redis.__version__, flush=True)
    for name, fn in [("ping", t_ping), ("strings", t_strings), ("binary", t_binary),
                     ("large", t_large), ("counters", t_counters), ("multikey", t_multikey),
                     ("expiry", t_expiry), ("pipeline", t_pipeline),
                     ("transaction", t_transaction), ("transaction_error", t_transaction_error),
                     ("transaction_abort", t_transaction_abort), ("watch", t_watch),
                     ("errors", t_errors), ("sets", t_sets), ("hashes", t_hashes),
                     ("zsets", t_zsets), ("hll", t_hll), ("types_pipeline", t_types_pipeline),
                     ("types_transaction", t_types_transaction), ("wrongtype", t_wrongtype),
                     ("scan", t_scan),
                     ("reconnect_prepare", t_reconnect_prepare)]:
        check(name, fn)
    print("RESTART", flush=True)
    sys.stdin.readline()
    check("reconnect", t_reconnect)
    print("DONE", flush=True)
