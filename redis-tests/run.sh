#!/usr/bin/env bash
# redis-tests/run.sh -- runs Redis's own test suite against a ringkv server.
#
# What: the Tcl suite from Debian's `redis` source package, in external mode
# (`runtest --host --port`), for the units that cover what ringkv implements:
# unit/type/string, unit/type/incr, unit/expire, unit/type/set, unit/type/hash,
# unit/type/zset, unit/hyperloglog, unit/keyspace. Tests that need something
# ringkv does not have (other data types, DEBUG, replication, AOF) are named in
# redis-tests/skiplist.txt, each with its reason; everything else must pass.
#
# How:
#   1. The Redis source is fetched at test time with `apt-get source redis`
#      (nothing of it is committed) and cached, unpacked, in
#      redis-tests/.cache/ (gitignored; RINGKV_REDIS_SRC_CACHE overrides).
#      dpkg-dev and a deb-src entry are added to the machine if missing (the
#      deb-src entry copies the machine's own deb entries for its release).
#   2. A fresh 3-node cluster (RINGKV_REDIS_TESTS_NODES) is started on free
#      127.0.0.1 ports, each node with a temporary data dir, replication 3;
#      the suite talks to the first node, which coordinates through the
#      others. Every node is stopped by its PID on any exit (trap).
#   3. runtest runs in its own process group (it forks a Tcl client); that
#      group is killed on exit too, so nothing is left behind.
#   4. The pass/fail/skip counts are printed; the exit code is non-zero on any
#      failure, on an aborted run, or when no test ran.
#
# Env: RINGKV_SERVER (binary, default src/ringkv-server),
#      RINGKV_REDIS_TESTS_TIMEOUT (seconds for the whole run, default 600),
#      RINGKV_REDIS_TESTS_NODES (nodes of the cluster, default 3; 1: one server),
#      RINGKV_REDIS_TESTS_UNITS (space-separated units instead of the list below),
#      RINGKV_REDIS_TESTS_GROUPS (runs of the unit list at once, each on its own
#      cluster; default 1),
#      RINGKV_REDIS_TESTS_KEEP=1 keeps the temp dir (server logs, runtest log).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${RINGKV_REDIS_SRC_CACHE:-$HERE/.cache}
SERVER_BIN=${RINGKV_SERVER:-$ROOT/src/ringkv-server}
SKIPLIST=$HERE/skiplist.txt
TIMEOUT=${RINGKV_REDIS_TESTS_TIMEOUT:-600}
NODES=${RINGKV_REDIS_TESTS_NODES:-3}
SERVER_PIDS=()
SERVER_PID=""
UNITS=(unit/type/string unit/type/incr unit/expire)
UNITS+=(unit/bitfield)
UNITS+=(unit/type/hash)
UNITS+=(unit/keyspace)
UNITS+=(unit/hyperloglog)
UNITS+=(unit/type/set)
UNITS+=(unit/type/zset)
UNITS+=(unit/geo)
# RINGKV_REDIS_TESTS_UNITS="unit/type/hash unit/keyspace" runs only those
if [ -n "${RINGKV_REDIS_TESTS_UNITS:-}" ]; then read -r -a UNITS <<<"$RINGKV_REDIS_TESTS_UNITS"; fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

log() { echo "redis-tests: $*" >&2; }
die() { log "$*"; exit 2; }

# ---- 1. the Redis source -------------------------------------------------

# Prints the cached source dir, if a complete one is there.
cached_source() {
    local d best=""
    for d in "$CACHE"/redis-[0-9]*/; do
        [ -f "$d/.ringkv-complete" ] && [ -f "$d/tests/test_helper.tcl" ] || continue
        # the newest version when several were cached
        if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -1)" = "$d" ]; then
            best=$d
        fi
    done
    [ -n "$best" ] && echo "${best%/}"
}

