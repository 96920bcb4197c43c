#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, -Dfuzz=true) and runs each for N seconds on a
# scratch copy of its committed seed corpus (tests/fuzz/corpus/<target>/),
# with its dictionary (tests/fuzz/*.dict), two at a time (one a core). Reports per target the executions run and whether it
# crashed (a crash, leak, sanitizer report, timeout or broken property;
# libFuzzer saves the input under $FUZZ_BUILD_DIR/fuzz-artifacts/), then
# "N passed, N failed", each target counting one test.
#
#   scripts/fuzz.sh [--seconds N] [target...]     (default: 20 seconds, every target)
#
# Environment: FUZZ_BUILD_DIR (default build-sanitize, the build scripts/test.sh --sanitize
# also uses); FUZZ_RSS_LIMIT_MB (2048).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=20
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "usage: scripts/fuzz.sh [--seconds N] [target...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for dir in tests/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# The sanitized build of scripts/test.sh --sanitize (scripts/setup-sanitize.sh), shared with it.
build=${FUZZ_BUILD_DIR:-build-sanitize}
scripts/setup-sanitize.sh "$build" || exit 1
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
# Runs target $1 for $seconds seconds; its exit status goes to $build/fuzz-$1.status.
fuzz_one() {
  local t=$1 corpus="$build/fuzz-corpus/$1" dict
  rm -rf "$corpus"  # a scratch copy: CI never writes into the repository
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  # Audio seeds are made, not committed.
  [ "$t" = fuzz_wav ] && python3 tests/fuzz/make_wav_seeds.py "$corpus"
  case "$t" in
    fuzz_safetensors|fuzz_checkpoint) dict=tests/fuzz/safetensors.dict ;;
    *) dict=tests/fuzz/text.dict ;;
  esac
  "$build/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" -timeout=30 \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$corpus" >"$build/fuzz-$t.log" 2>&1
  echo $? >"$build/fuzz-$t.status"
}
# Two targets at a time, one a core (a libFuzzer run is one thread); reported in the order given.
rm -f "$build"/fuzz-*.status
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  fuzz_one "${targets[i]}" &
  [ $((i + 1)) -lt ${#targets[@]} ] && fuzz_one "${targets[i + 1]}" &
  wait
done
passed=0
failed=0
for t in "${targets[@]}"; do
  log="$build/fuzz-$t.log"
  status=$(cat "$build/fuzz-$t.status" 2>/dev/null || echo 1)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$runs" ]; then  # a crash ends the run before the final stats: the last progress line
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  fi
  if [ "$status" -eq 0 ]; then
    echo "$t: ${runs:-?} executions in ${seconds}s, no crash"
    passed=$((passed + 1))
  else
    echo "$t: CRASHED after ${runs:-?} executions (exit $status); log $log:"
    grep -E 'ERROR|SUMMARY|runtime error|fuzz property|Test unit written|==[0-9]+==' "$log" | head -20
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
