#!/usr/bin/env bash
# The full check .ci/run runs, five parts, each printing its own
# "N passed, N failed" and its time:
#   1. the README's test command (scripts/test.sh): release build, whole suite;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#      (scripts/test.sh --sanitize; two tests at a time, bench/ not built);
#   3. a 20-second run of each libFuzzer target, two at a time (scripts/fuzz.sh), built in
#      part 2's clang build (scripts/setup-sanitize.sh installs clang and
#      libclang-rt-14-dev);
#   4. the programs that run more than one thread under ThreadSanitizer
#      (scripts/test.sh --tsan);
#   5. the portable build (-Dportable=true, what a distribution ships) and
#      the programs that claim bit-for-bit results (scripts/test.sh --portable).
# The last line is the total of all five. A part that stops before counting
# (a build error) counts as 1 failed.
#
# Parts 2, 4 and 5 are built beside the parts before them, one build after the
# other at the lowest priority (nice 19): they take the core the release tests
# leave idle (most run one test at a time, one thread) and the fuzzers' gaps.
# (Where Linux groups processes by session for scheduling, as here, a test,
# which `meson test` starts in a session of its own, shares the cores equally
# with the builder whatever its nice: docs/testing.md.)
# While a part runs two tests at a time the builder is stopped (SIGSTOP), so
# that it slows no test toward its timeout; a part waiting for its build lets
# it run alone. The build then prints its time; a failed build is built again
# in the part, which reports it.
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=build-ci SANITIZE_BUILD_DIR=build-ci-sanitize FUZZ_BUILD_DIR=build-ci-sanitize  # one build for both
export TSAN_BUILD_DIR=build-ci-tsan PORTABLE_BUILD_DIR=build-ci-portable
rm -rf "$BUILD_DIR" "$SANITIZE_BUILD_DIR" "$TSAN_BUILD_DIR" "$PORTABLE_BUILD_DIR"
# Build the CUDA backend module wherever nvcc is installed (it compiles
# without a GPU; its tests then load it and report themselves skipped), so
# that a change breaking it never lands. The default build compiles it only
# on a machine with a GPU; the sanitizer and fuzz builds are CPU only.
if [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="$PATH:/usr/local/cuda/bin" MESON_OPTIONS="-Dcuda=enabled"
fi
# The processor, so that a result that depends on it names it (docs/testing.md).
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) cores"
logs=$(mktemp -d)
builder=""
trap '[ -n "$builder" ] && kill -CONT -- -"$builder" 2>/dev/null && kill -- -"$builder" 2>/dev/null; rm -rf "$logs"' EXIT
# Packages first, one installer at a time (apt holds a lock): the builds then start together.
scripts/install-deps.sh && scripts/setup-sanitize.sh --install-only || echo "installing packages failed: the parts will say what is missing"
set -m  # the builder gets a process group of its own, so that the trap can stop its ninja
(
  for mode in sanitize tsan portable; do
    start=$SECONDS
    nice -n 19 scripts/test.sh "--$mode" --build-only >"$logs/build-$mode.log" 2>&1
    echo "$? $start $SECONDS" >"$logs/built-$mode.tmp"
    mv "$logs/built-$mode.tmp" "$logs/built-$mode"
  done
) &
builder=$!
set +m
# (ninja's compilers run in process groups of their own: those running when the builder stops finish their file.)
builder_signal() { [ -f "$logs/built-portable" ] || kill "-$1" -- -"$builder" 2>/dev/null || true; }
pause_builder() { builder_signal STOP; }
resume_builder() { builder_signal CONT; }
# Waits for the build of part $1 (the builder running alone), then stops the builder for that part's tests.
built() {
  local mode=$1
  resume_builder
  while [ ! -f "$logs/built-$mode" ]; do
    # A builder gone without its mark (killed): the part builds for itself.
    kill -0 "$builder" 2>/dev/null || { echo "=== $mode build: the builder stopped early; the part builds it"; return; }
    sleep 5
  done
  pause_builder
  read -r status start end <"$logs/built-$mode"
  echo "=== $mode build, beside the parts before it: exit $status, from $start s to $end s of the run"
  [ "$status" -eq 0 ] || tail -20 "$logs/build-$mode.log"
}
passed=0
failed=0
part() {
  local name=$1
  shift
  echo "=== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee "$logs/$name.log"
  local count
  count=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logs/$name.log" | tail -1)
  if [ -n "$count" ]; then
    passed=$((passed + $(cut -d' ' -f1 <<<"$count")))
    failed=$((failed + $(cut -d' ' -f3 <<<"$count")))
  else
    failed=$((failed + 1))
    count="no count (stopped before the tests ran)"
  fi
  echo "=== $name: $count in $((SECONDS - start)) s"
}
part tests scripts/test.sh
built sanitize
part sanitize scripts/test.sh --sanitize
resume_builder  # the fuzzers run for fixed times: the builder takes their gaps
part fuzz scripts/fuzz.sh --seconds 20
built tsan
part tsan scripts/test.sh --tsan
built portable
part portable scripts/test.sh --portable
echo "=== total time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