has_deb_src() {
    grep -Rqs -e '^[[:space:]]*deb-src[[:space:]]' -e '^[[:space:]]*Types:.*deb-src' \
        /etc/apt/sources.list /etc/apt/sources.list.d/
}

# The deb822 stanzas of file $1 that fetch binary packages (Types: deb) of
# this Debian release (a suite $2 or $2-*), as deb-src stanzas. Other
# repositories (other suites) are left out: they may have no sources.
deb822_src() {
    awk -v rel="$2" '
        function flush() {
            if (isdeb && isrel && !off) printf "%s\n", out
            out = ""; isdeb = isrel = off = 0
        }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/ { isdeb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/); out = out "Types: deb-src\n"; next }
        /^Enabled:[[:space:]]*no/ { off = 1 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == rel || index($i, rel "-") == 1) isrel = 1 }
        { out = out $0 "\n" }
        END { flush() }' "$1"
}

# The one-line "deb ..." entries of file $1 for this release ($2), as deb-src.
list_src() {
    awk -v rel="$2" '$1 == "deb" {
        for (i = 2; i <= NF; i++)
            if ($i == rel || index($i, rel "-") == 1) { sub(/^deb/, "deb-src"); print; next }
    }' "$1"
}

# Adds deb-src entries for this Debian release, taken from the machine's own
# apt sources (the same mirror, suites, components and keys as its deb
# entries), so that it works with whichever mirror the machine uses.
add_deb_src() {
    local codename=bookworm f822=/etc/apt/sources.list.d/ringkv-deb-src.sources
    local flist=/etc/apt/sources.list.d/ringkv-deb-src.list tmp f
    if [ -r /etc/os-release ]; then
        codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    fi
    tmp=$(mktemp -d) || return 1
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] && [ "$f" != "$f822" ] && deb822_src "$f" "$codename" >>"$tmp/sources"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] && [ "$f" != "$flist" ] && list_src "$f" "$codename" >>"$tmp/list"
    done
    if [ ! -s "$tmp/sources" ] && [ ! -s "$tmp/list" ]; then
        rm -rf "$tmp"
        log "no deb entry for $codename in /etc/apt/sources.list*: add a deb-src entry for your mirror"
        return 1
    fi
    if [ -s "$tmp/sources" ]; then
        log "no deb-src entry: adding $f822 (this machine's deb entries for $codename, as deb-src)"
        $SUDO install -m 644 "$tmp/sources" "$f822" || { rm -rf "$tmp"; return 1; }
    fi
    if [ -s "$tmp/list" ]; then
        log "no deb-src entry: adding $flist (this machine's deb lines for $codename, as deb-src)"
        $SUDO install -m 644 "$tmp/list" "$flist" || { rm -rf "$tmp"; return 1; }
    fi
    rm -rf "$tmp"
    $SUDO apt-get update -qq
}

fetch_source() {
    export DEBIAN_FRONTEND=noninteractive
    if ! command -v dpkg-source >/dev/null; then
        log "installing dpkg-dev (for apt-get source)"
        $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null ||
            { $SUDO apt-get update -qq &&
              $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null; } ||
            return 1
    fi
    has_deb_src || add_deb_src || return 1
    mkdir -p "$CACHE" || return 1
    # An unpack that was cut short has no stamp: dpkg-source would refuse
    # to unpack over it, so it goes first.
    local d
    for d in "$CACHE"/redis-[0-9]*/; do
        [ -d "$d" ] && [ ! -f "$d/.ringkv-complete" ] && rm -rf "$d"
    done
    log "fetching the Redis source: apt-get source redis (into $CACHE)"
    if ! (cd "$CACHE" && apt-get source -qq redis >/dev/null 2>"$CACHE/apt-source.err"); then
        # Old package lists name a version the mirror no longer has.
        $SUDO apt-get update -qq
        if ! (cd "$CACHE" && apt-get source -qq redis >/dev/null 2>"$CACHE/apt-source.err"); then
            cat "$CACHE/apt-source.err" >&2
            return 1
        fi
    fi
    rm -f "$CACHE"/redis_*.tar.* "$CACHE"/redis_*.dsc "$CACHE/apt-source.err"
    for d in "$CACHE"/redis-[0-9]*/; do
        [ -f "$d/tests/test_helper.tcl" ] && touch "$d/.ringkv-complete"
    done
    return 0
}

