"""harness.py -- start, stop, kill and restart real multi-node ringkv clusters
for the cluster tests (tests/cluster/test_*.py).

Every node listens on its own loopback address (127.0.2.11, 127.0.2.12, ...;
RINGKV_CLUSTER_NET changes the prefix) with its own free client port P and
cluster bus port P+10000, so that a pair of nodes can be cut with iptables.
All nodes get the same seed list (every node of the cluster, itself
included, as on a real cluster).

Every process started here is recorded by pid and stopped by pid: by the
test (Cluster.close() in tearDown / addCleanup), and again at interpreter
exit (atexit) and on SIGTERM (tests/testprocs.py, shared by every harness),
so a failing or interrupted test never leaves a server behind. Nothing is
ever killed by name.

API:
  c = Cluster()                       a cluster with its own temporary directory
  c.start(n, **opts)                  n nodes; opts become --name value options
                                      (read_quorum=2 -> --read-quorum 2); the
                                      harness adds fast gossip / failure
                                      detection timings unless overridden; waits
                                      until every node sees every other one up;
                                      node_opts=[{...}, ...] adds options per node
  c.add_node(opts=None, seeds=None, start=True) -> i   one more node (index i)
  c.node(i, **kw)                     redis.Redis client of node i (str replies; it
                                      AUTHs with the node's requirepass option, if any)
  c.addr(i) -> "host:port"            node i as RING OWNERS names it
  c.kill9(i) / c.stop(i)              SIGKILL / SIGTERM by pid, wait for exit
  c.wait_exit(i, timeout)             wait for node i to exit by itself (RING
                                      LEAVE), reap it, return its exit status
  c.restart(i)                        same address, port, dir and options
  c.wait_until(fn, timeout, what)     poll fn() until truthy, else AssertionError
  c.wait_all_up(ids=None)             every live node lists every live node up
  c.wait_seen_down(i)                 every other live node no longer lists i up
  c.wait_quiet()                      no bus request pending on any live node
  c.ring_nodes(i) -> [NodeLine]       parsed RING NODES of node i
  c.ring_info(i) -> {name: value}     parsed RING INFO of node i
  c.node_id(i)                        node i's id (its "myself" line)
  c.local(i, key) -> [(value|None, clock)]   RING LOCAL on node i
  c.owners(key, via=0) -> [index]     RING OWNERS as node indexes
  c.log(i) -> str                     node i's log file
  c.close()                           stop every node by pid, remove the dirs
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testprocs import (EarlyExit, free_port, log_tail, stop_proc, track,  # noqa: E402
                       wait_serving, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_BIN = os.environ.get("RINGKV_SERVER", os.path.join(ROOT, "src", "ringkv-server"))
# run-cluster.sh makes one mktemp directory for the whole run and removes it
# at the end; each cluster gets its own directory below it.
TMP_PARENT = os.environ.get("RINGKV_CLUSTER_TMP") or None

# Node i listens on NET + (11 + i). Not 127.0.0.x: the fault suite
# (tests/fault) runs its nodes on 127.0.0.11.. and cuts pairs of those
# addresses with iptables, which cut these clusters too when both suites run
# at once on one machine (seen: two live nodes suspecting each other).
NET = os.environ.get("RINGKV_CLUSTER_NET", "127.0.2.")

# Timings that make failure detection take about 2.5 seconds instead of the
# production defaults' 5+. Not tighter: on a loaded 2-core machine (other test
# suites running at the same time) a live node was seen to miss a 1.5 s
# heartbeat window and a 1.5 s reply deadline, and tests then fail for no
# fault of the code under test. A killed node's connections are refused at
# once on loopback, so the long reply deadline costs these tests no time.
FAST = {"gossip-interval": "200", "fail-timeout": "2500", "replica-timeout": "3000"}

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


class Node:
    def __init__(self, cluster, index, host, port, opts, seeds):
        self.cluster = cluster
        self.index = index
        self.host = host
        self.port = port
        self.opts = dict(opts)
        self.seeds = seeds
        self.dir = os.path.join(cluster.dir, "n%d-%s-%d" % (index, host, port))
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.logf = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def password(self):
        """Its requirepass option (what the harness AUTHs with), or None. A
        test that changes it with CONFIG SET updates opts too."""
        return self.opts.get("requirepass") or None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def argv(self):
        a = [SERVER_BIN, "--port", str(self.port), "--bind", self.host, "--dir", self.dir,
             "--logfile", os.path.join(self.dir, "log")]
        if self.seeds:
            a += ["--seeds", self.seeds]
        for k, v in self.opts.items():
            a += ["--" + k, str(v)]
        return a

    def spawn(self, timeout=20.0, wait=True):
        if not os.access(SERVER_BIN, os.X_OK):
            raise RuntimeError("%s is not built (run make)" % SERVER_BIN)
        if self.logf:
            self.logf.close()
        self.logf = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        track(self.proc)
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout):
        wait_serving(self.proc, self.host, self.port, timeout,
                     "node %d (%s)" % (self.index, self.addr), self.log_tail, self.password)

    def signal_stop(self, sig, timeout=15.0):
        rc = None
        if self.proc is not None:
            rc = stop_proc(self.proc, sig, timeout)
        if self.logf:
            self.logf.close()
            self.logf = None
        return rc

    def log_text(self):
        p = os.path.join(self.dir, "log")
        if not os.path.exists(p):
            return ""
        with open(p, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=3000):
        return log_tail("node %d %s" % (self.index, self.addr),
                        [os.path.join(self.dir, fn) for fn in ("log", "stdout.log")], n)


class Cluster:
    def __init__(self, name="cluster"):
        self.dir = tempfile.mkdtemp(prefix="ringkv-%s-" % name, dir=TMP_PARENT)
        self.nodes = []
        self._clients = []

    # ------------------------------------------------------------ lifecycle

    def _host(self, index):
        return "%s%d" % (NET, 11 + index)

    def start(self, n, wait=True, node_opts=None, **opts):
        """Starts n nodes that all name each other as seeds. opts: server
        options, python names (read_quorum=2) or config names. node_opts: a
        list of n dicts of options for one node each (dc, rack, weight,
        node_id...), on top of opts.

        The processes are started together: a node that finds none of its
        seeds up becomes a cluster of one at once, and the nodes that come
        later then join it and pull every partition from it, one transfer
        tick (100 ms) per partition, about 26 s with 256 partitions even
        when they are empty, before they are "normal" (reported as an issue)."""
        o = dict(FAST)
        for k, v in opts.items():
            o[k.replace("_", "-")] = v
        for attempt in range(3):
            base = len(self.nodes)
            hosts = [self._host(base + i) for i in range(n)]
            ports = []
            for h in hosts:
                p = free_port(h)
                while p in ports:
                    p = free_port(h)
                ports.append(p)
            seeds = ",".join("%s:%d" % hp for hp in zip(hosts, ports))
            per = [dict(o) for _ in range(n)]
            for i, extra in enumerate(node_opts or []):
                for k, v in (extra or {}).items():
                    per[i][k.replace("_", "-")] = v
            new = [Node(self, base + i, hosts[i], ports[i], per[i], seeds) for i in range(n)]
            self.nodes.extend(new)
            try:
                # all processes first, then wait for each: nodes that come up
                # together form the cluster together (see start's docstring)
                for nd in new:
                    nd.spawn(wait=False)
                for nd in new:
                    nd.wait_ready(20.0)
                break
            except EarlyExit:
                # a port we picked was taken meanwhile: stop these, pick again
                for nd in new:
                    nd.signal_stop(signal.SIGKILL)
                del self.nodes[base:]
                if attempt == 2:
                    raise
        if wait:
            self.wait_all_up(timeout=60)  # 60: room for the slow join (docstring)
        return self

    def add_node(self, opts=None, seeds=None, start=True, fast=True):
        """One more node at the next address. seeds: its --seeds (default: the
        existing nodes); opts: its options (default: those of node 0)."""
        if opts is None:
            o = dict(self.nodes[0].opts) if self.nodes else dict(FAST)
        else:
            o = dict(FAST) if fast else {}
            for k, v in opts.items():
                o[k.replace("_", "-")] = v
        if seeds is None:
            seeds = ",".join(nd.addr for nd in self.nodes)
        i = len(self.nodes)
        host = self._host(i)
        nd = Node(self, i, host, free_port(host), o, seeds)
        self.nodes.append(nd)
        if start:
            nd.spawn()
        return i

    def wait_exit(self, i, timeout=30.0):
        """Waits for node i to end by itself (RING LEAVE), reaps it and
        returns its exit status; SIGKILL and AssertionError after timeout."""
        nd = self.nodes[i]
        try:
            rc = nd.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            nd.signal_stop(signal.SIGKILL)
            raise AssertionError("node %d (%s) did not exit within %.0fs" % (i, nd.addr, timeout))
        nd.signal_stop(signal.SIGKILL)  # already ended: reaps and closes its log
        return rc

    def kill9(self, i):
        return self.nodes[i].signal_stop(signal.SIGKILL)

    def stop(self, i):
        """SIGTERM, wait for the exit (SIGKILL after 15 s). Returns the exit status."""
        return self.nodes[i].signal_stop(signal.SIGTERM)

    def restart(self, i, wait=True):
        """(Re)starts node i with its address, port, directory and options;
        stops it first (SIGTERM) if it runs. wait: until every live node sees
        every live node up."""
        nd = self.nodes[i]
        if nd.alive():
            nd.signal_stop(signal.SIGTERM)
        nd.spawn()
        if wait:
            self.wait_all_up()

    def close(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients = []
        for nd in self.nodes:
            nd.signal_stop(signal.SIGTERM, timeout=10)
        if not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def live(self):
        return [nd.index for nd in self.nodes if nd.alive()]

    # -------------------------------------------------------------- clients

    def node(self, i, decode=True, **kw):
        nd = self.nodes[i]
        kw.setdefault("socket_timeout", 30)
        kw.setdefault("socket_connect_timeout", 5)
        kw.setdefault("password", nd.password)
        c = redis.Redis(host=nd.host, port=nd.port, decode_responses=decode, **kw)
        self._clients.append(c)
        return c

    def addr(self, i):
        return self.nodes[i].addr

    def index_of(self, addr):
        for nd in self.nodes:
            if nd.addr == addr:
                return nd.index
        raise KeyError(addr)

    # --------------------------------------------------------------- views

    def _cmd(self, i, *args):
        c = redis.Redis(host=self.nodes[i].host, port=self.nodes[i].port, socket_timeout=10,
                        decode_responses=True, password=self.nodes[i].password)
        try:
            return c.execute_command(*args)
        finally:
            c.close()

    def ring_nodes(self, i):
        return [NodeLine(l) for l in self._cmd(i, "RING", "NODES")]

    def ring_info(self, i, section_cmd=("RING", "INFO")):
        text = self._cmd(i, *section_cmd)
        if isinstance(text, bytes):
            text = text.decode()
        out = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                k, _, v = line.partition(":")
                out[k.strip()] = v.strip()
        return out

    def node_id(self, i):
        mine = [l for l in self.ring_nodes(i) if l.myself]
        assert len(mine) == 1, mine
        return mine[0].id

    def local(self, i, key):
        """RING LOCAL key on node i: [(value or None for a tombstone, clock text)]."""
        return [tuple(p) for p in self._cmd(i, "RING", "LOCAL", key)]

    def owners(self, key, via=0):
        return [self.index_of(a) for a in self._cmd(via, "RING", "OWNERS", key)]

    def log(self, i):
        return self.nodes[i].log_text()

    def log_tails(self):
        return "\n".join(nd.log_tail() for nd in self.nodes)

    # ------------------------------------------------------------- waiting

    wait_until = staticmethod(wait_until)

    def _sees_up(self, i, addrs):
        lines = self.ring_nodes(i)
        up = {l.addr for l in lines if l.health == "up" and l.status == "normal"}
        return addrs <= up

    def _links_up(self, i, n):
        return int(self.ring_info(i).get("bus_links_up", "0")) >= n

    def wait_all_up(self, ids=None, timeout=20.0):
        """Every live node (or those in ids) lists every live node as up in
        RING NODES, and has its own bus links to them connected.

        The second part matters: gossip reaches a node over its peers'
        links, so RING NODES may list a peer up while this node's own link to
        it is still waiting to reconnect (backoff up to 2 s after the peer
        was down); until then requests skip that peer (see the report of
        the cluster tests: a short NOQUORUM window after a restart)."""
        ids = self.live() if ids is None else list(ids)
        addrs = {self.nodes[i].addr for i in ids}
        self.wait_until(lambda: all(self._sees_up(i, addrs) and self._links_up(i, len(ids) - 1)
                                    for i in ids), timeout,
                        "nodes %s to see each other up" % ids)

    def wait_quiet(self, timeout=30.0):
        """Every live node has no bus request waiting for an answer. After a
        burst of writes acknowledged at W < N, the slowest replica may still
        be applying a backlog of them; a request queued behind that backlog
        can exceed replica-timeout on a loaded machine."""
        self.wait_until(lambda: all(self.ring_info(i).get("bus_requests_pending") == "0"
                                    for i in self.live()), timeout,
                        "the bus to drain (bus_requests_pending 0 everywhere)")

    def wait_seen_down(self, j, timeout=20.0):
        """Every other live node no longer lists node j as up (suspect or down)."""
        addr = self.nodes[j].addr

        def ok():
            for i in self.live():
                if i == j:
                    continue
                for l in self.ring_nodes(i):
                    if l.addr == addr and l.health == "up":
                        return False
            return True

        self.wait_until(ok, timeout, "node %d (%s) to be seen down" % (j, addr))


# ------------------------------------------------------------------ tests


class ClusterTest(unittest.TestCase):
    """A TestCase whose clusters are stopped (by pid) and removed after each
    test, pass or fail; on failure the nodes' log tails are printed."""

    def new_cluster(self, n, wait=True, **opts):
        c = Cluster(self._testMethodName)
        self.addCleanup(self._close_cluster, c)
        c.start(n, wait=wait, **opts)
        return c

    def empty_cluster(self):
        c = Cluster(self._testMethodName)
        self.addCleanup(self._close_cluster, c)
        return c

    def _failed(self):
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
        if self._failed():
            print("\n==== logs of %s (%s) ====\n%s" % (self.id(), c.dir, c.log_tails()))
        c.close()
