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

if [ -z "${RINGKV_SERVER:-}" ]; then
  if [ ! -x src/ringkv-server ]; then
    echo "e2e: src/ringkv-server is not built (run make)" >&2
    exit 1
  fi
  # Test one snapshot of the binary: a rebuild during the run (make in
  # another shell) must not swap or remove it under the tests.
  snap=$(mktemp -d /tmp/ringkv-e2e-bin.XXXXXX)
  trap 'rm -rf "$snap"' EXIT
  cp src/ringkv-server "$snap/ringkv-server"
  export RINGKV_SERVER="$snap/ringkv-server"
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
  echo "e2e: no python3 with the redis module (apt-get install python3-redis)" >&2
  exit 1
fi
for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing (deps/install.sh)" >&2; exit 1; }
done
"$PY" -u tests/e2e/run.py "$@"
