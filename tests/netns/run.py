"""Runs tests/netns/test_*.py (unittest, tests/testrun.py), then prints
every figure the tests measured (FIGURE lines) again in one block, and the
reason when the tests skipped because this machine can not create network
namespaces. The last line is "netns: N passed, N failed, N skipped".

Usage: python3 tests/netns/run.py [-k pattern ...] [module.Class.test ...]
       (RINGKV_NETNS=short|long picks the configuration)
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import netbed  # noqa: E402
import testrun  # noqa: E402


def main(argv):
    patterns = [argv[i + 1] for i, a in enumerate(argv) if a == "-k" and i + 1 < len(argv)]
    names = [a for a in argv if not a.startswith("-") and a not in patterns]
    why = netbed.unavailable()
    if why:
        print("netns: SKIPPING the namespace tests: %s (the 127.0.0.x suites still run)" % why,
              flush=True)
    loader = testrun.loader_for(patterns)
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    t0 = time.time()
    res = testrun.run(suite)
    failed = testrun.report(res)
    skipped = len(res.skipped) + len(res.expectedFailures)
    for test, reason in res.skipped:
        print("skipped: %s: %s" % (test.id(), reason))
    if netbed.FIGURES:
        print("---- figures (%s configuration) ----" % netbed.length())
        for name, text in netbed.FIGURES:
            print("%s: %s" % (name, text))
    left = [ns for ns in netbed.namespaces() if ns.startswith("rkv-nt%d-" % os.getpid())]
    if left:
        print("netns: namespaces left behind: %s" % left)
        failed += 1
    print("netns tests took %.1fs (%s)" % (time.time() - t0, netbed.length()))
    print("netns: %d passed, %d failed, %d skipped" % (res.passed, failed, skipped))
    return 0 if failed == 0 and (res.passed > 0 or why) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
