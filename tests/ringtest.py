"""ringtest.py -- the one harness that starts real ringkv servers for the
Python tests: e2e (one server), cluster, clients, web, fault, netns and soak.

A Node is one server process: its address and ports, its data directory,
its options, its log files; it starts, stops by pid, pauses and waits for
its own exit. A Cluster is a list of Nodes on one loopback prefix of its
test group, with the views every group asks for (RING NODES, RING INFO,
RING LOCAL, RING OWNERS), clients, and waits for what gossip has seen.
Processes are tracked and stopped by pid through tests/testprocs.py (the
test's close(), atexit, signals); nothing is ever killed by name.

Addresses: node i of a Cluster listens on <net><first + i> with its own
client port P and bus port P+10000 (so iptables can cut one pair of
nodes). Each group keeps a prefix of its own so that groups can run at once:
  tests/cluster, tests/soak  127.0.2.11..  (RINGKV_CLUSTER_NET changes it)
  tests/clients              127.0.3.11.., .21.., .31..  (one range per class)
  tests/web                  127.0.4.11..
  tests/fault                127.0.0.11..  (RINGKV_FAULT_NET changes it)
  tests/e2e                  127.0.0.1 (one server, no cluster)
  tests/netns                10.213.0.x in namespaces of its own (netbed.NsCluster)

API:
  Cluster(name, net=None, first=11, timings=FAST, node_ids=None, logs_apart=False,
          seed_all=False, client_timeout=30)
                                   a temporary directory (under RINGKV_TEST_TMP);
                                   node_ids "fault-n%d" gives node i a fixed
                                   --node-id; logs_apart keeps logs in dir/logs
                                   (a wipe keeps them); seed_all: every start of a
                                   node names every node so far as seeds
  c.start(n, wait=True, node_opts=None, http=False, timeout=60, **opts)
                                   n more nodes, started together, seeding each
                                   other; opts are server options (read_quorum=2
                                   -> --read-quorum 2) on top of the timings;
                                   node_opts: per-node dicts (for the first nodes);
                                   http: an --http-port each; waits until every
                                   node sees every node up
  c.add_node(opts=None, seeds=None, start=True, fast=True, **extra) -> i
                                   one more node; opts default to node 0's
  c.host(i), c.port(i), c.http_port(i), c.addr(i), c.index_of(addr), c.seeds()
  c.kill9(i) / c.stop(i) / c.restart(i, wait=True) / c.wait_exit(i, timeout)
  c.pause(i) / c.resume(i)         SIGSTOP / SIGCONT by pid
  c.wipe(i, start=True, wait=True) kill -9, remove the data directory, start again
  c.set_opt(i, name, value)        an option for node i's next start
  c.live(), c.members(), c.gone    running members; members; indexes that left
  c.client(i, decode=True, timeout=None, **kw) -> redis.Redis (AUTH with the
                                   node's requirepass option, if any)
  c.cmd(i, *args, timeout=10, decode=True)      one command, a fresh connection
  c.with_level(i, cmds, read=None, write=None)  cmds after CONSISTENCY, one pipeline
  c.info(i, section), c.ring_info(i) -> {name: value}
  c.ring_nodes(i) -> [NodeLine], c.node_id(i), c.local(i, key), c.owners(key, via=0)
  c.repair(i, timeout=120)
  c.wait_until(fn, timeout, what), c.wait_all_up(ids=None), c.wait_seen_down(j, by=None),
  c.wait_quiet(), c.wait_hints_drained()
  c.log(i), c.log_tails(n), c.close()
  Node(index, host, port, dir, opts=None, args=(), seeds=None, ...)  one server:
      nd.start(port=None)          a server of its own (e2e): a free port, retried
      nd.spawn(timeout, wait), nd.wait_ready(timeout), nd.stop(sig, timeout),
      nd.kill9(), nd.pause(), nd.resume(), nd.wait_exit(timeout), nd.close(),
      nd.alive(), nd.pid, nd.addr, nd.busport, nd.id, nd.password, nd.opts,
      nd.seeds, nd.dir, nd.logfile, nd.outfile, nd.log_text(), nd.log_tail(n)
  RedisOracle(host="127.0.0.1", dir=None).start() / .close()   a real redis-server
  ClusterTest                      a TestCase whose clusters close after each test
                                   (log tails printed when it failed)
  NodeLine, parse_info(text)

Invariants: every process started here is in testprocs.live until it is
stopped and reaped; a Node's options are what its next start uses (tests
change opts, seeds or dir between starts on purpose).
"""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import unittest

