"""redis-cli's interactive help and hints against ringkv.

redis-cli 7.0 builds its help and the grey hints it shows while you type
from the server's COMMAND DOCS reply, asserting on the reply's shape as it
goes (a wrong type there aborts redis-cli at start). These tests:
  - check COMMAND DOCS is well formed the way redis-cli 7.0.15 reads it
    (cliInitCommandHelpEntry / cliAddArgument), over RESP2 and RESP3;
  - compute the hint text redis-cli derives from each command's docs (the
    same algorithm) and compare it with real redis-server 7.0's, started
    here as the oracle, for every command both have;
  - run redis-cli interactively in a tmux pty, type commands and read the
    hints it shows on screen (SET, GETEX, and ringkv's own RING and
    CONSISTENCY, whose hints can only come from ringkv's COMMAND DOCS), and
    HELP SET."""
import os
import signal
import subprocess
import time
import unittest

import resp
import ringtest
from testprocs import wait_until

ARG_TYPES = {"string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
             "oneof", "block", "token"}
ARG_FLAGS = {"optional", "multiple", "multiple_token"}
# Commands whose Redis docs describe subcommands (redis-cli builds a hint
# per "CMD SUB"); compared separately.
CONTAINERS = {"client", "command", "config", "function", "slowlog", "object", "memory",
              "acl", "cluster", "latency", "module", "pubsub", "script", "xinfo", "xgroup"}
SET_HINT = ("key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
            "PXAT unix-time-milliseconds|KEEPTTL]")


def pairs(reply, what):
    """A map (RESP3) or flat key/value array (RESP2) as [(key str, Reply)]."""
    if reply.kind not in "%*":
        raise AssertionError("%s: a map or array expected, got %r" % (what, reply.kind))
    items = reply.items()
    if len(items) % 2:
        raise AssertionError("%s: odd number of elements (%d)" % (what, len(items)))
    out = []
    for i in range(0, len(items), 2):
        k = items[i]
        if k.kind != "$":
            raise AssertionError("%s: key %r is not a bulk string" % (what, k))
        out.append((k.value, items[i + 1]))
    return out


def check_arg(arg, what):
    """One argument map as cliAddArgument reads it; returns its hint text."""
    f = {}
    for k, v in pairs(arg, what):
        f[k] = v
    for k in ("name", "type"):
        if k not in f:
            raise AssertionError("%s: argument without %r: %r" % (what, k, sorted(f)))
    for k in ("name", "type", "token"):
        if k in f and f[k].kind != "$":
            raise AssertionError("%s: %r is %r, not a bulk string" % (what, k, f[k].kind))
    name, typ = f["name"].value, f["type"].value
    what = "%s/%s" % (what, name)
    if typ not in ARG_TYPES:
        raise AssertionError("%s: unknown type %r" % (what, typ))
    flags = set()
    if "flags" in f:
        fl = f["flags"]
        if fl.kind not in "*~":
            raise AssertionError("%s: flags is %r, not an array or set" % (what, fl.kind))
        for x in fl.value:
            if x.kind != "+":  # redis-cli asserts REDIS_REPLY_STATUS
                raise AssertionError("%s: flag %r is not a status reply" % (what, x))
            if x.value not in ARG_FLAGS:
                raise AssertionError("%s: unknown flag %r" % (what, x.value))
            flags.add(x.value)
    subs = []
    if typ in ("oneof", "block"):
        if "arguments" not in f or f["arguments"].kind != "*" or not f["arguments"].value:
            raise AssertionError("%s: a %s without arguments" % (what, typ))
        subs = [check_arg(a, what) for a in f["arguments"].value]
    elif "arguments" in f:
        raise AssertionError("%s: a %s with arguments" % (what, typ))
    token = f["token"].value if "token" in f else None
    if typ == "pure-token" and token is None:  # (Redis's MIGRATE has token "")
        raise AssertionError("%s: a pure-token without token" % what)
    # the hint text, as cliAddArgument builds it
    orempty = lambda s: s if s else '""'
    token_part = orempty(token) if token is not None else ""
    if typ in ("key", "string", "integer", "double", "pattern", "unix-time", "token"):
        repeat = orempty(name)
    elif typ == "oneof":
        repeat = "|".join(subs)
    elif typ == "block":
        repeat = " ".join(subs)
    else:
        repeat = ""
    if token_part and typ != "pure-token":
        token_part += " "
    s = "[" if "optional" in flags else ""
    s += token_part + repeat
    if "multiple" in flags:
        s += " [" + (token_part if "multiple_token" in flags else "") + repeat + " ...]"
    if "optional" in flags:
        s += "]"
    return s


