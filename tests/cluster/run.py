"""Runs the multi-node cluster tests (tests/cluster/test_*.py) with the shared
runner (tests/testrun.py); the last line is "cluster: N passed, N failed, N skipped".

Usage: python3 tests/cluster/run.py [-k pattern ...] [module.Class.test ...]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testrun  # noqa: E402  (tests/testrun.py)

if __name__ == "__main__":
    sys.exit(testrun.main(sys.argv[1:], HERE, "cluster"))