if ! command -v tclsh >/dev/null; then
    log "installing tcl (runtest needs tclsh)"
    $SUDO apt-get install -y -qq --no-install-recommends tcl >/dev/null || die "cannot install tcl"
fi
command -v redis-cli >/dev/null || die "redis-cli missing (package redis-tools; run deps/install.sh)"
[ -x "$SERVER_BIN" ] || die "$SERVER_BIN not built (run make)"
[ -r "$SKIPLIST" ] || die "$SKIPLIST missing"

SRC=$(cached_source) || { fetch_source && SRC=$(cached_source); } || die "could not get the Redis source"
log "Redis test suite from $SRC"

# ---- 1b. units in parallel -------------------------------------------------
# In external mode runtest runs the units one after another (one client, one
# db): the whole list takes 5.5 minutes against one 3-node cluster. With
# RINGKV_REDIS_TESTS_GROUPS=N (and no unit list asked for), it is split into
# N runs of this script at once, each with a cluster of its own, by the
# units' measured lengths; their counts are summed, and any failure fails
# the run. Not the default: on 2 cores three groups made every test about
# twice as slow, and Redis's intsets stress test (45 s alone) passed its
# 120 s timeout.
if [ -z "${RINGKV_REDIS_TESTS_UNITS:-}" ] && [ "${RINGKV_REDIS_TESTS_GROUPS:-1}" -gt 1 ]; then
    ngroups=${RINGKV_REDIS_TESTS_GROUPS}
    weight() { # seconds each unit took alone against a 3-node cluster
        case "$1" in
        unit/hyperloglog) echo 90 ;; unit/type/zset) echo 75 ;; unit/type/set) echo 70 ;;
        unit/geo) echo 55 ;; unit/type/string) echo 12 ;; unit/type/hash) echo 9 ;;
        unit/keyspace) echo 8 ;; unit/expire) echo 7 ;; *) echo 3 ;;
        esac
    }
    sorted=$(for u in "${UNITS[@]}"; do echo "$(weight "$u") $u"; done | sort -rn | awk '{print $2}')
    declare -a group load
    for g in $(seq 0 $((ngroups - 1))); do group[$g]=""; load[$g]=0; done
    for u in $sorted; do # each unit to the least loaded group
        best=0
        for g in $(seq 1 $((ngroups - 1))); do [ "${load[$g]}" -lt "${load[$best]}" ] && best=$g; done
        group[$best]="${group[$best]} $u"
        load[$best]=$((load[$best] + $(weight "$u")))
    done
    PTMP=$(mktemp -d /tmp/ringkv-redis-tests-groups.XXXXXX)
    CHILDREN=()
    trap 'for c in "${CHILDREN[@]}"; do kill -TERM "$c" 2>/dev/null; done; wait; exit 130' INT TERM
    for g in $(seq 0 $((ngroups - 1))); do
        [ -n "${group[$g]}" ] || continue
        log "group $g:${group[$g]}"
        RINGKV_REDIS_TESTS_UNITS="${group[$g]# }" RINGKV_REDIS_TESTS_SUB=1 bash "$HERE/run.sh" \
            >"$PTMP/group$g.log" 2>&1 &
        CHILDREN+=($!)
    done
    tp=0 tf=0 ts=0 bad=0
    for g in "${!CHILDREN[@]}"; do
        wait "${CHILDREN[$g]}" || bad=1
    done
    for f in "$PTMP"/group*.log; do
        sed -e 's/\x1b\[[0-9;]*m//g' "$f" | grep -E '^\[(err|exception)\]: |^  [0-9]+ seconds - |^redis-tests: ' |
            grep -v 'skiplist.txt entry matched no test' >&2
        line=$(grep -E '^redis-tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$f" | tail -1)
        if [ -z "$line" ]; then bad=1; log "a group gave no counts: $f"; tail -20 "$f" >&2; continue; fi
        read -r p f2 s2 <<<"$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/')"
        tp=$((tp + p)); tf=$((tf + f2)); ts=$((ts + s2))
    done
    [ "$bad" -eq 1 ] && [ "$tf" -eq 0 ] && tf=1
    echo "redis-tests: $tp passed, $tf failed, $ts skipped"
    if [ "$tf" -eq 0 ] && [ "$tp" -gt 0 ]; then rm -rf "$PTMP"; exit 0; fi
    log "group logs kept in $PTMP"
    exit 1
fi

# ---- 2. the server ---------------------------------------------------------

TMP=$(mktemp -d /tmp/ringkv-redis-tests.XXXXXX)
SERVER_PID=""
RT_PID=""
TAIL_PID=""
RESULT=1

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
    trap - EXIT INT TERM
    # runtest and its Tcl client share a process group that we created (setsid).
    if [ -n "$RT_PID" ] && kill -0 -- "-$RT_PID" 2>/dev/null; then
        kill -TERM -- "-$RT_PID" 2>/dev/null
        sleep 0.5
        kill -KILL -- "-$RT_PID" 2>/dev/null
    fi
    [ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
    for pid in "${SERVER_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${SERVER_PIDS[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "server $pid did not stop on SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    if [ "$RESULT" -eq 0 ] && [ -z "${RINGKV_REDIS_TESTS_KEEP:-}" ]; then
        rm -rf "$TMP"
    else
        log "logs kept in $TMP (server.log, runtest.log)"
    fi
    exit "$RESULT"
}
trap cleanup EXIT
trap 'RESULT=130; exit 130' INT TERM

# NODES ports P, each with P+10000 (its cluster bus) free too, on 127.0.0.1.
PORTS=$(NODES="$NODES" python3 - <<'EOF'
import os, socket
want, got, held = int(os.environ["NODES"]), [], []
for _ in range(500):
    if len(got) == want:
        break
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    if p + 10000 > 65535 or p in got or p + 10000 in got:
        a.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        a.close(); b.close(); continue
    held += [a, b]; got.append(p)
for x in held:
    x.close()
print(" ".join(map(str, got)))
EOF
) || true
read -r -a PORTA <<<"$PORTS"
[ "${#PORTA[@]}" -eq "$NODES" ] || die "no $NODES free ports"
PORT=${PORTA[0]}
SEEDS=$(printf '127.0.0.1:%s,' "${PORTA[@]}")
SEEDS=${SEEDS%,}

# Every node on its own data directory and log, seeding each other: the
# suite talks to the first, which coordinates through the others as any
# node of a cluster does (N = NODES replicas, R = W = 2).
for i in $(seq 0 $((NODES - 1))); do
    mkdir -p "$TMP/data$i"
    "$SERVER_BIN" --port "${PORTA[$i]}" --dir "$TMP/data$i" --logfile "$TMP/server$i.log" \
        --seeds "$SEEDS" --replication "$NODES" &
    SERVER_PIDS+=($!)
done
SERVER_PID=${SERVER_PIDS[0]}
up=""
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    n=0
    for p in "${PORTA[@]}"; do
        st=$(redis-cli -h 127.0.0.1 -p "$p" RING STATUS 2>/dev/null) || true
        case "$st" in *"transfers: none"*) n=$((n + 1)) ;; esac
    done
    nodes_up=$(redis-cli -h 127.0.0.1 -p "$PORT" RING INFO 2>/dev/null | tr -d '\r' |
               awk -F: '$1 == "ring_nodes_up" { print $2 }')
    if [ "$n" -eq "$NODES" ] && [ "${nodes_up:-0}" -eq "$NODES" ]; then up=1; break; fi
    sleep 0.1
