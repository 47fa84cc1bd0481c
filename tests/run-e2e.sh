#!/usr/bin/env bash
# End-to-end tests of a single ringkv node with real clients (python3-redis,
# redis-cli, redis-benchmark), a real redis-server as the oracle for exact
# replies. `make e2e` runs this after building. Every server a test starts is
# stopped by pid by that test (tests/e2e/harness.py). Exits non-zero on any
# failure; the last line is "e2e: N passed, N failed, N skipped".
#   bash tests/run-e2e.sh                      everything
#   bash tests/run-e2e.sh test_limits          one file (or module.Class.test)
#   bash tests/run-e2e.sh -k kill9             tests whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."

. tests/setup.sh
test_setup e2e RINGKV_TEST_TMP
need_tools e2e redis-server redis-cli redis-benchmark
"$PY" -u tests/e2e/run.py "$@"
