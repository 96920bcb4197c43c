#!/usr/bin/env bash
# Runs on a GPU machine, over what scripts/gpu/stage.sh staged in .gpu/, in
# about 7 minutes (a lease is short): first, side by side on the one GPU, the
# CUDA tests (then 2 ranks), the same tests under compute-sanitizer memcheck,
# and every application path (paths.sh); then, alone on the GPU so that its
# timings hold, the training and decoding benchmark against PyTorch
# (bench.sh, trimmed by BENCH_* below); then, where TRAIN10 names precisions,
# the 10-epoch Bahdanau runs. Every log is packed into $OUT/gpu-results.tar.gz
# (the device tool brings back at most 8 files); the summaries are printed.
#   BENCH_STEPS [30] BENCH_RUNS [1] BENCH_BATCHES ["64 128"] TRAIN10 [""] scripts/gpu/all.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh  # unpacks .gpu/ once, before the scripts below run side by side
logs=/tmp/gpu-logs
mkdir -p "$logs"/{tests,paths,bench}
start=$SECONDS
elapsed() { echo "[$((SECONDS - start)) s] $*"; }

OUT=$logs/tests TEST_TIMEOUT=90 bash -c 'scripts/gpu/check.sh tests; scripts/gpu/check.sh ranks' >"$logs/tests.txt" 2>&1 &
tests_pid=$!
memcheck_pids=()
for t in cuda_kernels cuda_ops cuda_models; do  # one process each: memcheck runs them many times slower
  mkdir -p "$logs/memcheck-$t"
  OUT=$logs/memcheck-$t CUDA_TESTS=$t MEMCHECK_TIMEOUT=${MEMCHECK_TIMEOUT:-200} scripts/gpu/check.sh memcheck \
    >"$logs/memcheck-$t.txt" 2>&1 &
  memcheck_pids+=($!)
done
OUT=$logs/paths scripts/gpu/paths.sh >"$logs/paths.txt" 2>&1 &
paths_pid=$!
wait $tests_pid; elapsed "tests and ranks:"; sed -n '/==== summary/,$p' "$logs/tests.txt" | grep -v '====' | grep -v '^$'
wait $paths_pid; elapsed "application paths:"; cat "$logs/paths/paths.txt"
wait "${memcheck_pids[@]}"; elapsed "memcheck:"; cat "$logs"/memcheck-*/summary.txt

OUT=$logs/bench STEPS=${BENCH_STEPS:-30} RUNS=${BENCH_RUNS:-1} BATCHES=${BENCH_BATCHES:-64 128} \
  BEAM_SENTENCES=${BEAM_SENTENCES:-1000} timeout "${BENCH_TIMEOUT:-300}" scripts/gpu/bench.sh >/dev/null 2>&1
elapsed "benchmark:"
grep '^seq2seq ' "$logs/bench/bench.txt" | awk '{ line = ""; for (i = 2; i <= NF; i++)
  if ($i ~ /^(impl|model|mode|precision|batch|tok_per_s|seconds|peak_device_mb|first_loss|last_loss|identical_to_tapegrad)=/) line = line " " $i
  print line }'
for precision in ${TRAIN10:-}; do
  OUT=$logs/bench PRECISION=$precision timeout "${TRAIN_TIMEOUT:-200}" scripts/gpu/train10.sh | tail -6
  elapsed "10 epochs, $precision"
done
tar -C "$logs" -czf "$out/gpu-results.tar.gz" .
