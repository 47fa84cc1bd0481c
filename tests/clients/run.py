"""Runs the client ecosystem tests (tests/clients/test_*.py) and prints a
summary; tests/web/run.py uses it too.

Usage: /usr/bin/python3 tests/clients/run.py [-k pattern ...] [module.Class.test ...]
Exit status 0 only when every test passed (expected failures -- known gaps
named in the test's comment -- count as skipped and are listed). The last
line is "clients: N passed, N failed, N skipped"."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
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


def main(argv, here=HERE, label="clients"):
    patterns = [argv[i + 1] for i, a in enumerate(argv) if a == "-k" and i + 1 < len(argv)]
    names = [a for a in argv if not a.startswith("-") and a not in patterns]
    sys.path.insert(0, here)
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    t0 = time.time()
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result, stream=sys.stdout)
    res = runner.run(suite)
    elapsed = time.time() - t0
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped) + len(res.expectedFailures)
    print("times: " + ", ".join("%s %.1fs" % (t.split(".")[-1], s)
                                for s, t in sorted(res.times, reverse=True)))
    for test, _ in res.expectedFailures:
        print("expected failure (known gap, see the test's comment): %s" % test.id())
    for test in res.unexpectedSuccesses:
        print("unexpected success (remove its expectedFailure): %s" % test.id())
    for test, _ in res.failures + res.errors:
        print("FAILED: %s" % test.id())
    print("%s tests took %.1fs" % (label, elapsed))
    print("%s: %d passed, %d failed, %d skipped" % (label, res.passed, failed, skipped))
    return 0 if failed == 0 and res.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
