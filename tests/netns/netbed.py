"""netbed.py -- ringkv nodes on hosts of their own: a test bed of network
namespaces on a bridge, with delay, jitter, loss, reordering and cuts
between chosen pairs (tests/netns).

Every other test group runs its nodes on 127.0.0.x with zero latency. Here
each node is a host: its own network namespace, its own address, one
Ethernet port on a switch, and the packets between two hosts can be held
(delay, jitter and the reordering jitter causes), dropped at random (loss)
or all dropped (a partition) -- per direction, per pair.

What a Bed builds (names unique per run: rkv-nt<pid>-<k>-..., so runs and
beds never share anything):
  <p>-sw            a namespace holding only a bridge, br0 (no address)
  <p>-<host>        one namespace per host: lo, and eth0 = one end of a veth
                    pair whose other end (v<i>) is a port of br0; its address
                    is 10.213.0.<11+i>/24; GSO segments of one packet each,
                    so loss and delay act on real-sized packets
  the client host   a host like the others ("cli"), with no delay or loss on
                    its links: the test's main thread moves into it (setns)
                    after building, so every client socket the test opens
                    (redis-py, the Jepsen workload's threads) lives there
Nothing is created in the machine's own namespace: no interface, no route,
no iptables rule. Packets flow only between namespaces this Bed made.

Links (per direction, src -> dst; rules sit in dst's namespace, matched by
the packet's source address, on INPUT, in chains of our own):
  INPUT -> RKV_CUT    cuts: -s SRC [-p tcp --dport/--sport P] -j DROP
        -> RKV_LOSS   loss: -s SRC -m statistic --mode random
                            --probability P -j DROP (iptables' own)
        -> RKV_DELAY  delay: -s SRC -j NFQUEUE --queue-num Q
  One netdelay process (tests/netns/netdelay.c, `make netns-build`) per
  receiving namespace holds each queued packet for its link class's delay
  +- jitter (uniform) and then accepts it; one queue number per distinct
  (delay, jitter) class. netdelay binds its queues before the rules exist
  and is checked alive by check(): a dead one would turn its links into cuts.

API:
  unavailable()                  None, or why namespaces can not be used here
                                 (not root, no `ip`, netdelay not built, the
                                 kernel refuses): tests skip with that reason
  Bed(tag)                       names only; nothing exists yet
  bed.add_host(name) -> Host     before up(); Host.ns, Host.addr
  bed.link(a, b, delay_ms, jitter_ms=0, both=True)   before up()
  bed.up()                       creates everything, starts the delayers,
                                 installs the delay rules
  bed.enter(name)                moves the calling thread into host name's
                                 namespace (threads it starts inherit it)
  bed.set_loss(p, pairs=None)    loss p on the given (src, dst) links (default
                                 every link between two non-client hosts);
                                 p = 0 removes it
  bed.cut(src, dst, extra=())    drop src -> dst (extra: iptables match args)
  bed.heal()                     remove every cut
  bed.ping(a, b, count, interval) -> {"min","avg","max","mdev","p50","p90","loss"}
                                 (ms, %; timed in user space)
  bed.delayer_stats()            {host: [{"q","packets","reordered",...}]}
  bed.queue_counters()           {host: kernel counters of its queues}
  bed.check()                    raises if a delayer died
  bed.close()                    stops our processes, leaves the namespace,
                                 deletes every namespace (idempotent)
  NsCluster(bed, name)           a ringtest.Cluster (the fault suite's
                                 settings) whose nodes run in the bed's
                                 hosts (`ip netns exec`), ports 6379/16379,
                                 --dc/--rack per host: c.start_on(placement)
  NsNet(bed)                     faultlib.Net's cuts (isolate, split,
                                 cut_pair, cut_oneway, heal, close) between
                                 a NsCluster's hosts, for jepsen.py's Faults

Cleanup guarantees: every process (servers, delayers) is started with
testprocs.track() and stopped by pid; Bed.close() runs from the test's
finally, and from atexit and SIGTERM/SIGINT/SIGHUP (testprocs, faultlib);
it kills by pid whatever still runs in our namespaces (`ip netns pids`:
only processes this run started can be there) and deletes them, which
removes the veths, the bridge and every rule with them. A run that was
SIGKILLed leaves namespaces named after its pid: the next Bed removes those
whose pid is gone (and the processes in them) before building.
"""
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
sys.path.insert(0, os.path.join(HERE, ".."))
import faultlib  # noqa: E402
import ringtest  # noqa: E402
from testprocs import on_cleanup, stop_proc, track  # noqa: E402