def check_docs(reply):
    """The whole COMMAND DOCS reply as redis-cli 7.0 reads it:
    {name: (hint params, {field: Reply})}, subcommands under "cmd|sub"."""
    out = {}
    for name, doc in pairs(reply, "COMMAND DOCS"):
        fields = dict(pairs(doc, name))
        for k in ("summary", "since", "group"):
            if k not in fields:
                raise AssertionError("%s: no %r" % (name, k))
            if fields[k].kind != "$":
                raise AssertionError("%s: %r is %r, not a bulk string" % (name, k, fields[k].kind))
        params = ""
        if "arguments" in fields:
            if fields["arguments"].kind != "*":
                raise AssertionError("%s: arguments is not an array" % name)
            params = " ".join(check_arg(a, name) for a in fields["arguments"].value)
        if "subcommands" in fields:
            for sub, sdoc in pairs(fields["subcommands"], name + " subcommands"):
                if "|" not in sub:
                    raise AssertionError("%s: subcommand name %r is not cmd|sub" % (name, sub))
                sf = dict(pairs(sdoc, sub))
                for k in ("summary", "since", "group"):
                    if k not in sf or sf[k].kind != "$":
                        raise AssertionError("%s: no bulk string %r" % (sub, k))
                sparams = ""
                if "arguments" in sf:
                    sparams = " ".join(check_arg(a, sub) for a in sf["arguments"].value)
                out[sub] = (sparams, sf)
        out[name] = (params, fields)
    return out


