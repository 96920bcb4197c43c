#!/usr/bin/env bash
# The full check meant to become .ci/run (issue #8) once its time on a fresh
# 2-core machine is measured: the README's test command, then the same suite
# under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/test.sh
# --sanitize), then a 20-second run of each libFuzzer target (scripts/fuzz.sh,
# which installs clang and libclang-rt-14-dev). Each part prints its own
# count; the last line is the total of all three: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=build-ci
export SANITIZE_BUILD_DIR=build-ci-sanitize
export FUZZ_BUILD_DIR=build-ci-fuzz
rm -rf "$BUILD_DIR" "$SANITIZE_BUILD_DIR" "$FUZZ_BUILD_DIR"
# Build the CUDA backend wherever nvcc is installed (it compiles without a
# GPU; its tests then report themselves skipped), so that a change breaking
# it never lands. The sanitizer and fuzz builds are CPU only (-Dcuda=disabled).
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="$PATH:/usr/local/cuda/bin"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passed=0
failed=0
# Runs one part, showing its output, and adds its "N passed, N failed" line
# to the totals; a part that ends without one (a build error) counts 1 failed.
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
    count="no count (failed before the tests ran)"
  fi
  echo "=== $name: $count in $((SECONDS - start))s"
}
part tests scripts/test.sh
part sanitize scripts/test.sh --sanitize
part fuzz scripts/fuzz.sh --seconds 20
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
