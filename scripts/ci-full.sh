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
trap 'rm -rf "$logs"' EXIT
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
part sanitize scripts/test.sh --sanitize
part fuzz scripts/fuzz.sh --seconds 20
part tsan scripts/test.sh --tsan
part portable scripts/test.sh --portable
echo "=== total time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
