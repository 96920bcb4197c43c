#!/usr/bin/env bash
# Builds tapegrad and runs every test program through `meson test`, then
# prints the total: "N passed, N failed" (doctest cases; other programs count one).
#
#   scripts/test.sh              release build in $BUILD_DIR (default build,
#                                with the CUDA module where nvcc is found;
#                                $MESON_OPTIONS, e.g. -Dcuda=disabled, are
#                                given to `meson setup` instead)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer
#                                build in $SANITIZE_BUILD_DIR (default
#                                build-sanitize), CPU only; any report fails the
#                                test that triggered it. TAPEGRAD_SANITIZE=1
#                                tells the slowest tests to do fewer iterations.
set -uo pipefail
cd "$(dirname "$0")/.."
# The tests find Multi30k as the programs do, through $MULTI30K_DIR or the
# download cache (data/text/multi30k_dir.h); an offline copy beside the
# checkout (as .ci/run's fresh clone has) stands in when $MULTI30K_DIR is unset.
if [ -z "${MULTI30K_DIR:-}" ] && [ -d ../shared/data/multi30k ]; then
  MULTI30K_DIR=$(cd ../shared/data/multi30k && pwd)
  export MULTI30K_DIR
fi
sanitize=false
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=true ;;
    *) echo "usage: scripts/test.sh [--sanitize]" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh || exit 1
# Client libraries others wrote, for tests/check_clients.py; without them that test reports itself skipped.
$sanitize || scripts/install-clients.sh || echo "client libraries not installed: the clients test will be skipped"
if $sanitize; then
  # clang, ASan + UBSan (its -fsanitize=undefined includes float-cast-overflow);
  # the same build holds the fuzz targets (scripts/fuzz.sh).
  build=${SANITIZE_BUILD_DIR:-build-sanitize}
  scripts/setup-sanitize.sh "$build" || exit 1
  setup=()
  export TAPEGRAD_SANITIZE=1
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
  # The reruns on the other product path, the long training example and the npm clients are left out:
  # minutes each under the sanitizers for code the rest of the suite runs sanitized (tests/meson.build,
  # examples/meson.build; test_http_server holds the server to the same requests).
  test_args=(--timeout-multiplier 4 --no-suite product_paths --no-suite long_training --no-suite installed --no-suite clients)
else
  build=${BUILD_DIR:-build}
  read -r -a setup <<<"${MESON_OPTIONS:-}"
  # Where nvcc exists the CUDA module is compiled and linked (-Wl,--no-undefined
  # in tests/layering) even without a GPU, so CUDA code cannot rot unseen; its
  # tests then skip (exit 77) where no device answers.
  if [ -z "${MESON_OPTIONS:-}" ]; then
    [ -x /usr/local/cuda/bin/nvcc ] && export PATH="$PATH:/usr/local/cuda/bin"
    command -v nvcc >/dev/null && setup=(-Dcuda=enabled)
  fi
  test_args=()
fi
[ -f "$build/build.ninja" ] || meson setup "$build" "${setup[@]}" || exit 1
ninja -C "$build" || exit 1
meson test -C "$build" --print-errorlogs --num-processes 1 "${test_args[@]}"
status=$?
python3 scripts/count_tests.py "$build/meson-logs/testlog.json"
counted=$?
[ "$status" -eq 0 ] && [ "$counted" -eq 0 ]
