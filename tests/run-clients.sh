#!/usr/bin/env bash
# The client ecosystem tests (tests/clients): the client libraries people
# already use against a 3-node ringkv cluster (python3-redis, ioredis from
# npm, ruby-redis, hiredis in C), redis-cli's interactive hints (COMMAND
# DOCS, in a tmux pty) and redis-benchmark's default test list. `make
# clients` runs this after building. Every process a test starts is stopped
# by pid (tests/ringtest.py); data dirs, the npm folder and the
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

. tests/setup.sh
test_setup clients RINGKV_TEST_TMP
need_tools clients redis-cli redis-benchmark redis-server ruby node npm cc tmux
"$PY" -u tests/clients/run.py "$@"
