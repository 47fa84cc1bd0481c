#!/usr/bin/env bash
# `make soak` / `make soak-short`: the soak run (tests/soak/soak.py) against a
# snapshot of src/ringkv-server, after the soak's own unit tests. Not part of
# `make test`: the full run takes SOAK_MINUTES (30) plus a minute or two.
# Settings are environment variables (see tests/soak/soak.py), e.g.
#   SOAK_MINUTES=60 make soak        SOAK_SHORT=1 bash tests/soak/run.sh
# Outputs go to SOAK_OUT (default soak-out/). Every node is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/setup.sh
test_setup soak RINGKV_TEST_TMP
"$PY" tests/soak/test_soaklib.py
"$PY" -u tests/soak/soak.py
