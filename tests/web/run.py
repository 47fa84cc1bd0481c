"""Runs the status page tests (tests/web/test_*.py) with the shared runner
(tests/testrun.py); they use tests/ringtest.py. The last line is
"web: N passed, N failed, N skipped".

Usage: /usr/bin/python3 tests/web/run.py [-k pattern ...] [module.Class.test ...]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testrun  # noqa: E402  (tests/testrun.py)

if __name__ == "__main__":
    sys.exit(testrun.main(sys.argv[1:], HERE, "web"))
