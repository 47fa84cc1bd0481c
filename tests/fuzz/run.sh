#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_*.c, built by `make fuzz`),
# FUZZ_SECONDS each, FUZZ_JOBS of them at once (default: one per CPU; a
# fuzzer is one single-threaded process, so on N cores N at once each run
# as many inputs as alone, in 1/N of the time). `make fuzz` runs them for a
# minute each and keeps what they find; `make fuzz-short` (part of `make
# test`) runs them for ten seconds each and changes no tracked file.
#
# Corpus: tests/fuzz/corpus/<target>/ holds the committed seeds, and the
# regression inputs of bugs found. With FUZZ_KEEP=1 new inputs go to
# tests/fuzz/obj/new/<target>/ (kept between runs, not committed), and after
# the run the ones under FUZZ_KEEP_BYTES that add coverage are merged into
# the committed corpus (libFuzzer -merge=1). With FUZZ_KEEP=0 they go to a
# temporary directory removed at the end.
# A crash, leak, failed check or timeout stops the run with a non-zero exit;
# the input that caused it is in tests/fuzz/artifacts/<target>-crash-<sha1>
# (reproduce: ./tests/fuzz/<target> tests/fuzz/artifacts/<file>).
# Results are printed in target order once all ran.
#   FUZZ_SECONDS=60 FUZZ_KEEP=1 FUZZ_KEEP_BYTES=1024 FUZZ_JOBS=1 FUZZ_TARGETS="fuzz_resp fuzz_record fuzz_bus"
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
keep=${FUZZ_KEEP:-1}
keepbytes=${FUZZ_KEEP_BYTES:-1024}
targets=${FUZZ_TARGETS:-fuzz_resp fuzz_record fuzz_bus fuzz_field fuzz_keymeta fuzz_counter fuzz_hll}

tmp=$(mktemp -d /tmp/ringkv-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p tests/fuzz/artifacts

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

new_dir() {
  if [ "$keep" = 1 ]; then echo "tests/fuzz/obj/new/$1"; else echo "$tmp/new-$1"; fi
}

# Runs target $1 to its log; its exit status goes to $tmp/$1.rc (the job's
# own status is not kept: `wait -n` below reaps jobs in any order).
fuzz_one() {
  local t=$1 rc=0
  # -timeout: one input taking 10 s is a bug (a hang); -rss_limit_mb and the
  # malloc limit it implies: a single allocation over 2 GB is one too.
  "./tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="tests/fuzz/artifacts/$t-" "$(new_dir "$t")" "tests/fuzz/corpus/$t" \
      >"$tmp/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$tmp/$t.rc"
}

for t in $targets; do
  if [ ! -x "tests/fuzz/$t" ]; then
    echo "fuzz: tests/fuzz/$t is not built (make fuzz-build)" >&2
    exit 1
  fi
  mkdir -p "tests/fuzz/corpus/$t" "$(new_dir "$t")"
done
for t in $targets; do
  while [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait

failed=0
for t in $targets; do
  log=$tmp/$t.log
  if [ "$(cat "$tmp/$t.rc" 2>/dev/null)" != 0 ]; then
    tail -n 80 "$log" >&2
    echo "fuzz: $t FAILED; the input is in tests/fuzz/artifacts/ (full log above)" >&2
    failed=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s '\t ' ' ' || true)
  echo "fuzz: $t: ${runs:-?} executions in ${secs}s (${done_line})"
done
[ "$failed" = 0 ] || exit 1

for t in $targets; do
  if [ "$keep" = 1 ]; then
    bin=tests/fuzz/$t
    corpus=tests/fuzz/corpus/$t
    new=$(new_dir "$t")
    small=$tmp/small-$t
    mkdir -p "$small"
    find "$new" -type f -size -"$((keepbytes + 1))"c -exec cp {} "$small"/ \;
    before=$(ls "$corpus" | wc -l)
    "./$bin" -merge=1 "$corpus" "$small" >"$tmp/$t.merge.log" 2>&1 || {
      tail -n 40 "$tmp/$t.merge.log" >&2
      echo "fuzz: $t: merge into $corpus failed" >&2
      exit 1
    }
    echo "fuzz: $t: corpus $corpus: $before -> $(ls "$corpus" | wc -l) inputs"
  fi
done
