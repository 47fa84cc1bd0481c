#!/usr/bin/env bash
# Fault-injection tests: kill -9 and restart, SIGSTOP/SIGCONT, iptables cuts
# between the nodes' loopback addresses (127.0.0.11, .12, ...; rules only in
# our own chain RINGKV_FAULT_<pid>, always removed), wiped data directories;
# targeted tests (hinted handoff, anti-entropy, deletes, hint limits, clocks)
# and a randomized run with a history checker (tests/fault/jepsen.py).
#   bash tests/fault/run.sh            short run (about a minute; make test)
#   bash tests/fault/run.sh long       several minutes (make fault)
#   bash tests/fault/run.sh short -k Hint        targeted tests matching, no random run
#   bash tests/fault/run.sh long --seed 42       replay a random run
# RINGKV_FAULT=long|short picks the length when no argument does.
# RINGKV_KEEP=1 keeps data and logs. Needs root (iptables).
set -euo pipefail
cd "$(dirname "$0")/../.."

length="${RINGKV_FAULT:-short}"
if [ $# -gt 0 ] && { [ "$1" = short ] || [ "$1" = long ]; }; then
  length=$1
  shift
fi

. tests/setup.sh
test_setup fault RINGKV_TEST_TMP
if ! command -v iptables >/dev/null 2>&1; then
  echo "fault: iptables is missing (apt-get install iptables); the network faults need it" >&2
  exit 1
fi
"$PY" -u tests/fault/run.py "$length" "$@"
