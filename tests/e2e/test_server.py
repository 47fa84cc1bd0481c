"""Connection and server commands: QUIT, HELLO, AUTH/requirepass, CLIENT,
COMMAND (COUNT INFO DOCS, and redis-cli's help built from DOCS), CONFIG
(GET SET RESETSTAT), INFO sections, SHUTDOWN; python3-redis as a user's
client. Error texts are checked against a real Redis 7.0 where it has the
same command."""
import os
import pty
import select
import subprocess
import time
import unittest

import redis

from harness import RedisOracle, RingKV, encode, wait_for
from test_commands import SAME, SYNTAX, OracleCase, arity


def render_arg(arg):
    """redis-cli 7.0's cliAddArgument: one COMMAND DOCS argument -> hint text."""
    typ = arg["type"].decode()
    name = arg.get("name", b"").decode()
    token = arg.get("token", b"").decode()
    flags = arg.get("flags", [])
    if typ in ("key", "string", "integer", "double", "pattern", "unix-time", "token"):
        rep = name
    elif typ == "oneof":
        rep = "|".join(render_arg(a) for a in arg["arguments"])
    elif typ == "block":
        rep = " ".join(render_arg(a) for a in arg["arguments"])
    elif typ == "pure-token":
        rep = ""
    else:
        raise AssertionError("argument %r has unknown type %r" % (name, typ))
    tp = token + " " if token and typ != "pure-token" else token
    s = ("[" if "+optional" in flags else "") + tp + rep
    if "+multiple" in flags:
        s += " [" + (tp if "+multiple_token" in flags else "") + rep + " ...]"
    if "+optional" in flags:
        s += "]"
    return s


def docs_hint(docs):
    return " ".join(render_arg(a) for a in docs.get("arguments", []))


