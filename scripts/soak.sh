#!/usr/bin/env bash
# Determinism soak (not part of every CI run): the test programs whose checks
# claim bit-for-bit results (results independent of the thread count, resume
# bit for bit, a corpus a function of its options) run again and again under
# conditions that expose a race, uninitialised memory or a result that follows
# thread timing: another process busy on every core, MALLOC_PERTURB_ drawn
# anew each run (freed and fresh heap filled with a different byte), the pool
# at 1, 2 or 3 threads (TG_NUM_THREADS) and, where the build has both, either
# float32 product path (TG_SGEMM). A run that fails is kept with its log and
# the one command that repeats its settings.
#
#   scripts/soak.sh [--minutes M] [--build DIR] [--seed S] [--no-load] [PROGRAM ...]
#     --minutes M   rounds start until M minutes have passed (default 60; 0: one round)
#     --build DIR   the built tree (default build; scripts/test.sh makes it)
#     --seed S      the draws (default: from the clock; printed, so a soak repeats)
#     --no-load     no competing processes
#     PROGRAM       test programs by name (default: scripts/exact_programs.sh)
# Logs go to soak-logs/ (failed runs only) and the last line is
# "soak: N runs, N failed in M min".
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=60 build=build seed=$(date +%s) load=true programs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --no-load) load=false; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "soak: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) programs+=("$1"); shift ;;
  esac
done
source scripts/exact_programs.sh
[ ${#programs[@]} -gt 0 ] || programs=("${exact_programs[@]}")
for name in "${programs[@]}"; do
  if [ ! -x "$build/tests/test_$name" ]; then
    echo "soak: $build/tests/test_$name is not built (scripts/test.sh builds the suite)" >&2
    exit 2
  fi
done
if [ -z "${MULTI30K_DIR:-}" ] && [ -d ../shared/data/multi30k ]; then
  MULTI30K_DIR=$(cd ../shared/data/multi30k && pwd)
  export MULTI30K_DIR
fi
paths=("")
# Both float32 product paths where the build has the own kernel (its tests then run on each: tests/meson.build).
if meson introspect --tests "$build" 2>/dev/null | grep -q '"name": "kernels_own"'; then paths=(own openblas); fi

loaders=()
stop_load() { [ ${#loaders[@]} -gt 0 ] && kill "${loaders[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_load EXIT
if $load; then
  for _ in $(seq "$(nproc)"); do
    (while :; do :; done) &
    loaders+=($!)
  done
fi

logs=soak-logs
mkdir -p "$logs"
RANDOM=$seed
echo "soak: seed $seed, ${#programs[@]} programs, $minutes min, load: $load, product paths: ${paths[*]:-as the machine picks}"
runs=0 failed=0 start=$SECONDS
while [ $runs -eq 0 ] || [ $((SECONDS - start)) -lt $((minutes * 60)) ]; do
  for name in "${programs[@]}"; do
    perturb=$((RANDOM % 255 + 1)) threads=$((RANDOM % 3 + 1)) path=${paths[$((RANDOM % ${#paths[@]}))]}
    settings="MALLOC_PERTURB_=$perturb TG_NUM_THREADS=$threads${path:+ TG_SGEMM=$path}"
    log="$logs/run-$runs-$name.log"
    if env $settings "$build/tests/test_$name" >"$log" 2>&1; then
      rm -f "$log"
    else
      failed=$((failed + 1))
      echo "soak: FAILED $name with $settings (log $log); repeat: $settings $build/tests/test_$name"
    fi
    runs=$((runs + 1))
  done
done
echo "soak: $runs runs, $failed failed in $(((SECONDS - start) / 60)) min"
[ "$failed" -eq 0 ]
