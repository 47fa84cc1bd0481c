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
    await r.del("c", "f");
    eq(await r.incr("c"), 1, "INCR");
    eq(await r.incrby("c", 41), 42, "INCRBY");
    eq(await r.decr("c"), 41, "DECR");
    eq(await r.decrby("c", 40), 1, "DECRBY");
    eq(await r.incrbyfloat("f", 1.5), "1.5", "INCRBYFLOAT");
    eq(await r.get("c"), "1", "GET counter");
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
  },
  async reconnect() {
    // the first command after the node restarted: ioredis reconnects by itself
    eq(await r.get("rc"), "before", "GET after the restart");
    eq(await r.set("rc2", "after"), "OK", "SET after the restart");
    eq(await r.get("rc2"), "after", "GET after the restart");
  },
};

(async () => {
  console.log(`version ioredis ${pkg.version} protocol ${PROTO}`);
  for (const name of ["ping", "strings", "binary", "large", "counters", "multikey", "expiry",
                      "pipeline", "transaction", "transaction_error", "transaction_abort",
                      "watch", "errors", "scan", "reconnect_prepare"])
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
