# The ruby-redis client (Debian package ruby-redis) against a ringkv node.
#
# Usage: ruby lib_ruby.rb HOST PORT DB
# Speaks the line protocol of tests/clients/run.py: "ok NAME" /
# "FAIL NAME: why" per check, "RESTART" (then waits for a line on stdin),
# "DONE". The checks are the same in every lib_* program.
require "redis"

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
  R.del("c", "f")
  eq(R.incr("c"), 1, "INCR")
  eq(R.incrby("c", 41), 42, "INCRBY")
  eq(R.decr("c"), 41, "DECR")
  eq(R.decrby("c", 40), 1, "DECRBY")
  eq(R.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT")
  eq(R.get("c"), "1", "GET counter")
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
  require "set"
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
end

def t_reconnect
  # the first command after the node restarted: redis-rb reconnects by itself
  eq(R.get("rc"), "before", "GET after the restart")
  eq(R.set("rc2", "after"), "OK", "SET after the restart")
  eq(R.get("rc2"), "after", "GET after the restart")
end

puts "version ruby-redis #{Redis::VERSION} ruby #{RUBY_VERSION}"
%w[ping strings binary large counters multikey expiry pipeline transaction transaction_error
   transaction_abort watch errors scan reconnect_prepare].each do |name|
  check(name) { send("t_#{name}") }
end
puts "RESTART"
$stdin.gets
check("reconnect") { t_reconnect }
puts "DONE"
