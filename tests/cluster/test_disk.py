"""A full disk is an error, not a loss (issue 12, point 5).

One node's data directory lives on a small tmpfs this test mounts under its
own temporary directory (and unmounts in cleanup, pass or fail), with a
filler file on it. Writes fill it: that node refuses what it cannot store
with an error that names the disk, and stays up serving reads and gossip;
the cluster keeps acknowledging writes at W through the other nodes; once
the filler is deleted the node writes again by itself (RocksDB resumes after
ENOSPC once memtable-size bytes are free; it looks every 5 s) and RING REPAIR
gives it what it missed; every acknowledged write reads back at quorum. The
log has a line when the node starts refusing and one when it resumes, not
one per refused write. With wal-fsync always, a write the node's WAL did not
take is never acknowledged by it, and a stop in that state is clean.

What a real disk can do and a tmpfs cannot (an fsync that fails after the
write went through) is not tested here: on tmpfs a full disk fails the
write() itself.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

import redis

from ringtest import TMP_PARENT, ClusterTest
from testprocs import on_cleanup

FULL = 2                # the node whose data directory is on the tmpfs
TMPFS_MB = 16
FILLER_MB = 4           # deleted to free space: more than memtable-size below
MAX_FILL_WRITES = 30000  # 30 MB of values: far more than the tmpfs holds


def value():
    return os.urandom(500).hex()  # 1000 bytes that do not compress


class FullDisk(ClusterTest):

    # ------------------------------------------------------------ helpers

    def mount_small_disk(self):
        """A TMPFS_MB tmpfs under a temporary directory of this test; unmounted
        and removed in cleanup (registered before the cluster's, so it runs
        after the nodes are stopped)."""
        top = tempfile.mkdtemp(prefix="ringkv-disk-", dir=TMP_PARENT)
        mnt = os.path.join(top, "small")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % TMPFS_MB, "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(top, ignore_errors=True)
            self.skipTest("cannot mount a tmpfs (needs root): " + r.stderr.strip())
        self.addCleanup(self._unmount, top, mnt)
        # and if the run is interrupted before that (SIGTERM): at exit, while
        # a node may still hold it, hence lazily
        on_cleanup(lambda: os.path.ismount(mnt) and subprocess.run(["umount", "-l", mnt]))
        return mnt

    @staticmethod
    def _unmount(top, mnt):
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])  # a process we did not stop holds it
        shutil.rmtree(top, ignore_errors=True)

    def start(self, mnt, **full_opts):
        opts = {"dir": os.path.join(mnt, "data"), "memtable_size": "1mb"}
        opts.update(full_opts)
        node_opts = [{}, {}, {}]
        node_opts[FULL] = opts
        return self.new_cluster(3, replication=3, read_quorum=2, write_quorum=2,
                                quorum_mode="strict", anti_entropy_interval=0,
                                node_opts=node_opts)

    @staticmethod
    def filler(mnt):
        path = os.path.join(mnt, "filler")
        with open(path, "wb") as f:
            f.write(os.urandom(FILLER_MB << 20))
        return path

    @staticmethod
    def storage(c, i):
        return c.client(i).info("storage")

    def fill(self, c, clients, acked, prefix):
        """Writes fresh keys through clients (in turn, pipelines of 50) until
        node FULL says its disk is full. Every write must be acknowledged
        (W=2 needs only the other two nodes). Returns how many were written."""
        n = 0
        while n < MAX_FILL_WRITES:
            p = clients[(n // 50) % len(clients)].pipeline(transaction=False)
            batch = [("%s:%d" % (prefix, n + j), value()) for j in range(50)]
            for k, v in batch:
                p.set(k, v)
            res = p.execute(raise_on_error=False)
            for (k, v), r in zip(batch, res):
                self.assertIs(r, True, "a W=2 write of %s during the fill: %r" % (k, r))
                acked[k] = v
            n += 50
            self.assertTrue(c.nodes[FULL].alive(),
                            "node %d died while its disk filled:\n%s" %
                            (FULL, c.nodes[FULL].log_tail()))
            if self.storage(c, FULL).get("storage_state") == "disk_full":
                return n
        self.fail("node %d never said disk_full after %d writes" % (FULL, n))

    @staticmethod
    def disk_lines(c):
        log = c.log(FULL)
        return ([l for l in log.splitlines() if "Disk full:" in l],
                [l for l in log.splitlines() if "Disk writes resumed" in l],
                [l for l in log.splitlines() if "No space left on device" in l])

    @staticmethod
    def local_value(c, key):
        vals = [v for v, _ in c.local(FULL, key)]
        return vals[0] if len(vals) == 1 else vals

    # -------------------------------------------------------------- tests

    def test_full_disk_refuses_writes_stays_up_and_resumes_by_itself(self):
        mnt = self.mount_small_disk()
        c = self.start(mnt)
        acked = {}
        before = {"before:%d" % i: value() for i in range(100)}
        w0 = c.client(0)
        for k, v in before.items():
            self.assertTrue(w0.set(k, v))
        acked.update(before)
        # Merkle trees of the full node built now: what it fails to write
        # later must not be in them, or RING REPAIR would not see it missing
        c.client(FULL).execute_command("RING", "REPAIR")
        filler = self.filler(mnt)

        fill_writes = self.fill(c, [c.client(0), c.client(1)], acked, "fill")
        st = self.storage(c, FULL)
        self.assertEqual((st["storage_state"], st["storage_writable"]), ("disk_full", 0), st)
        first = "WAL" if re.search(r"\.log\b", st["last_error"]) else "SST or other file"

        # the full node is up: it answers, serves its own copy and quorum
        # reads, and the others still see it up (gossip)
        full = c.client(FULL)
        self.assertTrue(full.ping())
        for k in list(before)[:20]:
            self.assertEqual(self.local_value(c, k), before[k], k)
            self.assertEqual(full.get(k), before[k], k)
        c.wait_all_up()

        # a client of the full node that needs its ack, and a replica ack the
        # full node owes another coordinator: both errors name the disk
        fa = c.client(FULL)
        fa.execute_command("CONSISTENCY", "WRITE", "ALL")
        with self.assertRaises(redis.ResponseError) as e:
            fa.set("all-via-full", value())
        self.assertRegex(str(e.exception),
                         r"^NOQUORUM [0-2] of 3 replicas acknowledged the write \((local storage: )?DISKFULL no space")
        oa = c.client(0)
        oa.execute_command("CONSISTENCY", "WRITE", "ALL")
        with self.assertRaises(redis.ResponseError) as e:
            oa.set("all-via-0", value())
        self.assertRegex(str(e.exception),
                         r"^NOQUORUM [0-2] of 3 replicas acknowledged the write \((local storage: )?DISKFULL no space")

        # the cluster acknowledges W=2 writes through every node, the full
        # one included (it coordinates, the other two store)
        during = {}
        for i in range(3):
            r = c.client(i)
            for j in range(100):
                k, v = "during:%d:%d" % (i, j), value()
                self.assertTrue(r.set(k, v), k)
                during[k] = v
        acked.update(during)
        self.assertTrue(c.nodes[FULL].alive())
        st = self.storage(c, FULL)
        self.assertEqual(st["storage_state"], "disk_full", st)
        refused = st["storage_writes_refused"]
        self.assertGreaterEqual(refused, len(during), st)
        c.wait_all_up()  # still seen up after all that

        # space freed: the node writes again by itself
        os.unlink(filler)
        t0 = time.time()
        c.wait_until(lambda: self.storage(c, FULL)["storage_state"] == "ok", 60,
                     "node %d to write again after space was freed" % FULL)
        resume_s = time.time() - t0
        self.assertTrue(fa.set("all-via-full-after", "v"))  # W=ALL: its own ack too
        self.assertEqual(self.local_value(c, "all-via-full-after"), "v")

        # what it missed comes back with RING REPAIR (reads would repair it
        # too: none of the missed keys was read until now)
        missing = [k for k, v in acked.items() if self.local_value(c, k) != v]
        self.assertGreaterEqual(len(missing), len(during), "the full node missed fewer writes "
                                "than it refused: it acknowledged what it did not store?")
        reply = full.execute_command("RING", "REPAIR")
        m = re.match(r"repaired (\d+) keys", reply)
        self.assertTrue(m, reply)
        self.assertGreaterEqual(int(m.group(1)), len(missing), reply)
        still = [k for k in missing if self.local_value(c, k) != acked[k]]
        self.assertEqual(still, [], "missed writes RING REPAIR did not bring")
        # its key counters are right too (the refused writes were not counted)
        self.assertEqual(c.client(FULL).info("keyspace")["db0"]["keys"],
                         c.client(0).info("keyspace")["db0"]["keys"])

        # nothing acknowledged is lost: every key at quorum through every node
        for i in range(3):
            r = c.client(i)
            keys = list(acked)
            for at in range(0, len(keys), 200):
                part = keys[at:at + 200]
                self.assertEqual(r.mget(part), [acked[k] for k in part], "via node %d" % i)

        # the log: one line when the disk filled and one when writes resumed
        # (per failure, with the count), not one per refused write
        full_l, resumed_l, nospace_l = self.disk_lines(c)
        failures = self.storage(c, FULL)["storage_failures"]
        self.assertGreaterEqual(failures, 1)
        self.assertEqual((len(full_l), len(resumed_l), len(nospace_l)),
                         (failures, failures, failures), "\n".join(full_l + resumed_l))
        self.assertRegex(resumed_l[-1], r"Disk writes resumed after [0-9.]+ s \(disk_full\): "
                                        r"\d+ writes \(\d+ batches\) were refused meanwhile")
        print("\n    full disk: filled after %d writes (a %s write failed first); %d writes "
              "refused by the full node; %d failure(s), %d log lines; writing again %.1f s "
              "after the filler went; RING REPAIR brought %d of its keys (%s)" %
              (fill_writes, first, refused, failures, len(full_l) + len(resumed_l), resume_s,
               len(missing), reply))

    def test_a_failed_wal_write_is_refused_and_the_node_stays_up(self):
        # The disk fills up (the filler takes every free byte) while the
        # node's store is healthy, and then a value bigger than what its WAL
        # file has preallocated comes: the WAL write itself fails (not a
        # memtable flush). Before the fix, the next everysec sync aborted the
        # process inside RocksDB.
        mnt = self.mount_small_disk()
        c = self.start(mnt)
        acked = {"small:%d" % i: value() for i in range(50)}
        w0 = c.client(0)
        for k, v in acked.items():
            self.assertTrue(w0.set(k, v))
        path = os.path.join(mnt, "filler")
        with open(path, "wb", buffering=0) as f:
            try:
                while f.write(os.urandom(1 << 16)):
                    pass
            except OSError:  # ENOSPC: the disk is full
                pass
        big = os.urandom(1 << 20).hex()  # 2 MB in one WAL record
        self.assertTrue(w0.set("big", big))  # W=2: nodes 0 and 1
        acked["big"] = big
        c.wait_until(lambda: self.storage(c, FULL)["storage_state"] == "disk_full", 30,
                     "node %d to refuse the big write" % FULL)
        st = self.storage(c, FULL)
        self.assertRegex(st["last_error"], r"No space left on device.*\.log", st)
        # ten seconds in that state at 0 bytes free (ten everysec syncs, two
        # rounds of RocksDB looking for space and saying so to its own log):
        # still up, still serving, still refusing with a clear error
        c.wait_until(lambda: self.storage(c, FULL)["storage_failed_seconds"] >= 10, 40,
                     "ten seconds in the failed state")
        self.assertTrue(c.nodes[FULL].alive(), c.nodes[FULL].log_tail())
        full = c.client(FULL)
        self.assertEqual(full.get("small:1"), acked["small:1"])
        full.execute_command("CONSISTENCY", "WRITE", "ALL")
        with self.assertRaises(redis.ResponseError) as e:
            full.set("refused", "no")  # (not acknowledged: it may appear later)
        self.assertIn("DISKFULL", str(e.exception))

        os.unlink(path)
        c.wait_until(lambda: self.storage(c, FULL)["storage_state"] == "ok", 60,
                     "node %d to write again after space was freed" % FULL)
        self.assertTrue(full.set("after", "v"))
        self.assertEqual(self.local_value(c, "big"), [])  # it missed that one
        full.execute_command("RING", "REPAIR")
        self.assertEqual(self.local_value(c, "big"), big)
        for k, v in acked.items():
            self.assertEqual(c.client(1).get(k), v, k)
        full_l, resumed_l, nospace_l = self.disk_lines(c)
        self.assertEqual((len(full_l), len(resumed_l)), (1, 1), "\n".join(full_l + resumed_l))
        self.assertEqual(c.stop(FULL), 0)

    def test_wal_fsync_always_acknowledges_only_what_its_wal_took(self):
        mnt = self.mount_small_disk()
        c = self.start(mnt, wal_fsync="always")
        filler = self.filler(mnt)
        # W=ALL: an OK means the full node's synced write went through too
        w = c.client(0)
        w.execute_command("CONSISTENCY", "WRITE", "ALL")
        acked, failed = {}, []
        n = 0
        while len(failed) < 50:
            self.assertLess(n, MAX_FILL_WRITES, "the disk never filled")
            k, v = "always:%d" % n, value()
            n += 1
            try:
                self.assertTrue(w.set(k, v))
                acked[k] = v
            except redis.ResponseError as e:
                self.assertRegex(str(e), r"^NOQUORUM [0-2] of 3 replicas acknowledged the write "
                                         r"\((local storage: )?DISKFULL no space", k)
                failed.append(k)
            self.assertTrue(c.nodes[FULL].alive(), c.nodes[FULL].log_tail())
        st = self.storage(c, FULL)
        self.assertEqual((st["storage_state"], st["wal_fsync"]), ("disk_full", "always"), st)
        self.assertGreaterEqual(st["storage_writes_refused"], len(failed), st)
        self.assertGreater(len(acked), 0)
        for k, v in acked.items():
            self.assertEqual(self.local_value(c, k), v, k)

        # a stop while the disk is full is a clean one (no abort in RocksDB),
        # and a start once space is back finds every write it acknowledged
        self.assertEqual(c.stop(FULL), 0, c.nodes[FULL].log_tail())
        with open(c.nodes[FULL].outfile, errors="replace") as f:
            self.assertNotIn("Assertion", f.read())
        os.unlink(filler)
        c.restart(FULL)
        self.assertEqual(self.storage(c, FULL)["storage_state"], "ok")
        lost = [k for k, v in acked.items() if self.local_value(c, k) != v]
        self.assertEqual(lost, [], "writes the full node acknowledged, gone after its restart")
        print("\n    wal-fsync always: %d W=ALL writes acknowledged, %d refused with DISKFULL, "
              "all acknowledged ones there after a stop and a start" % (len(acked), len(failed)))
