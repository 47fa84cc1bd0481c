// The ioredis client (npm, installed by run.py into a temporary folder)
// against a ringkv node.
//
// Usage: node lib_ioredis.js NODE_MODULES_PARENT HOST PORT DB PROTOCOL
// PROTOCOL is 3 (ioredis 6's default: HELLO 3, RESP3) or 2 (RESP2).
// Speaks the line protocol of tests/clients/run.py: "ok NAME" /
// "FAIL NAME: why" per check, "RESTART" (then waits for a line on stdin),
// "DONE". The checks are the same in every lib_* program.
"use strict";
const path = require("path");
const readline = require("readline");

const [prefix, HOST, PORT, DB, PROTO] = process.argv.slice(2);
const Redis = require(path.join(prefix, "node_modules", "ioredis"));
const pkg = require(path.join(prefix, "node_modules", "ioredis", "package.json"));

const r = new Redis({
  host: HOST,
  port: Number(PORT),
  db: Number(DB),
  protocol: Number(PROTO),
  connectTimeout: 10000,
  commandTimeout: 20000,
  maxRetriesPerRequest: 50,
});
let lastError = null;
r.on("error", (e) => { lastError = e; }); // reconnect attempts while the node restarts

// stdin lines, queued: one may arrive before anyone waits for it
const stdinLines = readline.createInterface({ input: process.stdin });
const lineQueue = [], lineWaiters = [];
stdinLines.on("line", (l) => (lineWaiters.length ? lineWaiters.shift()(l) : lineQueue.push(l)));
stdinLines.on("close", () => { while (lineWaiters.length) lineWaiters.shift()(null); lineQueue.push(null); });
const nextLine = () =>
  new Promise((res) => (lineQueue.length ? res(lineQueue.shift()) : lineWaiters.push(res)));

function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

// set equality of two arrays (a member twice is a failure)
function eqSet(got, want, what) {
  if (!Array.isArray(got)) throw new Error(`${what}: got ${JSON.stringify(got)}, want an array`);
  if (new Set(got).size !== got.length)
    throw new Error(`${what}: members twice in ${JSON.stringify(got)}`);
  eq([...got].sort(), [...want].sort(), what);
}

// object equality whatever the key order
function eqObj(got, want, what) {
  const sorted = (o) => (o && typeof o === "object" && !Array.isArray(o)
    ? Object.keys(o).sort().map((k) => [k, o[k]]) : o);
  eq(sorted(got), sorted(want), what);
}

// a flat [k1, v1, k2, v2...] reply as an object; a key twice is a failure
function pairs(flat, what) {
  const o = {};
  for (let i = 0; i < flat.length; i += 2) {
    if (Object.prototype.hasOwnProperty.call(o, flat[i]))
      throw new Error(`${what}: ${flat[i]} twice`);
    o[flat[i]] = flat[i + 1];
  }
  return o;
}

// every batch of a scan stream, concatenated
function drain(stream) {
  return new Promise((res, rej) => {
    const all = [];
    stream.on("data", (batch) => all.push(...batch));
    stream.on("end", () => res(all));
    stream.on("error", rej);
  });
}

async function raises(fn, contains) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof Redis.ReplyError))
      throw new Error(`wanted a ReplyError, got ${e && e.constructor && e.constructor.name}: ${e}`);
    if (!String(e.message).toLowerCase().includes(contains.toLowerCase()))
      throw new Error(`error "${e.message}" does not mention "${contains}"`);
    return e;
  }
  throw new Error(`no ReplyError (wanted one mentioning "${contains}")`);
}

