#!/usr/bin/env bash
# Builds the benchmarks (if needed) and runs them:
#   1. per-op autograd overhead, tapegrad and PyTorch alternately, RUNS times
#      each, then a table of medians and the ratio tapegrad/PyTorch per size;
#   2. tg::matmul against a direct cblas_sgemm call.
# Works from any directory. Environment knobs (defaults in brackets):
#   BUILD_DIR [build]  THREADS [2]  RUNS [5]  PYTHON [/usr/bin/python3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${BUILD_DIR:-build}
threads=${THREADS:-2}
runs=${RUNS:-5}
python=${PYTHON:-/usr/bin/python3}

if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
ninja -C "$build_dir" bench/bench_op_overhead bench/bench_matmul

have_torch=1
if ! "$python" -c 'import torch' 2>/dev/null; then
  have_torch=0
  echo "note: '$python -c \"import torch\"' failed; skipping the PyTorch side" >&2
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo
echo "== op overhead: $runs runs each, threads=$threads =="
for ((i = 1; i <= runs; i++)); do
  "$build_dir/bench/bench_op_overhead" --threads "$threads" | tee -a "$results"
  if ((have_torch)); then
    "$python" bench/op_overhead.py --threads "$threads" | tee -a "$results"
  fi
done

# The us_per_op values of one implementation at one size, one per line.
values() {
  grep "^op_overhead impl=$1 size=$2 " "$results" | sed 's/.*us_per_op=//' || true
}
source bench/stats.sh  # median3, ratio

echo
echo "== op overhead: median microseconds per recorded op (forward + backward), threads=$threads =="
printf '%6s %12s %12s %18s\n' size tapegrad pytorch "tapegrad/pytorch"
for size in $(grep -o 'size=[0-9]*' "$results" | sort -u -t= -k2 -n | cut -d= -f2); do
  tg=$(values tapegrad "$size" | median3)
  pt=$(values pytorch "$size" | median3)
  printf '%6s %12s %12s %18s\n' "$size" "$tg" "$pt" "$(ratio "$tg" "$pt")"
done

echo
echo "== matmul: tg::matmul vs direct cblas_sgemm, threads=$threads =="
"$build_dir/bench/bench_matmul" --threads "$threads"
