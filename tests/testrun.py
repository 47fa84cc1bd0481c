"""testrun.py -- the unittest runner every Python test group here shares
(tests/e2e, tests/cluster, tests/clients, tests/web; tests/fault uses its
pieces).

    main(argv, here, label)   argv: [-k pattern ...] [module.Class.test ...];
                              runs here/test_*.py (or the named tests), prints
                              the slowest tests, expected failures, unexpected
                              successes and failures, then "LABEL tests took Ns"
                              and, last, "LABEL: N passed, N failed, N skipped".
                              Returns 0 only when every test passed (expected
                              failures -- known gaps, named in the test's
                              comment -- count as skipped and are listed).
    main(argv, here, label, jobs=N)
                              with no names and no -k, and N > 1: every
                              here/test_*.py module runs in a process of its
                              own (here/run.py MODULE), N at once, the biggest
                              files first; each one's output is printed whole
                              when it ends, then the summed counts. For groups
                              whose tests mostly wait (failure detection,
                              transfers, timed states), not for CPU-bound ones.
"""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest


class Result(unittest.TextTestResult):
    """Counts successes itself (a failing setUpClass is an error that is not
    a test run) and times each test."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.times = []
        self._t0 = None

    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)

    def stopTest(self, test):
        self.times.append((time.time() - self._t0, test.id()))
        super().stopTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def run(suite):
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result, stream=sys.stdout)
    return runner.run(suite)


def loader_for(patterns):
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    return loader


def report(res):
    """Prints the slowest tests and every test that did not simply pass;
    returns the number that failed."""
    print("slowest: " + ", ".join("%s %.1fs" % (t.split(".")[-1], s)
                                  for s, t in sorted(res.times, reverse=True)[:5]))
    for test, _ in res.expectedFailures:
        print("expected failure (known gap, see the test's comment): %s" % test.id())
    for test in res.unexpectedSuccesses:
        print("unexpected success (remove its expectedFailure): %s" % test.id())
    for test, _ in res.failures + res.errors:
        print("FAILED: %s" % test.id())
    return len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)


def run_parallel(here, label, jobs):
    """Each test module in a process of its own, jobs at once (see main).
    Returns main's exit status."""
    modules = sorted(glob.glob(os.path.join(here, "test_*.py")), key=os.path.getsize,
                     reverse=True)  # the biggest (usually longest) first
    queue = [os.path.basename(m)[:-3] for m in modules]
    running = {}  # Popen -> (module, output file)
    passed = failed = skipped = 0
    failed_modules = []

    def stop_all(signum, frame):
        for p in running:
            p.terminate()  # SIGTERM by pid: its tests stop their servers
        for p in running:
            p.wait()
        sys.exit(128 + signum)

    old = {s: signal.signal(s, stop_all) for s in (signal.SIGTERM, signal.SIGINT)}
    t0 = time.time()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                mod = queue.pop(0)
                out = tempfile.TemporaryFile()
                p = subprocess.Popen([sys.executable, "-u", os.path.join(here, "run.py"), mod],
                                     stdout=out, stderr=subprocess.STDOUT)
                running[p] = (mod, out)
            done = None
            while done is None:
                done = next((p for p in running if p.poll() is not None), None)
                if done is None:
                    time.sleep(0.1)
            mod, out = running.pop(done)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
            out.close()
            print("==== %s (%s, exit %d) ====" % (mod, label, done.returncode))
            sys.stdout.write(text)
            last = [l for l in text.splitlines() if l.startswith(label + ": ")]
            counts = None
            if last:
                f = last[-1].split()
                try:
                    counts = (int(f[1]), int(f[3]), int(f[5]))
                except (IndexError, ValueError):
                    counts = None
            if counts is None:  # it died before its summary: count it as a failure
                counts = (0, 1, 0)
            passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]
            # a module whose every test was skipped exits 1 (nothing passed)
            # without failing; any other non-zero exit is a failure
            all_skipped = counts[0] == 0 and counts[1] == 0
            if counts[1] or (done.returncode != 0 and not all_skipped):
                failed_modules.append(mod)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    for mod in failed_modules:
        print("FAILED module: %s" % mod)
    print("%s tests took %.1fs (%d at once)" % (label, time.time() - t0, jobs))
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
    return 0 if failed == 0 and not failed_modules and passed > 0 else 1


def main(argv, here, label, jobs=1):
    patterns = [argv[i + 1] for i, a in enumerate(argv) if a == "-k" and i + 1 < len(argv)]
    names = [a for a in argv if not a.startswith("-") and a not in patterns]
    if jobs > 1 and not names and not patterns:
        return run_parallel(here, label, jobs)
    sys.path.insert(0, here)
    loader = loader_for(patterns)
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    t0 = time.time()
    res = run(suite)
    failed = report(res)
    skipped = len(res.skipped) + len(res.expectedFailures)
    print("%s tests took %.1fs" % (label, time.time() - t0))
    print("%s: %d passed, %d failed, %d skipped" % (label, res.passed, failed, skipped))
    return 0 if failed == 0 and res.passed > 0 else 1
