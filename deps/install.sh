#!/usr/bin/env bash
# Installs the Debian packages ringkv builds and tests with, only those that are missing.
# Quick when everything is present (one dpkg-query). No vendored code: everything comes from apt.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libevent-dev libhiredis-dev librocksdb-dev libjemalloc-dev libxxhash-dev
  libsnappy-dev liblz4-dev libzstd-dev libbz2-dev zlib1g-dev libgflags-dev liburing-dev libssl-dev
  libcriterion-dev
  redis-tools redis-server python3 python3-redis tcl iptables procps
  iproute2 iputils-ping libnetfilter-queue-dev
  ruby ruby-redis
)
[ "${RINGKV_DEPS_EXTRA:-}" ] && PKGS+=(${RINGKV_DEPS_EXTRA})

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# apt-get update when the package lists are empty or older than a day.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] ||
   [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime +1 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
