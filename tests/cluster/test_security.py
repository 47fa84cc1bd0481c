"""test_security.py -- what protects the cluster bus in each configuration
(no password, requirepass only, cluster-secret, a password set at runtime),
protected-mode, TLS for clients and the bus, SLOWLOG and INFO latencystats,
with real processes and real clients.

The bus is tested as a stranger would attack it: BusPeer speaks the bus
protocol by hand (HELLO, then requests such as GET and CMD SET) from a
loopback address, or from an address the node is told to count as remote
(debug-untrusted-prefix, test-only: tests may use loopback addresses only,
and the check the node makes is the one a real remote address meets)."""
import hashlib
import hmac
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from ringtest import CLUSTER_NET as NET, Cluster
from testprocs import free_port

# A source address for strangers that the nodes count as remote when told to
# (debug-untrusted-prefix), inside this run's own loopback prefix.
REMOTE = NET + "250"


class ClusterCase(unittest.TestCase):
    def new_cluster(self, n, **opts):
        c = Cluster()
        self.addCleanup(c.close)
        c.start(n, **opts)
        return c

    def wait_log(self, c, i, pattern, what):
        c.wait_until(lambda: re.search(pattern, c.log(i)), 30,
                     "node %d's log to say %s (%r)" % (i, what, pattern))


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class BusPeer:
    """A hand-made cluster bus client: a request is [name, id, args...], an
    answer ["REPLY", id, "OK" | error text, values...]. It connects from
    source (an address of this machine) to node i's bus port."""

    def __init__(self, c, i, source="127.0.0.1"):
        host, port = c.addr(i).split(":")
        self.s = socket.socket()
        self.s.settimeout(10)
        self.s.bind((source, 0))
        self.s.connect((host, int(port) + 10000))
        self.buf = b""
        self.closed = False
        self.next_id = 0
        self.raw = b""  # every byte received, for "the password never crossed"

    def close(self):
        self.s.close()

    def send(self, name, *args):
        """Sends a request; returns its id (a string)."""
        self.next_id += 1
        rid = str(self.next_id)
        self.s.sendall(resp(name, rid, *args))
        return rid

    def _fill(self):
        try:
            chunk = self.s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        self.raw += chunk
        return True

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                return None
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            if not self._fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        """The next answer as a list of bytes, or None once the node closed
        the connection. A socket timeout (the node neither answered nor
        closed) raises."""
        line = self._line()
        if line is None:
            return None
        assert line.startswith(b"*"), line
        out = []
        for _ in range(int(line[1:])):
            h = self._line()
            if h is None:
                return None
            assert h.startswith(b"$"), h
            b = self._bulk(int(h[1:]))
            if b is None:
                return None
            out.append(b)
        return out

    def read_all(self):
        """Every answer until the node closes the connection, or until it
        leaves the connection idle for the socket timeout (then self.closed
        stays False)."""
        out = []
        try:
            while True:
                r = self.read()
                if r is None:
                    return out
                out.append(r)
        except socket.timeout:
            return out

    def closed_by_node(self):
        """Reads until the node closes the connection (True) or leaves it
        open and silent for the socket timeout (False)."""
        self.read_all()
        return self.closed

    def attack(self, key, new_key):
        """A stranger's whole try, in one write: HELLO (with a challenge of
        its own), a read of key and a write of new_key (a forwarded client
        SET, as a node sends it). Returns the answers until the node closes
        the connection or leaves it idle."""
        self.s.sendall(resp("HELLO", "1", "ringkv", "256", "stranger", "127.0.0.1", "1", "10001",
                            "n" * 32) + resp("GET", "2", "0", key) +
                       resp("CMD", "3", "0", "1", "1", "2", "SET", new_key, "x"))
        return self.read_all()

    def request(self, name, *args):
        self.send(name, *args)
        return self.read()

    def hello(self, nonce=b"n" * 32, kind=None, cluster=b"ringkv", node_id=b"stranger"):
        args = [cluster, b"256", node_id, b"127.0.0.1", b"1", b"10001"]
        if nonce is not None:
            args.append(nonce)
            if kind is not None:
                args.append(kind)
        return self.request("HELLO", *args)


