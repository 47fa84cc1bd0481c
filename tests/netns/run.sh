#!/usr/bin/env bash
# Nodes on hosts of their own: network namespaces on a bridge, with delay,
# jitter, loss, reordering and partitions between chosen pairs
# (tests/netns/netbed.py; the delayer tests/netns/netdelay.c). Needs root;
# without network namespaces the tests skip and say why.
#   bash tests/netns/run.sh              short run (make netns, in make test)
#   bash tests/netns/run.sh long         the 30 s DC partition, longer lossy
#                                        runs with faults (make netns-long)
#   bash tests/netns/run.sh short -k Delays    tests whose name matches
# RINGKV_KEEP=1 keeps data and logs; RINGKV_NETNS_SEED=N replays a workload.
set -euo pipefail
cd "$(dirname "$0")/../.."

length="${RINGKV_NETNS:-short}"
if [ $# -gt 0 ] && { [ "$1" = short ] || [ "$1" = long ]; }; then
  length=$1
  shift
fi

. tests/setup.sh
test_setup netns RINGKV_TEST_TMP
need_tools netns ip iptables iptables-restore ping
if [ ! -x tests/netns/netdelay ]; then
  echo "netns: tests/netns/netdelay is not built (make netns-build)" >&2
  exit 1
fi
RINGKV_NETNS=$length "$PY" -u tests/netns/run.py "$@"
