#!/usr/bin/env bash
# Multi-node end-to-end tests: real ringkv clusters on loopback addresses
# 127.0.2.11, 127.0.2.12, ... (one address per node, free ports; not the
# fault suite's 127.0.0.x, so both can run at once), real
# clients (python3-redis, redis-benchmark). `make cluster` runs this after
# building. Every node a test starts is stopped by pid by that test
# (tests/ringtest.py); data dirs live under one mktemp directory that
# is removed at the end. Exits non-zero on any failure; the last line is
# "cluster: N passed, N failed, N skipped".
#   bash tests/run-cluster.sh                       everything
#   bash tests/run-cluster.sh test_failures         one file (or module.Class.test)
#   bash tests/run-cluster.sh -k siblings           tests whose name matches
# RINGKV_KEEP=1 keeps each cluster's data dir and logs (printed on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

. tests/setup.sh
test_setup cluster RINGKV_TEST_TMP
need_tools cluster redis-cli redis-benchmark
"$PY" -u tests/cluster/run.py "$@"
