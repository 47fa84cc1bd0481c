"""ringcluster.py -- a small, self-contained cluster harness for the client
library tests (tests/clients) and the status page tests (tests/web).

Kept apart from tests/cluster/harness.py (that one belongs to the cluster
tests and changes with them); this one does only what these tests need:
start N nodes that seed each other, each on its own loopback address and
free ports (client P, bus P+10000, optionally HTTP), wait until every node
lists every node "up normal" in RING NODES, kill -9 / restart a node, and
stop everything. Processes are tracked and stopped by pid through
tests/testprocs.py, as in every harness here; nothing is killed by name.

    c = RingCluster("clients", net="127.0.3", first=11)   nodes on 127.0.3.11, .12, ...
    c.start(3, http=True)                  3 nodes (+ --http-port each)
    RingCluster.running(name, 3, **opts)   both at once; closed if starting fails
    c.host(i), c.port(i), c.http_port(i)
    c.client(i) -> redis.Redis (str replies)
    c.cmd(i, *args)                        one command on a fresh connection
    c.kill9(i), c.restart(i), c.close()
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testprocs import (forget, free_port, log_tail, port_free, stop_proc,  # noqa: E402,F401
                       track, wait_serving, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_BIN = os.environ.get("RINGKV_SERVER", os.path.join(ROOT, "src", "ringkv-server"))
TMP_PARENT = os.environ.get("RINGKV_TEST_TMP") or None

# Failure detection in about 2.5 s (the production default is 5 s).
FAST = {"gossip-interval": "200", "fail-timeout": "2500", "replica-timeout": "3000"}


def untrack(proc, sig=signal.SIGTERM, timeout=10.0):
    """Stops a tracked helper process (a client program, a browser) by pid."""
    return stop_proc(proc, sig, timeout)


def free_ports(host, taken, http=False):
    """(P, H): P and P+10000 free (client and bus), H free for HTTP (or None)."""
    for _ in range(1000):
        p = free_port(host, taken)
        if not http:
            return p, None
        h = random.randrange(2000, 9000)
        if h not in taken and port_free(host, h):
            return p, h
    raise RuntimeError("no free ports on %s" % host)


class Node:
    def __init__(self, cluster, i, host, port, http_port, opts, seeds):
        self.i, self.host, self.port, self.http_port = i, host, port, http_port
        self.opts, self.seeds = opts, seeds
        self.dir = os.path.join(cluster.dir, "n%d" % i)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.out = None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def argv(self):
        a = [SERVER_BIN, "--port", str(self.port), "--bind", self.host, "--dir", self.dir,
             "--logfile", os.path.join(self.dir, "log"), "--seeds", self.seeds]
        if self.http_port:
            a += ["--http-port", str(self.http_port)]
        for k, v in self.opts.items():
            a += ["--" + k, str(v)]
        return a

    def spawn(self, timeout=20.0):
        if self.out:
            self.out.close()
        self.out = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = track(subprocess.Popen(self.argv(), stdout=self.out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL))
        wait_serving(self.proc, self.host, self.port, timeout,
                     "node %d (%s)" % (self.i, self.addr), self.log_tail)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        rc = None
        if self.proc is not None:
            rc = stop_proc(self.proc, sig, timeout)
        if self.out:
            self.out.close()
            self.out = None
        return rc

    def log_tail(self, n=3000):
        return log_tail("node %d %s" % (self.i, self.addr),
                        [os.path.join(self.dir, fn) for fn in ("log", "stdout.log")], n)


class RingCluster:
    def __init__(self, name, net="127.0.3", first=11):
        self.dir = tempfile.mkdtemp(prefix="ringkv-%s-" % name, dir=TMP_PARENT)
        self.net, self.first = net, first
        self.nodes = []

    @classmethod
    def running(cls, name, n, net="127.0.3", first=11, **opts):
        """A cluster of n nodes, started (start()'s options); closed again,
        every process stopped, if starting fails."""
        c = cls(name, net=net, first=first)
        try:
            c.start(n, **opts)
        except BaseException:
            c.close()
            raise
        return c

    def start(self, n, http=False, **opts):
        o = dict(FAST)
        for k, v in opts.items():
            o[k.replace("_", "-")] = str(v)
        for attempt in range(3):
            hosts = ["%s.%d" % (self.net, self.first + i) for i in range(n)]
            taken, ports = set(), []
            for h in hosts:
                p, hp = free_ports(h, taken, http)
                taken.update({p, p + 10000, hp})
                ports.append((p, hp))
            seeds = ",".join("%s:%d" % (h, p) for h, (p, _) in zip(hosts, ports))
            self.nodes = [Node(self, i, hosts[i], ports[i][0], ports[i][1], o, seeds)
                          for i in range(n)]
            try:
                for nd in self.nodes:
                    nd.spawn()
                break
            except RuntimeError:
                for nd in self.nodes:
                    nd.stop(signal.SIGKILL)
                if attempt == 2:
                    raise
        self.wait_all_up()
        return self

    def add_node(self, **opts):
        """Starts one more node (the next address) with the options of node 0
        plus opts, seeded with every node: it joins the cluster by itself.
        Returns its index; does not wait for the join to finish."""
        i = len(self.nodes)
        host = "%s.%d" % (self.net, self.first + i)
        taken = {nd.port for nd in self.nodes} | {nd.http_port for nd in self.nodes}
        http = self.nodes[0].http_port is not None
        p, hp = free_ports(host, taken, http)
        o = dict(self.nodes[0].opts)
        for k, v in opts.items():
            o[k.replace("_", "-")] = str(v)
        seeds = ",".join([nd.addr for nd in self.nodes] + ["%s:%d" % (host, p)])
        nd = Node(self, i, host, p, hp, o, seeds)
        self.nodes.append(nd)
        nd.spawn()
        return i

    # ---------------------------------------------------------- addresses
    def host(self, i):
        return self.nodes[i].host

    def port(self, i):
        return self.nodes[i].port

    def http_port(self, i):
        return self.nodes[i].http_port

    def addr(self, i):
        return self.nodes[i].addr

    def live(self):
        return [nd.i for nd in self.nodes if nd.alive()]

    # ------------------------------------------------------------ clients
    def client(self, i, **kw):
        kw.setdefault("socket_timeout", 30)
        kw.setdefault("socket_connect_timeout", 5)
        kw.setdefault("decode_responses", True)
        return redis.Redis(host=self.host(i), port=self.port(i), **kw)

    def cmd(self, i, *args):
        c = self.client(i, socket_timeout=10)
        try:
            return c.execute_command(*args)
        finally:
            c.close()

    def ring_nodes(self, i):
        """[(id, addr, health, status, myself)] from RING NODES of node i."""
        out = []
        for line in self.cmd(i, "RING", "NODES"):
            f = line.split()
            out.append((f[0], f[1].partition("@")[0], f[5], f[6], len(f) > 7 and f[7] == "myself"))
        return out

    def ring_info(self, i):
        out = {}
        for line in self.cmd(i, "RING", "INFO").splitlines():
            if ":" in line and not line.startswith("#"):
                k, _, v = line.partition(":")
                out[k.strip()] = v.strip()
        return out

    def node_id(self, i):
        return [l[0] for l in self.ring_nodes(i) if l[4]][0]

    # ------------------------------------------------------------- waiting
    def wait_all_up(self, timeout=30.0):
        ids = self.live()
        addrs = {self.addr(i) for i in ids}

        def ok():
            for i in ids:
                up = {l[1] for l in self.ring_nodes(i) if l[2] == "up" and l[3] == "normal"}
                if not addrs <= up:
                    return False
                if int(self.ring_info(i).get("bus_links_up", "0")) < len(ids) - 1:
                    return False
            return True

        wait_until(ok, timeout, "nodes %s to see each other up normal" % ids)

    def wait_seen_down(self, j, timeout=30.0):
        addr = self.addr(j)

        def ok():
            for i in self.live():
                if i != j and any(l[1] == addr and l[2] == "up" for l in self.ring_nodes(i)):
                    return False
            return True

        wait_until(ok, timeout, "node %d (%s) to be seen down" % (j, addr))

    # ----------------------------------------------------------- lifecycle
    def kill9(self, i):
        return self.nodes[i].stop(signal.SIGKILL)

    def stop(self, i):
        return self.nodes[i].stop(signal.SIGTERM)

    def restart(self, i, wait=True):
        nd = self.nodes[i]
        if nd.alive():
            nd.stop(signal.SIGTERM)
        nd.spawn()
        if wait:
            self.wait_all_up()

    def log_tails(self):
        return "\n".join(nd.log_tail() for nd in self.nodes)

    def close(self):
        for nd in self.nodes:
            nd.stop(signal.SIGTERM, timeout=10)
        if not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
