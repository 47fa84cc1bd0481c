"""Runs the status page tests (tests/web/test_*.py) with the runner of
tests/clients; the last line is "web: N passed, N failed, N skipped".

Usage: /usr/bin/python3 tests/web/run.py [-k pattern ...] [module.Class.test ...]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients"))
import run  # noqa: E402  (tests/clients/run.py)

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:], here=HERE, label="web"))
