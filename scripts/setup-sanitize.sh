#!/usr/bin/env bash
# Configures the one sanitized build that both `scripts/test.sh --sanitize`
# (the whole suite) and `scripts/fuzz.sh` (the libFuzzer targets) use:
# clang with AddressSanitizer + UndefinedBehaviorSanitizer, no recovery, and
# -Dfuzz=true: the fuzz targets, and libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link) in the layers they read input with, so that
# they link against the same library. clang compiles sanitized code
# 2-3x faster than g++ here, and one build instead of two halves the rest.
# Installs clang and libclang-rt-14-dev (libFuzzer, the sanitizer runtimes)
# when missing. Does nothing when BUILD_DIR is configured already.
#   scripts/setup-sanitize.sh BUILD_DIR
#   scripts/setup-sanitize.sh --install-only   (clang and the runtimes only: the ThreadSanitizer build's)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/setup-sanitize.sh BUILD_DIR}
scripts/install-deps.sh || exit 1
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } || exit 1
fi
[ "$build" = --install-only ] && exit 0
if [ -f "$build/build.ninja" ]; then
  grep -q '"name": "fuzz", "value": true' "$build/meson-info/intro-buildoptions.json" && exit 0
  echo "error: $build was configured before the sanitized build moved to clang with the fuzz targets; remove it (rm -rf $build) and run again" >&2
  exit 1
fi
# -gline-tables-only: file and line in every report, a fraction of -g's compile and link time.
# -Dmpi=disabled: Open MPI's plugins leak at MPI_Finalize, from libraries
# unloaded by then, so LeakSanitizer can neither be satisfied nor suppressed
# by name; tg::distributed's tests run in the release build, and here report
# themselves skipped.
CC=clang CXX=clang++ meson setup "$build" --buildtype=debugoptimized -Dfuzz=true -Dcuda=disabled -Dmpi=disabled \
  -Db_sanitize=address,undefined -Db_lundef=false \
  "-Dcpp_args=-fno-sanitize-recover=all -gline-tables-only" \
  "-Dcpp_link_args=-fno-sanitize-recover=all"
