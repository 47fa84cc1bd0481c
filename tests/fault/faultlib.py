"""faultlib.py -- nodes and faults for the fault-injection tests (tests/fault).

A Cluster here runs ringkv nodes on distinct loopback addresses (127.0.0.11,
.12, ...), each with a fixed --node-id (so a node whose data directory was
wiped comes back under the same id), the same seed list (every node), and
its log file outside its data directory (a wipe keeps the log).

Faults:
  kill9(i) / restart(i)            SIGKILL by pid; start again (same dir, id)
  pause(i) / resume(i)             SIGSTOP / SIGCONT by pid
  wipe(i)                          SIGKILL, remove the data directory, start
                                   again with the same --node-id
  Net: iptables cuts between node addresses, in one chain of our own
       (RINGKV_FAULT_<pid>) jumped to from INPUT for 127.0.0.0/8 only:
  (rules name the nodes' addresses and bus ports: nothing else is cut)
  net.isolate(c, i)                node i cut from every other node
  net.split(c, a, b)               every pair across groups a and b cut
  net.cut_pair(c, i, j)            both directions between i and j
  net.cut_oneway(c, i, j)          i can not reach j's bus (its link to j is
                                   dead), j still reaches i
  net.heal()                       flush the chain

Cleanup guarantees: every process started here is stopped by pid (close(),
atexit, SIGTERM/SIGINT/SIGHUP); every iptables rule lives in our chain, and
the chain and its jump are removed by Net.close(), atexit and the same
signals. Nothing is ever killed by name; nothing but 127.0.0.0/8 is touched.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testprocs import (EarlyExit, exit_on_signals, free_port, log_tail,  # noqa: E402,F401
                       on_cleanup, stop_proc, track, wait_serving, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_BIN = os.environ.get("RINGKV_SERVER", os.path.join(ROOT, "src", "ringkv-server"))
TMP_PARENT = os.environ.get("RINGKV_FAULT_TMP") or None

# Failure detection in about a second and a half.
FAST = {"gossip-interval": "200", "fail-timeout": "1500", "replica-timeout": "500"}

_nets = []          # Net objects not closed yet


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def _close_nets():
    for net in list(_nets):
        try:
            net.close()
        except Exception as e:  # keep going: the other chains, then the processes
            print("fault: iptables cleanup failed: %r" % e, flush=True)


on_cleanup(_close_nets)  # the iptables chain goes before the processes stop
exit_on_signals(signal.SIGINT, signal.SIGHUP)


def parse_info(text):
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


class Node:
    def __init__(self, cluster, index, host, port, opts):
        self.cluster = cluster
        self.index = index
        self.host = host
        self.port = port
        self.busport = port + 10000
        self.opts = dict(opts)
        self.id = "fault-n%d" % index
        self.dir = os.path.join(cluster.dir, "n%d" % index)
        self.logdir = os.path.join(cluster.dir, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.proc = None
        self.paused = False
        self.outf = None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logfile(self):
        return os.path.join(self.logdir, "n%d.log" % self.index)

    def argv(self):
        a = [SERVER_BIN, "--port", str(self.port), "--bind", self.host, "--dir", self.dir,
             "--logfile", self.logfile(), "--node-id", self.id,
             "--seeds", self.cluster.seeds()]
        for k, v in self.opts.items():
            a += ["--" + k, str(v)]
        return a

    def spawn(self, timeout=20.0):
        if not os.access(SERVER_BIN, os.X_OK):
            raise RuntimeError("%s is not built (run make)" % SERVER_BIN)
        os.makedirs(self.dir, exist_ok=True)
        if self.outf:
            self.outf.close()
        self.outf = open(os.path.join(self.logdir, "n%d.stdout" % self.index), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.outf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        track(self.proc)
        self.paused = False
        wait_serving(self.proc, self.host, self.port, timeout,
                     "node %d (%s)" % (self.index, self.addr), self.log_tail)

    def signal_stop(self, sig, timeout=15.0):
        rc = None
        if self.proc is not None:
            rc = stop_proc(self.proc, sig, timeout)
        self.paused = False
        if self.outf:
            self.outf.close()
            self.outf = None
        return rc

    def log_tail(self, n=3000):
        return log_tail("node %d %s" % (self.index, self.addr),
                        [self.logfile(), os.path.join(self.logdir, "n%d.stdout" % self.index)], n)


class Cluster:
    """n nodes on 127.0.0.11.. with fixed ids fault-n0.. and one seed list."""

    def __init__(self, name="fault"):
        self.dir = tempfile.mkdtemp(prefix="ringkv-%s-" % name, dir=TMP_PARENT)
        self.nodes = []
        self.gone = set()  # indexes of nodes that left or were forgotten

    def members(self):
        """Indexes of the nodes that belong to the cluster (running or not):
        every node started, less those that left or were forgotten."""
        return [nd.index for nd in self.nodes if nd.index not in self.gone]

    def add_node(self, opts=None):
        """Starts one more node (the next address and id, the seeds of every
        node so far) and waits until it serves. Returns its index."""
        i = len(self.nodes)
        host = "127.0.0.%d" % (11 + i)
        o = dict(self.nodes[0].opts) if opts is None else dict(opts)
        nd = Node(self, i, host, free_port(host), o)
        self.nodes.append(nd)
        nd.spawn()
        return i

    def seeds(self):
        return ",".join(nd.addr for nd in self.nodes)

    def start(self, n, wait=True, **opts):
        o = dict(FAST)
        for k, v in opts.items():
            o[k.replace("_", "-")] = v
        for attempt in range(3):
            new = []
            used = set()
            for i in range(n):
                host = "127.0.0.%d" % (11 + i)
                p = free_port(host)
                while p in used:
                    p = free_port(host)
                used.add(p)
                new.append(Node(self, i, host, p, o))
            self.nodes = new
            try:
                for nd in new:
                    nd.spawn()
                break
            except EarlyExit:
                for nd in new:
                    nd.signal_stop(signal.SIGKILL)
                if attempt == 2:
                    raise
        if wait:
            self.wait_all_up()
        return self

    def set_opt(self, i, name, value):
        """Option for node i's next start (None removes it)."""
        if value is None:
            self.nodes[i].opts.pop(name, None)
        else:
            self.nodes[i].opts[name] = str(value)

    # ------------------------------------------------------------- faults

    def kill9(self, i):
        return self.nodes[i].signal_stop(signal.SIGKILL)

    def stop(self, i):
        return self.nodes[i].signal_stop(signal.SIGTERM)

    def restart(self, i, wait=True):
        nd = self.nodes[i]
        if nd.alive():
            nd.signal_stop(signal.SIGTERM)
        nd.spawn()
        if wait:
            self.wait_all_up()

    def pause(self, i):
        nd = self.nodes[i]
        os.kill(nd.pid, signal.SIGSTOP)
        nd.paused = True

    def resume(self, i):
        nd = self.nodes[i]
        if nd.alive():
            os.kill(nd.pid, signal.SIGCONT)
        nd.paused = False

    def wipe(self, i, start=True, wait=True):
        """kill -9, remove the data directory, start again (same id)."""
        nd = self.nodes[i]
        nd.signal_stop(signal.SIGKILL)
        shutil.rmtree(nd.dir)
        if start:
            nd.spawn()
            if wait:
                self.wait_all_up()

    def close(self):
        for nd in self.nodes:
            nd.signal_stop(signal.SIGTERM, timeout=10)
        if not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def live(self):
        """Members running and not paused."""
        return [nd.index for nd in self.nodes
                if nd.alive() and not nd.paused and nd.index not in self.gone]

    def log_tails(self, n=3000):
        return "\n".join(nd.log_tail(n) for nd in self.nodes)

    # ------------------------------------------------------------ clients

    def client(self, i, decode=True, timeout=10, **kw):
        nd = self.nodes[i]
        return redis.Redis(host=nd.host, port=nd.port, decode_responses=decode,
                           socket_timeout=timeout, socket_connect_timeout=2, **kw)

    def cmd(self, i, *args, timeout=10, decode=True):
        c = self.client(i, decode=decode, timeout=timeout)
        try:
            return c.execute_command(*args)
        finally:
            c.close()

    def with_level(self, i, cmds, read=None, write=None, timeout=30, decode=True):
        """Runs cmds (lists of args) on one connection of node i after
        CONSISTENCY READ/WRITE, in one pipeline: the level can not be lost
        to a reconnect in between. Returns the replies (errors as values)."""
        c = self.client(i, decode=decode, timeout=timeout)
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
            c.close()

    def info(self, i, section):
        return parse_info(self.cmd(i, "INFO", section))

    def ring_info(self, i):
        return parse_info(self.cmd(i, "RING", "INFO"))

    def ring_nodes(self, i):
        out = []
        for line in self.cmd(i, "RING", "NODES"):
            f = line.split()
            out.append({"id": f[0], "addr": f[1].partition("@")[0], "health": f[5],
                        "status": f[6], "myself": len(f) > 7 and f[7] == "myself"})
        return out

    def index_of(self, addr):
        for nd in self.nodes:
            if nd.addr == addr:
                return nd.index
        raise KeyError(addr)

    def owners(self, key, via=0):
        return [self.index_of(a) for a in self.cmd(via, "RING", "OWNERS", key)]

    def local(self, i, key):
        """RING LOCAL: sorted [(value or None, clock text)]."""
        return sorted((tuple(p) for p in self.cmd(i, "RING", "LOCAL", key)),
                      key=lambda p: (p[0] is None, p[0] or "", p[1]))

    def repair(self, i, timeout=120):
        return self.cmd(i, "RING", "REPAIR", timeout=timeout)

    # ------------------------------------------------------------ waiting

    def _sees_up(self, i, addrs):
        up = {l["addr"] for l in self.ring_nodes(i) if l["health"] == "up" and
              l["status"] == "normal"}
        return addrs <= up

    def _links_up(self, i, n):
        return int(self.ring_info(i).get("bus_links_up", "0")) >= n

    def wait_all_up(self, ids=None, timeout=30.0):
        """Every node of ids (default: the live ones) lists all of them up and
        has its own bus links to them connected."""
        ids = self.live() if ids is None else list(ids)
        addrs = {self.nodes[i].addr for i in ids}
        wait_until(lambda: all(self._sees_up(i, addrs) and self._links_up(i, len(ids) - 1)
                               for i in ids), timeout, "nodes %s to see each other up" % ids,
                   interval=0.1)

    def wait_seen_down(self, j, by=None, timeout=20.0):
        addr = self.nodes[j].addr
        by = [i for i in (self.live() if by is None else by) if i != j]

        def ok():
            for i in by:
                for l in self.ring_nodes(i):
                    if l["addr"] == addr and l["health"] == "up":
                        return False
            return True

        wait_until(ok, timeout, "node %d (%s) to be seen down by %s" % (j, addr, by),
                   interval=0.1)

    def wait_hints_drained(self, timeout=30.0):
        def ok():
            return all(int(self.info(i, "hints").get("hints_pending", "0")) == 0
                       for i in self.live())
        wait_until(ok, timeout, "hints_pending 0 everywhere", interval=0.2)