DELAYER = os.environ.get("RINGKV_NETDELAY", os.path.join(HERE, "netdelay"))
SUBNET = "10.213.0."
CLIENT_HOST = "cli"
PORT = 6379                 # every node its own host: the default ports
NS_PREFIX = "rkv-nt"
NS_RE = re.compile(r"^rkv-nt(\d+)-\d+-")
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_beds = []                  # open beds, closed at exit
_seq = [0]


def log(msg):
    faultlib.log(msg)


def _run(args, check=True, input=None, timeout=30):
    r = subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def _in(ns, *args, **kw):
    """Runs a command inside namespace ns."""
    return _run(["ip", "netns", "exec", ns] + list(args), **kw)


def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def namespaces():
    r = _run(["ip", "netns", "list"], check=False)
    return [l.split()[0] for l in r.stdout.splitlines() if l.strip()]


def _kill_ns_procs(ns):
    """SIGKILLs, by pid, the processes in namespace ns (one of ours)."""
    r = _run(["ip", "netns", "pids", ns], check=False)
    pids = [int(p) for p in r.stdout.split() if p.isdigit()]
    for p in pids:
        try:
            os.kill(p, signal.SIGCONT)
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def remove_stale():
    """Deletes namespaces left by a run of this harness that died (its pid
    is gone), after killing what still runs in them."""
    gone = []
    for ns in namespaces():
        m = NS_RE.match(ns)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            _kill_ns_procs(ns)
            _run(["ip", "netns", "del", ns], check=False)
            gone.append(ns)
    if gone:
        log("netns: removed %d namespaces of a dead run: %s" % (len(gone), " ".join(gone)))
    return gone


_probe = {}


