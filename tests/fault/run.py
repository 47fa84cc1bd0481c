"""Runs the fault-injection suite: the targeted tests (test_*.py), then the
randomized run with its history checker (jepsen.py), in strict and sloppy
mode. Prints a summary; exit status 0 only if everything passed (expected
failures -- known server bugs, named in the test's comment -- are listed).

Usage: python3 tests/fault/run.py [short|long] [-k pattern] [--seed N]
                                  [--no-jepsen] [--no-targeted]
  short  about a minute: the targeted tests, then 4 faults per mode
  long   several minutes: the targeted tests, then 30 faults per mode,
         combined faults, periodic anti-entropy during the run
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import faultlib  # noqa: E402
import jepsen  # noqa: E402
import testrun  # noqa: E402  (tests/testrun.py)


def our_rules():
    return [l for l in faultlib.iptables_rules().splitlines()
            if "RINGKV_FAULT_%d" % os.getpid() in l]


def main(argv):
    length = "short"
    patterns, seed, run_j, run_t = [], None, True, True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("short", "long"):
            length = a
        elif a == "-k":
            patterns.append(argv[i + 1])
            i += 1
        elif a == "--seed":
            seed = argv[i + 1]
            i += 1
        elif a == "--no-jepsen":
            run_j = False
        elif a == "--no-targeted":
            run_t = False
        else:
            print(__doc__)
            return 2
        i += 1
    try:
        subprocess.run(["iptables", "-w", "5", "-S"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as e:
        print("fault: iptables is not usable here (%s): the network faults need root and "
              "iptables" % e)
        return 1
    faultlib.remove_stale_chains()
    t0 = time.time()
    failed = 0
    summary = []
    if run_t:
        suite = testrun.loader_for(patterns).discover(HERE, pattern="test_*.py",
                                                      top_level_dir=HERE)
        res = testrun.run(suite)
        bad = testrun.report(res)
        failed += bad
        summary.append("targeted: %d passed, %d failed, %d expected failures" % (
            res.passed, bad, len(res.expectedFailures)))
    if run_j and not patterns:
        args = ["--mode", "both"] + (["--long"] if length == "long" else [])
        if seed:
            args += ["--seed", seed]
        rc = jepsen.main(args)
        failed += 1 if rc else 0
        summary.append("jepsen (%s): %s" % (length, "PASS" if rc == 0 else "FAIL"))
    left = our_rules()
    if left:
        failed += 1
        summary.append("iptables rules left behind: %s" % left)
    else:
        summary.append("iptables: no rule of ours left")
    print("fault (%s, %.0fs): %s" % (length, time.time() - t0, "; ".join(summary)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
