#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_*.c, built by `make fuzz`) one
# after the other, FUZZ_SECONDS each. `make fuzz` runs them for a minute
# each and keeps what they find; `make fuzz-short` (part of `make test`)
# runs them for ten seconds each and changes no tracked file.
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
#   FUZZ_SECONDS=60 FUZZ_KEEP=1 FUZZ_KEEP_BYTES=1024 FUZZ_TARGETS="fuzz_resp fuzz_record fuzz_bus"
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
keep=${FUZZ_KEEP:-1}
keepbytes=${FUZZ_KEEP_BYTES:-1024}
targets=${FUZZ_TARGETS:-fuzz_resp fuzz_record fuzz_bus fuzz_field fuzz_keymeta fuzz_counter fuzz_hll}

tmp=$(mktemp -d /tmp/ringkv-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p tests/fuzz/artifacts

for t in $targets; do
  bin=tests/fuzz/$t
  corpus=tests/fuzz/corpus/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (make fuzz-build)" >&2
    exit 1
  fi
  mkdir -p "$corpus"
  if [ "$keep" = 1 ]; then
    new=tests/fuzz/obj/new/$t
  else
    new=$tmp/new-$t
  fi
  mkdir -p "$new"
  log=$tmp/$t.log
  # -timeout: one input taking 10 s is a bug (a hang); -rss_limit_mb and the
  # malloc limit it implies: a single allocation over 2 GB is one too.
  if ! "./$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="tests/fuzz/artifacts/$t-" "$new" "$corpus" >"$log" 2>&1; then
    tail -n 80 "$log" >&2
    echo "fuzz: $t FAILED; the input is in tests/fuzz/artifacts/ (full log above)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s '\t ' ' ' || true)
  echo "fuzz: $t: ${runs:-?} executions in ${secs}s (${done_line})"
  if [ "$keep" = 1 ]; then
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
