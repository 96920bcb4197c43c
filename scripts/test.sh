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
#   scripts/test.sh --tsan       ThreadSanitizer build in $TSAN_BUILD_DIR (default
#                                build-tsan), CPU only: the programs that run more
#                                than one thread (tsan_programs below); any report
#                                fails the test that triggered it.
#   scripts/test.sh --portable   the build a distribution ships (-Dportable=true:
#                                generic x86-64, kernels chosen at run time; -O2) in
#                                $PORTABLE_BUILD_DIR (default build-portable): the
#                                programs that claim bit-for-bit results.
#   --build-only                 with any of the above: configure and build what
#                                that mode tests, run nothing (scripts/ci-full.sh
#                                builds the later parts beside the earlier ones).
set -uo pipefail
cd "$(dirname "$0")/.."
# The tests find Multi30k as the programs do, through $MULTI30K_DIR or the
# download cache (data/text/multi30k_dir.h); an offline copy beside the
# checkout (as .ci/run's fresh clone has) stands in when $MULTI30K_DIR is unset.
if [ -z "${MULTI30K_DIR:-}" ] && [ -d ../shared/data/multi30k ]; then
  MULTI30K_DIR=$(cd ../shared/data/multi30k && pwd)
  export MULTI30K_DIR
fi
mode=release
build_only=false
for arg in "$@"; do
  case "$arg" in
    --sanitize) mode=sanitize ;;
    --tsan) mode=tsan ;;
    --portable) mode=portable ;;
    --build-only) build_only=true ;;
    *) echo "usage: scripts/test.sh [--sanitize | --tsan | --portable] [--build-only]" >&2; exit 2 ;;
  esac
done
sanitize=false
[ "$mode" = sanitize ] && sanitize=true
# The programs that start threads of their own or share the kernel pool between callers: the pool, the packed
# operand cache, the batch queue and the servers' workers, the speech feature thread beside the step, the
# tape and profiler across threads, the kernels and ops that split work over the pool, the stop-signal waiter.
tsan_programs=(thread_pool kernels host_allocator batch_queue http_server http_hostile shared_work speech translate_serve
  profiler tape tensor host_ops conv translate_models stop_signals)
# The portable build runs the programs whose checks claim bit-for-bit results (as scripts/soak.sh does), and
# the training example whose held-out score follows the float32 products' rounding.
source scripts/exact_programs.sh
if [ "$mode" = tsan ] || [ "$mode" = portable ]; then
  if [ "$mode" = tsan ]; then
    build=${TSAN_BUILD_DIR:-build-tsan}
    programs=("${tsan_programs[@]}")
    tests=("${programs[@]}")
    export TAPEGRAD_SANITIZE=1
    # Reports name both stacks and stop the program; no suppressions: every report so far was ours.
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4}
    configure=(env CC=clang CXX=clang++ meson setup "$build" --buildtype=debugoptimized -Dcuda=disabled -Dmpi=disabled
      -Db_sanitize=thread -Db_lundef=false "-Dcpp_args=-gline-tables-only")
    scripts/setup-sanitize.sh --install-only || exit 1
  else
    build=${PORTABLE_BUILD_DIR:-build-portable}
    programs=("${exact_programs[@]}")
    tests=("${programs[@]}" example_transformer_reverse)
    # -O2, as Debian's packages are built: 311 s to build these alone on 2 cores against 364 s at -O3
    configure=(meson setup "$build" -Dportable=true -Doptimization=2 -Dcuda=disabled)
  fi
  scripts/install-deps.sh || exit 1
  [ -f "$build/build.ninja" ] || "${configure[@]}" || exit 1
  targets=(examples/translate/translate examples/transformer_reverse)
  for name in "${programs[@]}"; do targets+=("tests/test_$name"); done
  ninja -C "$build" "${targets[@]}" || exit 1
  $build_only && exit 0
  # the portable build's programs with their reruns on the other float32 product path, where this machine has
  # both (tests/meson.build); ThreadSanitizer's once (the threads are the same on either path)
  if [ "$mode" = portable ]; then
    defined=$(meson introspect --tests "$build")
    for name in "${programs[@]}"; do
      for path in own openblas; do
        [[ "$defined" == *"\"name\": \"${name}_$path\""* ]] && tests+=("${name}_$path")
      done
    done
  fi
  meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 4 "${tests[@]}"
  status=$?
  python3 scripts/count_tests.py "$build/meson-logs/testlog.json"
  counted=$?
  [ "$status" -eq 0 ] && [ "$counted" -eq 0 ]
  exit
fi
scripts/install-deps.sh || exit 1
# Client libraries others wrote, for tests/check_clients.py; without them that test reports itself skipped.
$sanitize || $build_only || scripts/install-clients.sh || echo "client libraries not installed: the clients test will be skipped"
if $sanitize; then
  # clang, ASan + UBSan (its -fsanitize=undefined includes float-cast-overflow);
  # the same build holds the fuzz targets (scripts/fuzz.sh).
  build=${SANITIZE_BUILD_DIR:-build-sanitize}
  scripts/setup-sanitize.sh "$build" || exit 1
  setup=()
  export TAPEGRAD_SANITIZE=1
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
  # The reruns on the other product path, the long trainings (suite long_training) and the npm clients are left out:
  # minutes each under the sanitizers for code the rest of the suite runs sanitized (tests/meson.build,
  # examples/meson.build; test_http_server holds the server to the same requests); so are the checks of the
  # sources and pages (suite source_checks), which run no sanitized code. Both cores run a test each: the
  # sanitized programs spend most of their time on one thread.
  test_args=(--timeout-multiplier 4 --num-processes 2 --no-suite product_paths --no-suite long_training
    --no-suite installed --no-suite clients --no-suite source_checks)
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
  test_args=(--num-processes 1)
fi
[ -f "$build/build.ninja" ] || meson setup "$build" "${setup[@]}" || exit 1
if $sanitize; then
  # everything but bench/ (its programs are measured in the release build, not tested)
  mapfile -t targets < <(meson introspect --targets "$build" | python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
for target in json.load(sys.stdin):
    if "/bench/" not in target["defined_in"]:
        print("\n".join(os.path.relpath(f, build) for f in target["filename"]))' "$build")
  ninja -C "$build" "${targets[@]}" || exit 1
else
  ninja -C "$build" || exit 1
fi
$build_only && exit 0
meson test -C "$build" --no-rebuild --print-errorlogs "${test_args[@]}"
status=$?
python3 scripts/count_tests.py "$build/meson-logs/testlog.json"
counted=$?
[ "$status" -eq 0 ] && [ "$counted" -eq 0 ]