def derived_key(password, cluster="ringkv"):
    """The bus secret a node derives from requirepass when no cluster-secret
    is set, as the README documents it."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"ringkv cluster bus|" +
                               cluster.encode(), 100000, 32)


def proof(key, role, a, b):
    return hmac.new(key, b"%s|%s|%s" % (role, a, b), hashlib.sha256).hexdigest().encode()


def ok(reply):
    return reply is not None and len(reply) >= 3 and reply[0] == b"REPLY" and reply[2] == b"OK"


class BusWithoutSecret(ClusterCase):
    """(a) No requirepass, no cluster-secret: the bus is guarded as the client
    port is without a password. Peers on the loopback interface are trusted
    (the nodes of a local cluster are told apart from a stranger by nothing
    else, as redis-cli on loopback reads every key); under protected-mode
    (the default) a remote peer gets an error, nothing else, and the node
    logs how to set cluster-secret."""

    def test_loopback_is_trusted_and_a_remote_stranger_gets_nothing(self):
        c = self.new_cluster(1, replication="1", read_quorum="1", write_quorum="1",
                             debug_untrusted_prefix=REMOTE)
        r = c.client(0)
        self.assertTrue(r.set("k", "stored-value"))
        # remote: HELLO, a read and a write, in one go: one error, then closed
        p = BusPeer(c, 0, REMOTE)
        self.addCleanup(p.close)
        answers = p.attack("k", "by-stranger")
        self.assertNotIn(b"stored-value", p.raw, "a remote stranger read a record")
        self.assertTrue(p.closed, answers)
        self.assertEqual(len(answers), 1, answers)
        self.assertNotEqual(answers[0][2], b"OK")
        self.assertIn(b"protected mode", answers[0][2])
        self.assertIn(b"cluster-secret", answers[0][2])
        # a remote stranger that skips HELLO is turned away the same way
        p = BusPeer(c, 0, REMOTE)
        self.addCleanup(p.close)
        p.s.sendall(resp("CMD", "1", "0", "1", "1", "2", "SET", "by-stranger", "x"))
        answers = p.read_all()
        self.assertEqual(len(answers), 1, answers)
        self.assertIn(b"protected mode", answers[0][2])
        self.assertEqual(c.local(0, "by-stranger"), [])
        self.assertIsNone(r.get("by-stranger"))
        # the node says why, and what to set
        log = c.log(0)
        self.assertRegex(log, r"Refusing cluster bus peer %s:\d+.*protected-mode is on.*set "
                              r"cluster-secret" % re.escape(REMOTE))
        self.assertGreaterEqual(int(c.ring_info(0)["bus_inbound_refused"]), 2)
        self.assertEqual(c.ring_info(0)["bus_secret"], "none")
        # loopback, as redis-cli on loopback: the stored record (decided, and
        # documented in the README: loopback is trusted on both ports)
        p = BusPeer(c, 0, "127.0.0.1")
        self.addCleanup(p.close)
        self.assertTrue(ok(p.hello()))
        got = p.request("GET", "0", "k")
        self.assertTrue(ok(got), got)
        self.assertEqual(got[3], b"1")
        self.assertIn(b"stored-value", got[4])
        # protected-mode no: the operator trusts the network, remote peers too
        r.config_set("protected-mode", "no")
        p = BusPeer(c, 0, REMOTE)
        self.addCleanup(p.close)
        self.assertTrue(ok(p.hello()))

    def test_a_remote_node_is_refused_and_both_nodes_say_why(self):
        c = self.new_cluster(1, debug_untrusted_prefix=NET + "12")  # node 1 is 127.0.x.12
        i = c.add_node(opts={})
        self.assertEqual(c.nodes[i].host, NET + "12")
        # the refusing node says how to set a secret; the refused one what it was told
        self.wait_log(c, 0, r"Refusing cluster bus peer %s:\d+ \(node .*protected-mode is on"
                      % re.escape(NET + "12"), "it refused node 1")
        self.wait_log(c, i, r"Cluster bus peer %s.*protected mode.*Set the same "
                      r"cluster-secret" % re.escape(c.nodes[0].host), "it was refused")
        self.assertNotIn(c.node_id(i), [n.id for n in c.ring_nodes(0)])


class BusSecret(ClusterCase):
    """(c) cluster-secret: nodes prove they know it (HMAC challenge-response
    both ways), from loopback or not."""

    def test_nodes_with_the_secret_form_a_cluster_and_others_are_refused(self):
        # every peer counts as remote (debug-untrusted-prefix): protected-mode
        # lets them in because they prove the secret
        c = self.new_cluster(2, cluster_secret="s3cret-one", debug_untrusted_prefix=NET)
        self.assertEqual(c.ring_info(0)["bus_secret"], "cluster-secret")
        # a third node with another secret: never admitted, and both sides say why
        i = c.add_node(opts={"cluster-secret": "another", "debug-untrusted-prefix": NET})
        self.wait_log(c, i, r"different cluster-secrets", "the secrets differ")
        self.wait_log(c, 0, r"without answering our challenge.*cluster-secret",
                      "node 2 dropped its challenge")
        for j in (0, 1):
            ids = [n.id for n in c.ring_nodes(j)]
            self.assertNotIn(c.node_id(i), ids, "node with the wrong secret admitted by %d" % j)
        # the two good nodes still work together
        a, b = c.client(0), c.client(1)
        self.assertTrue(a.set("k", "v"))
        self.assertEqual(b.get("k"), "v")
        # CONFIG GET does not show the secret
        shown = a.config_get("cluster-secret")["cluster-secret"]
        self.assertNotIn("s3cret", shown)

    def test_a_stranger_on_the_bus_gets_an_error_and_is_closed(self):
        c = self.new_cluster(1, cluster_secret="s3cret", replication="1", read_quorum="1",
                             write_quorum="1", debug_untrusted_prefix=REMOTE)
        self.assertTrue(c.client(0).set("key", "stored-value"))
        host, port = c.addr(0).split(":")
        busport = int(port) + 10000
        s = socket.create_connection((host, busport), timeout=5)
        # a plausible request, without the handshake
        s.sendall(b"*4\r\n$3\r\nGET\r\n$1\r\n1\r\n$1\r\n0\r\n$3\r\nkey\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            self.fail("the bus kept a stranger's connection open")
        s.close()
        self.assertIn(b"HELLO expected", data)
        self.assertNotIn(b"key", data.replace(b"HELLO expected", b""))
        # and a HELLO without a proof of the secret is refused too
        s = socket.create_connection((host, busport), timeout=5)
        hello = [b"HELLO", b"1", b"ringkv", b"256", b"stranger", b"127.0.0.1", b"1", b"10001"]
        s.sendall(b"*%d\r\n" % len(hello) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in hello))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertIn(b"cluster-secret", data)
        # from loopback or from a remote address: a challenge, and without the
        # secret's proof nothing but errors (protected-mode has nothing to add)
        for source in ("127.0.0.1", REMOTE):
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            answers = p.attack("key", "by-stranger")
            self.assertNotIn(b"stored-value", p.raw)
            self.assertTrue(p.closed, answers)
            self.assertEqual(len(answers), 2, answers)
            self.assertTrue(ok(answers[0]), answers)  # the challenge
            self.assertEqual(answers[0][6], b"cluster-secret")
            self.assertIn(b"AUTH expected", answers[1][2])
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            self.assertTrue(ok(p.hello()))
            got = p.request("AUTH", b"0" * 64)
            self.assertIn(b"AUTH refused", got[2])
            self.assertIsNone(p.read())
        self.assertEqual(c.local(0, "by-stranger"), [])


class BusRequirepass(ClusterCase):
    """(b) requirepass and no cluster-secret: the bus secret is derived from
    the password (PBKDF2-HMAC-SHA256, salt "ringkv cluster bus|" + the
    cluster name), so whoever cannot AUTH on the client port gets nothing
    from the bus either, and a cluster needs nothing but the password."""

    PW = "a long pass phrase"

    def test_a_cluster_with_only_requirepass_forms_replicates_and_strangers_get_nothing(self):
        # every peer counts as remote, as on separate machines
        c = self.new_cluster(3, requirepass=self.PW, debug_untrusted_prefix=NET)
        r0 = c.client(0)
        self.assertTrue(r0.set("k", "stored-value"))
        for i in range(3):  # replication 3: every node holds it
            self.assertEqual([v for v, _ in c.local(i, "k")], ["stored-value"])
        self.assertEqual(c.client(2).get("k"), "stored-value")
        # strangers, from loopback and from a remote address
        for source in ("127.0.0.1", REMOTE):
            # the try: HELLO, GET, a write. A challenge, then closed
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            answers = p.attack("k", "by-stranger")
            self.assertNotIn(b"stored-value", p.raw, "a stranger read a record without the "
                                                     "password")
            self.assertTrue(p.closed, answers)
            self.assertEqual(len(answers), 2, answers)
            h = answers[0]
            self.assertTrue(ok(h), h)
            self.assertEqual(len(h), 7)
            self.assertEqual(h[6], b"requirepass")
            self.assertIn(b"AUTH expected", answers[1][2])
            # a wrong proof
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            self.assertTrue(ok(p.hello()))
            got = p.request("AUTH", b"f" * 64)
            self.assertIn(b"AUTH refused", got[2])
            self.assertIsNone(p.read())
            # the password itself as the key (a client's AUTH, not the bus's)
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            h = p.hello()
            got = p.request("AUTH", proof(self.PW.encode(), b"client", h[4], b"n" * 32))
            self.assertIn(b"AUTH refused", got[2])
            # no HELLO challenge at all, or one that says it has no secret
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            got = p.hello(nonce=None)
            self.assertIn(b"HELLO refused", got[2])
            self.assertIn(b"requirepass", got[2])
            self.assertIsNone(p.read())
            p = BusPeer(c, 0, source)
            self.addCleanup(p.close)
            got = p.hello(kind=b"none")
            self.assertIn(b"HELLO refused", got[2])
            self.assertIn(b"this node has neither cluster-secret nor requirepass", got[2])
            self.assertIsNone(p.read())
            self.assertNotIn(b"stored-value", p.raw)
            self.assertNotIn(self.PW.encode(), p.raw)
        for i in range(3):
            self.assertEqual(c.local(i, "by-stranger"), [])
        self.assertIsNone(r0.get("by-stranger"))
        self.assertRegex(c.log(0), r"Refusing cluster bus peer .*: it failed the bus secret "
                                   r"challenge")
        for i in range(3):
            self.assertEqual(c.ring_info(i)["bus_secret"], "requirepass")
            self.assertRegex(c.log(i), r"bus peers must prove they know requirepass")
        # and the derivation is the documented one: knowing the password, a
        # hand-made peer gets in (so the refusals above are the secret's doing)
        p = BusPeer(c, 0, REMOTE)
        self.addCleanup(p.close)
        h = p.hello()
        key = derived_key(self.PW)
        self.assertEqual(h[5], proof(key, b"server", b"n" * 32, h[4]))
        self.assertTrue(ok(p.request("AUTH", proof(key, b"client", h[4], b"n" * 32))))
        got = p.request("GET", "0", "k")
        self.assertTrue(ok(got), got)
        self.assertIn(b"stored-value", got[4])
        p.close()
        # a node restarts (same options) and is back in the cluster, and a
        # write through it reaches the others
        c.restart(2)
        r2 = c.client(2)
        self.assertTrue(r2.set("after-restart", "v2"))
        self.assertEqual(r0.get("after-restart"), "v2")
        for i in range(3):
            self.assertEqual([v for v, _ in c.local(i, "after-restart")], ["v2"])
        self.assertEqual(r2.get("k"), "stored-value")


class BusRuntimePassword(ClusterCase):
    """(d) CONFIG SET requirepass with no cluster-secret. A password where
    there was none: bus connections that came up without a secret are closed
    at once, new ones must prove the password. A new password: links already
    authenticated stay up (so the cluster keeps working while each node gets
    it in turn), new ones need the new password; nodes with different
    passwords refuse each other and both logs say so."""

    def test_setting_and_changing_requirepass_at_runtime(self):
        c = self.new_cluster(2)
        a, b = c.client(0), c.client(1)
        self.assertTrue(a.set("k", "stored-value"))
        # a stranger on loopback, in before any password (trusted, as documented)
        early = BusPeer(c, 0, "127.0.0.1")
        self.addCleanup(early.close)
        self.assertTrue(ok(early.hello()))
        # node 0 gets a password: the stranger is cut off, the bus asks for the password
        a.config_set("requirepass", "pw1")
        c.nodes[0].opts["requirepass"] = "pw1"
        self.assertTrue(early.closed_by_node(), "a connection opened without a secret stayed open")
        self.wait_log(c, 0, r"requirepass set and no cluster-secret: bus peers must now prove",
                      "a bus secret came into force")
        self.assertEqual(c.ring_info(0)["bus_secret"], "requirepass")
        p = BusPeer(c, 0, "127.0.0.1")
        self.addCleanup(p.close)
        self.assertTrue(ok(p.hello()))
        self.assertIn(b"AUTH expected", p.request("GET", "0", "k")[2])
        # node 1 has none yet: they refuse each other, each saying why
        self.wait_log(c, 1, r"this node has neither cluster-secret nor requirepass, the peer "
                            r"has no cluster-secret and a requirepass", "node 0 has a password")
        self.wait_log(c, 0, r"Refusing cluster bus peer .*this node has no cluster-secret and a "
                            r"requirepass .*, the peer has neither", "node 1 has none")
        # node 1 gets it too: the links come back, authenticated, and replicate
        b.config_set("requirepass", "pw1")
        c.nodes[1].opts["requirepass"] = "pw1"
        c.wait_all_up(timeout=40)  # refused links retry every 10 s
        a, b = c.client(0), c.client(1)
        self.assertTrue(a.set("k2", "v2"))
        self.assertEqual([v for v, _ in c.local(1, "k2")], ["v2"])
        # a new password on node 0 only: the authenticated links stay up,
        # writes still reach both (replication 3 on 2 nodes, W=2: both must ack)
        a.config_set("requirepass", "pw2")
        c.nodes[0].opts["requirepass"] = "pw2"
        self.wait_log(c, 0, r"requirepass changed", "the password changed")
        a = c.client(0)
        self.assertTrue(a.set("k3", "v3"))
        self.assertTrue(b.set("k4", "v4"))
        self.assertEqual([v for v, _ in c.local(0, "k4")], ["v4"])
        self.assertEqual([v for v, _ in c.local(1, "k3")], ["v3"])
        # node 1 restarts with the old password: the two refuse each other
        c.stop(1)
        c.restart(1, wait=False)
        for i in (0, 1):
            self.wait_log(c, i, r"different requirepass passwords", "the passwords differ")
        # and with the same password again, they are one cluster
        c.client(1).config_set("requirepass", "pw2")
        c.nodes[1].opts["requirepass"] = "pw2"
        c.wait_all_up(timeout=40)
        self.assertTrue(c.client(1).set("k5", "v5"))
        self.assertEqual(c.client(0).get("k5"), "v5")
        self.assertEqual([v for v, _ in c.local(0, "k5")], ["v5"])


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=ringkv test CA")
    for name in ("node", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
            name + ".csr", "-subj", "/CN=" + name)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "2")
    return {k: os.path.join(d, k) for k in ("ca.crt", "node.crt", "node.key", "client.crt",
                                               "client.key")}


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
class Tls(ClusterCase):
    def test_redis_cli_over_tls_and_a_tls_cluster_bus(self):
        d = tempfile.mkdtemp(prefix="ringkv-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        f = make_certs(d)
        c = Cluster()
        self.addCleanup(c.close)
        # each node: a TLS client port of its own, and TLS on the bus. Every
        # peer counts as remote: with no password or secret, protected-mode
        # accepts them for their verified certificates
        tls_ports = [free_port(c.host(i)) for i in range(3)]
        c.start(3, tls_cert_file=f["node.crt"], tls_key_file=f["node.key"],
                tls_ca_cert_file=f["ca.crt"], tls_cluster="yes", debug_untrusted_prefix=NET,
                node_opts=[{"tls-port": str(p)} for p in tls_ports])
        host, port = c.addr(0).split(":")
        tls_port = str(tls_ports[0])
        base = ["redis-cli", "--tls", "--cacert", f["ca.crt"], "--cert", f["client.crt"],
                "--key", f["client.key"], "-h", host, "-p", tls_port]
        out = subprocess.run(base + ["SET", "tlskey", "over tls"], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(out.stdout.strip(), "OK", out.stderr)
        # written over TLS, replicated over the TLS bus, read through another node
        self.assertEqual(c.client(1).get("tlskey"), "over tls")
        host2, port2 = c.addr(2).split(":")
        out = subprocess.run(["redis-cli", "--tls", "--cacert", f["ca.crt"], "--cert",
                              f["client.crt"], "--key", f["client.key"], "-h", host2, "-p",
                              str(tls_ports[2]), "GET", "tlskey"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.stdout.strip(), "over tls", out.stderr)
        # tls-auth-clients yes (the default): no client certificate, no service
        out = subprocess.run(["redis-cli", "--tls", "--cacert", f["ca.crt"], "-h", host, "-p",
                              tls_port, "PING"], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(out.stdout.strip(), "PONG")
        # a plain client on the TLS port gets nothing useful either
        out = subprocess.run(["redis-cli", "-h", host, "-p", tls_port, "PING"],
                             capture_output=True, text=True, timeout=20)
        self.assertNotEqual(out.stdout.strip(), "PONG")
        # a password on every node: the bus links, up on certificates alone,
        # are closed and come back over TLS proving the derived secret too
        for i in range(3):
            c.client(i).config_set("requirepass", "tls-pw")
            c.nodes[i].opts["requirepass"] = "tls-pw"
        for i in range(3):
            self.wait_log(c, i, r"requirepass set and no cluster-secret", "a secret came in")
            self.assertEqual(c.ring_info(i)["bus_secret"], "requirepass")
        c.wait_all_up(timeout=40)  # a link refused meanwhile retries after 10 s
        self.assertTrue(c.client(2).set("tlskey2", "after requirepass"))
        self.assertEqual([v for v, _ in c.local(0, "tlskey2")], ["after requirepass"])
        self.assertEqual([v for v, _ in c.local(1, "tlskey2")], ["after requirepass"])


class ProtectedMode(ClusterCase):
    """protected-mode: without a password, clients from anywhere but
    loopback are refused. Tests may only use loopback addresses, so the node
    is told (debug-untrusted-prefix, a test-only option) to treat clients
    from 127.0.9.x as remote; the check itself is the one a real remote
    address meets."""

    def talk(self, host, port, payload, source="127.0.9.1"):
        s = socket.socket()
        s.settimeout(5)
        s.bind((source, 0))
        s.connect((host, port))
        s.sendall(payload)
        data = b""
        try:
            while b"\r\n" not in data or payload.count(b"\r\n") > data.count(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    return data, True  # closed by the server
                data += chunk
        finally:
            s.close()
        return data, False

    def test_remote_clients_refused_without_a_password(self):
        c = self.new_cluster(1, debug_untrusted_prefix="127.0.9.")
        host, port = c.addr(0).split(":")
        port = int(port)
        r = c.client(0)
        self.assertEqual(r.config_get("protected-mode")["protected-mode"], "yes")
        s = socket.socket()
        s.settimeout(5)
        s.bind(("127.0.9.1", 0))
        s.connect((host, port))
        s.sendall(b"PING\r\n")
        data = b""
        try:
            while True:  # until the server closes the connection
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            self.fail("the refused connection was left open")
        except ConnectionResetError:
            pass  # closed; the error must still have been read first
        finally:
            s.close()
        self.assertTrue(data.startswith(b"-DENIED"), data)
        self.assertIn(b"protected mode", data)
        self.assertNotIn(b"PONG", data)
        # a local client is served as always
        data, closed = self.talk(host, port, b"PING\r\n", source="127.0.0.1")
        self.assertEqual(data, b"+PONG\r\n")
        # with a password, a remote client must authenticate, then is served
        r.config_set("requirepass", "pw")
        data, _ = self.talk(host, port, b"PING\r\n")
        self.assertTrue(data.startswith(b"-NOAUTH"), data)
        data, _ = self.talk(host, port, b"AUTH pw\r\nPING\r\n")
        self.assertEqual(data, b"+OK\r\n+PONG\r\n")
        # protected-mode no, no password: served (a trusted network)
        r2 = c.client(0, password="pw")
        r2.config_set("requirepass", "")
        r2.config_set("protected-mode", "no")
        data, _ = self.talk(host, port, b"PING\r\n")
        self.assertEqual(data, b"+PONG\r\n")
        # and nothing refused counts as a served client
        self.assertGreaterEqual(int(r2.info("stats")["rejected_connections"]), 1)


class Observability(ClusterCase):
    def test_slowlog_and_latencystats(self):
        c = self.new_cluster(2)
        r = c.client(0)
        r.config_set("slowlog-log-slower-than", 0)
        r.execute_command("SLOWLOG", "RESET")
        r.set("slow", "x")
        r.get("slow")
        entries = r.execute_command("SLOWLOG", "GET", 10)
        cmds = [e[3] for e in entries]
        self.assertIn(["GET", "slow"], cmds)
        self.assertIn(["SET", "slow", "x"], cmds)
        e = entries[0]
        self.assertIsInstance(e[0], int)
        self.assertGreater(e[1], time.time() - 600)
        self.assertGreaterEqual(e[2], 0)
        self.assertGreaterEqual(r.execute_command("SLOWLOG", "LEN"), 2)
        r.config_set("slowlog-log-slower-than", -1)
        r.execute_command("SLOWLOG", "RESET")
        r.get("slow")
        self.assertEqual(r.execute_command("SLOWLOG", "LEN"), 0)
        info = r.info("latencystats")  # redis-py parses "p50=..,p99=.." into dicts
        get = info["latency_percentiles_usec_get"]
        p50, p99, p999 = float(get["p50"]), float(get["p99"]), float(get["p99.9"])
        self.assertGreater(p50, 0)
        self.assertLessEqual(p50, p99)
        self.assertLessEqual(p99, p999)
        # per consistency level too
        self.assertTrue([k for k in info if re.match(r"latency_percentiles_usec_read_\w+", k)],
                        info)


if __name__ == "__main__":
    unittest.main()