done
if [ -z "$up" ]; then
    log "the $NODES ringkv-server nodes did not form a cluster on ports ${PORTA[*]}"
    tail -20 "$TMP/server0.log" >&2 2>/dev/null
    exit 1
fi
ln -sf server0.log "$TMP/server.log"
log "ringkv cluster of $NODES nodes (pids ${SERVER_PIDS[*]}) on 127.0.0.1 ports ${PORTA[*]}; the suite talks to $PORT"

# ---- 3. the suite ----------------------------------------------------------

# skiplist.txt: "unit | test name | reason" lines; runtest gets the names.
grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$SKIPLIST" |
    awk -F'|' '{ n = $2; gsub(/^[ \t]+|[ \t]+$/, "", n); if (n != "") print n }' >"$TMP/skipfile"

# --baseport: runtest's own test server listens a little below it; a port
# of this run's own keeps two runs on one machine (e.g. a developer's beside
# CI) from colliding on the default.
ARGS=(--host 127.0.0.1 --port "$PORT" --singledb --ignore-encoding --tags -needs:debug
      --durable --timeout 120 --skipfile "$TMP/skipfile" --baseport $((11000 + RANDOM % 14000)))
for u in "${UNITS[@]}"; do ARGS+=(--single "$u"); done

log "runtest ${ARGS[*]}"
# --durable: a test that raises an error (e.g. an unknown command) counts as
# failed instead of aborting the whole run, so the counts stay complete.
: >"$TMP/runtest.log"
(cd "$SRC" && exec setsid timeout -k 10 "$TIMEOUT" ./runtest "${ARGS[@]}") \
    >"$TMP/runtest.log" 2>&1 </dev/null &
