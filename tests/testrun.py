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
"""
import sys
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


def main(argv, here, label):
    patterns = [argv[i + 1] for i, a in enumerate(argv) if a == "-k" and i + 1 < len(argv)]
    names = [a for a in argv if not a.startswith("-") and a not in patterns]
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
