#!/usr/bin/env bash
# The status page tests (tests/web): a 3-node ringkv cluster with HTTP
# ports, its status page loaded in headless Chromium (Debian's chromium,
# installed here if missing), checked through the rendered DOM, with
# screenshots kept in tests/web/artifacts/ (gitignored); and /metrics parsed
# as Prometheus text. `make web` runs this after building. Every process a
# test starts is stopped by pid (Chromium by its own process group); data
# dirs live under one mktemp directory removed at the end. Exits non-zero on
# any failure; the last line is "web: N passed, N failed, N skipped".
#   bash tests/run-web.sh                 everything (the tests run in order)
# RINGKV_KEEP=1 keeps the cluster data dirs and logs.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x /usr/bin/chromium ] || RINGKV_DEPS_EXTRA="chromium" bash deps/install.sh

. tests/setup.sh
test_setup web RINGKV_TEST_TMP
mkdir -p tests/web/artifacts
"$PY" -u tests/web/run.py "$@"
