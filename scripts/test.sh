#!/usr/bin/env bash
# Builds tapegrad and runs every test program through `meson test`, then
# prints the total: "N passed, N failed" (doctest cases; other programs count one).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" || exit 1
ninja -C "$build" || exit 1
meson test -C "$build" --print-errorlogs --num-processes 1
status=$?
python3 scripts/count_tests.py "$build/meson-logs/testlog.json"
counted=$?
[ "$status" -eq 0 ] && [ "$counted" -eq 0 ]