# --------------------------------------------------------------- iptables

CHAIN_RE = re.compile(r"^RINGKV_FAULT_(\d+)$")


def _ipt(*args, check=True):
    r = subprocess.run(["iptables", "-w", "5"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("iptables %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def _loopback(addr):
    if not re.match(r"^127\.\d+\.\d+\.\d+$", addr):
        raise ValueError("refusing an iptables rule for %r: loopback addresses only" % addr)
    return addr + "/32"


def iptables_rules():
    return _ipt("-S").stdout


def remove_stale_chains():
    """Removes chains RINGKV_FAULT_<pid> left by a fault run that died
    (SIGKILL) before its cleanup: only ours, only if that pid is gone."""
    out = iptables_rules()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "-N":
            m = CHAIN_RE.match(f[1])
            if m and not os.path.exists("/proc/%s" % m.group(1)):
                _drop_chain(f[1])


def _drop_chain(name):
    for line in iptables_rules().splitlines():
        if line.startswith("-A INPUT ") and line.endswith("-j " + name):
            _ipt(*(["-D"] + line.split()[1:]), check=False)
    _ipt("-F", name, check=False)
    _ipt("-X", name, check=False)


class Net:
    """iptables cuts between nodes of a Cluster, in chain RINGKV_FAULT_<pid>."""

    def __init__(self):
        self.chain = "RINGKV_FAULT_%d" % os.getpid()
        self.cuts = []  # descriptions, for the log
        remove_stale_chains()
        _drop_chain(self.chain)
        _ipt("-N", self.chain)
        _nets.append(self)
        _ipt("-I", "INPUT", "-s", "127.0.0.0/8", "-d", "127.0.0.0/8", "-j", self.chain)

    def _drop(self, src, dst, extra=()):
        _ipt("-A", self.chain, "-s", _loopback(src), "-d", _loopback(dst), *extra, "-j", "DROP")

    def _cut_link(self, c, i, j):
        """Drops node i's connections to node j's bus port, both directions.
        Rules name the bus port, so another cluster on the same addresses
        (a concurrent run) is not cut."""
        a, b, bus = c.nodes[i].host, c.nodes[j].host, str(c.nodes[j].busport)
        self._drop(a, b, ("-p", "tcp", "--dport", bus))
        self._drop(b, a, ("-p", "tcp", "--sport", bus))

    def drop_answers(self, c, i, j):
        """Node j's answers on node i's link to it are lost (its TCP resets
        excepted): i's requests still reach j, which acts on them, and i
        never hears back."""
        a, b, bus = c.nodes[i].host, c.nodes[j].host, str(c.nodes[j].busport)
        self._drop(b, a, ("-p", "tcp", "--sport", bus, "!", "--tcp-flags", "RST", "RST"))
        self.cuts.append("%d-/>%d answers" % (j, i))

    def reset_link(self, c, i, j):
        """Node i's next packet on its link to j's bus is answered with a
        TCP reset: the link goes down with what i had sent still pending."""
        a, b, bus = c.nodes[i].host, c.nodes[j].host, str(c.nodes[j].busport)
        _ipt("-A", self.chain, "-s", _loopback(a), "-d", _loopback(b), "-p", "tcp", "--dport",
             bus, "-j", "REJECT", "--reject-with", "tcp-reset")
        self.cuts.append("%d->%d reset" % (i, j))

    def cut_pair(self, c, i, j):
        """Nodes i and j can not talk to each other at all."""
        self._cut_link(c, i, j)
        self._cut_link(c, j, i)
        self.cuts.append("%d<->%d" % (i, j))

    def cut_oneway(self, c, i, j):
        """Node i can no longer reach node j's bus (its link to j times out);
        j's own link to i keeps working."""
        self._cut_link(c, i, j)
        self.cuts.append("%d->%d" % (i, j))

    def isolate(self, c, i):
        for j in range(len(c.nodes)):
            if j != i:
                self.cut_pair(c, i, j)

    def split(self, c, a, b):
        for i in a:
            for j in b:
                self.cut_pair(c, i, j)

    def heal(self):
        _ipt("-F", self.chain)
        self.cuts = []

    def close(self):
        if self in _nets:
            _drop_chain(self.chain)
            _nets.remove(self)
        left = [l for l in iptables_rules().splitlines() if self.chain in l]
        if left:
            raise RuntimeError("iptables rules of %s left behind: %s" % (self.chain, left))
