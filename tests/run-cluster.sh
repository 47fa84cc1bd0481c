#!/usr/bin/env bash
# Multi-node end-to-end tests: real ringkv clusters on loopback addresses
# 127.0.2.11, 127.0.2.12, ... (one address per node, free ports; not the
# fault suite's 127.0.0.x, so both can run at once), real
# clients (python3-redis, redis-benchmark). `make cluster` runs this after
# building. Every node a test starts is stopped by pid by that test
# (tests/cluster/harness.py); data dirs live under one mktemp directory that
# is removed at the end. Exits non-zero on any failure; the last line is
# "cluster: N passed, N failed, N skipped".
#   bash tests/run-cluster.sh                       everything
#   bash tests/run-cluster.sh test_failures         one file (or module.Class.test)
#   bash tests/run-cluster.sh -k siblings           tests whose name matches
# RINGKV_KEEP=1 keeps each cluster's data dir and logs (printed on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d /tmp/ringkv-cluster.XXXXXX)
if [ -z "${RINGKV_KEEP:-}" ]; then
  trap 'rm -rf "$tmp"' EXIT
else
  echo "cluster: keeping data and logs in $tmp"
fi
export RINGKV_CLUSTER_TMP="$tmp"

if [ -z "${RINGKV_SERVER:-}" ]; then
  if [ ! -x src/ringkv-server ]; then
    echo "cluster: src/ringkv-server is not built (run make)" >&2
    exit 1
  fi
  # Test one snapshot of the binary: a rebuild during the run (make in
  # another shell) must not swap or remove it under the tests.
  cp src/ringkv-server "$tmp/ringkv-server"
  export RINGKV_SERVER="$tmp/ringkv-server"
fi
# Debian's python3 has python3-redis; a python3 earlier on PATH (pyenv,
# a virtualenv) may not.
PY=""
for cand in /usr/bin/python3 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import redis' 2>/dev/null; then
    PY=$cand
    break
  fi
done
if [ -z "$PY" ]; then
  echo "cluster: no python3 with the redis module (apt-get install python3-redis)" >&2
  exit 1
fi
for tool in redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "cluster: $tool is missing (deps/install.sh)" >&2; exit 1; }
done
"$PY" -u tests/cluster/run.py "$@"