import redis

from testprocs import (EarlyExit, disconnect, free_port, log_tail, port_free, stop_proc,
                       track, wait_serving, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SERVER_BIN = os.environ.get("RINGKV_SERVER", os.path.join(ROOT, "src", "ringkv-server"))
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"
# The run's temporary directory (tests/setup.sh makes it and removes it at
# the end); every cluster and server directory lives below it.
TMP_PARENT = os.environ.get("RINGKV_TEST_TMP") or None

# The cluster tests' prefix. Not 127.0.0.x: the fault suite runs its nodes
# on 127.0.0.11.. and cuts pairs of those addresses with iptables, which cut
# these clusters too when both suites run at once on one machine (seen: two
# live nodes suspecting each other).
CLUSTER_NET = os.environ.get("RINGKV_CLUSTER_NET", "127.0.2.")
CLIENTS_NET = "127.0.3."    # tests/clients: first 11, 21, 31 (one range per class)
WEB_NET = "127.0.4."        # tests/web
# tests/fault: 127.0.0.11..; its iptables rules name each cut's bus port, so
# a second fault run on another prefix (a long one beside make test) is safe.
FAULT_NET = os.environ.get("RINGKV_FAULT_NET", "127.0.0.")

# Timings that make failure detection take about 2.5 seconds instead of the
# production defaults' 5+. Not tighter: on a loaded 2-core machine (other test
# suites running at the same time) a live node was seen to miss a 1.5 s
# heartbeat window and a 1.5 s reply deadline, and tests then fail for no
# fault of the code under test. A killed node's connections are refused at
# once on loopback, so the long reply deadline costs these tests no time.
FAST = {"gossip-interval": "200", "fail-timeout": "2500", "replica-timeout": "3000"}


def parse_info(text):
    """INFO-style "name:value" lines (or redis-py's parsed dict) -> {name: str}."""
    if isinstance(text, dict):  # redis-py parses INFO replies itself
        return {k: str(v) for k, v in text.items()}
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def _names(opts):
    """Options with python names (read_quorum) as the server's (read-quorum)."""
    return {k.replace("_", "-"): v for k, v in (opts or {}).items()}


class NodeLine:
    """One line of RING NODES:
    id host:port@busport dc rack weight up|suspect|down status [myself]"""

    def __init__(self, line):
        f = line.split()
        self.raw = line
        self.id = f[0]
        addr, _, bus = f[1].partition("@")
        self.addr = addr
        self.busport = int(bus) if bus else None
        self.dc, self.rack, self.weight = f[2], f[3], int(f[4])
        self.health = f[5]
        self.status = f[6]
        self.myself = len(f) > 7 and f[7] == "myself"

    def __repr__(self):
        return "NodeLine(%r)" % self.raw


# ------------------------------------------------------------------- nodes


class Node:
    """One ringkv-server process. seeds: its --seeds, a string or a callable
    asked at each start (None: none). logfile/outfile: its log and its
    stdout+stderr (default: in dir). wrap: argv put before the server's
    (`ip netns exec NS`, which execs: the pid tracked is the server's).
    args: raw command-line arguments after the options."""

    def __init__(self, index, host, port, dir, opts=None, args=(), seeds=None, http_port=None,
                 logfile=None, outfile=None, wrap=(), label=None):
        self.index = index
        self.host = host
        self.port = port
        self.dir = dir
        self.opts = dict(opts or {})
        self.args = list(args)
        self.seeds = seeds
        self.http_port = http_port
        self._logfile = logfile
        self._outfile = outfile
        self.wrap = list(wrap)
        self.label = label
        self.proc = None
        self.out = None
        self.paused = False
        self.own_dir = False    # close() removes dir (a standalone server's own)
        os.makedirs(dir, exist_ok=True)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def logfile(self):
        """Its log file: given, or "log" in its (current) data directory."""
        return self._logfile or os.path.join(self.dir, "log")

    @property
    def outfile(self):
        """Where its stdout and stderr go: given, or "stdout.log" in its dir."""
        return self._outfile or os.path.join(self.dir, "stdout.log")

    @property
    def busport(self):
        return self.port + 10000

    @property
    def id(self):
        """Its --node-id option (None: the server makes one up)."""
        return self.opts.get("node-id")

    @property
    def password(self):
        """Its requirepass option (what the harness AUTHs with), or None. A
        test that changes it with CONFIG SET updates opts too."""
        pw = self.opts.get("requirepass")
        if not pw and "--requirepass" in self.args[:-1]:
            pw = self.args[self.args.index("--requirepass") + 1]
        return pw or None

    def what(self):
        return self.label or "node %d (%s)" % (self.index, self.addr)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def argv(self):
        a = self.wrap + [SERVER_BIN, "--port", str(self.port), "--bind", self.host,
                         "--dir", self.dir, "--logfile", self.logfile]
        seeds = self.seeds() if callable(self.seeds) else self.seeds
        if seeds:
            a += ["--seeds", seeds]
        if self.http_port:
            a += ["--http-port", str(self.http_port)]
        for k, v in self.opts.items():
            a += ["--" + k, str(v)]
        return a + self.args

    def start(self, port=None):
        """Starts a server of its own (not one of a Cluster's nodes) and waits
        until it serves: on port, else on the port it had, else on a free
        one (picked again, up to 3 times, if it was taken meanwhile)."""
        chosen = port or self.port
        for attempt in range(3):
            self.port = chosen or free_port(self.host)
            try:
                self.spawn()
                return self
            except EarlyExit:
                if chosen or attempt == 2:
                    raise
        return self

    def spawn(self, timeout=20.0, wait=True):
        """Starts the process (its directories made if missing); wait: until
        it answers as itself (EarlyExit if it exits first)."""
        argv = self.argv()
        if SERVER_BIN in argv and not os.access(SERVER_BIN, os.X_OK):
            raise RuntimeError("%s is not built (run make)" % SERVER_BIN)
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(os.path.dirname(self.logfile), exist_ok=True)
        if self.out:
            self.out.close()
        self.out = open(self.outfile, "ab")
        self.proc = track(subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL))
        self.paused = False
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout=20.0):
        wait_serving(self.proc, self.host, self.port, timeout, self.what(), self.log_tail,
                     self.password)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """sig (SIGCONT first), wait for the exit, SIGKILL after timeout.
        Returns the exit status (None if it never ran)."""
        rc = None
        if self.proc is not None:
            rc = stop_proc(self.proc, sig, timeout)
        self.paused = False
        if self.out:
            self.out.close()
            self.out = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL, timeout=10)

    def pause(self):
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.alive():
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def wait_exit(self, timeout=30.0):
        """Waits for the process to end by itself (SHUTDOWN, RING LEAVE),
        reaps it and returns its exit status; SIGKILL and AssertionError
        after timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
            raise AssertionError("%s did not exit within %.0fs" % (self.what(), timeout))
        self.stop(signal.SIGKILL)  # already ended: reaps and closes its log
        return rc

    def close(self):
        """Stops it; removes its directory if it is its own (RINGKV_KEEP=1
        keeps it)."""
        self.stop()
        if self.own_dir and not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        """Its whole log file ("" if none)."""
        if not os.path.exists(self.logfile):
            return ""
        with open(self.logfile, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=3000):
        return log_tail(self.label or "node %d %s" % (self.index, self.addr),
                        [self.logfile, self.outfile], n)


class RedisOracle(Node):
    """A real redis-server (Debian's 7.0), no persistence: the oracle for
    exact replies. Its own temporary directory unless dir is given."""

    def __init__(self, host="127.0.0.1", dir=None):
        d = dir or tempfile.mkdtemp(prefix="ringkv-oracle-", dir=TMP_PARENT)
        super().__init__(0, host, None, d, label="redis-server")
        self.own_dir = dir is None

    def argv(self):
        return [REDIS_BIN, "--port", str(self.port), "--bind", self.host, "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--logfile", self.logfile,
                "--daemonize", "no", "--protected-mode", "no"]


# ---------------------------------------------------------------- clusters


class Cluster:
    def __init__(self, name="cluster", net=None, first=11, timings=None, node_ids=None,
                 logs_apart=False, seed_all=False, client_timeout=30):
        self.dir = tempfile.mkdtemp(prefix="ringkv-%s-" % name, dir=TMP_PARENT)
        net = net or CLUSTER_NET
        self.net = net if net.endswith(".") else net + "."
        self.first = first
        self.timings = dict(FAST if timings is None else timings)
        self.node_ids = node_ids
        self.logs_apart = logs_apart
        self.seed_all = seed_all
        self.client_timeout = client_timeout
        self.nodes = []
        self.gone = set()  # indexes of nodes that left or were forgotten
        self._clients = []

    # ----------------------------------------------------------- addresses

    def host(self, i):
        """Node i's address (for a node not added yet: the one it will get)."""
        if i < len(self.nodes):
            return self.nodes[i].host
        return "%s%d" % (self.net, self.first + i)

    def port(self, i):
        return self.nodes[i].port

    def http_port(self, i):
        return self.nodes[i].http_port

    def addr(self, i):
        return self.nodes[i].addr

    def index_of(self, addr):
        for nd in self.nodes:
            if nd.addr == addr:
                return nd.index
        raise KeyError(addr)

    def seeds(self):
        """Every node so far, as --seeds names them."""
        return ",".join(nd.addr for nd in self.nodes)

    def _ports(self, host, taken, http):
        """(P, H): P and P+10000 free on host (client and bus), H free for
        HTTP (None unless http); none of them in taken."""
        for _ in range(1000):
            p = free_port(host, taken)
            if p + 10000 in taken:
                continue
            if not http:
                return p, None
            h = random.randrange(2000, 9000)
            if h not in taken and port_free(host, h):
                return p, h
        raise RuntimeError("no free ports on %s" % host)

    def _taken(self):
        return {p for nd in self.nodes for p in (nd.port, nd.busport, nd.http_port) if p}

    def new_node(self, i, host, port, opts, seeds, http_port=None):
        """Node i of this cluster (its options complete; not started)."""
        if self.logs_apart:
            logs = os.path.join(self.dir, "logs")
            files = dict(logfile=os.path.join(logs, "n%d.log" % i),
                         outfile=os.path.join(logs, "n%d.stdout" % i))
        else:
            files = {}
        if self.node_ids:
            opts = dict(opts)
            opts.setdefault("node-id", self.node_ids % i)
        return Node(i, host, port, os.path.join(self.dir, "n%d" % i), opts,
                    seeds=self.seeds if self.seed_all else seeds, http_port=http_port, **files)

    # ----------------------------------------------------------- lifecycle

    def start(self, n, wait=True, node_opts=None, http=False, timeout=60.0, **opts):
        """Starts n more nodes that all name each other as seeds (see the
        API). If starting fails, their processes are stopped (the logs stay
        for log_tails()) and the error raised.

        The processes are started together: a node that finds none of its
        seeds up becomes a cluster of one at once, and the nodes that come
        later then join it and pull every partition from it, one transfer
        tick (100 ms) per partition, about 26 s with 256 partitions even
        when they are empty, before they are "normal" (reported as an issue)."""
        o = dict(self.timings)
        o.update(_names(opts))
        base = len(self.nodes)
        try:
            for attempt in range(3):
                taken = self._taken()
                placed = []
                for k in range(n):
                    host = self.host(base + k)
                    p, h = self._ports(host, taken, http)
                    taken.update({p, p + 10000, h} - {None})
                    placed.append((host, p, h))
                seeds = ",".join("%s:%d" % (host, p) for host, p, _ in placed)
                new = []
                for k, (host, p, h) in enumerate(placed):
                    per = dict(o)
                    if node_opts and k < len(node_opts):  # a list of the first ones will do
                        per.update(_names(node_opts[k]))
                    new.append(self.new_node(base + k, host, p, per, seeds, h))
                self.nodes.extend(new)
                try:
                    # all processes first, then wait for each: nodes that come
                    # up together form the cluster together (see above)
                    for nd in new:
                        nd.spawn(wait=False)
                    for nd in new:
                        nd.wait_ready(20.0)
                    break
                except EarlyExit:
                    if attempt == 2:
                        raise
                    # a port we picked was taken meanwhile: forget these, pick again
                    for nd in new:
                        nd.kill9()
                        shutil.rmtree(nd.dir, ignore_errors=True)
                    del self.nodes[base:]
            if wait:
                self.wait_all_up(timeout=timeout)  # room for the slow join (above)
        except BaseException:
            for nd in self.nodes[base:]:
                nd.stop(signal.SIGTERM, timeout=10)
            raise
        return self

    def add_node(self, opts=None, seeds=None, start=True, fast=True, **extra):
        """One more node at the next address, started (unless start=False:
        then nodes[i].spawn() starts it) and serving; not waited for to join.
        opts: its options (default: those of node 0; given: on top of the
        timings unless fast=False); extra: more options on top. seeds: its
        --seeds (default: every node, itself included; "" for none).
        Returns its index."""
        if opts is None:
            o = dict(self.nodes[0].opts) if self.nodes else dict(self.timings)
            if self.node_ids:
                o.pop("node-id", None)
        else:
            o = dict(self.timings) if fast else {}
            o.update(_names(opts))
        o.update(_names(extra))
        i = len(self.nodes)
        host = self.host(i)
        http = bool(self.nodes and self.nodes[0].http_port)
        p, h = self._ports(host, self._taken(), http)
        if seeds is None:
            seeds = ",".join([nd.addr for nd in self.nodes] + ["%s:%d" % (host, p)])
        nd = self.new_node(i, host, p, o, seeds, h)
        self.nodes.append(nd)
        if start:
            nd.spawn()
        return i

    def set_opt(self, i, name, value):
        """Option for node i's next start (None removes it)."""
        if value is None:
            self.nodes[i].opts.pop(name, None)
        else:
            self.nodes[i].opts[name] = str(value)

    def kill9(self, i):
        return self.nodes[i].kill9()

    def stop(self, i):
        """SIGTERM, wait for the exit (SIGKILL after 15 s). Returns the exit status."""
        return self.nodes[i].stop(signal.SIGTERM)

    def wait_exit(self, i, timeout=30.0):
        return self.nodes[i].wait_exit(timeout)

    def restart(self, i, wait=True):
        """(Re)starts node i with its address, port, directory and options;
        stops it first (SIGTERM) if it runs. wait: until every live node sees
        every live node up."""
        nd = self.nodes[i]
        if nd.alive():
            nd.stop(signal.SIGTERM)
        nd.spawn()
        if wait:
            self.wait_all_up()

    def pause(self, i):
        self.nodes[i].pause()

    def resume(self, i):
        self.nodes[i].resume()

    def wipe(self, i, start=True, wait=True):
        """kill -9, remove the data directory, start again (same options:
        with a fixed node id, the same id)."""
        nd = self.nodes[i]
        nd.kill9()
        shutil.rmtree(nd.dir)
        if start:
            nd.spawn()
            if wait:
                self.wait_all_up()

    def members(self):
        """Indexes of the nodes that belong to the cluster (running or not):
        every node started, less those that left or were forgotten."""
        return [nd.index for nd in self.nodes if nd.index not in self.gone]

    def live(self):
        """Members running and not paused."""
        return [nd.index for nd in self.nodes
                if nd.alive() and not nd.paused and nd.index not in self.gone]

    def close(self):
        """Closes the clients, stops every node by pid, removes the directory
        (RINGKV_KEEP=1 keeps it)."""
        for c in self._clients:
            try:
                disconnect(c)
            except Exception:
                pass
        self._clients = []
        for nd in self.nodes:
            nd.stop(signal.SIGTERM, timeout=10)
        if not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------- clients

    def _redis(self, i, decode, timeout, **kw):
        nd = self.nodes[i]
        kw.setdefault("socket_connect_timeout", 5)
        kw.setdefault("password", nd.password)
        return redis.Redis(host=nd.host, port=nd.port, decode_responses=decode,
                           socket_timeout=timeout, **kw)

    def client(self, i, decode=True, timeout=None, **kw):
        """A redis.Redis of node i (closed by close()); timeout: its socket
        timeout (default: the cluster's client_timeout)."""
        c = self._redis(i, decode, self.client_timeout if timeout is None else timeout, **kw)
        self._clients.append(c)
        return c

    def cmd(self, i, *args, timeout=10, decode=True):
        """One command on node i, on a connection of its own."""
        c = self._redis(i, decode, timeout)
        try:
            return c.execute_command(*args)
        finally:
            disconnect(c)

    def with_level(self, i, cmds, read=None, write=None, timeout=30, decode=True):
        """Runs cmds (lists of args) on one connection of node i after
        CONSISTENCY READ/WRITE, in one pipeline: the level can not be lost
        to a reconnect in between. Returns the replies (errors as values)."""
        c = self._redis(i, decode, timeout)
        try:
            p = c.pipeline(transaction=False)
            lv = []
            if read:
                lv += ["READ", read]
            if write:
                lv += ["WRITE", write]
            if lv:
                p.execute_command("CONSISTENCY", *lv)
            for a in cmds:
                p.execute_command(*a)
            res = p.execute(raise_on_error=False)
            if lv:
                if isinstance(res[0], Exception):
                    raise res[0]
                res = res[1:]
            return res
        finally:
            disconnect(c)

    # --------------------------------------------------------------- views

    def info(self, i, section):
        return parse_info(self.cmd(i, "INFO", section))

    def ring_info(self, i):
        return parse_info(self.cmd(i, "RING", "INFO"))

    def ring_nodes(self, i):
        return [NodeLine(l) for l in self.cmd(i, "RING", "NODES")]

    def node_id(self, i):
        """Node i's id, as its own RING NODES names it."""
        mine = [l for l in self.ring_nodes(i) if l.myself]
        assert len(mine) == 1, mine
        return mine[0].id

    def local(self, i, key):
        """RING LOCAL key on node i, sorted: [(value or None for a tombstone,
        clock text)]."""
        return sorted((tuple(p) for p in self.cmd(i, "RING", "LOCAL", key)),
                      key=lambda p: (p[0] is None, p[0] or "", p[1]))

    def owners(self, key, via=0):
        """RING OWNERS key (asked of node via) as node indexes."""
        return [self.index_of(a) for a in self.cmd(via, "RING", "OWNERS", key)]

    def repair(self, i, timeout=120):
        return self.cmd(i, "RING", "REPAIR", timeout=timeout)

    def log(self, i):
        return self.nodes[i].log_text()

    def log_tails(self, n=3000):
        return "\n".join(nd.log_tail(n) for nd in self.nodes)

    # ------------------------------------------------------------- waiting

    wait_until = staticmethod(wait_until)

    def _sees_up(self, i, addrs):
        up = {l.addr for l in self.ring_nodes(i) if l.health == "up" and l.status == "normal"}
        return addrs <= up

    def _links_up(self, i, n):
        return int(self.ring_info(i).get("bus_links_up", "0")) >= n

    def wait_all_up(self, ids=None, timeout=30.0):
        """Every live node (or those in ids) lists every one of them as up in
        RING NODES, and has its own bus links to them connected.

        The second part matters: gossip reaches a node over its peers'
        links, so RING NODES may list a peer up while this node's own link to
        it is still waiting to reconnect (backoff up to 2 s after the peer
        was down); until then requests skip that peer (see the report of
        the cluster tests: a short NOQUORUM window after a restart)."""
        ids = self.live() if ids is None else list(ids)
        addrs = {self.nodes[i].addr for i in ids}
        wait_until(lambda: all(self._sees_up(i, addrs) and self._links_up(i, len(ids) - 1)
                               for i in ids), timeout, "nodes %s to see each other up" % ids,
                   interval=0.1)

    def wait_seen_down(self, j, by=None, timeout=30.0):
        """Every other live node (or those in by) no longer lists node j as up
        (suspect or down)."""
        addr = self.nodes[j].addr
        by = [i for i in (self.live() if by is None else by) if i != j]

        def ok():
            return not any(l.addr == addr and l.health == "up"
                           for i in by for l in self.ring_nodes(i))

        wait_until(ok, timeout, "node %d (%s) to be seen down by %s" % (j, addr, by),
                   interval=0.1)

    def wait_quiet(self, timeout=30.0):
        """Every live node has no bus request waiting for an answer. After a
        burst of writes acknowledged at W < N, the slowest replica may still
        be applying a backlog of them; a request queued behind that backlog
        can exceed replica-timeout on a loaded machine."""
        wait_until(lambda: all(self.ring_info(i).get("bus_requests_pending") == "0"
                               for i in self.live()), timeout,
                   "the bus to drain (bus_requests_pending 0 everywhere)")

    def wait_hints_drained(self, timeout=30.0):
        try:
            wait_until(lambda: all(int(self.info(i, "hints").get("hints_pending", "0")) == 0
                                   for i in self.live()), timeout, "hints_pending 0 everywhere",
                       interval=0.2)
        except AssertionError as e:
            raise AssertionError("%s; %s" % (e, self.hints_report())) from None

    def hints_report(self):
        """Who still holds hints for whom, and how each holder sees those
        owners (RING NODES health and status): what a stuck hint needs."""
        out = []
        for i in self.live():
            try:
                h = self.info(i, "hints")
                owners = {k[len("hints_for_"):]: v for k, v in h.items()
                          if k.startswith("hints_for_")}
                if not owners:
                    continue
                seen = {l.id: "%s %s" % (l.health, l.status) for l in self.ring_nodes(i)}
                out.append("node %d holds %s" % (i, ", ".join(
                    "%s for %s (%s)" % (n, o[:8], seen.get(o, "not a member"))
                    for o, n in owners.items())))
            except Exception as e:  # noqa: BLE001 -- a report, best effort
                out.append("node %d: %s" % (i, e))
        return "; ".join(out) or "no holder found"


# ------------------------------------------------------------------- tests


class ClusterTest(unittest.TestCase):
    """A TestCase whose clusters are stopped (by pid) and removed after each
    test, pass or fail; on failure the nodes' log tails are printed.
    cluster_args: the Cluster() arguments of the test group."""

    cluster_args = {}

    def empty_cluster(self):
        c = Cluster(self._testMethodName, **self.cluster_args)
        self.addCleanup(self._close_cluster, c)
        return c

    def new_cluster(self, n, wait=True, **opts):
        return self.empty_cluster().start(n, wait=wait, **opts)

    def failed(self):
        """Whether this test has failed so far (for cleanups)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not getattr(outcome, "success", True):
            return True
        res = getattr(outcome, "result", None)  # 3.11 records failures at once
        if res is not None:
            return any(t is self for t, _ in res.failures + res.errors)
        return any(exc for _, exc in getattr(outcome, "errors", []))

    def _close_cluster(self, c):
        if self.failed():
            print("\n==== logs of %s (%s) ====\n%s" % (self.id(), c.dir, c.log_tails()))
        c.close()
