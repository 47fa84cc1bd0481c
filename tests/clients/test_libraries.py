"""The client libraries people already use, against a 3-node ringkv cluster
(replication 3): python3-redis and ruby-redis (Debian), ioredis (npm,
installed here into a temporary folder, over RESP3 -- its default -- and
RESP2), and hiredis (Debian's libhiredis-dev; a C program compiled here).

Each library runs the same checks in its own program (lib_*.{py,js,rb,c})
against one node, in its own database (SELECT n), and reports them line by
line: "ok NAME" / "FAIL NAME: why". The checks:
  ping, strings (SET/GET/APPEND/STRLEN/GETRANGE/SET NX|XX/GETDEL),
  binary (binary-safe key and value), large (1 MiB value),
  counters (INCR/INCRBY/DECR/DECRBY/INCRBYFLOAT; float steps back to an
  integer, after which INCR works again), multikey (MSET/MGET/
  EXISTS/DEL/UNLINK), expiry (SET EX/PX/EXAT, EXPIRE, TTL, PTTL, PERSIST,
  SETEX, EXPIRETIME, keys gone after expiry), pipeline (303 commands, an
  error in the middle surfaces as the library's error type in its slot),
  transaction (MULTI/EXEC replies as EXEC gives them; the library's own
  transaction API), transaction_error (a failing command inside EXEC: the
  library's error, the commands after it still ran), transaction_abort
  (a command refused while queueing: EXECABORT, nothing ran), watch (WATCH
  answers an error of the library's type; the connection stays usable),
  errors (INCR on a non-integer, an unknown command (LPUSH: ringkv has no
  lists), wrong arity, invalid expire: the library's error type; the
  connection stays usable), then the data types through each library's own
  API and reply conversions (Python sets and dicts, Ruby hashes and
  [member, score] pairs, ioredis objects...):
  sets (SADD/SREM/SMEMBERS/SISMEMBER/SCARD/SINTER/SUNIONSTORE, binary and
  empty members, the key gone with its last member, the library's SSCAN
  iterator: every member once), hashes (HSET of a mapping, HGET, HGETALL,
  HINCRBY/HINCRBYFLOAT, HDEL, HMGET, HEXISTS, the library's HSCAN iterator:
  every field once with its value), zsets (ZADD of scores, ZRANGE
  WITHSCORES, ZRANGEBYSCORE with an exclusive bound, ZINCRBY, ZSCORE,
  ZREVRANK, ZREM, ZPOPMIN with and without a count, ZADD XX CH, an
  infinite score, ZSCAN), hll (PFADD/PFCOUNT/PFMERGE; 20000 elements
  counted within 3%), types_pipeline (one pipeline mixing the types and
  counters, a WRONGTYPE in the middle in its slot or raised as the
  library's error, the commands around it ran), types_transaction (MULTI/
  EXEC mixing the types, replies converted as the library converts them; a
  WRONGTYPE inside EXEC; a command refused while queueing aborts it all),
  wrongtype (each type's commands on each other type: the library's error
  type with Redis's exact text, "Key is not a valid HyperLogLog string
  value." for PFADD on a string; nothing written, TYPE unchanged), scan
  (FLUSHDB, 400 keys, the library's SCAN iterator with several COUNTs and
  a MATCH: every key exactly once; a raw cursor loop ends at 0; DBSIZE;
  KEYS), then "RESTART": this test restarts the node the client talks to
  (SIGTERM or kill -9) and waits until the cluster is up again, and
  reconnect checks that the client's next command works (libraries that
  reconnect by themselves: the very next command; hiredis: the next
  command reports the lost connection, redisReconnect(), then it works)
  and still reads what was written before the restart (a string, a set, a
  hash and a sorted set)."""
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import ringtest
from testprocs import stop_proc, track

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS = ["ping", "strings", "binary", "large", "counters", "multikey", "expiry", "pipeline",
          "transaction", "transaction_error", "transaction_abort", "watch", "errors", "sets",
          "hashes", "zsets", "hll", "types_pipeline", "types_transaction", "wrongtype", "scan",
          "reconnect_prepare", "reconnect"]
PROGRAM_TIMEOUT = 180  # seconds for one library's whole run


class Program:
    """A client program speaking the line protocol, started and stopped by pid."""

    def __init__(self, argv, cwd=None):
        self.argv = argv
        self.proc = track(subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, text=True, bufsize=1))
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self._err),
                         daemon=True).start()

    def _err(self, line):
        if line is not None:
            self.stderr.append(line)

    @staticmethod
    def _pump(stream, put):
        for line in stream:
            put(line.rstrip("\n"))
        put(None)

    def readline(self, deadline):
        try:
            return self.lines.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            return False  # timed out

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        stop_proc(self.proc)


