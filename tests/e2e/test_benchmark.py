"""redis-benchmark, as a user would run it against ringkv: it must finish
every test with no error or warning line, and the data it wrote must be
there. (It measures nothing here: this is not a timed test.)"""
import re
import shutil
import subprocess
import unittest

from harness import RingKV


@unittest.skipUnless(shutil.which("redis-benchmark"), "redis-benchmark is not installed")
class Benchmark(unittest.TestCase):
    def setUp(self):
        self.rk = RingKV()
        self.addCleanup(self.rk.close)
        self.rk.start()

    def test_redis_benchmark_set_get_incr_mset(self):
        p = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(self.rk.port),
                            "-t", "set,get,incr,mset", "-n", "20000", "-q"],
                           capture_output=True, text=True, timeout=150)
        # -q progress lines end in \r; keep the final result lines
        out = p.stdout.replace("\r", "\n")
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
        bad = [l for l in (out + "\n" + p.stderr).split("\n")
               if re.search(r"ERR|error|Error|WARNING|Could not", l)]
        self.assertEqual(bad, [])
        results = dict(re.findall(r"^(SET|GET|INCR|MSET \(10 keys\)): ([0-9.]+) requests per second",
                                  out, re.M))
        self.assertEqual(sorted(results), ["GET", "INCR", "MSET (10 keys)", "SET"], out[-2000:])
        for name, rps in results.items():
            self.assertGreater(float(rps), 0, name)
        with self.rk.raw() as c:
            # INCR ran 20000 times on one counter; SET/MSET wrote key:__rand_int__
            self.assertEqual(c.cmd("GET", "counter:__rand_int__"), b"20000")
            self.assertEqual(c.cmd("STRLEN", "key:__rand_int__"), 3)  # -d 3, the default
            self.assertEqual(c.cmd("DBSIZE"), 2)


if __name__ == "__main__":
    unittest.main()
