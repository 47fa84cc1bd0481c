"""faultlib.py -- the fault suite's nodes and network faults (tests/fault).

Its clusters are tests/ringtest.py Clusters with the suite's settings
(GROUP, new_cluster()): nodes on fixed loopback addresses (127.0.0.11,
.12, ...: the iptables rules below name them), each with a fixed --node-id
fault-n<i> (so a node whose data directory was wiped comes back under the
same id), every node so far as seeds at each start, its log outside its
data directory (a wipe keeps the log), failure detection in about a second
and a half. The faults on nodes are ringtest's: kill9(i) / restart(i),
pause(i) / resume(i) (SIGSTOP / SIGCONT), wipe(i); membership: add_node(),
members(), gone.

Net: iptables cuts between node addresses, in one chain of our own
(RINGKV_FAULT_<pid>) jumped to from INPUT for 127.0.0.0/8 only
(rules name the nodes' addresses and bus ports: nothing else is cut):
  net.isolate(c, i)                node i cut from every other node
  net.split(c, a, b)               every pair across groups a and b cut
  net.cut_pair(c, i, j)            both directions between i and j
  net.cut_oneway(c, i, j)          i can not reach j's bus (its link to j is
                                   dead), j still reaches i
  net.drop_answers(c, i, j), net.reset_link(c, i, j)
  net.heal()                       flush the chain

Cleanup guarantees: every process started is stopped by pid (close(),
atexit, SIGTERM/SIGINT/SIGHUP: tests/testprocs.py); every iptables rule
lives in our chain, and the chain and its jump are removed by Net.close(),
atexit and the same signals. Nothing is ever killed by name; nothing but
127.0.0.0/8 is touched.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ringtest  # noqa: E402
from testprocs import exit_on_signals, on_cleanup  # noqa: E402

# Failure detection in about a second and a half.
FAST = {"gossip-interval": "200", "fail-timeout": "1500", "replica-timeout": "500"}
# ringtest.Cluster's arguments for the fault suite's clusters (see above).
GROUP = dict(net=ringtest.FAULT_NET, timings=FAST, node_ids="fault-n%d", logs_apart=True,
             seed_all=True, client_timeout=10)

_nets = []          # Net objects not closed yet


def new_cluster(name="fault"):
    """A cluster of the fault suite (no node started yet)."""
    return ringtest.Cluster(name, **GROUP)


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