class ConnectionCommands(OracleCase):
    def test_quit(self):
        for srv in (self.rk, self.ro):
            with srv.raw() as c:
                c.send(encode("SET", "q", "1") + encode("QUIT") + encode("SET", "q", "2"))
                self.assertEqual(c.read_reply(), "+OK")
                self.assertEqual(c.read_reply(), "+OK")
                self.assertTrue(c.closed_by_peer(5), srv.name)
        self.assertEqual(self.a.cmd("GET", "q"), b"1")  # nothing after QUIT ran

    def test_hello(self):
        self.run_script([
            ("HELLO 4", "-NOPROTO unsupported protocol version"),
            ("HELLO 1", "-NOPROTO unsupported protocol version"),
            ("HELLO abc", "-ERR Protocol version is not an integer or out of range"),
            ("HELLO 2 FOO", "-ERR Syntax error in HELLO option 'FOO'"),
            ("HELLO 3 AUTH", "-ERR Syntax error in HELLO option 'AUTH'"),
            ("HELLO 2 SETNAME 'a b'",
             "-ERR Client names cannot contain spaces, newlines or special characters."),
        ])
        r = self.a.cmd("HELLO", "2", "SETNAME", "myname")
        self.assertIsInstance(r, list)
        d = dict(zip(r[::2], r[1::2]))
        self.assertEqual(d[b"proto"], 2)
        self.assertEqual(d[b"server"], b"redis")
        self.assertEqual(self.a.cmd("CLIENT", "GETNAME"), b"myname")
        r = self.a.cmd("HELLO")
        self.assertEqual(dict(zip(r[::2], r[1::2]))[b"proto"], 2)

    def test_client_subcommands(self):
        self.run_script([
            ("CLIENT GETNAME", None),
            ("CLIENT SETNAME 'a b'",
             "-ERR Client names cannot contain spaces, newlines or special characters."),
            ("CLIENT SETNAME conn1", "+OK"),
            ("CLIENT GETNAME", b"conn1"),
            ("CLIENT SETNAME ''", "+OK"),
            ("CLIENT GETNAME", None),
            ("CLIENT FOO", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP."),
            ("client foo", "-ERR unknown subcommand 'foo'. Try CLIENT HELP."),
            ("CLIENT ID x", "-ERR wrong number of arguments for 'client|id' command"),
            ("CLIENT GETNAME x", "-ERR wrong number of arguments for 'client|getname' command"),
            ("CLIENT SETNAME", "-ERR wrong number of arguments for 'client|setname' command"),
            ("CLIENT INFO x", "-ERR wrong number of arguments for 'client|info' command"),
            ("CLIENT KILL", "-ERR wrong number of arguments for 'client|kill' command"),
            ("CLIENT KILL 1.2.3.4:5", "-ERR No such client"),
            ("CLIENT KILL ID 99999", 0),
            ("CLIENT LIST TYPE foo", "-ERR Unknown client type 'foo'"),
            ("CLIENT LIST x", SYNTAX),
            ("CLIENT LIST ID abc", "-ERR Invalid client ID"),
            ("CLIENT", arity("client")),
        ])
        c = self.a
        cid = c.cmd("CLIENT", "ID")
        self.assertIsInstance(cid, int)
        self.assertEqual(c.cmd("CLIENT", "SETNAME", "e2e-conn"), "+OK")
        # CLIENT SETINFO (Redis 7.2; clients send it on connect)
        self.assertEqual(c.cmd("CLIENT", "SETINFO", "LIB-NAME", "e2e"), "+OK")
        self.assertEqual(c.cmd("CLIENT", "SETINFO", "lib-ver", "1.2.3"), "+OK")
        self.assertEqual(str(c.cmd("CLIENT", "SETINFO", "foo", "bar")), "ERR Unrecognized option 'foo'")
        self.assertEqual(str(c.cmd("CLIENT", "SETINFO", "lib-name", "a b")),
                         "ERR lib-name cannot contain spaces, newlines or special characters.")
        info = c.cmd("CLIENT", "INFO").decode()
        fields = dict(kv.split("=", 1) for kv in info.strip().split(" "))
        self.assertEqual(fields["id"], str(cid))
        self.assertEqual(fields["name"], "e2e-conn")
        self.assertEqual(fields["lib-name"], "e2e")
        self.assertEqual(fields["lib-ver"], "1.2.3")
        self.assertEqual(fields["db"], "0")
        self.assertEqual(fields["resp"], "2")
        self.assertTrue(fields["addr"].startswith("127.0.0.1:"))
        with self.rk.raw() as other:
            other.cmd("SELECT", "5")
            other.cmd("CLIENT", "SETNAME", "second")
            oid = other.cmd("CLIENT", "ID")
            self.assertNotEqual(oid, cid)
            lines = c.cmd("CLIENT", "LIST").decode().strip().split("\n")
            byid = {l.split(" ")[0]: l for l in lines}
            self.assertIn("id=%d" % cid, byid)
            self.assertIn("id=%d" % oid, byid)
            self.assertIn(" name=second ", byid["id=%d" % oid])
            self.assertIn(" db=5 ", byid["id=%d" % oid])
            one = c.cmd("CLIENT", "LIST", "ID", str(oid)).decode().strip().split("\n")
            self.assertEqual(len(one), 1)
            self.assertTrue(one[0].startswith("id=%d " % oid))
            self.assertEqual(c.cmd("CLIENT", "KILL", "ID", str(oid)), 1)
            self.assertTrue(other.closed_by_peer(5))
        # python3-redis as a user's client
        r = self.rk.client(single_connection_client=True)
        try:
            self.assertTrue(r.client_setname("pyclient"))
            self.assertIn(r.client_getname(), (b"pyclient", "pyclient"))
            self.assertIsInstance(r.client_id(), int)
            self.assertTrue(any(cl["name"] == "pyclient" for cl in r.client_list()))
        finally:
            r.close()

    def test_command_count_info_docs(self):
        c = self.a
        names = [n.decode() for n in c.cmd("COMMAND", "LIST")]
        self.assertEqual(c.cmd("COMMAND", "COUNT"), len(names))
        for must in ("get", "set", "getex", "lcs", "copy", "scan", "hello", "vget", "vset"):
            self.assertIn(must, names)
        self.assertEqual(len(c.cmd("COMMAND")), len(names))
        # COMMAND INFO: the fields Redis gives (name arity flags first last step ...)
        problems = []
        for name in names:
            x, y = c.cmd("COMMAND", "INFO", name)[0], self.b.cmd("COMMAND", "INFO", name)[0]
            if y is None:
                continue  # ringkv's own (VGET, VSET, RING, ...)
            # name, arity, first key, last key, step (the flags differ: no denyoom etc.)
            x, y = x[:2] + x[3:6], y[:2] + y[3:6]
            if x != y:
                problems.append("%s: ringkv %r redis %r" % (name, x, y))
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertEqual(c.cmd("COMMAND", "INFO", "get", "nosuch"),
                         [c.cmd("COMMAND", "INFO", "get")[0], None])
        self.run_script([
            ("COMMAND FOO", "-ERR unknown subcommand 'FOO'. Try COMMAND HELP."),
            ("COMMAND COUNT x", "-ERR wrong number of arguments for 'command|count' command"),
            ("COMMAND GETKEYS", "-ERR wrong number of arguments for 'command|getkeys' command"),
            ("COMMAND GETKEYS get", "-ERR wrong number of arguments for 'command|getkeys' command"),
            ("COMMAND GETKEYS set a b", [b"a"]),
            ("COMMAND GETKEYS mset a 1 b 2", [b"a", b"b"]),
            ("COMMAND GETKEYS foo bar", "-ERR Invalid command specified"),
            ("COMMAND GETKEYS ping x", "-ERR The command has no key arguments"),
            ("COMMAND LIST FILTERBY foo", SYNTAX),
        ])

    def test_command_docs_make_redis_cli_hints(self):
        """redis-cli builds its hints from COMMAND DOCS: the reply must be a
        well-formed map, and render to the same synopsis as Redis's."""
        c = self.a
        c.cmd("HELLO", "3")
        self.b.cmd("HELLO", "3")
        docs = c.cmd("COMMAND", "DOCS")
        self.assertIsInstance(docs, dict)
        self.assertEqual(len(docs), c.cmd("COMMAND", "COUNT"))
        problems = []
        for name, d in sorted(docs.items()):
            for field in ("summary", "since", "group"):
                if not isinstance(d.get(field), bytes) or not d[field]:
                    problems.append("%s: no %s" % (name, field))
            try:
                hint = docs_hint(d)
            except Exception as e:  # malformed argument tree
                problems.append("%s: %s" % (name, e))
                continue
            if name in ("client", "command", "config", "function", "slowlog"):
                continue  # containers: Redis documents their subcommands
            ref = self.b.cmd("COMMAND", "DOCS", name).get(name)
            if ref is None:
                continue  # ringkv's own (VGET, VSET, RING, ...)
            if hint != docs_hint(ref):
                problems.append("%s hint:\n    ringkv: %s\n    redis:  %s" % (name, hint, docs_hint(ref)))
            for field in ("summary", "since", "group"):
                # WATCH/UNWATCH say what ringkv does with them, deliberately
                if field == "summary" and name in ("watch", "unwatch"):
                    continue
                if d[field] != ref[field]:
                    problems.append("%s %s: %r vs %r" % (name, field, d[field], ref[field]))
        self.assertEqual(problems, [], "\n".join(problems))
        s = docs["set"]
        self.assertEqual(s["summary"], b"Set the string value of a key")
        self.assertEqual(s["since"], b"1.0.0")
        self.assertEqual(s["group"], b"string")
        self.assertEqual(docs_hint(s), "key value [NX|XX] [GET] [EX seconds|PX milliseconds|"
                                       "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]")
        self.assertEqual(docs_hint(docs["mset"]), "key value [key value ...]")
        self.assertEqual(list(c.cmd("COMMAND", "DOCS", "get", "nosuch").keys()), ["get"])

    def test_redis_cli_help_in_a_terminal(self):
        """What a person sees typing `help set` in interactive redis-cli."""
        m, s = pty.openpty()
        env = dict(os.environ, TERM="dumb", HOME=self.rk.dir)
        p = subprocess.Popen(["redis-cli", "-p", str(self.rk.port)], stdin=s, stdout=s, stderr=s,
                             env=env, close_fds=True)
        os.close(s)
        out = b""

        def drain(until, timeout=10):
            nonlocal out
            end = time.time() + timeout
            while time.time() < end and until not in out:
                r, _, _ = select.select([m], [], [], 0.1)
                if r:
                    try:
                        out += os.read(m, 65536)
                    except OSError:
                        return
        try:
            drain(b"> ")
            os.write(m, b"help mset\r")
            drain(b"group:")
            os.write(m, b"set clikey hello\r")
            drain(b"OK")
            os.write(m, b"get clikey\r")
            drain(b'"hello"')
        finally:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            os.close(m)
        text = out.decode("utf-8", "replace")
        self.assertIn("MSET", text)
        self.assertIn("key value [key value ...]", text)
        self.assertIn("Set multiple keys to multiple values", text)
        self.assertIn('"hello"', text)
        self.assertNotIn("Unknown type", text)

    def test_config_get_set_resetstat(self):
        self.run_script([
            ("CONFIG GET maxclients", [b"maxclients", b"10000"]),
            ("CONFIG GET timeout", [b"timeout", b"0"]),
            ("CONFIG GET nosuch", []),
            ("CONFIG GET", "-ERR wrong number of arguments for 'config|get' command"),
            ("CONFIG SET", "-ERR wrong number of arguments for 'config|set' command"),
            ("CONFIG SET timeout", "-ERR wrong number of arguments for 'config|set' command"),
            ("CONFIG SET timeout 0 maxclients", SYNTAX),
            ("CONFIG SET nosuch 1",
             "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
            ("CONFIG SET timeout abc",
             "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
            ("CONFIG SET timeout 0 timeout 1",
             "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"),
            ("CONFIG SET daemonize yes",
             "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
            ("CONFIG FOO", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP."),
            ("CONFIG RESETSTAT x", "-ERR wrong number of arguments for 'config|resetstat' command"),
            ("CONFIG", arity("config")),
            # all or nothing
            ("CONFIG SET timeout 7 maxclients abc", SAME),
            ("CONFIG GET timeout", [b"timeout", b"0"]),
            ("CONFIG SET timeout 7 maxclients 500", "+OK"),
            ("CONFIG GET timeout", [b"timeout", b"7"]),
            ("CONFIG GET maxclients", [b"maxclients", b"500"]),
            ("CONFIG SET timeout 0 maxclients 10000", "+OK"),
            ("CONFIG GET save", [b"save", b""]),
            ("CONFIG GET appendonly", [b"appendonly", b"no"]),
        ])
        c = self.a
        got = c.cmd("CONFIG", "GET", "max*")
        d = dict(zip(got[::2], got[1::2]))
        self.assertIn(b"maxclients", d)
        self.assertEqual(c.cmd("CONFIG", "GET", "proto-max-bulk-len"),
                         [b"proto-max-bulk-len", b"536870912"])
        self.assertEqual(c.cmd("CONFIG", "GET", "client-output-buffer-limit")[0],
                         b"client-output-buffer-limit")
        # RESETSTAT: counters a user reads in INFO go back to zero
        c.cmd("SET", "k", "v")
        c.cmd("GET", "k")
        c.cmd("GET", "nokey")
        c.cmd("GET")
        stats = self.info(c, "stats")
        self.assertGreater(int(stats["keyspace_hits"]), 0)
        self.assertGreater(int(stats["total_error_replies"]), 0)
        self.assertEqual(c.cmd("CONFIG", "RESETSTAT"), "+OK")
        stats = self.info(c, "stats")
        self.assertEqual(stats["keyspace_hits"], "0")
        self.assertEqual(stats["keyspace_misses"], "0")
        self.assertEqual(stats["total_error_replies"], "0")
        cs = self.info(c, "commandstats")
        self.assertNotIn("cmdstat_get", cs)
        self.assertEqual(c.cmd("GET", "k"), b"v")  # data untouched

    @staticmethod
    def info(c, *sections):
        text = c.cmd("INFO", *sections).decode()
        out = {}
        for line in text.split("\r\n"):
            if line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def test_info_sections(self):
        c = self.a
        c.cmd("SET", "a", "1")
        c.cmd("SETEX", "b", "100", "1")
        c.cmd("SELECT", "2")
        c.cmd("SET", "c", "1")
        c.cmd("SELECT", "0")
        c.cmd("GET", "a")
        c.cmd("GET", "a")
        c.cmd("GET", "missing")
        c.cmd("GET")
        text = c.cmd("INFO").decode()
        for header in ("# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"):
            self.assertIn(header + "\r\n", text)
        server = self.info(c, "server")
        self.assertEqual(server["redis_version"], "7.0.15")
        self.assertEqual(server["process_id"], str(self.rk.pid))
        self.assertEqual(server["tcp_port"], str(self.rk.port))
        self.assertGreaterEqual(int(server["uptime_in_seconds"]), 0)
        clients = self.info(c, "clients")
        self.assertGreaterEqual(int(clients["connected_clients"]), 1)
        with self.rk.raw() as other:
            other.cmd("PING")
            self.assertEqual(int(self.info(c, "clients")["connected_clients"]),
                             int(clients["connected_clients"]) + 1)
        memory = self.info(c, "memory")
        self.assertGreater(int(memory["used_memory"]), 0)
        self.assertGreater(int(memory["used_memory_rss"]), 0)
        stats = self.info(c, "stats")
        for k in ("total_connections_received", "total_commands_processed", "keyspace_hits",
                  "keyspace_misses", "expired_keys", "client_output_buffer_limit_disconnections",
                  "rejected_connections"):
            self.assertIn(k, stats)
        self.assertGreaterEqual(int(stats["keyspace_hits"]), 2)
        self.assertGreaterEqual(int(stats["keyspace_misses"]), 1)
        cs = self.info(c, "commandstats")
        get = dict(kv.split("=") for kv in cs["cmdstat_get"].split(","))
        self.assertGreaterEqual(int(get["calls"]), 3)
        self.assertGreaterEqual(int(get["rejected_calls"]), 1)
        ks = self.info(c, "keyspace")
        self.assertTrue(ks["db0"].startswith("keys=2,expires=1,"), ks)
        self.assertTrue(ks["db2"].startswith("keys=1,expires=0,"), ks)
        self.assertNotIn("db1", ks)
        storage = self.info(c, "storage")
        self.assertEqual(storage["storage_engine"], "rocksdb")
        self.assertIn("wal_fsync", storage)
        # several sections at once, case-insensitive
        both = c.cmd("INFO", "SERVER", "keyspace").decode()
        self.assertIn("# Server", both)
        self.assertIn("# Keyspace", both)
        self.assertNotIn("# Stats", both)
        self.assertEqual(c.cmd("INFO", "nosuchsection"), b"")
        # python3-redis parses it
        r = self.rk.client()
        try:
            self.assertEqual(r.info("keyspace")["db0"]["keys"], 2)
            self.assertEqual(r.info()["redis_version"], "7.0.15")
        finally:
            r.close()


class Auth(unittest.TestCase):
    """requirepass: NOAUTH before AUTH, WRONGPASS for a bad password."""

    @classmethod
    def setUpClass(cls):
        cls.rk = RingKV(["--requirepass", "s3cret"])
        cls.ro = RedisOracle()
        try:
            cls.rk.start()
            cls.ro.start()
        except Exception:
            cls.rk.close()
            cls.ro.close()
            raise
        with cls.ro.raw() as c:
            assert c.cmd("CONFIG", "SET", "requirepass", "s3cret") == "+OK"

    @classmethod
    def tearDownClass(cls):
        cls.rk.close()
        cls.ro.close()

    def test_noauth_then_auth(self):
        NOAUTH = "NOAUTH Authentication required."
        WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
        for srv in (self.rk, self.ro):
            with srv.raw() as c:
                for args in (["GET", "a"], ["SET", "a", "b"], ["PING"], ["CLIENT", "ID"],
                             ["CONFIG", "GET", "requirepass"], ["SELECT", "1"], ["KEYS", "*"]):
                    self.assertEqual(str(c.cmd(*args)), NOAUTH, (srv.name, args))
                self.assertTrue(str(c.cmd("HELLO", "3")).startswith(
                    "NOAUTH HELLO must be called with the client already authenticated"))
                self.assertEqual(str(c.cmd("AUTH", "wrong")), WRONGPASS, srv.name)
                self.assertEqual(str(c.cmd("AUTH", "default", "wrong")), WRONGPASS, srv.name)
                self.assertEqual(str(c.cmd("AUTH", "someone", "s3cret")), WRONGPASS, srv.name)
                self.assertEqual(str(c.cmd("AUTH", "a", "b", "c")), "ERR syntax error")
                self.assertEqual(str(c.cmd("GET", "a")), NOAUTH)
                self.assertEqual(c.cmd("AUTH", "s3cret"), "+OK")
                self.assertEqual(c.cmd("SET", "a", "b"), "+OK")
                self.assertEqual(c.cmd("GET", "a"), b"b")
            with srv.raw() as c:
                self.assertEqual(c.cmd("AUTH", "default", "s3cret"), "+OK")
                self.assertEqual(c.cmd("GET", "a"), b"b")
            with srv.raw() as c:
                hello = c.cmd("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "x")
                self.assertEqual(hello["proto"], 3)
                self.assertEqual(c.cmd("CLIENT", "GETNAME"), b"x")
                self.assertEqual(c.cmd("GET", "a"), b"b")
            with srv.raw() as c:
                self.assertEqual(str(c.cmd("HELLO", "3", "AUTH", "default", "bad")), WRONGPASS)
                self.assertEqual(str(c.cmd("GET", "a")), NOAUTH)
                # an unauthenticated client may not send big requests
                c.send(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$100000\r\n")
                self.assertEqual(str(c.read_reply()),
                                 "ERR Protocol error: unauthenticated bulk length")
                self.assertTrue(c.closed_by_peer(5))
            with srv.raw() as c:
                c.send(encode(*(["MSET"] + ["a"] * 10)))
                self.assertEqual(str(c.read_reply()),
                                 "ERR Protocol error: unauthenticated multibulk length")
                self.assertTrue(c.closed_by_peer(5))
        # SHUTDOWN needs authentication too
        with self.rk.raw() as c:
            self.assertEqual(str(c.cmd("SHUTDOWN")), NOAUTH)
        self.assertTrue(self.rk.alive())
        # python3-redis
        with self.assertRaises(redis.exceptions.ResponseError) as cm:
            self.rk.client(password="wrong").ping()
        self.assertIn("WRONGPASS", str(cm.exception))
        r = self.rk.client(password="s3cret")
        try:
            self.assertTrue(r.ping())
            self.assertEqual(r.get("a"), b"b")
        finally:
            r.close()

    def test_requirepass_set_and_cleared_at_runtime(self):
        for srv in (_Fresh(), _FreshOracle()):
            with srv as s, s.raw() as admin:
                self.assertEqual(admin.cmd("CONFIG", "SET", "requirepass", "pw"), "+OK")
                self.assertEqual(admin.cmd("PING"), "+PONG")  # connected before: still in
                with s.raw() as late:
                    self.assertEqual(str(late.cmd("PING")), "NOAUTH Authentication required.")
                    self.assertEqual(admin.cmd("CONFIG", "SET", "requirepass", ""), "+OK")
                    # no password any more: the waiting client may go on
                    self.assertEqual(late.cmd("PING"), "+PONG", s.name)
                with s.raw() as fresh:
                    self.assertEqual(fresh.cmd("PING"), "+PONG")

    def test_auth_without_requirepass(self):
        with _Fresh() as rk:
            with rk.raw() as c:
                self.assertEqual(
                    str(c.cmd("AUTH", "x")),
                    "ERR AUTH <password> called without any password configured for the default "
                    "user. Are you sure your configuration is correct?")
                self.assertEqual(c.cmd("PING"), "+PONG")


class _Fresh:
    """A throw-away ringkv for one `with` block."""

    def __init__(self, args=None):
        self.rk = RingKV(args)

    def __enter__(self):
        try:
            return self.rk.start()
        except Exception:
            self.rk.close()
            raise

    def __exit__(self, *a):
        self.rk.close()


class _FreshOracle(_Fresh):
    def __init__(self):
        self.rk = RedisOracle()


class KeyCounts(unittest.TestCase):
    def test_dbsize_after_a_burst_of_writes_catches_up_by_itself(self):
        """A write only marks its bucket; the buckets are counted again by the
        cron and, for at most 100 ms, by DBSIZE itself. After 150,000 writes
        DBSIZE answers at once with what is counted, never more than was
        written, and is exact again a few seconds later with nobody asking
        (INFO stats keyspace_uncounted_buckets back to 0)."""
        with _Fresh(["--replication", "1"]) as rk:
            r = rk.client()
            self.assertEqual(r.dbsize(), 0)  # every partition counted: empty
            # FLUSHDB of another db while db 0's new keys are not counted
            # yet (same pipeline: no cron pass between): it must know exactly
            # that db 0 holds keys, or it deletes everything (it chooses
            # between the two ways by that)
            with rk.raw() as c:
                c.send(encode("SET", "fresh", "f") + encode("SELECT", 3) +
                       encode("SET", "other", "x") + encode("FLUSHDB") + encode("SELECT", 0) +
                       encode("GET", "fresh"))
                self.assertEqual([c.read_reply() for _ in range(6)],
                                 ["+OK", "+OK", "+OK", "+OK", "+OK", b"f"])
            n = 150000
            for start in range(0, n, 10000):
                p = r.pipeline(transaction=False)
                for i in range(start, start + 10000):
                    p.set("burst:%d" % i, "v")
                p.execute()
            first = r.dbsize()
            self.assertGreater(first, 0)
            self.assertLessEqual(first, n + 1)
            uncounted = lambda: int(r.info("stats")["keyspace_uncounted_buckets"])
            self.assertTrue(wait_for(lambda: uncounted() == 0, 60),
                            "the cron counted every bucket (left: %d)" % uncounted())
            self.assertEqual(r.dbsize(), n + 1)  # and "fresh"
            self.assertEqual(r.info("keyspace")["db0"]["keys"], n + 1)
            print("\n    DBSIZE right after %d writes: %d; then %d" % (n, first, r.dbsize()))


class Shutdown(unittest.TestCase):
    def test_shutdown_command_stops_the_server_and_keeps_data(self):
        rk = RingKV()
        try:
            rk.start()
            with rk.raw() as c:
                self.assertEqual(c.cmd("SET", "k", "v"), "+OK")
                self.assertEqual(str(c.cmd("SHUTDOWN", "FOO")), "ERR syntax error")
                self.assertEqual(str(c.cmd("SHUTDOWN", "ABORT")), "ERR No shutdown in progress.")
                self.assertTrue(rk.alive())
                c.send(encode("SHUTDOWN"))
                self.assertTrue(c.closed_by_peer(15))
            self.assertEqual(rk.wait_exit(15), 0)
            rk.start(port=rk.port)
            with rk.raw() as c:
                self.assertEqual(c.cmd("GET", "k"), b"v")
            # python3-redis: shutdown() raises ConnectionError when the server
            # goes away without a reply, as with Redis
            r = rk.client()
            try:
                r.shutdown(nosave=True)
            except redis.exceptions.ConnectionError:
                pass
            finally:
                r.close()
            self.assertEqual(rk.wait_exit(15), 0)
            # redis-cli, as an operator types it
            rk.start(port=rk.port)
            cli = ["redis-cli", "-p", str(rk.port)]
            run = lambda *a: subprocess.run(cli + list(a), capture_output=True, text=True,
                                            timeout=20)
            self.assertEqual(run("set", "cli", "x y").stdout, "OK\n")
            self.assertEqual(run("get", "cli").stdout, "x y\n")
            self.assertEqual(run("--no-raw", "get", "cli").stdout, '"x y"\n')
            self.assertEqual(run("get").stdout.strip(),
                             "ERR wrong number of arguments for 'get' command")
            self.assertEqual(run("--no-raw", "incr", "cli").stdout.strip(),
                             "(error) ERR value is not an integer or out of range")
            self.assertEqual(run("dbsize").stdout, "2\n")
            p = run("shutdown")
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""))
            self.assertEqual(rk.wait_exit(15), 0)
        finally:
            rk.close()


if __name__ == "__main__":
    unittest.main()
