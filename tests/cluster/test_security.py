"""test_security.py -- the cluster bus secret, TLS for clients and the bus,
SLOWLOG and INFO latencystats, with real processes and real clients."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Cluster, free_port


class ClusterCase(unittest.TestCase):
    def new_cluster(self, n, **opts):
        c = Cluster()
        self.addCleanup(c.close)
        c.start(n, **opts)
        return c


class BusSecret(ClusterCase):
    def test_nodes_with_the_secret_form_a_cluster_and_others_are_refused(self):
        c = self.new_cluster(2, cluster_secret="s3cret-one")
        # a third node with another secret: never admitted, and both sides say why
        i = c.add_node(opts={"cluster-secret": "another"})
        time.sleep(2.5)
        for j in (0, 1):
            ids = [n.id for n in c.ring_nodes(j)]
            self.assertNotIn(c.node_id(i), ids, "node with the wrong secret admitted by %d" % j)
        logs = c.log(0) + c.log(1) + c.log(i)
        self.assertRegex(logs, r"cluster-secret")
        # the two good nodes still work together
        a, b = c.node(0), c.node(1)
        self.assertTrue(a.set("k", "v"))
        self.assertEqual(b.get("k"), "v")
        # CONFIG GET does not show the secret
        shown = a.config_get("cluster-secret")["cluster-secret"]
        self.assertNotIn("s3cret", shown)

    def test_a_stranger_on_the_bus_gets_an_error_and_is_closed(self):
        c = self.new_cluster(1, cluster_secret="s3cret")
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
        # each node: a TLS client port of its own, and TLS on the bus
        tls_ports = [free_port(c._host(i)) for i in range(3)]
        c.start(3, tls_cert_file=f["node.crt"], tls_key_file=f["node.key"],
                tls_ca_cert_file=f["ca.crt"], tls_cluster="yes",
                node_opts=[{"tls-port": str(p)} for p in tls_ports])
        host, port = c.addr(0).split(":")
        tls_port = str(tls_ports[0])
        base = ["redis-cli", "--tls", "--cacert", f["ca.crt"], "--cert", f["client.crt"],
                "--key", f["client.key"], "-h", host, "-p", tls_port]
        out = subprocess.run(base + ["SET", "tlskey", "over tls"], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(out.stdout.strip(), "OK", out.stderr)
        # written over TLS, replicated over the TLS bus, read through another node
        self.assertEqual(c.node(1).get("tlskey"), "over tls")
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
        r = c.node(0)
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
        r2 = c.node(0, password="pw")
        r2.config_set("requirepass", "")
        r2.config_set("protected-mode", "no")
        data, _ = self.talk(host, port, b"PING\r\n")
        self.assertEqual(data, b"+PONG\r\n")
        # and nothing refused counts as a served client
        self.assertGreaterEqual(int(r2.info("stats")["rejected_connections"]), 1)


class Observability(ClusterCase):
    def test_slowlog_and_latencystats(self):
        c = self.new_cluster(2)
        r = c.node(0)
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
