#!/usr/bin/env bash
# tapegrad's products against oneDNN's (Debian's libdnnl-dev 2.6: PyTorch's
# CPU path for bf16 and int8, with AMX where the processor has it) at the
# shapes of a Bahdanau training step and a greedy decoding step, the largest
# of the bf16 product census (bench_seq2seq train --products). Per shape and
# round: bench_matmul at float32 and bf16, then bench/onednn_matmul.cpp's
# three forms (f32; f32 in with bf16 products allowed; bf16 in). One table
# of medians over the rounds, GFLOP/s. oneDNN is no dependency of tapegrad:
# this compiles the oneDNN side with g++ where the package is installed.
# Environment knobs (defaults in brackets):
#   BUILD_DIR [build]  THREADS [2]  RUNS [3]  WORK [a new temporary directory]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${BUILD_DIR:-build}
threads=${THREADS:-2}
runs=${RUNS:-3}
work=${WORK:-$(mktemp -d /tmp/onednn-bench.XXXXXX)}
mkdir -p "$work"

if [[ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]]; then
  echo "error: oneDNN's headers are not installed; apt-get install libdnnl-dev" >&2
  exit 1
fi
if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
ninja -C "$build_dir" bench/bench_matmul
g++ -O2 -std=c++17 bench/onednn_matmul.cpp -o "$work/onednn_matmul" -ldnnl -fopenmp
source bench/stats.sh  # processor, field, median
# OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels on an AVX-512 processor it does not know (Intel
# Xeon family 6 model 207), as bench/seq2seq.sh says; its AVX-512 kernels are the fair side there.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]] && grep -qw avx512f /proc/cpuinfo &&
  "$build_dir/bench/bench_matmul" --mkn 64 64 64 --reps 1 --threads 1 | grep -q "OpenBLAS's core: Prescott"; then
  export OPENBLAS_CORETYPE=SkylakeX
fi

# M K N layout kept: layout TN is A transposed in memory (a weight gradient's Xᵀ), NT is B transposed (x·Wᵀ);
# kept: B is a parameter, whose packing both sides keep between calls.
shapes=(
  "5921 1216 1792 TN no"   # the output layer's weight gradient, a 19-word target batch
  "1216 1792 5921 NT yes"  # the output layer, 19 steps of 64 sentences
  "1216 5921 1792 NN yes"  # its input gradient
  "1536 64 512 TN no"      # a recurrent step's weight gradient (3 gates × 512, batch 64)
  "64 1536 512 NN yes"     # a recurrent step's input gradient
  "64 512 1536 NT yes"     # a recurrent step, h·W_hhᵀ
  "64 1792 5921 NT yes"    # a greedy decoding step's output layer
)
results="$work/results.txt"
: >"$results"
echo "== $(processor), $(nproc) cores, $threads threads, $runs rounds, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}," \
  "$(date '+%Y-%m-%d %H:%M') =="
for ((round = 1; round <= runs; round++)); do
  for shape in "${shapes[@]}"; do
    read -r m k n layout kept <<<"$shape"
    flags=()
    [[ "$layout" == TN ]] && flags+=(--a tensor_t)
    if [[ "$kept" == yes ]]; then
      if [[ "$layout" == NT ]]; then flags+=(--b parameter_t); else flags+=(--b parameter); fi
    elif [[ "$layout" == NT ]]; then
      flags+=(--b tensor_t)
    fi
    for precision in fp32 bf16; do
      gflops=$("$build_dir/bench/bench_matmul" --mkn "$m" "$k" "$n" "${flags[@]}" --precision "$precision" \
        --threads "$threads" --reps 5 | grep '^matmul ' | field tapegrad_gflops)
      echo "shape=$m,$k,$n,$layout side=tapegrad-$precision gflops=$gflops" | tee -a "$results"
    done
    kept_arg=()
    [[ "$kept" == yes ]] && kept_arg=(kept)
    "$work/onednn_matmul" "$m" "$k" "$n" "$layout" "$threads" "${kept_arg[@]}" | while read -r line; do
      form=$(field form <<<"$line")
      echo "shape=$m,$k,$n,$layout side=onednn-$form gflops=$(field gflops <<<"$line") impl=$(field impl <<<"$line")"
    done | tee -a "$results"
  done
done

echo
echo "| product (M, K) x (K, N), layout | tapegrad fp32 | oneDNN f32 | tapegrad bf16 | oneDNN f32 in, bf16 products allowed (kernel) | oneDNN bf16 in (kernel) |"
echo "|---|---|---|---|---|---|"
for shape in "${shapes[@]}"; do
  read -r m k n layout kept <<<"$shape"
  key="shape=$m,$k,$n,$layout"
  cell() { grep "^$key side=$1 " "$results" | field gflops | median; }
  impl() { grep "^$key side=$1 " "$results" | tail -1 | field impl; }
  note=""
  [[ "$kept" == yes ]] && note=", B kept"
  echo "| ($m, $k) x ($k, $n), $layout$note | $(cell tapegrad-fp32) | $(cell onednn-f32) | $(cell tapegrad-bf16)" \
    "| $(cell onednn-f32-bf16) ($(impl onednn-f32-bf16)) | $(cell onednn-bf16-in) ($(impl onednn-bf16-in)) |"
done