class Tmux:
    """A private tmux server (its own socket) running one program in a pty."""

    def __init__(self, argv, width=300, height=50):
        self.sock = "ringkv-test-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000)
        self.pid = None
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-s",
                        "t", "-x", str(width), "-y", str(height), " ".join(argv)], check=True,
                       timeout=20)
        p = subprocess.run(["tmux", "-L", self.sock, "display-message", "-p", "-t", "t",
                            "#{pid}"], capture_output=True, text=True, timeout=20)
        if p.stdout.strip().isdigit():
            self.pid = int(p.stdout.strip())

    def keys(self, *keys, literal=False):
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "t"] +
                       (["-l"] if literal else []) + list(keys), check=True, timeout=20)

    def screen(self):
        return subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", "t"],
                              capture_output=True, text=True, timeout=20).stdout

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=20)
        if self.pid:  # the tmux server, by its pid, should kill-server have failed
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class RedisCliTest(unittest.TestCase):
    cluster = None
    oracle = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = ringtest.Cluster("cli", net=ringtest.CLIENTS_NET, first=21)
        try:
            cls.cluster.start(3, replication=3)
            # real redis-server 7.0, the oracle for what redis-cli shows
            cls.oracle = ringtest.RedisOracle(ringtest.CLIENTS_NET + "29").start()
            cls.ohost, cls.oport = cls.oracle.host, cls.oracle.port
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.oracle:
            cls.oracle.close()
        if cls.cluster:
            cls.cluster.close()

    def docs(self, host, port, proto=2):
        c = resp.Conn(host, port)
        try:
            if proto == 3:
                self.assertEqual(c.call("HELLO", "3").kind, "%", "HELLO 3 answers a map")
            return c.call("COMMAND", "DOCS"), c
        except Exception:
            c.close()
            raise

    # ------------------------------------------------------------- COMMAND DOCS

    def test_command_docs_well_formed(self):
        h, p = self.cluster.host(0), self.cluster.port(0)
        for proto in (2, 3):
            with self.subTest(proto=proto):
                reply, c = self.docs(h, p, proto)
                try:
                    self.assertEqual(reply.kind, "%" if proto == 3 else "*")
                    docs = check_docs(reply)
                    listed = {x.value for x in c.call("COMMAND", "LIST").value}
                    self.assertEqual({n for n in docs if "|" not in n}, listed,
                                     "COMMAND DOCS covers exactly the commands of COMMAND LIST")
                    one = c.call("COMMAND", "DOCS", "set")
                    self.assertEqual([k for k, _ in pairs(one, "DOCS set")], ["set"])
                    self.assertEqual(check_docs(one)["set"][0], SET_HINT)
                    none = c.call("COMMAND", "DOCS", "nosuchcommand")
                    self.assertEqual(none.items(), [], "DOCS of an unknown command is empty")
                finally:
                    c.close()

    def test_hint_texts_match_redis(self):
        """For every command both have (containers aside), the hint
        redis-cli derives from ringkv's docs is the one it derives from
        Redis 7.0's."""
        rk, c1 = self.docs(self.cluster.host(0), self.cluster.port(0))
        rs, c2 = self.docs(self.ohost, self.oport)
        c1.close()
        c2.close()
        rk, rs = check_docs(rk), check_docs(rs)
        common = sorted(n for n in set(rk) & set(rs) - CONTAINERS if "|" not in n)
        self.assertGreater(len(common), 40, common)
        diffs = ["%s:\n    ringkv: %s\n    redis:  %s" % (n, rk[n][0], rs[n][0])
                 for n in common if rk[n][0] != rs[n][0]]
        self.assertEqual(diffs, [], "hints that differ from Redis 7.0:\n" + "\n".join(diffs))
        for n in common:  # and the same group (HELP @string lists them)
            self.assertEqual(rk[n][1]["group"].value, rs[n][1]["group"].value, n)
        self.assertEqual(rk["set"][0], SET_HINT)
        # ringkv's own commands have hints too
        self.assertEqual(rk["consistency"][0], "[READ level] [WRITE level]")
        self.assertEqual(rk["vget"][0], "key")
        self.assertEqual(rk["vset"][0], "key context value")
        self.assertTrue(rk["ring"][0], "RING has a hint")

    def test_container_subcommand_docs(self):
        """Container commands list their subcommands' docs as "cmd|sub", so
        redis-cli hints "CLIENT SETNAME connection-name"; for every
        subcommand both have, the hint is Redis 7.0's; RING's subcommands
        have their own."""
        rk, c1 = self.docs(self.cluster.host(0), self.cluster.port(0))
        rs, c2 = self.docs(self.ohost, self.oport)
        c1.close()
        c2.close()
        rk, rs = check_docs(rk), check_docs(rs)
        missing = [n for n in sorted(set(rk) & CONTAINERS | {"ring"})
                   if "subcommands" not in rk[n][1]]
        self.assertEqual(missing, [], "container commands without subcommand docs")
        common = sorted(n for n in set(rk) & set(rs) if "|" in n)
        self.assertGreater(len(common), 15, common)
        # CLIENT LIST/KILL and COMMAND LIST take a subset of Redis's
        # filters; FUNCTION LIST has no functions to filter
        diffs = ["%s:\n    ringkv: %s\n    redis:  %s" % (n, rk[n][0], rs[n][0])
                 for n in common if rk[n][0] != rs[n][0] and n not in
                 ("client|list", "client|kill", "command|list", "function|list")]
        self.assertEqual(diffs, [], "subcommand hints that differ from Redis 7.0:\n" +
                         "\n".join(diffs))
        self.assertEqual(rk["client|setname"][0], "connection-name")
        self.assertEqual(rk["config|get"][0], "parameter [parameter ...]")
        self.assertEqual(rk["ring|owners"][0], "key")
        self.assertEqual(rk["ring|repair"][0], "[ASYNC]")

    # ---------------------------------------------------------- redis-cli in tmux

    def _prompt_line(self, t, prompt):
        """The last line showing the prompt (tmux drops trailing spaces, so
        an empty prompt line is the prompt without its final space)."""
        lines = [l for l in t.screen().splitlines() if l.startswith(prompt.rstrip())]
        return lines[-1] if lines else None

    def _type_and_read(self, t, prompt, typed, timeout=10):
        """Types typed at an empty prompt; returns what follows it on the line
        (the hint), once the line is stable."""
        t.keys("C-u")
        wait_until(lambda: (self._prompt_line(t, prompt) or "x").rstrip() ==
                               prompt.rstrip(), timeout, "an empty prompt")
        t.keys(typed, literal=True)
        last = [None]

        def stable():
            line = self._prompt_line(t, prompt)
            ok = line is not None and line.startswith(prompt + typed) and line == last[0]
            last[0] = line
            return ok

        wait_until(stable, timeout, "redis-cli to echo %r" % typed, interval=0.1)
        return last[0][len(prompt + typed):].rstrip()

    def _cli(self, host, port):
        t = Tmux(["redis-cli", "-h", host, "-p", str(port)])
        self.addCleanup(t.close)
        prompt = "%s:%d> " % (host, port)
        wait_until(lambda: self._prompt_line(t, prompt) is not None, 20,
                               "redis-cli's prompt; screen:\n%s" % t.screen())
        return t, prompt

    def test_hints_in_interactive_redis_cli(self):
        h, p = self.cluster.host(0), self.cluster.port(0)
        t, prompt = self._cli(h, p)
        self.assertEqual(self._type_and_read(t, prompt, "SET "), SET_HINT)
        self.assertEqual(self._type_and_read(t, prompt, "set mykey "),
                         "value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                         "PXAT unix-time-milliseconds|KEEPTTL]")
        self.assertEqual(self._type_and_read(t, prompt, "GETEX k"),
                         " [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                         "PXAT unix-time-milliseconds|PERSIST]")
        self.assertEqual(self._type_and_read(t, prompt, "MSET "), "key value [key value ...]")
        # ringkv's own commands: these hints can only come from its COMMAND DOCS
        self.assertEqual(self._type_and_read(t, prompt, "CONSISTENCY "),
                         "[READ level] [WRITE level]")
        self.assertEqual(self._type_and_read(t, prompt, "VSET "), "key context value")
        self.assertTrue(self._type_and_read(t, prompt, "RING "), "RING shows a hint")
        # subcommands: the hint comes from the "subcommands" docs
        self.assertEqual(self._type_and_read(t, prompt, "CLIENT SETNAME "), "connection-name")
        self.assertEqual(self._type_and_read(t, prompt, "RING OWNERS "), "key")
        # HELP SET prints the docs' summary, since and group
        t.keys("C-u")
        t.keys("HELP SET", literal=True)
        t.keys("Enter")
        screen = wait_until(
            lambda: (lambda s: s if "group:" in s else None)(t.screen()), 10,
            "HELP SET's output")
        self.assertIn("SET " + SET_HINT, screen)
        self.assertIn("summary: Set the string value of a key", screen)
        self.assertIn("since: 1.0.0", screen)
        self.assertIn("group: string", screen)
        # and redis-cli is still alive and working (a malformed docs reply
        # aborts it on an assert)
        t.keys("C-u")
        t.keys("SET hintkey 42", literal=True)
        t.keys("Enter")
        wait_until(lambda: "OK" in t.screen(), 10, "SET's OK")
        self.assertEqual(self.cluster.cmd(0, "GET", "hintkey"), "42")

    def test_same_hints_as_redis_server_on_screen(self):
        """The same keystrokes in redis-cli against redis-server 7.0 and
        against ringkv show the same hints."""
        typed = ["SET ", "GET ", "INCRBY k ", "EXPIRE k 10 ", "SCAN 0 ", "GETEX k ", "MGET ",
                 "BITCOUNT k ", "COPY a b ", "SET k v EX "]
        seen = {}
        for host, port in ((self.cluster.host(1), self.cluster.port(1)),
                           (self.ohost, self.oport)):
            t, prompt = self._cli(host, port)
            seen[port] = [self._type_and_read(t, prompt, s) for s in typed]
        ours, theirs = seen[self.cluster.port(1)], seen[self.oport]
        diffs = ["%r: ringkv %r, redis %r" % (s, a, b)
                 for s, a, b in zip(typed, ours, theirs) if a != b]
        self.assertEqual(diffs, [])
        self.assertTrue(all(ours), ours)


if __name__ == "__main__":
    unittest.main()
