#!/usr/bin/env bash
# Builds tapegrad and runs every test program through `meson test`, then
# prints the total of doctest test cases: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" || exit 1
ninja -C "$build" || exit 1
meson test -C "$build" --print-errorlogs --num-processes 1
status=$?
# Each doctest program ends with "[doctest] test cases: T | P passed | F failed";
# a program that crashed before that line counts as one failure.
log="$build/meson-logs/testlog.txt"
read -r passed failed < <(awk '
  /^\[doctest\] test cases:/ { p += $6; f += $9; seen++ }
  /^==================================== [0-9]+\/[0-9]+ ====/ { programs++ }
  END { print p + 0, f + (programs - seen > 0 ? programs - seen : 0) }' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
