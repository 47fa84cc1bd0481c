#!/usr/bin/env bash
# The client ecosystem tests (tests/clients): the client libraries people
# already use against a 3-node ringkv cluster (python3-redis, ioredis from
# npm, ruby-redis, hiredis in C), redis-cli's interactive hints (COMMAND
# DOCS, in a tmux pty) and redis-benchmark's default test list. `make
# clients` runs this after building. Every process a test starts is stopped
# by pid (tests/clients/ringcluster.py); data dirs, the npm folder and the
# compiled hiredis program live under one mktemp directory removed at the
# end. Exits non-zero on any failure; the last line is
# "clients: N passed, N failed, N skipped".
#   bash tests/run-clients.sh                         everything
#   bash tests/run-clients.sh test_libraries          one file (or module.Class.test)
#   bash tests/run-clients.sh -k ruby                 tests whose name matches
# RINGKV_KEEP=1 keeps the cluster data dirs and logs.
set -euo pipefail
cd "$(dirname "$0")/.."

# ruby ruby-redis are in deps/install.sh (make runs it); tmux is on the
# machine image, installed here if a machine lacks it.
command -v tmux >/dev/null || RINGKV_DEPS_EXTRA="tmux" bash deps/install.sh

tmp=$(mktemp -d /tmp/ringkv-clients.XXXXXX)
if [ -z "${RINGKV_KEEP:-}" ]; then
  trap 'rm -rf "$tmp"' EXIT
else
  echo "clients: keeping data and logs in $tmp"
fi
export RINGKV_TEST_TMP="$tmp"

if [ -z "${RINGKV_SERVER:-}" ]; then
  if [ ! -x src/ringkv-server ]; then
    echo "clients: src/ringkv-server is not built (run make)" >&2
    exit 1
  fi
  # Test one snapshot of the binary: a rebuild during the run must not swap
  # or remove it under the tests.
  cp src/ringkv-server "$tmp/ringkv-server"
  export RINGKV_SERVER="$tmp/ringkv-server"
fi
# Debian's python3 has python3-redis; a python3 earlier on PATH may not.
PY=/usr/bin/python3
"$PY" -c 'import redis' 2>/dev/null || { echo "clients: $PY has no redis module (apt-get install python3-redis)" >&2; exit 1; }
for tool in redis-cli redis-benchmark redis-server ruby node npm cc tmux; do
  command -v "$tool" >/dev/null || { echo "clients: $tool is missing (deps/install.sh)" >&2; exit 1; }
done
"$PY" -u tests/clients/run.py "$@"
