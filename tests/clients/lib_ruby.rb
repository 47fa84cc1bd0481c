# The ruby-redis client (Debian package ruby-redis) against a ringkv node.
#
# Usage: ruby lib_ruby.rb HOST PORT DB
# Speaks the line protocol of tests/clients/run.py: "ok NAME" /
# "FAIL NAME: why" per check, "RESTART" (then waits for a line on stdin),
# "DONE". The checks are the same in every lib_* program.
require "redis"
require "set"

$stdout.sync = true
HOST, PORT, DB = ARGV[0], ARGV[1].to_i, ARGV[2].to_i
R = Redis.new(host: HOST, port: PORT, db: DB, connect_timeout: 10, read_timeout: 20,
              write_timeout: 20)

class CheckFailed < StandardError; end

def eq(got, want, what)
  raise CheckFailed, "#{what}: got #{got.inspect}, want #{want.inspect}" unless got == want
end

def raises(contains)
  yield
rescue Redis::CommandError => e
  unless e.message.downcase.include?(contains.downcase)
    raise CheckFailed, "error #{e.message.inspect} does not mention #{contains.inspect}"
  end
  e
else
  raise CheckFailed, "no Redis::CommandError raised (wanted one mentioning #{contains.inspect})"
end

def check(name)
  yield
  puts "ok #{name}"
rescue StandardError => e
  puts "FAIL #{name}: #{e.class}: #{e.message.gsub("\n", " | ")[0, 600]}"
end

def t_ping
  eq(R.ping, "PONG", "PING")
end

def t_strings
  R.del("s1", "s2")
  eq(R.set("s1", "hello"), "OK", "SET")
  eq(R.get("s1"), "hello", "GET")
  eq(R.get("missing"), nil, "GET missing")
  eq(R.append("s1", " world"), 11, "APPEND")
  eq(R.strlen("s1"), 11, "STRLEN")
  eq(R.getrange("s1", 0, 4), "hello", "GETRANGE")
  eq(R.set("s1", "x", nx: true), false, "SET NX on an existing key")
  eq(R.set("s2", "y", xx: true), false, "SET XX on a missing key")
  eq(R.set("s2", "y", nx: true), true, "SET NX on a missing key")
  eq(R.getdel("s2"), "y", "GETDEL")
  eq(R.get("s2"), nil, "GET after GETDEL")
end

def t_binary
  val = ((0..255).to_a * 4).pack("C*") + "\r\n\x00*1\r\n$3\r\n".b
  key = "ключ ✓ \x00\r\n".b
  eq(R.set(key, val), "OK", "SET binary")
  eq(R.get(key).b, val, "GET binary")
  eq(R.strlen(key), val.bytesize, "STRLEN binary")
end

def t_large
  val = "0123456789abcdef" * 65536 # 1 MiB
  eq(R.set("big", val), "OK", "SET 1 MiB")
  got = R.get("big")
  raise CheckFailed, "GET 1 MiB: #{got.nil? ? 'nil' : "#{got.bytesize} bytes, different"}" unless got == val
end