async function check(name, fn) {
  try {
    await fn();
    console.log("ok " + name);
  } catch (e) {
    console.log(`FAIL ${name}: ${String((e && e.stack) || e).replace(/\n/g, " | ").slice(0, 600)}`);
  }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const checks = {
  async ping() {
    eq(await r.ping(), "PONG", "PING");
  },
  async strings() {
    await r.del("s1", "s2");
    eq(await r.set("s1", "hello"), "OK", "SET");
    eq(await r.get("s1"), "hello", "GET");
    eq(await r.get("missing"), null, "GET missing");
    eq(await r.append("s1", " world"), 11, "APPEND");
    eq(await r.strlen("s1"), 11, "STRLEN");
    eq(await r.getrange("s1", 0, 4), "hello", "GETRANGE");
    eq(await r.set("s1", "x", "NX"), null, "SET NX on an existing key");
    eq(await r.set("s2", "y", "XX"), null, "SET XX on a missing key");
    eq(await r.set("s2", "y", "NX"), "OK", "SET NX on a missing key");
    eq(await r.getdel("s2"), "y", "GETDEL");
    eq(await r.get("s2"), null, "GET after GETDEL");
  },
  async binary() {
    const parts = [];
    for (let i = 0; i < 4; i++) for (let b = 0; b < 256; b++) parts.push(b);
    const val = Buffer.concat([Buffer.from(parts), Buffer.from("\r\n\x00*1\r\n$3\r\n", "latin1")]);
    const key = Buffer.from("ключ ✓ \x00\r\n", "utf8");
    eq(await r.set(key, val), "OK", "SET binary");
    const got = await r.getBuffer(key);
    if (!Buffer.isBuffer(got) || !got.equals(val)) throw new Error("GET binary: value differs");
    eq(await r.strlen(key), val.length, "STRLEN binary");
  },
  async large() {
    const val = "0123456789abcdef".repeat(65536); // 1 MiB
    eq(await r.set("big", val), "OK", "SET 1 MiB");
    const got = await r.get("big");
    if (got !== val) throw new Error(`GET 1 MiB: ${got === null ? "null" : got.length + " bytes, different"}`);
  },
  async counters() {
    await r.del("c", "f", "c2");
    eq(await r.incr("c"), 1, "INCR");
    eq(await r.incrby("c", 41), 42, "INCRBY");
    eq(await r.decr("c"), 41, "DECR");
    eq(await r.decrby("c", 40), 1, "DECRBY");
    eq(await r.incrbyfloat("f", 1.5), "1.5", "INCRBYFLOAT");
    eq(await r.incrbyfloat("f", 0.1), "1.6", "INCRBYFLOAT 0.1");
    eq(await r.get("c"), "1", "GET counter");
    eq(await r.get("f"), "1.6", "GET float counter");
    // a SET value, float steps back to an integer, then INCR works again
    eq(await r.set("c2", 10), "OK", "SET 10");
    eq(await r.incrbyfloat("c2", 0.5), "10.5", "INCRBYFLOAT 0.5");
    eq(await r.incrbyfloat("c2", 0.5), "11", "INCRBYFLOAT 0.5 again");
    eq(await r.get("c2"), "11", "GET after the float steps");
    eq(await r.incr("c2"), 12, "INCR after INCRBYFLOAT");
    eq(await r.incrby("c2", -20), -8, "INCRBY negative");
    await raises(() => r.incrbyfloat("c2", "abc"), "not a valid float");
  },
  async multikey() {
    const keys = [...Array(10).keys()].map((i) => "m" + i);
    const obj = {};
    keys.forEach((k) => (obj[k] = "v" + k));
    eq(await r.mset(obj), "OK", "MSET");
    eq(await r.mget(...keys, "missing"), keys.map((k) => "v" + k).concat([null]), "MGET");
    eq(await r.exists("m1", "m2", "missing"), 2, "EXISTS");
    eq(await r.del("m1", "m2", "m3", "missing"), 3, "DEL");
    eq(await r.mget("m1", "m4"), [null, "vm4"], "MGET after DEL");
    eq(await r.unlink("m4", "m5"), 2, "UNLINK");
  },
  async expiry() {
    await r.del("e1", "e2", "e3", "e4");
    eq(await r.set("e1", "v", "EX", 100), "OK", "SET EX");
    const t = await r.ttl("e1");
    if (!(t >= 95 && t <= 100)) throw new Error(`TTL ${t} not in 95..100`);
    const pt = await r.pttl("e1");
    if (!(pt >= 95000 && pt <= 100000)) throw new Error(`PTTL ${pt} not in 95000..100000`);
    eq(await r.expire("e1", 200), 1, "EXPIRE");
    const t2 = await r.ttl("e1");
    if (!(t2 >= 195 && t2 <= 200)) throw new Error(`TTL after EXPIRE 200: ${t2}`);
    eq(await r.persist("e1"), 1, "PERSIST");
    eq(await r.ttl("e1"), -1, "TTL after PERSIST");
    eq(await r.ttl("missing"), -2, "TTL missing");
    eq(await r.expire("missing", 10), 0, "EXPIRE missing");
    const at = Math.floor(Date.now() / 1000) + 100;
    eq(await r.set("e4", "v", "EXAT", at), "OK", "SET EXAT");
    eq(await r.expiretime("e4"), at, "EXPIRETIME");
    eq(await r.set("e2", "v", "PX", 300), "OK", "SET PX");
    eq(await r.setex("e3", 1, "v"), "OK", "SETEX");
    await sleep(1300);
    eq(await r.get("e2"), null, "GET after PX expiry");
    eq(await r.get("e3"), null, "GET after SETEX expiry");
    eq(await r.exists("e2", "e3"), 0, "EXISTS after expiry");
    eq(await r.ttl("e2"), -2, "TTL after expiry");
    eq(await r.get("e1"), "v", "persisted key still there");
  },
  async pipeline() {
    const p = r.pipeline();
    for (let i = 0; i < 100; i++) p.set("p:" + i, i);
    for (let i = 0; i < 100; i++) p.incr("p:" + i).get("p:" + i);
    p.set("p:str", "abc").incr("p:str").get("p:str");
    const res = await p.exec();
    eq(res.length, 303, "replies");
    for (let i = 0; i < 100; i++) eq(res[i], [null, "OK"], "SET reply " + i);
    for (let i = 0; i < 100; i++) {
      eq(res[100 + 2 * i], [null, i + 1], "INCR reply " + i);
      eq(res[101 + 2 * i], [null, String(i + 1)], "GET reply " + i);
    }
    eq(res[300], [null, "OK"], "SET p:str");
    const err = res[301][0];
    if (!(err instanceof Redis.ReplyError) || !/not an integer/.test(err.message))
      throw new Error("INCR on a string in a pipeline gave " + res[301]);
    eq(res[302], [null, "abc"], "GET after the error");
  },
  async transaction() {
    await r.del("t1", "t2");
    const res = await r.multi().set("t1", "a").incr("t2").get("t1").incr("t2").mget("t1", "t2").exec();
    eq(res, [[null, "OK"], [null, 1], [null, "a"], [null, 2], [null, ["a", "2"]]], "EXEC replies");
    // MULTI/EXEC without pipelining: each command answered QUEUED
    eq(await r.multi({ pipeline: false }), "OK", "MULTI");
    eq(await r.set("t3", "x"), "QUEUED", "SET queued");
    eq(await r.get("t3"), "QUEUED", "GET queued");
    eq(await r.exec(), [[null, "OK"], [null, "x"]], "EXEC replies (no pipeline)");
    // DISCARD
    eq(await r.multi({ pipeline: false }), "OK", "MULTI");
    eq(await r.set("t4", "x"), "QUEUED", "SET queued");
    eq(await r.discard(), "OK", "DISCARD");
    eq(await r.get("t4"), null, "a discarded command did not run");
  },
  async transaction_error() {
    await r.del("te", "te2");
    const res = await r.multi().set("te", "notanumber").incr("te").set("te2", "after").exec();
    eq(res[0], [null, "OK"], "SET");
    if (!(res[1][0] instanceof Redis.ReplyError) || !/not an integer/.test(res[1][0].message))
      throw new Error("INCR's slot is " + res[1]);
    eq(res[2], [null, "OK"], "SET after the error");
    eq(await r.get("te2"), "after", "command after the error ran");
    eq(await r.get("te"), "notanumber", "value");
  },
  async transaction_abort() {
    await r.del("ta");
    await raises(() => r.multi().set("ta", "x").call("GET").exec(), "EXECABORT");
    eq(await r.get("ta"), null, "nothing of an aborted transaction ran");
  },
  async watch() {
    await raises(() => r.watch("w"), "WATCH");
    eq(await r.unwatch(), "OK", "UNWATCH");
    eq(await r.ping(), "PONG", "PING after WATCH error");
  },
  async errors() {
    await r.set("en", "abc");
    await raises(() => r.incr("en"), "not an integer");
    await raises(() => r.lpush("l", "x"), "unknown command");
    await raises(() => r.call("GET", "a", "b"), "wrong number of arguments");
    await raises(() => r.set("en", "v", "EX", -5), "invalid expire");
    eq(await r.ping(), "PONG", "PING after errors");
    eq(await r.get("en"), "abc", "GET after errors");
  },
  async sets() {
    await r.del("s1", "s2", "s3", "sd", "sbig");
    eq(await r.sadd("s1", "a", "b", "c"), 3, "SADD");
    eq(await r.sadd("s1", "a", "d"), 1, "SADD an existing and a new member");
    eq(await r.srem("s1", "b", "nope"), 1, "SREM");
    eqSet(await r.smembers("s1"), ["a", "c", "d"], "SMEMBERS");
    eq(await r.sismember("s1", "a"), 1, "SISMEMBER a member");
    eq(await r.sismember("s1", "b"), 0, "SISMEMBER a removed member");
    eq(await r.scard("s1"), 3, "SCARD");
    eq(await r.scard("missing"), 0, "SCARD missing");
    eq(await r.smembers("missing"), [], "SMEMBERS missing");
    eq(await r.sadd("s2", "c", "d", "e"), 3, "SADD s2");
    eqSet(await r.sinter("s1", "s2"), ["c", "d"], "SINTER");
    eq(await r.sinter("s1", "missing"), [], "SINTER with a missing key");
    eq(await r.sunionstore("sd", "s1", "s2"), 4, "SUNIONSTORE");
    eqSet(await r.smembers("sd"), ["a", "c", "d", "e"], "SMEMBERS of the SUNIONSTORE destination");
    eq(await r.type("sd"), "set", "TYPE");
    const member = Buffer.concat([Buffer.from([...Array(256).keys()]), Buffer.from("\r\n")]);
    eq(await r.sadd("s3", member, ""), 2, "SADD binary and empty members");
    const got = (await r.smembersBuffer("s3")).map((b) => b.toString("hex")).sort();
    eq(got, [member.toString("hex"), ""].sort(), "SMEMBERS binary");
    eq(await r.sismember("s3", member), 1, "SISMEMBER binary");
    eq(await r.srem("s2", "c", "d", "e"), 3, "SREM every member");
    eq(await r.exists("s2"), 0, "a set without members does not exist");
    const members = [...Array(300).keys()].map((i) => "m" + i);
    eq(await r.sadd("sbig", ...members), 300, "SADD 300 members");
    for (const count of [undefined, 7, 1000]) {
      const seen = await drain(r.sscanStream("sbig", count ? { count } : {}));
      eqSet(seen, members, "sscanStream count " + count);
    }
    eqSet(await drain(r.sscanStream("sbig", { match: "m1*" })),
          members.filter((m) => m.startsWith("m1")), "sscanStream match m1*");
  },
  async hashes() {
    await r.del("h1", "hbig");
    eq(await r.hset("h1", { name: "ringkv", n: 10, f: "1.5" }), 3, "HSET an object");
    eq(await r.hset("h1", "name", "rk"), 0, "HSET an existing field");
    eq(await r.hget("h1", "name"), "rk", "HGET");
    eq(await r.hget("h1", "nope"), null, "HGET a missing field");
    eq(await r.hget("missing", "name"), null, "HGET a missing key");
    eqObj(await r.hgetall("h1"), { name: "rk", n: "10", f: "1.5" }, "HGETALL");
    eqObj(await r.hgetall("missing"), {}, "HGETALL missing");
    eq(await r.hincrby("h1", "n", 5), 15, "HINCRBY");
    eq(await r.hincrby("h1", "new", -3), -3, "HINCRBY a new field");
    eq(await r.hincrbyfloat("h1", "f", 0.25), "1.75", "HINCRBYFLOAT");
    await raises(() => r.hincrby("h1", "name", 1), "hash value is not an integer");
    eq(await r.hdel("h1", "name", "nope"), 1, "HDEL");
    eq(await r.hlen("h1"), 3, "HLEN");
    eq(await r.hexists("h1", "name"), 0, "HEXISTS a deleted field");
    eq(await r.hmget("h1", "n", "name", "new"), ["15", null, "-3"], "HMGET");
    eqObj(await r.hgetall("h1"), { n: "15", f: "1.75", new: "-3" }, "HGETALL after the changes");
    eq(await r.type("h1"), "hash", "TYPE");
    eq(await r.hdel("h1", "n", "f", "new"), 3, "HDEL every field");
    eq(await r.exists("h1"), 0, "a hash without fields does not exist");
    const fields = {};
    for (let i = 0; i < 300; i++) fields["f" + i] = "v" + i;
    eq(await r.hset("hbig", fields), 300, "HSET 300 fields");
    for (const count of [undefined, 7, 1000]) {
      const flat = await drain(r.hscanStream("hbig", count ? { count } : {}));
      eqObj(pairs(flat, "hscanStream count " + count), fields, "hscanStream count " + count);
    }
    const sub = {};
    for (const f of Object.keys(fields)) if (f.startsWith("f1")) sub[f] = fields[f];
    eqObj(pairs(await drain(r.hscanStream("hbig", { match: "f1*" })), "match"), sub,
          "hscanStream match f1*");
  },
  async zsets() {
    await r.del("z1", "zbig");
    eq(await r.zadd("z1", 1, "a", 2.5, "b", -3, "c", 1, "d"), 4, "ZADD");
    eq(await r.zadd("z1", 1, "a", 10, "e"), 1, "ZADD an existing and a new member");
    eq(await r.zrange("z1", 0, -1, "WITHSCORES"),
       ["c", "-3", "a", "1", "d", "1", "b", "2.5", "e", "10"], "ZRANGE WITHSCORES");
    eq(await r.zrange("z1", 0, 1), ["c", "a"], "ZRANGE 0 1");
    eq(await r.zrangebyscore("z1", 1, 2.5), ["a", "d", "b"], "ZRANGEBYSCORE 1 2.5");
    eq(await r.zrangebyscore("z1", "(1", "+inf", "WITHSCORES"), ["b", "2.5", "e", "10"],
       "ZRANGEBYSCORE (1 +inf WITHSCORES");
    eq(await r.zincrby("z1", 0.5, "a"), "1.5", "ZINCRBY");
    eq(await r.zincrby("z1", 2, "new"), "2", "ZINCRBY a new member");
    eq(await r.zscore("z1", "a"), "1.5", "ZSCORE");
    eq(await r.zrevrank("z1", "e"), 0, "ZREVRANK of the highest");
    eq(await r.zrevrank("z1", "c"), 5, "ZREVRANK of the lowest");
    eq(await r.zrevrank("z1", "nope"), null, "ZREVRANK of a missing member");
    eq(await r.zrem("z1", "b", "nope"), 1, "ZREM");
    eq(await r.zpopmin("z1"), ["c", "-3"], "ZPOPMIN");
    eq(await r.zpopmin("z1", 2), ["d", "1", "a", "1.5"], "ZPOPMIN 2");
    eq(await r.zcard("z1"), 2, "ZCARD");
    eq(await r.zadd("z1", "XX", "CH", 20, "e", 1, "nope"), 1, "ZADD XX CH");
    eq(await r.zadd("z1", "inf", "inf"), 1, "ZADD inf");
    eq(await r.zrange("z1", 0, -1, "WITHSCORES"), ["new", "2", "e", "20", "inf", "inf"],
       "ZRANGE WITHSCORES after the changes");
    await raises(() => r.zincrby("z1", "abc", "e"), "not a valid float");
    eq(await r.type("z1"), "zset", "TYPE");
    eq(await r.zpopmin("z1", 10), ["new", "2", "e", "20", "inf", "inf"], "ZPOPMIN 10");
    eq(await r.exists("z1"), 0, "a sorted set without members does not exist");
    eq(await r.zpopmin("z1"), [], "ZPOPMIN missing");
    const members = {};
    const args = [];
    for (let i = 0; i < 300; i++) {
      members["m" + i] = String(i / 4);
      args.push(i / 4, "m" + i);
    }
    eq(await r.zadd("zbig", ...args), 300, "ZADD 300 members");
    eqObj(pairs(await drain(r.zscanStream("zbig", { count: 7 })), "zscanStream"), members,
          "zscanStream");
    eq(await r.zrangebyscore("zbig", 10, 11), ["m40", "m41", "m42", "m43", "m44"],
       "ZRANGEBYSCORE 10 11");
  },
  async hll() {
    await r.del("p1", "p2", "p3", "pbig");
    eq(await r.pfadd("p1", "a", "b", "c"), 1, "PFADD");
    eq(await r.pfadd("p1", "a", "b"), 0, "PFADD nothing new");
    eq(await r.pfcount("p1"), 3, "PFCOUNT");
    eq(await r.pfadd("p2", "c", "d"), 1, "PFADD p2");
    eq(await r.pfcount("p1", "p2"), 4, "PFCOUNT of two");
    eq(await r.pfmerge("p3", "p1", "p2"), "OK", "PFMERGE");
    eq(await r.pfcount("p3"), 4, "PFCOUNT of the merge");
    eq(await r.pfcount("missing"), 0, "PFCOUNT missing");
    const p = r.pipeline();
    for (let i = 0; i < 20000; i += 1000)
      p.pfadd("pbig", ...[...Array(1000).keys()].map((j) => "e" + (i + j)));
    await p.exec();
    const n = await r.pfcount("pbig");
    if (Math.abs(n - 20000) > 20000 * 0.03) throw new Error(`PFCOUNT of 20000 elements: ${n}`);
  },
  async types_pipeline() {
    await r.del("xp:s", "xp:h", "xp:z", "xp:p", "xp:c");
    const p = r.pipeline()
      .sadd("xp:s", "a", "b")
      .hset("xp:h", { f: "v", n: 1 })
      .zadd("xp:z", 1, "m", 2, "n")
      .pfadd("xp:p", "a", "b", "c")
      .incrby("xp:c", 5)
      .incrbyfloat("xp:c", 0.5)
      .smembers("xp:s")
      .hincrby("xp:h", "n", 2)
      .hgetall("xp:h")
      .zincrby("xp:z", 5, "m")
      .zrange("xp:z", 0, -1, "WITHSCORES")
      .pfcount("xp:p")
      .sadd("xp:h", "x") // WRONGTYPE in the middle
      .scard("xp:s")
      .get("xp:c");
    for (let i = 0; i < 100; i++)
      p.sadd("xp:s", "m" + i).hset("xp:h", "f" + i, i).zadd("xp:z", i, "m" + i);
    p.scard("xp:s").hlen("xp:h").zcard("xp:z").zrevrank("xp:z", "m");
    const res = await p.exec();
    eq(res.length, 15 + 300 + 4, "replies");
    eq(res.slice(0, 6), [[null, 2], [null, 2], [null, 2], [null, 1], [null, 5], [null, "5.5"]],
       "write replies");
    eq(res[6][0], null, "SMEMBERS error");
    eqSet(res[6][1], ["a", "b"], "SMEMBERS");
    eq(res[7], [null, 3], "HINCRBY");
    eqObj(res[8][1], { f: "v", n: "3" }, "HGETALL");
    eq(res[9], [null, "6"], "ZINCRBY");
    eq(res[10], [null, ["n", "2", "m", "6"]], "ZRANGE WITHSCORES");
    eq(res[11], [null, 3], "PFCOUNT");
    if (!(res[12][0] instanceof Redis.ReplyError) || !/^WRONGTYPE/.test(res[12][0].message))
      throw new Error("SADD on a hash in a pipeline gave " + res[12]);
    eq(res.slice(13, 15), [[null, 2], [null, "5.5"]], "SCARD and GET after the error");
    eq(res.slice(15, 315).map((x) => x[1]), Array(300).fill(1), "SADD/HSET/ZADD replies");
    // m (score 6) ranks below m7..m99 and m6 (equal scores: the greater member first)
    eq(res.slice(315), [[null, 102], [null, 102], [null, 102], [null, 94]],
       "SCARD, HLEN, ZCARD, ZREVRANK");
  },
  async types_transaction() {
    await r.del("xt:s", "xt:h", "xt:z", "xt:p", "xt:c");
    let res = await r.multi()
      .sadd("xt:s", "a").hset("xt:h", "f", "1").zadd("xt:z", 2, "m").pfadd("xt:p", "x").incr("xt:c")
      .sismember("xt:s", "a").hincrby("xt:h", "f", 4).zincrby("xt:z", 1, "m").pfcount("xt:p")
      .smembers("xt:s").hgetall("xt:h").zrange("xt:z", 0, -1, "WITHSCORES").get("xt:c")
      .exec();
    eq(res, [[null, 1], [null, 1], [null, 1], [null, 1], [null, 1], [null, 1], [null, 5],
             [null, "3"], [null, 1], [null, ["a"]], [null, { f: "5" }], [null, ["m", "3"]],
             [null, "1"]], "EXEC replies");
    // WRONGTYPE inside EXEC: the error in its slot, the other commands ran
    res = await r.multi()
      .sadd("xt:s", "b").hget("xt:s", "f").zadd("xt:z", 4, "m2").srem("xt:s", "a")
      .exec();
    eq(res[0], [null, 1], "SADD");
    if (!(res[1][0] instanceof Redis.ReplyError) || !/^WRONGTYPE/.test(res[1][0].message))
      throw new Error("HGET on a set inside EXEC gave " + res[1]);
    eq(res.slice(2), [[null, 1], [null, 1]], "ZADD, SREM after the error");
    eq(await r.smembers("xt:s"), ["b"], "the set after EXEC");
    eq(await r.zscore("xt:z", "m2"), "4", "the sorted set after EXEC");
    // MULTI/EXEC without pipelining: each command answered QUEUED
    eq(await r.multi({ pipeline: false }), "OK", "MULTI");
    eq(await r.hset("xt:h", "g", "2"), "QUEUED", "HSET queued");
    eq(await r.zadd("xt:z", 5, "m3"), "QUEUED", "ZADD queued");
    eq(await r.exec(), [[null, 1], [null, 1]], "EXEC replies (no pipeline)");
    eqObj(await r.hgetall("xt:h"), { f: "5", g: "2" }, "the hash after EXEC");
    // a command refused while queueing aborts the whole transaction
    await raises(() => r.multi()
      .sadd("xt:s", "zz").hset("xt:h", "zz", "1").call("ZADD", "xt:z") // wrong arity
      .exec(), "EXECABORT");
    eq(await r.sismember("xt:s", "zz"), 0, "SADD of an aborted transaction did not run");
    eq(await r.hexists("xt:h", "zz"), 0, "HSET of an aborted transaction did not run");
  },
  async wrongtype() {
    const keys = ["wt:str", "wt:set", "wt:hash", "wt:zset", "wt:hll"];
    await r.del(...keys);
    await r.set("wt:str", "v");
    await r.sadd("wt:set", "m");
    await r.hset("wt:hash", "f", "v");
    await r.zadd("wt:zset", 1, "m");
    await r.pfadd("wt:hll", "a");
    const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for (const [what, fn] of [
      ["SADD on a string", () => r.sadd("wt:str", "x")],
      ["HSET on a string", () => r.hset("wt:str", "f", "x")],
      ["ZADD on a string", () => r.zadd("wt:str", 1, "x")],
      ["GET on a set", () => r.get("wt:set")],
      ["INCR on a set", () => r.incr("wt:set")],
      ["HGET on a set", () => r.hget("wt:set", "f")],
      ["ZRANGE on a set", () => r.zrange("wt:set", 0, -1)],
      ["PFADD on a set", () => r.pfadd("wt:set", "x")],
      ["SMEMBERS on a hash", () => r.smembers("wt:hash")],
      ["ZADD on a hash", () => r.zadd("wt:hash", 1, "m")],
      ["HGETALL on a sorted set", () => r.hgetall("wt:zset")],
      ["SISMEMBER on a sorted set", () => r.sismember("wt:zset", "m")],
      ["SUNIONSTORE from a hash", () => r.sunionstore("wt:new", "wt:set", "wt:hash")],
      ["SADD on a HyperLogLog", () => r.sadd("wt:hll", "x")],
    ]) {
      const e = await raises(fn, "WRONGTYPE");
      eq(e.message, wrong, what);
    }
    const e = await raises(() => r.pfadd("wt:str", "x"), "WRONGTYPE");
    eq(e.message, "WRONGTYPE Key is not a valid HyperLogLog string value.", "PFADD on a string");
    // nothing was written
    const types = [];
    for (const k of keys) types.push(await r.type(k));
    eq(types, ["string", "set", "hash", "zset", "string"], "TYPE");
    eq(await r.get("wt:str"), "v", "the string");
    eq(await r.smembers("wt:set"), ["m"], "the set");
    eqObj(await r.hgetall("wt:hash"), { f: "v" }, "the hash");
    eq(await r.zrange("wt:zset", 0, -1, "WITHSCORES"), ["m", "1"], "the sorted set");
    eq(await r.pfcount("wt:hll"), 1, "the HyperLogLog");
    eq(await r.exists("wt:new"), 0, "no SUNIONSTORE destination");
    eq(await r.ping(), "PONG", "PING after WRONGTYPE errors");
  },
  async scan() {
    eq(await r.flushdb(), "OK", "FLUSHDB");
    const keys = new Set([...Array(400).keys()].map((i) => "sc:" + i));
    const p = r.pipeline();
    for (const k of keys) p.set(k, "1");
    await p.exec();
    const sameSet = (seen, want, what) => {
      const s = new Set(seen);
      if (s.size !== seen.length) {
        const dup = seen.filter((k, i) => seen.indexOf(k) !== i).slice(0, 5);
        throw new Error(`${what}: keys returned twice: ${dup}`);
      }
      const missing = [...want].filter((k) => !s.has(k)).slice(0, 5);
      const extra = seen.filter((k) => !want.has(k)).slice(0, 5);
      if (missing.length || extra.length || s.size !== want.size)
        throw new Error(`${what}: ${seen.length} keys, missing ${missing}, extra ${extra}`);
    };
    for (const count of [undefined, 7, 1000]) {
      const seen = [];
      await new Promise((res, rej) => {
        const s = r.scanStream(count ? { count } : {});
        s.on("data", (batch) => seen.push(...batch));
        s.on("end", res);
        s.on("error", rej);
      });
      sameSet(seen, keys, "scanStream count " + count);
    }
    const sub = new Set([...keys].filter((k) => k.startsWith("sc:1")));
    const seen = [];
    await new Promise((res, rej) => {
      const s = r.scanStream({ match: "sc:1*", count: 50 });
      s.on("data", (batch) => seen.push(...batch));
      s.on("end", res);
      s.on("error", rej);
    });
    sameSet(seen, sub, "scanStream match sc:1*");
    let cur = "0", n = 0, rounds = 0;
    do {
      const [next, batch] = await r.scan(cur, "COUNT", 100);
      cur = next;
      n += batch.length;
      if (++rounds > 100000) throw new Error("SCAN cursor never returned to 0");
    } while (cur !== "0");
    eq(n, 400, "keys by cursor loop");
    eq(await r.dbsize(), 400, "DBSIZE");
    sameSet(await r.keys("sc:1*"), sub, "KEYS sc:1*");
  },
  async reconnect_prepare() {
    eq(await r.set("rc", "before"), "OK", "SET before the restart");
    await r.del("rc:s", "rc:h", "rc:z");
    eq(await r.sadd("rc:s", "a", "b"), 2, "SADD before the restart");
    eq(await r.hset("rc:h", { f: "v" }), 1, "HSET before the restart");
    eq(await r.zadd("rc:z", 1.5, "m"), 1, "ZADD before the restart");
  },
  async reconnect() {
    // the first command after the node restarted: ioredis reconnects by itself
    eq(await r.get("rc"), "before", "GET after the restart");
    eq(await r.set("rc2", "after"), "OK", "SET after the restart");
    eq(await r.get("rc2"), "after", "GET after the restart");
    eqSet(await r.smembers("rc:s"), ["a", "b"], "SMEMBERS after the restart");
    eqObj(await r.hgetall("rc:h"), { f: "v" }, "HGETALL after the restart");
    eq(await r.zrange("rc:z", 0, -1, "WITHSCORES"), ["m", "1.5"], "ZRANGE after the restart");
  },
};

(async () => {
  console.log(`version ioredis ${pkg.version} protocol ${PROTO}`);
  for (const name of ["ping", "strings", "binary", "large", "counters", "multikey", "expiry",
                      "pipeline", "transaction", "transaction_error", "transaction_abort",
                      "watch", "errors", "sets", "hashes", "zsets", "hll", "types_pipeline",
                      "types_transaction", "wrongtype", "scan", "reconnect_prepare"])
    await check(name, checks[name]);
  console.log("RESTART");
  await nextLine();
  await check("reconnect", checks.reconnect);
  console.log("DONE");
  r.disconnect();
  stdinLines.close();
})().catch((e) => {
  console.log("FAIL driver: " + String(e && e.stack).replace(/\n/g, " | "));
  process.exit(1);
});
