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
    r.delete("c", "f")
    eq(r.incr("c"), 1, "INCR")
    eq(r.incrby("c", 41), 42, "INCRBY")
    eq(r.decr("c"), 41, "DECR")
    eq(r.decrby("c", 40), 1, "DECRBY")
    eq(r.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT")
    eq(r.get("c"), b"1", "GET counter")


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


def t_reconnect():
    # the first command after the node restarted: the library reconnects
    eq(r.get("rc"), b"before", "GET after the restart")
    eq(r.set("rc2", "after"), True, "SET after the restart")
    eq(r.get("rc2"), b"after", "GET after the restart")


if __name__ == "__main__":
    print("version redis-py %s" % redis.__version__, flush=True)
    for name, fn in [("ping", t_ping), ("strings", t_strings), ("binary", t_binary),
                     ("large", t_large), ("counters", t_counters), ("multikey", t_multikey),
                     ("expiry", t_expiry), ("pipeline", t_pipeline),
                     ("transaction", t_transaction), ("transaction_error", t_transaction_error),
                     ("transaction_abort", t_transaction_abort), ("watch", t_watch),
                     ("errors", t_errors), ("scan", t_scan),
                     ("reconnect_prepare", t_reconnect_prepare)]:
        check(name, fn)
    print("RESTART", flush=True)
    sys.stdin.readline()
    check("reconnect", t_reconnect)
    print("DONE", flush=True)