class LibraryTest(unittest.TestCase):
    cluster = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ringkv-clients-", dir=ringtest.TMP_PARENT)
        cls.cluster = ringtest.Cluster("clients", net=ringtest.CLIENTS_NET, first=11).start(
            3, replication=3)

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            cls.cluster.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def run_library(self, label, argv, node, restart="term", cwd=None):
        """Runs one lib_* program against node; restarts that node when the
        program asks; asserts every check passed. Returns the version line."""
        c = self.cluster
        t0 = time.time()
        prog = Program(argv, cwd=cwd)
        oks, fails, out, version = [], [], [], None
        done = False
        deadline = time.time() + PROGRAM_TIMEOUT
        try:
            while True:
                line = prog.readline(deadline)
                if line is False:
                    self.fail("%s: no progress within %ss; output so far:\n%s\nstderr:\n%s" % (
                        label, PROGRAM_TIMEOUT, "\n".join(out), "\n".join(prog.stderr[-40:])))
                if line is None:
                    break
                out.append(line)
                if line.startswith("ok "):
                    oks.append(line[3:])
                elif line.startswith("FAIL "):
                    fails.append(line[5:])
                elif line.startswith("version "):
                    version = line[8:]
                elif line == "RESTART":
                    if restart == "kill":
                        c.kill9(node)
                    else:
                        c.stop(node)
                    c.restart(node)  # and wait until every node sees every node up
                    prog.send("GO")
                elif line == "DONE":
                    done = True
            rc = prog.proc.wait(timeout=30)
        finally:
            prog.stop()
        print("\n    %s (%s) against node %d: %.1fs" % (version or label, label, node,
                                                          time.time() - t0))
        self.assertEqual(fails, [], "%s: failed checks:\n  %s\nstderr:\n%s" % (
            label, "\n  ".join(fails), "\n".join(prog.stderr[-40:])))
        self.assertTrue(done, "%s: never said DONE (exit %s); output:\n%s\nstderr:\n%s" % (
            label, rc, "\n".join(out), "\n".join(prog.stderr[-40:])))
        self.assertEqual(rc, 0, "%s exited with %s; stderr:\n%s" % (label, rc,
                                                                   "\n".join(prog.stderr[-40:])))
        self.assertEqual(sorted(oks), sorted(CHECKS), "%s: checks that did not report ok" % label)
        return version

    def ioredis_prefix(self):
        """npm install ioredis into a temporary folder (once per run)."""
        prefix = os.path.join(self.tmp, "npm")
        if os.path.isdir(os.path.join(prefix, "node_modules", "ioredis")):
            return prefix
        npm = shutil.which("npm")
        self.assertIsNotNone(npm, "npm is not installed (Node.js comes with the machine image)")
        os.makedirs(prefix, exist_ok=True)
        p = subprocess.run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund",
                            "--loglevel=error", "ioredis"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, "npm install ioredis failed:\n%s\n%s" % (p.stdout,
                                                                                  p.stderr))
        return prefix

    # -------------------------------------------------------------- tests

    def test_python_redis(self):
        self.run_library("python3-redis", ["/usr/bin/python3", "-u",
                                           os.path.join(HERE, "lib_python.py"),
                                           self.cluster.host(0), str(self.cluster.port(0)), "1"],
                         node=0, restart="term")

    def test_ioredis_resp3(self):
        prefix = self.ioredis_prefix()
        self.run_library("ioredis RESP3", ["node", os.path.join(HERE, "lib_ioredis.js"), prefix,
                                           self.cluster.host(1), str(self.cluster.port(1)), "2",
                                           "3"],
                         node=1, restart="kill")

    def test_ioredis_resp2(self):
        prefix = self.ioredis_prefix()
        self.run_library("ioredis RESP2", ["node", os.path.join(HERE, "lib_ioredis.js"), prefix,
                                           self.cluster.host(2), str(self.cluster.port(2)), "3",
                                           "2"],
                         node=2, restart="term")

    def test_ruby_redis(self):
        ruby = shutil.which("ruby")
        self.assertIsNotNone(ruby, "ruby is missing (deps/install.sh installs ruby ruby-redis)")
        self.run_library("ruby-redis", [ruby, os.path.join(HERE, "lib_ruby.rb"),
                                        self.cluster.host(2), str(self.cluster.port(2)), "4"],
                         node=2, restart="kill")

    def test_hiredis(self):
        exe = os.path.join(self.tmp, "lib_hiredis")
        p = subprocess.run(["cc", "-O1", "-g", "-Wall", "-Wextra", "-o", exe,
                            os.path.join(HERE, "lib_hiredis.c"), "-lhiredis"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, "compiling lib_hiredis.c:\n%s" % p.stderr)
        self.run_library("hiredis", [exe, self.cluster.host(0), str(self.cluster.port(0)), "5"],
                         node=0, restart="kill")


if __name__ == "__main__":
    unittest.main()