RT_PID=$!
tail -n +1 -f --pid="$RT_PID" "$TMP/runtest.log" &
TAIL_PID=$!
wait "$RT_PID"
rc=$?
wait "$TAIL_PID" 2>/dev/null
TAIL_PID=""

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "ringkv-server died during the run; last log lines:"
    tail -30 "$TMP/server.log" >&2
    SERVER_PID=""
    rc=1
fi

# ---- 4. the counts ---------------------------------------------------------

plain=$(sed -e 's/\x1b\[[0-9;]*m//g' "$TMP/runtest.log")
count() { printf '%s\n' "$plain" | grep -c "^\[$1\]: " || true; }
passed=$(count ok)
failed=$(count err)
skipped=$(count skip)
ignored=$(count ignore)
exceptions=$(count exception)
[ "$rc" -eq 124 ] && log "runtest timed out after ${TIMEOUT}s"
# An entry that skipped nothing is stale (a test renamed in a newer Debian
# source, or a typo): say so, so that the list stays a reviewed one.
[ -n "${RINGKV_REDIS_TESTS_SUB:-}" ] || while IFS= read -r name; do
    printf '%s\n' "$plain" | grep -qxF "[skip]: $name" ||
        log "warning: skiplist.txt entry matched no test: $name"
done <"$TMP/skipfile"
log "skipped by skiplist.txt: $skipped; skipped by tag (needs:debug, external:skip, ...): $ignored"
if [ "$failed" -gt 0 ] || [ "$exceptions" -gt 0 ]; then
    printf '%s\n' "$plain" | grep -e '^\[err\]: ' -e '^\[exception\]: ' >&2
fi
[ "$exceptions" -gt 0 ] && failed=$((failed + exceptions))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # aborted run: never report green
echo "redis-tests: $passed passed, $failed failed, $((skipped + ignored)) skipped"
if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then RESULT=0; else RESULT=1; fi
exit "$RESULT"
