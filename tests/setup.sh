# tests/setup.sh -- sourced by tests/run-*.sh and tests/fault/run.sh (from the
# repository's top directory) before they start a Python test group.
#
#   test_setup NAME [VAR]   a directory /tmp/ringkv-NAME.XXXXXX for the run,
#                           exported as VAR when given, removed at exit
#                           (RINGKV_KEEP=1 keeps it and says where); a
#                           snapshot of src/ringkv-server in it as
#                           RINGKV_SERVER (unless that is set), so a rebuild
#                           during the run (make in another shell) cannot
#                           swap or remove the binary under the tests; and
#                           PY, a python3 that has the redis module
#                           (Debian's; one earlier on PATH -- pyenv, a
#                           virtualenv -- may lack it).
#   need_tools NAME TOOL... exits with a message naming the first missing one

test_setup() {
  local name=$1 var=${2:-}
  tmp=$(mktemp -d "/tmp/ringkv-$name.XXXXXX")
  if [ -z "${RINGKV_KEEP:-}" ]; then
    trap 'rm -rf "$tmp"' EXIT
  else
    echo "$name: keeping data and logs in $tmp"
  fi
  [ -n "$var" ] && export "$var=$tmp"
  if [ -z "${RINGKV_SERVER:-}" ]; then
    if [ ! -x src/ringkv-server ]; then
      echo "$name: src/ringkv-server is not built (run make)" >&2
      exit 1
    fi
    cp src/ringkv-server "$tmp/ringkv-server"
    export RINGKV_SERVER="$tmp/ringkv-server"
  fi
  PY=""
  local cand
  for cand in /usr/bin/python3 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import redis' 2>/dev/null; then
      PY=$cand
      break
    fi
  done
  if [ -z "$PY" ]; then
    echo "$name: no python3 with the redis module (apt-get install python3-redis)" >&2
    exit 1
  fi
}

need_tools() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is missing (deps/install.sh)" >&2; exit 1; }
  done
}