def t_counters
  R.del("c", "f", "c2")
  eq(R.incr("c"), 1, "INCR")
  eq(R.incrby("c", 41), 42, "INCRBY")
  eq(R.decr("c"), 41, "DECR")
  eq(R.decrby("c", 40), 1, "DECRBY")
  eq(R.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT")
  eq(R.incrbyfloat("f", 0.1), 1.6, "INCRBYFLOAT 0.1")
  eq(R.get("c"), "1", "GET counter")
  eq(R.get("f"), "1.6", "GET float counter")
  # a SET value, float steps back to an integer, then INCR works again
  eq(R.set("c2", 10), "OK", "SET 10")
  eq(R.incrbyfloat("c2", 0.5), 10.5, "INCRBYFLOAT 0.5")
  eq(R.incrbyfloat("c2", 0.5), 11.0, "INCRBYFLOAT 0.5 again")
  eq(R.get("c2"), "11", "GET after the float steps")
  eq(R.incr("c2"), 12, "INCR after INCRBYFLOAT")
  eq(R.incrby("c2", -20), -8, "INCRBY negative")
  raises("not a valid float") { R.incrbyfloat("c2", "abc") }
end

def t_multikey
  keys = (0...10).map { |i| "m#{i}" }
  eq(R.mset(*keys.flat_map { |k| [k, "v#{k}"] }), "OK", "MSET")
  eq(R.mget(*keys, "missing"), keys.map { |k| "v#{k}" } + [nil], "MGET")
  eq(R.exists("m1", "m2", "missing"), 2, "EXISTS")
  eq(R.del("m1", "m2", "m3", "missing"), 3, "DEL")
  eq(R.mget("m1", "m4"), [nil, "vm4"], "MGET after DEL")
  eq(R.unlink("m4", "m5"), 2, "UNLINK")
end

def t_expiry
  R.del("e1", "e2", "e3", "e4")
  eq(R.set("e1", "v", ex: 100), "OK", "SET EX")
  t = R.ttl("e1")
  raise CheckFailed, "TTL #{t} not in 95..100" unless (95..100).cover?(t)
  pt = R.pttl("e1")
  raise CheckFailed, "PTTL #{pt} not in 95000..100000" unless (95_000..100_000).cover?(pt)
  eq(R.expire("e1", 200), true, "EXPIRE")
  t = R.ttl("e1")
  raise CheckFailed, "TTL after EXPIRE 200: #{t}" unless (195..200).cover?(t)
  eq(R.persist("e1"), true, "PERSIST")
  eq(R.ttl("e1"), -1, "TTL after PERSIST")
  eq(R.ttl("missing"), -2, "TTL missing")
  eq(R.expire("missing", 10), false, "EXPIRE missing")
  at = Time.now.to_i + 100
  eq(R.call("SET", "e4", "v", "EXAT", at), "OK", "SET EXAT")
  eq(R.call("EXPIRETIME", "e4"), at, "EXPIRETIME")
  eq(R.set("e2", "v", px: 300), "OK", "SET PX")
  eq(R.setex("e3", 1, "v"), "OK", "SETEX")
  sleep 1.3
  eq(R.get("e2"), nil, "GET after PX expiry")
  eq(R.get("e3"), nil, "GET after SETEX expiry")
  eq(R.exists("e2", "e3"), 0, "EXISTS after expiry")
  eq(R.ttl("e2"), -2, "TTL after expiry")
  eq(R.get("e1"), "v", "persisted key still there")
end

def t_pipeline
  res = R.pipelined do |p|
    100.times { |i| p.set("p:#{i}", i) }
    100.times { |i| p.incr("p:#{i}"); p.get("p:#{i}") }
  end
  eq(res.length, 300, "replies")
  eq(res[0, 100], ["OK"] * 100, "SET replies")
  100.times do |i|
    eq(res[100 + 2 * i], i + 1, "INCR reply #{i}")
    eq(res[101 + 2 * i], (i + 1).to_s, "GET reply #{i}")
  end
  # an error in the middle of a pipeline raises the library's error type...
  R.set("p:str", "abc")
  R.del("p:x", "p:y")
  raises("not an integer") do
    R.pipelined do |p|
      p.set("p:x", "1")
      p.incr("p:str")
      p.set("p:y", "2")
    end
  end
  # ...and the commands around it still ran
  eq(R.mget("p:x", "p:y", "p:str"), ["1", "2", "abc"], "commands around the error")
  eq(R.ping, "PONG", "PING after the pipeline")
end

def t_transaction
  R.del("t1", "t2")
  res = R.multi do |tx|
    tx.set("t1", "a")
    tx.incr("t2")
    tx.get("t1")
    tx.incr("t2")
    tx.mget("t1", "t2")
  end
  eq(res, ["OK", 1, "a", 2, ["a", "2"]], "EXEC replies")
end

def t_transaction_error
  R.del("te", "te2")
  raises("not an integer") do
    R.multi do |tx|
      tx.set("te", "notanumber")
      tx.incr("te")
      tx.set("te2", "after")
    end
  end
  eq(R.get("te2"), "after", "command after the error ran")
  eq(R.get("te"), "notanumber", "value")
end

def t_transaction_abort
  R.del("ta")
  raises("wrong number of arguments") do
    R.multi do |tx|
      tx.set("ta", "x")
      tx.call("GET") # wrong arity: refused when queued, EXEC aborts
    end
  end
  eq(R.get("ta"), nil, "nothing of an aborted transaction ran")
end

def t_watch
  ran = false
  raises("WATCH") { R.watch("w") { ran = true } }
  eq(ran, false, "the WATCH block did not run")
  eq(R.unwatch, "OK", "UNWATCH")
  eq(R.ping, "PONG", "PING after WATCH error")
end

def t_errors
  R.set("en", "abc")
  raises("not an integer") { R.incr("en") }
  raises("unknown command") { R.lpush("l", "x") }
  raises("wrong number of arguments") { R.call("GET", "a", "b") }
  raises("invalid expire") { R.set("en", "v", ex: -5) }
  eq(R.ping, "PONG", "PING after errors")
  eq(R.get("en"), "abc", "GET after errors")
end

# (redis-rb 4.8: SADD/SREM/ZREM with an array answer the count; with one
# member they answer a boolean and warn that this changes in 5.0)
def t_sets
  R.del("s1", "s2", "s3", "sd", "sbig")
  eq(R.sadd("s1", %w[a b c]), 3, "SADD")
  eq(R.sadd("s1", %w[a d]), 1, "SADD an existing and a new member")
  eq(R.sadd?("s1", "a"), false, "sadd? of an existing member")
  eq(R.srem("s1", %w[b nope]), 1, "SREM")
  eq(R.smembers("s1").sort, %w[a c d], "SMEMBERS")
  eq(R.sismember("s1", "a"), true, "SISMEMBER a member")
  eq(R.sismember("s1", "b"), false, "SISMEMBER a removed member")
  eq(R.scard("s1"), 3, "SCARD")
  eq(R.scard("missing"), 0, "SCARD missing")
  eq(R.smembers("missing"), [], "SMEMBERS missing")
  eq(R.sadd("s2", %w[c d e]), 3, "SADD s2")
  eq(R.sinter("s1", "s2").sort, %w[c d], "SINTER")
  eq(R.sinter("s1", "missing"), [], "SINTER with a missing key")
  eq(R.sunionstore("sd", "s1", "s2"), 4, "SUNIONSTORE")
  eq(R.smembers("sd").sort, %w[a c d e], "SMEMBERS of the SUNIONSTORE destination")
  eq(R.type("sd"), "set", "TYPE")
  member = (0..255).to_a.pack("C*") + "\r\n".b
  eq(R.sadd("s3", [member, ""]), 2, "SADD binary and empty members")
  eq(R.smembers("s3").map(&:b).sort, [member, "".b].sort, "SMEMBERS binary")
  eq(R.sismember("s3", member), true, "SISMEMBER binary")
  eq(R.srem("s2", %w[c d e]), 3, "SREM every member")
  eq(R.exists("s2"), 0, "a set without members does not exist")
  members = (0...300).map { |i| "m#{i}" }
  eq(R.sadd("sbig", members), 300, "SADD 300 members")
  [nil, 7, 1000].each do |count|
    seen = count ? R.sscan_each("sbig", count: count).to_a : R.sscan_each("sbig").to_a
    same_set(seen, members.to_set, "sscan_each count #{count.inspect}")
  end
  same_set(R.sscan_each("sbig", match: "m1*").to_a, members.grep(/\Am1/).to_set,
           "sscan_each match m1*")
end

def t_hashes
  R.del("h1", "hbig")
  eq(R.hset("h1", { "name" => "ringkv", "n" => 10, "f" => "1.5" }), 3, "HSET a hash")
  eq(R.hset("h1", "name", "rk"), 0, "HSET an existing field")
  eq(R.hget("h1", "name"), "rk", "HGET")
  eq(R.hget("h1", "nope"), nil, "HGET a missing field")
  eq(R.hget("missing", "name"), nil, "HGET a missing key")
  eq(R.hgetall("h1"), { "name" => "rk", "n" => "10", "f" => "1.5" }, "HGETALL")
  eq(R.hgetall("missing"), {}, "HGETALL missing")
  eq(R.hincrby("h1", "n", 5), 15, "HINCRBY")
  eq(R.hincrby("h1", "new", -3), -3, "HINCRBY a new field")
  eq(R.hincrbyfloat("h1", "f", 0.25), 1.75, "HINCRBYFLOAT")
  raises("hash value is not an integer") { R.hincrby("h1", "name", 1) }
  eq(R.hdel("h1", "name", "nope"), 1, "HDEL")
  eq(R.hlen("h1"), 3, "HLEN")
  eq(R.hexists("h1", "name"), false, "HEXISTS a deleted field")
  eq(R.hmget("h1", "n", "name", "new"), ["15", nil, "-3"], "HMGET")
  eq(R.hgetall("h1"), { "n" => "15", "f" => "1.75", "new" => "-3" }, "HGETALL after the changes")
  eq(R.type("h1"), "hash", "TYPE")
  eq(R.hdel("h1", %w[n f new]), 3, "HDEL every field")
  eq(R.exists("h1"), 0, "a hash without fields does not exist")
  fields = (0...300).to_h { |i| ["f#{i}", "v#{i}"] }
  eq(R.hset("hbig", fields), 300, "HSET 300 fields")
  [nil, 7, 1000].each do |count|
    seen = count ? R.hscan_each("hbig", count: count).to_a : R.hscan_each("hbig").to_a
    eq(seen.map(&:first).uniq.length, seen.length, "hscan_each count #{count.inspect}: twice")
    eq(seen.to_h, fields, "hscan_each count #{count.inspect}")
  end
  eq(R.hscan_each("hbig", match: "f1*").to_a.to_h, fields.select { |f, _| f.start_with?("f1") },
     "hscan_each match f1*")
end

def t_zsets
  R.del("z1", "zbig")
  eq(R.zadd("z1", [[1, "a"], [2.5, "b"], [-3, "c"], [1, "d"]]), 4, "ZADD pairs")
  eq(R.zadd("z1", [[1, "a"], [10, "e"]]), 1, "ZADD an existing and a new member")
  eq(R.zadd("z1", 1, "a"), false, "ZADD one existing member")
  eq(R.zrange("z1", 0, -1, with_scores: true),
     [["c", -3.0], ["a", 1.0], ["d", 1.0], ["b", 2.5], ["e", 10.0]], "ZRANGE WITHSCORES")
  eq(R.zrange("z1", 0, 1), %w[c a], "ZRANGE 0 1")
  eq(R.zrangebyscore("z1", 1, 2.5), %w[a d b], "ZRANGEBYSCORE 1 2.5")
  eq(R.zrangebyscore("z1", "(1", "+inf", with_scores: true), [["b", 2.5], ["e", 10.0]],
     "ZRANGEBYSCORE (1 +inf WITHSCORES")
  eq(R.zincrby("z1", 0.5, "a"), 1.5, "ZINCRBY")
  eq(R.zincrby("z1", 2, "new"), 2.0, "ZINCRBY a new member")
  eq(R.zscore("z1", "a"), 1.5, "ZSCORE")
  eq(R.zrevrank("z1", "e"), 0, "ZREVRANK of the highest")
  eq(R.zrevrank("z1", "c"), 5, "ZREVRANK of the lowest")
  eq(R.zrevrank("z1", "nope"), nil, "ZREVRANK of a missing member")
  eq(R.zrem("z1", %w[b nope]), 1, "ZREM")
  eq(R.zpopmin("z1"), ["c", -3.0], "ZPOPMIN")
  eq(R.zpopmin("z1", 2), [["d", 1.0], ["a", 1.5]], "ZPOPMIN 2")
  eq(R.zcard("z1"), 2, "ZCARD")
  eq(R.zadd("z1", [[20, "e"], [1, "nope"]], xx: true, ch: true), 1, "ZADD XX CH")
  eq(R.zadd("z1", [["inf", "inf"]]), 1, "ZADD inf")
  inf = Float::INFINITY
  eq(R.zrange("z1", 0, -1, with_scores: true), [["new", 2.0], ["e", 20.0], ["inf", inf]],
     "ZRANGE WITHSCORES after the changes")
  raises("not a valid float") { R.zincrby("z1", "abc", "e") }
  eq(R.type("z1"), "zset", "TYPE")
  eq(R.zpopmin("z1", 10), [["new", 2.0], ["e", 20.0], ["inf", inf]], "ZPOPMIN 10")
  eq(R.exists("z1"), 0, "a sorted set without members does not exist")
  eq(R.zpopmin("z1"), nil, "ZPOPMIN missing")
  members = (0...300).to_h { |i| ["m#{i}", i / 4.0] }
  eq(R.zadd("zbig", members.map { |m, s| [s, m] }), 300, "ZADD 300 members")
  seen = R.zscan_each("zbig", count: 7).to_a
  eq(seen.length, 300, "zscan_each: pairs")
  eq(seen.to_h, members, "zscan_each")
  eq(R.zrangebyscore("zbig", 10, 11), %w[m40 m41 m42 m43 m44], "ZRANGEBYSCORE 10 11")
end

def t_hll
  R.del("p1", "p2", "p3", "pbig")
  eq(R.pfadd("p1", %w[a b c]), true, "PFADD")
  eq(R.pfadd("p1", %w[a b]), false, "PFADD nothing new")
  eq(R.pfcount("p1"), 3, "PFCOUNT")
  eq(R.pfadd("p2", %w[c d]), true, "PFADD p2")
  eq(R.pfcount("p1", "p2"), 4, "PFCOUNT of two")
  eq(R.pfmerge("p3", "p1", "p2"), true, "PFMERGE")
  eq(R.pfcount("p3"), 4, "PFCOUNT of the merge")
  eq(R.pfcount("missing"), 0, "PFCOUNT missing")
  R.pipelined do |p|
    (0...20_000).step(1000) { |i| p.pfadd("pbig", (i...i + 1000).map { |j| "e#{j}" }) }
  end
  n = R.pfcount("pbig")
  raise CheckFailed, "PFCOUNT of 20000 elements: #{n}" unless (n - 20_000).abs <= 20_000 * 0.03
end

def t_types_pipeline
  R.del("xp:s", "xp:h", "xp:z", "xp:p", "xp:c")
  res = R.pipelined do |p|
    p.sadd("xp:s", %w[a b])
    p.hset("xp:h", { "f" => "v", "n" => 1 })
    p.zadd("xp:z", [[1, "m"], [2, "n"]])
    p.pfadd("xp:p", %w[a b c])
    p.incrby("xp:c", 5)
    p.incrbyfloat("xp:c", 0.5)
    p.smembers("xp:s")
    p.hincrby("xp:h", "n", 2)
    p.hgetall("xp:h")
    p.zincrby("xp:z", 5, "m")
    p.zrange("xp:z", 0, -1, with_scores: true)
    p.pfcount("xp:p")
    p.get("xp:c")
    100.times do |i|
      p.sadd("xp:s", ["m#{i}"])
      p.hset("xp:h", "f#{i}", i)
      p.zadd("xp:z", [[i, "m#{i}"]])
    end
    p.scard("xp:s")
    p.hlen("xp:h")
    p.zcard("xp:z")
    p.zrevrank("xp:z", "m")
  end
  eq(res.length, 13 + 300 + 4, "replies")
  eq(res[0, 6], [2, 2, 2, true, 5, 5.5], "write replies")
  eq(res[6].sort, %w[a b], "SMEMBERS")
  eq(res[7], 3, "HINCRBY")
  eq(res[8], { "f" => "v", "n" => "3" }, "HGETALL")
  eq(res[9], 6.0, "ZINCRBY")
  eq(res[10], [["n", 2.0], ["m", 6.0]], "ZRANGE WITHSCORES")
  eq(res[11, 2], [3, "5.5"], "PFCOUNT, GET")
  eq(res[13, 300], [1] * 300, "SADD/HSET/ZADD replies")
  # m (score 6) ranks below m7..m99 and m6 (equal scores: the greater member first)
  eq(res[313, 4], [102, 102, 102, 94], "SCARD, HLEN, ZCARD, ZREVRANK")
  # a WRONGTYPE in the middle raises the library's error type...
  R.del("xp:after")
  raises("WRONGTYPE") do
    R.pipelined do |p|
      p.sadd("xp:s", ["before"])
      p.sadd("xp:h", ["x"])
      p.hset("xp:after", "f", "v")
    end
  end
  # ...and the commands around it still ran
  eq(R.sismember("xp:s", "before"), true, "the command before the error ran")
  eq(R.hgetall("xp:after"), { "f" => "v" }, "the command after the error ran")
end

def t_types_transaction
  R.del("xt:s", "xt:h", "xt:z", "xt:p", "xt:c")
  res = R.multi do |tx|
    tx.sadd("xt:s", ["a"])
    tx.hset("xt:h", "f", "1")
    tx.zadd("xt:z", [[2, "m"]])
    tx.pfadd("xt:p", "x")
    tx.incr("xt:c")
    tx.sismember("xt:s", "a")
    tx.hincrby("xt:h", "f", 4)
    tx.zincrby("xt:z", 1, "m")
    tx.pfcount("xt:p")
    tx.smembers("xt:s")
    tx.hgetall("xt:h")
    tx.zrange("xt:z", 0, -1, with_scores: true)
    tx.get("xt:c")
  end
  eq(res, [1, 1, 1, true, 1, true, 5, 3.0, 1, ["a"], { "f" => "5" }, [["m", 3.0]], "1"],
     "EXEC replies")
  # WRONGTYPE inside EXEC: the library raises, the other commands ran
  raises("WRONGTYPE") do
    R.multi do |tx|
      tx.sadd("xt:s", ["b"])
      tx.hget("xt:s", "f")
      tx.zadd("xt:z", [[4, "m2"]])
      tx.srem("xt:s", ["a"])
    end
  end
  eq(R.smembers("xt:s"), ["b"], "the set after EXEC")
  eq(R.zscore("xt:z", "m2"), 4.0, "the sorted set after EXEC")
  # a command refused while queueing aborts the whole transaction
  raises("wrong number of arguments") do
    R.multi do |tx|
      tx.sadd("xt:s", ["zz"])
      tx.hset("xt:h", "zz", "1")
      tx.call("ZADD", "xt:z") # wrong arity
    end
  end
  eq(R.sismember("xt:s", "zz"), false, "SADD of an aborted transaction did not run")
  eq(R.hexists("xt:h", "zz"), false, "HSET of an aborted transaction did not run")
end

def t_wrongtype
  keys = %w[wt:str wt:set wt:hash wt:zset wt:hll]
  R.del(*keys)
  R.set("wt:str", "v")
  R.sadd("wt:set", ["m"])
  R.hset("wt:hash", "f", "v")
  R.zadd("wt:zset", [[1, "m"]])
  R.pfadd("wt:hll", "a")
  wrong = "WRONGTYPE Operation against a key holding the wrong kind of value"
  [["SADD on a string", -> { R.sadd("wt:str", ["x"]) }],
   ["HSET on a string", -> { R.hset("wt:str", "f", "x") }],
   ["ZADD on a string", -> { R.zadd("wt:str", [[1, "x"]]) }],
   ["GET on a set", -> { R.get("wt:set") }],
   ["INCR on a set", -> { R.incr("wt:set") }],
   ["HGET on a set", -> { R.hget("wt:set", "f") }],
   ["ZRANGE on a set", -> { R.zrange("wt:set", 0, -1) }],
   ["PFADD on a set", -> { R.pfadd("wt:set", "x") }],
   ["SMEMBERS on a hash", -> { R.smembers("wt:hash") }],
   ["ZADD on a hash", -> { R.zadd("wt:hash", [[1, "m"]]) }],
   ["HGETALL on a sorted set", -> { R.hgetall("wt:zset") }],
   ["SISMEMBER on a sorted set", -> { R.sismember("wt:zset", "m") }],
   ["SUNIONSTORE from a hash", -> { R.sunionstore("wt:new", "wt:set", "wt:hash") }],
   ["SADD on a HyperLogLog", -> { R.sadd("wt:hll", ["x"]) }]].each do |what, fn|
    e = raises("WRONGTYPE") { fn.call }
    eq(e.message, wrong, what)
  end
  e = raises("WRONGTYPE") { R.pfadd("wt:str", "x") }
  eq(e.message, "WRONGTYPE Key is not a valid HyperLogLog string value.", "PFADD on a string")
  # nothing was written
  eq(keys.map { |k| R.type(k) }, %w[string set hash zset string], "TYPE")
  eq(R.get("wt:str"), "v", "the string")
  eq(R.smembers("wt:set"), ["m"], "the set")
  eq(R.hgetall("wt:hash"), { "f" => "v" }, "the hash")
  eq(R.zrange("wt:zset", 0, -1, with_scores: true), [["m", 1.0]], "the sorted set")
  eq(R.pfcount("wt:hll"), 1, "the HyperLogLog")
  eq(R.exists("wt:new"), 0, "no SUNIONSTORE destination")
  eq(R.ping, "PONG", "PING after WRONGTYPE errors")
end

def same_set(seen, want, what)
  if seen.uniq.length != seen.length
    dup = seen.group_by { |k| k }.select { |_, v| v.length > 1 }.keys.first(5)
    raise CheckFailed, "#{what}: keys returned twice: #{dup.inspect}"
  end
  s = seen.to_set
  return if s == want

  raise CheckFailed, "#{what}: #{seen.length} keys, missing #{(want - s).first(5).inspect}, " \
                     "extra #{(s - want).first(5).inspect}"
end

def t_scan
  eq(R.flushdb, "OK", "FLUSHDB")
  keys = (0...400).map { |i| "sc:#{i}" }.to_set
  R.pipelined { |p| keys.each { |k| p.set(k, "1") } }
  [nil, 7, 1000].each do |count|
    seen = count ? R.scan_each(count: count).to_a : R.scan_each.to_a
    same_set(seen, keys, "scan_each count #{count.inspect}")
  end
  sub = keys.select { |k| k.start_with?("sc:1") }.to_set
  same_set(R.scan_each(match: "sc:1*", count: 50).to_a, sub, "scan_each match sc:1*")
  cur = "0"
  n = 0
  rounds = 0
  loop do
    cur, batch = R.scan(cur, count: 100)
    n += batch.length
    rounds += 1
    break if cur == "0"
    raise CheckFailed, "SCAN cursor never returned to 0" if rounds > 100_000
  end
  eq(n, 400, "keys by cursor loop")
  eq(R.dbsize, 400, "DBSIZE")
  same_set(R.keys("sc:1*"), sub, "KEYS sc:1*")
end

def t_reconnect_prepare
  eq(R.set("rc", "before"), "OK", "SET before the restart")
  R.del("rc:s", "rc:h", "rc:z")
  eq(R.sadd("rc:s", %w[a b]), 2, "SADD before the restart")
  eq(R.hset("rc:h", { "f" => "v" }), 1, "HSET before the restart")
  eq(R.zadd("rc:z", [[1.5, "m"]]), 1, "ZADD before the restart")
end

def t_reconnect
  # the first command after the node restarted: redis-rb reconnects by itself
  eq(R.get("rc"), "before", "GET after the restart")
  eq(R.set("rc2", "after"), "OK", "SET after the restart")
  eq(R.get("rc2"), "after", "GET after the restart")
  eq(R.smembers("rc:s").sort, %w[a b], "SMEMBERS after the restart")
  eq(R.hgetall("rc:h"), { "f" => "v" }, "HGETALL after the restart")
  eq(R.zrange("rc:z", 0, -1, with_scores: true), [["m", 1.5]], "ZRANGE after the restart")
end

puts "version ruby-redis #{Redis::VERSION} ruby #{RUBY_VERSION}"
%w[ping strings binary large counters multikey expiry pipeline transaction transaction_error
   transaction_abort watch errors sets hashes zsets hll types_pipeline types_transaction
   wrongtype scan reconnect_prepare].each do |name|
  check(name) { send("t_#{name}") }
end
puts "RESTART"
$stdin.gets
check("reconnect") { t_reconnect }
puts "DONE"