def unavailable():
    """None when this machine can run the bed, else the reason (cached)."""
    if "r" in _probe:
        return _probe["r"]
    why = None
    if os.geteuid() != 0:
        why = "not root: network namespaces, veths and iptables need root"
    elif not shutil.which("ip") or not shutil.which("iptables"):
        why = "iproute2 or iptables missing (deps/install.sh)"
    elif not os.access(DELAYER, os.X_OK):
        why = "%s is not built (make netns-build; needs libnetfilter-queue-dev)" % DELAYER
    else:
        ns = "%s%d-probe-x" % (NS_PREFIX, os.getpid())
        try:
            remove_stale()
            _run(["ip", "netns", "add", ns])
            try:
                _run(["ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
                _run(["ip", "-n", ns, "link", "add", "b0", "type", "bridge"])
                _in(ns, "iptables", "-w", "5", "-A", "INPUT", "-s", "10.9.9.9",
                    "-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", "DROP")
                _in(ns, "iptables", "-w", "5", "-A", "INPUT", "-s", "10.9.9.9",
                    "-j", "NFQUEUE", "--queue-num", "7")
                p = subprocess.Popen(["ip", "netns", "exec", ns, DELAYER, "7:1000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                track(p)
                first = p.stdout.readline()
                stop_proc(p, signal.SIGTERM, 5)
                if not first.startswith("ready"):
                    why = "netdelay could not bind an NFQUEUE queue in a namespace: %s" % (
                        first.strip() or "no output")
            finally:
                _kill_ns_procs(ns)
                _run(["ip", "netns", "del", ns], check=False)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            why = "this machine can not create network namespaces with veths, a bridge and " \
                  "iptables NFQUEUE rules: %s" % e
    _probe["r"] = why
    return why


class Host:
    def __init__(self, bed, name, index):
        self.bed = bed
        self.name = name
        self.index = index
        self.ns = "%s-%s" % (bed.prefix, name)
        self.addr = SUBNET + str(11 + index if name != CLIENT_HOST else 200)
        self.port_name = "v%d" % index    # its switch port, in the switch namespace
        self.delayer = None               # Popen of netdelay, if it receives delayed links
        self.queues = {}                  # (delay_us, jitter_us) -> queue number

    def __repr__(self):
        return "%s(%s)" % (self.name, self.addr)


def _close_beds():
    for b in list(_beds):
        try:
            b.close()
        except Exception as e:  # keep going: the other beds, then the processes
            print("netns: cleanup failed: %r" % e, flush=True)


on_cleanup(_close_beds)


class Bed:
    def __init__(self, tag="bed", logdir=None):
        _seq[0] += 1
        self.prefix = "%s%d-%d" % (NS_PREFIX, os.getpid(), _seq[0])
        self.tag = tag
        self.sw = self.prefix + "-sw"
        self.hosts = {}
        self.links = {}         # (src, dst) -> (delay_us, jitter_us)
        self.loss = {}          # (src, dst) -> p
        self.cuts = []          # (src, dst, extra)
        self.created = []       # namespaces made, in order
        self.logdir = logdir or tempfile.mkdtemp(prefix="ringkv-netns-%s-" % tag,
                                                 dir=ringtest.TMP_PARENT)
        self.own_logdir = logdir is None
        self.home_fd = None     # the entering thread's own namespace, to go back
        self.entered_by = None
        self.closed = False

    # -------------------------------------------------------------- build

    def add_host(self, name):
        h = Host(self, name, len(self.hosts))
        self.hosts[name] = h
        return h

    def host(self, name):
        return self.hosts[name]

    def link(self, a, b, delay_ms, jitter_ms=0.0, both=True):
        v = (int(round(delay_ms * 1000)), int(round(jitter_ms * 1000)))
        self.links[(a, b)] = v
        if both:
            self.links[(b, a)] = v

    def node_pairs(self):
        names = [n for n in self.hosts if n != CLIENT_HOST]
        return [(a, b) for a in names for b in names if a != b]

    def up(self):
        remove_stale()
        _beds.append(self)
        _run(["ip", "netns", "add", self.sw])
        self.created.append(self.sw)
        _run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        for h in self.hosts.values():
            _run(["ip", "netns", "add", h.ns])
            self.created.append(h.ns)
            _run(["ip", "-n", self.sw, "link", "add", h.port_name, "type", "veth",
                  "peer", "name", "eth0", "netns", h.ns])
            _run(["ip", "-n", self.sw, "link", "set", h.port_name, "master", "br0", "up"])
            # one packet per GSO segment: loss drops a packet, not 64 KB of them
            _run(["ip", "-n", h.ns, "link", "set", "eth0", "gso_max_segs", "1"])
            _run(["ip", "-n", h.ns, "addr", "add", h.addr + "/24", "dev", "eth0"])
            _run(["ip", "-n", h.ns, "link", "set", "eth0", "up"])
            _run(["ip", "-n", h.ns, "link", "set", "lo", "up"])
        for h in self.hosts.values():
            self._start_delayer(h)
            self._install(h)
        log("netns bed %s: hosts %s; delayed links %d" % (
            self.prefix, ", ".join("%s=%s" % (n, h.addr) for n, h in self.hosts.items()),
            len(self.links)))
        return self

    def _start_delayer(self, h):
        classes = sorted({v for (s, d), v in self.links.items() if d == h.name})
        if not classes:
            return
        h.queues = {c: i + 1 for i, c in enumerate(classes)}
        args = ["%d:%d:%d" % (q, c[0], c[1]) for c, q in h.queues.items()]
        out = open(os.path.join(self.logdir, "netdelay-%s.log" % h.name), "w")
        p = subprocess.Popen(["ip", "netns", "exec", h.ns, DELAYER, "--rt", "--seed",
                              str(h.index + 1)] + args,
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        track(p)
        h.delayer = p
        path = os.path.join(self.logdir, "netdelay-%s.log" % h.name)
        deadline = time.time() + 10
        while True:
            with open(path) as f:
                text = f.read()
            if "ready" in text:
                return
            if p.poll() is not None or time.time() > deadline:
                raise RuntimeError("netdelay in %s did not start: %s" % (h.ns, text.strip()))
            time.sleep(0.02)

    def _chain(self, h, chain, rules):
        """Replaces chain's rules in host h's namespace (atomically)."""
        text = "*filter\n:%s - [0:0]\n%sCOMMIT\n" % (chain, "".join(r + "\n" for r in rules))
        _in(h.ns, "iptables-restore", "-w", "5", "--noflush", input=text)

    def _install(self, h):
        text = "*filter\n:RKV_CUT - [0:0]\n:RKV_LOSS - [0:0]\n:RKV_DELAY - [0:0]\n" \
               "-A INPUT -j RKV_CUT\n-A INPUT -j RKV_LOSS\n-A INPUT -j RKV_DELAY\nCOMMIT\n"
        _in(h.ns, "iptables-restore", "-w", "5", "--noflush", input=text)
        rules = ["-A RKV_DELAY -s %s/32 -j NFQUEUE --queue-num %d" % (
            self.hosts[s].addr, h.queues[v]) for (s, d), v in sorted(self.links.items())
            if d == h.name]
        self._chain(h, "RKV_DELAY", rules)

    # ---------------------------------------------------------- namespaces

    def enter(self, name):
        """Moves the calling thread into host name's namespace; threads it
        starts from now on are there too. close() brings it back."""
        if self.home_fd is None:
            self.home_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            self.entered_by = threading.get_ident()
        _setns("/run/netns/" + self.hosts[name].ns)

    def _leave(self):
        if self.home_fd is None:
            return
        if threading.get_ident() == self.entered_by:
            if _libc.setns(self.home_fd, CLONE_NEWNET) != 0:
                print("netns: could not return to the original namespace (errno %d)" %
                      ctypes.get_errno(), flush=True)
        os.close(self.home_fd)
        self.home_fd = None

    # -------------------------------------------------------- impairments

    def set_loss(self, p, pairs=None):
        pairs = self.node_pairs() if pairs is None else pairs
        for pr in pairs:
            if p > 0:
                self.loss[pr] = p
            else:
                self.loss.pop(pr, None)
        for h in {self.hosts[d] for _, d in pairs}:
            rules = ["-A RKV_LOSS -s %s/32 -m statistic --mode random --probability %.4f -j DROP"
                     % (self.hosts[s].addr, q) for (s, d), q in sorted(self.loss.items())
                     if d == h.name]
            self._chain(h, "RKV_LOSS", rules)

    def _apply_cuts(self, dsts):
        for d in dsts:
            h = self.hosts[d]
            rules = ["-A RKV_CUT -s %s/32 %s-j DROP" % (self.hosts[s].addr,
                                                      "".join(x + " " for x in extra))
                     for s, dd, extra in self.cuts if dd == d]
            self._chain(h, "RKV_CUT", rules)

    def cut(self, src, dst, extra=()):
        """Drops the packets from host src to host dst (extra: more iptables
        match arguments, e.g. ("-p", "tcp", "--dport", "16379"))."""
        self.cuts.append((src, dst, tuple(extra)))
        self._apply_cuts([dst])

    def cut_many(self, cuts):
        """cut() for a list of (src, dst, extra), one rule set per host."""
        self.cuts.extend((s, d, tuple(e)) for s, d, e in cuts)
        self._apply_cuts(sorted({d for _, d, _ in cuts}))

    def heal(self):
        dsts = sorted({d for _, d, _ in self.cuts})
        self.cuts = []
        self._apply_cuts(dsts)

    # ------------------------------------------------------- measurement

    def ping(self, a, b, count=50, interval=0.02, size=56):
        """ICMP echo from host a to host b, timed in user space (ping -U: the
        kernel's receive timestamp is taken before our INPUT hook holds the
        packet). Returns min/avg/max/mdev as ping reports them, the median
        and 90th percentile of the replies (ms; robust to a ping process
        that a busy machine schedules late) and loss (%)."""
        r = _in(self.hosts[a].ns, "ping", "-n", "-U", "-c", str(count), "-i", str(interval),
                "-s", str(size), "-W", "2", self.hosts[b].addr, check=False,
                timeout=count * interval + 30)
        out = {"loss": None}
        m = re.search(r"([\d.]+)% packet loss", r.stdout)
        if m:
            out["loss"] = float(m.group(1))
        m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", r.stdout)
        if m:
            out.update(zip(("min", "avg", "max", "mdev"), map(float, m.groups())))
        times = [float(t) for t in re.findall(r"time=([\d.]+) ms", r.stdout)]
        if times:
            out["p50"] = percentile(times, 50)
            out["p90"] = percentile(times, 90)
        if out["loss"] is None:
            raise RuntimeError("ping %s -> %s: %s %s" % (a, b, r.stdout[-2000:], r.stderr))
        return out

    def delayer_stats(self):
        """Each delayer's per-queue counters (SIGUSR1, then its log)."""
        out = {}
        for h in self.hosts.values():
            if not h.delayer or h.delayer.poll() is not None:
                continue
            path = os.path.join(self.logdir, "netdelay-%s.log" % h.name)
            before = os.path.getsize(path)
            os.kill(h.delayer.pid, signal.SIGUSR1)
            want = len(h.queues)
            deadline = time.time() + 5
            lines = []
            while time.time() < deadline:
                with open(path) as f:
                    f.seek(before)
                    lines = [l for l in f.read().splitlines() if l.startswith("stats ")]
                if len(lines) >= want:
                    break
                time.sleep(0.02)
            rows = []
            for l in lines[:want]:
                rows.append({k: int(v) for k, v in (kv.split("=") for kv in l.split()[1:])})
            out[h.name] = rows
        return out

    def queue_counters(self):
        """The kernel's counters of each host's queues
        (/proc/net/netfilter/nfnetlink_queue in its namespace): queue,
        waiting, dropped (queue full / no buffer), user_dropped, total."""
        out = {}
        for h in self.hosts.values():
            if not h.queues:
                continue
            r = _in(h.ns, "cat", "/proc/net/netfilter/nfnetlink_queue", check=False)
            rows = []
            for l in r.stdout.splitlines():
                f = l.split()
                if len(f) >= 9:
                    rows.append({"queue": int(f[0]), "waiting": int(f[2]),
                                 "dropped": int(f[5]), "user_dropped": int(f[6]),
                                 "total": int(f[7])})
            out[h.name] = rows
        return out

    def check(self):
        for h in self.hosts.values():
            if h.delayer is not None and h.delayer.poll() is not None:
                raise AssertionError("the delayer of %s exited (%s): its links dropped every "
                                     "packet from then on" % (h.name, h.delayer.returncode))

    def log_tails(self):
        out = ""
        for h in self.hosts.values():
            p = os.path.join(self.logdir, "netdelay-%s.log" % h.name)
            if os.path.exists(p):
                with open(p) as f:
                    out += "--- netdelay %s ---\n%s\n" % (h.name, f.read()[-2000:])
        return out

    # ------------------------------------------------------------ cleanup

    def close(self):
        if self.closed:
            return
        self.closed = True
        self._leave()
        for h in self.hosts.values():
            if h.delayer is not None:
                stop_proc(h.delayer, signal.SIGTERM, timeout=5)
        left = []
        for ns in reversed(self.created):
            left += _kill_ns_procs(ns)
            _run(["ip", "netns", "del", ns], check=False)
        if self in _beds:
            _beds.remove(self)
        still = [ns for ns in namespaces() if ns.startswith(self.prefix + "-")]
        if self.own_logdir and not os.environ.get("RINGKV_KEEP"):
            shutil.rmtree(self.logdir, ignore_errors=True)
        if still:
            raise RuntimeError("netns: namespaces left behind: %s" % still)
        if left:
            log("netns: killed %d processes still in the namespaces: %s" % (len(left), left))


# ------------------------------------------------------------- clusters

class NsCluster(ringtest.Cluster):
    """A fault-suite cluster (faultlib.GROUP) on a Bed: node i runs in host
    placement[i] (`ip netns exec`, which execs: the pid we track is the
    server's), bound to the host's address on the default ports, protected
    mode off (clients come from the client host), with its dc and rack and
    the id <name>-<host>."""

    def __init__(self, bed, name="nt"):
        super().__init__("netns-" + name, **faultlib.GROUP)
        self.bed = bed
        self.name = name
        self.placement = []     # [(host name, dc, rack)], one per node

    def start_on(self, placement, wait=True, timeout=60.0, **opts):
        """placement: [(host name, dc, rack)]; opts as ringtest's start."""
        self.placement = list(placement)
        node_opts = [{"node-id": "%s-%s" % (self.name, h), "protected-mode": "no", "dc": dc,
                      "rack": rack} for h, dc, rack in placement]
        return self.start(len(placement), wait=wait, timeout=timeout, node_opts=node_opts,
                          **opts)

    def host(self, i):
        if i < len(self.nodes):
            return self.nodes[i].host
        return self.bed.host(self.placement[i][0]).addr

    def _ports(self, host, taken, http):
        return PORT, None       # every node its own host: the default ports

    def new_node(self, i, host, port, opts, seeds, http_port=None):
        nd = super().new_node(i, host, port, opts, seeds, http_port)
        nd.wrap = ["ip", "netns", "exec", self.bed.host(self.placement[i][0]).ns]
        return nd

    def host_of(self, i):
        """The name of node i's host in the bed."""
        return self.placement[i][0]

    def suspicions(self):
        """Per node, the gossip log lines that suspected or declared another
        node down: [(node index, line)]."""
        out = []
        for nd in self.nodes:
            if os.path.exists(nd.logfile):
                with open(nd.logfile, errors="replace") as f:
                    for l in f:
                        if "suspected down" in l or "is down: two or more" in l:
                            out.append((nd.index, l.rstrip()))
        return out


class NsNet:
    """faultlib.Net's cuts on a Bed: whole hosts are cut (every packet
    between two node hosts), except cut_oneway, which like faultlib's cuts
    i's connections to j's bus port only. The client host is never cut."""

    def __init__(self, bed):
        self.bed = bed
        self.cuts = []

    def _hosts(self, c, i, j):
        return c.host_of(i), c.host_of(j)

    def cut_pair(self, c, i, j):
        a, b = self._hosts(c, i, j)
        self.bed.cut_many([(a, b, ()), (b, a, ())])
        self.cuts.append("%d<->%d" % (i, j))

    def cut_oneway(self, c, i, j):
        a, b = self._hosts(c, i, j)
        bus = str(c.nodes[j].busport)
        self.bed.cut_many([(a, b, ("-p", "tcp", "--dport", bus)),
                           (b, a, ("-p", "tcp", "--sport", bus))])
        self.cuts.append("%d->%d" % (i, j))

    def split(self, c, ga, gb):
        cuts = []
        for i in ga:
            for j in gb:
                a, b = self._hosts(c, i, j)
                cuts += [(a, b, ()), (b, a, ())]
                self.cuts.append("%d<->%d" % (i, j))
        self.bed.cut_many(cuts)

    def isolate(self, c, i):
        self.split(c, [i], [j for j in range(len(c.nodes)) if j != i])

    def heal(self):
        self.bed.heal()
        self.cuts = []

    def close(self):
        if not self.bed.closed:
            self.heal()


def dc_bed(tag, layout, wan_ms=(20.0, 5.0), lan_ms=(0.2, 0.05)):
    """A Bed with hosts <dc><k> for layout [(dc, count)] plus the client
    host: LAN delay between hosts of one DC, WAN delay between DCs (each a
    (delay, jitter) in ms, per direction). Returns (bed, placement) for
    NsCluster.start_on; the bed is not up yet."""
    bed = Bed(tag)
    placement = []
    for dc, n in layout:
        for k in range(n):
            name = "%s%d" % (dc, k)
            bed.add_host(name)
            placement.append((name, dc, "r%d" % (k % 2)))
    bed.add_host(CLIENT_HOST)
    for a, dca, _ in placement:
        for b, dcb, _ in placement:
            if a < b:
                d, j = lan_ms if dca == dcb else wan_ms
                bed.link(a, b, d, j)
    return bed, placement


def percentile(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# -------------------------------------------------------------- figures

FIGURES = []    # (name, text): what the run measured, printed again at the end


def figure(name, text):
    """Records and prints one measured figure ("FIGURE name: text")."""
    FIGURES.append((name, text))
    print("FIGURE %s: %s" % (name, text), flush=True)


def length():
    """short (make netns, in make test) or long (make netns-long)."""
    return os.environ.get("RINGKV_NETNS", "short")


def in_host(bed, name):
    """For a thread of its own: moves the calling thread into host name's
    namespace for good (the thread ends there)."""
    _setns("/run/netns/" + bed.hosts[name].ns)


def tcp_counters(bed):
    """Sums over the node hosts of the kernel's TCP counters that show loss
    and reordering reaching TCP: RetransSegs (segments sent again),
    TCPOFOQueue (segments that arrived out of order), TCPSACKReorder and
    TCPTSReorder (reordering TCP detected), TCPLostRetransmit."""
    want = {"RetransSegs", "TCPOFOQueue", "TCPSACKReorder", "TCPTSReorder",
            "TCPLostRetransmit", "TCPTimeouts"}
    tot = {k: 0 for k in want}
    for h in bed.hosts.values():
        if h.name == CLIENT_HOST:
            continue
        r = _in(h.ns, "cat", "/proc/net/snmp", "/proc/net/netstat", check=False)
        lines = r.stdout.splitlines()
        for i in range(0, len(lines) - 1, 2):   # "Tcp: names..." then "Tcp: values..."
            ka, kb = lines[i].split(), lines[i + 1].split()
            if len(ka) != len(kb) or ka[0] != kb[0]:
                continue
            for k, v in zip(ka[1:], kb[1:]):
                if k in want:
                    tot[k] += int(v)
    return tot
