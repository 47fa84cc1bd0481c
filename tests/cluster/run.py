"""Runs the multi-node cluster tests (tests/cluster/test_*.py) with the shared
runner (tests/testrun.py); the last line is "cluster: N passed, N failed, N skipped".

A whole run takes its modules RINGKV_CLUSTER_JOBS (default 2) at once, each in
a process of its own: these tests mostly wait (failure detection, transfers,
timed states), so two at once on 2 cores take about half the time. Each
cluster picks free ports on its addresses, so two never clash.
RINGKV_CLUSTER_JOBS=1 runs them one after another.

Usage: python3 tests/cluster/run.py [-k pattern ...] [module.Class.test ...]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testrun  # noqa: E402  (tests/testrun.py)

if __name__ == "__main__":
    sys.exit(testrun.main(sys.argv[1:], HERE, "cluster",
                          jobs=int(os.environ.get("RINGKV_CLUSTER_JOBS", "2"))))
