#!/usr/bin/env bash
# Runs on a GPU machine: the 10-epoch Bahdanau runs (float32 and bf16), the benchmarks and the
# CUDA tests with memcheck, one after the other, and packs every log into
# $OUT/gpu-results.tar.gz (the device tool brings back at most 8 files).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${OUT:-/tmp/gpu-out}
logs=/tmp/gpu-logs
mkdir -p "$logs"
for precision in ${TRAIN_PRECISIONS:-fp32 bf16}; do
  OUT=$logs PRECISION=$precision timeout "${TRAIN_TIMEOUT:-200}" bash scripts/gpu/train10.sh | tail -12
done
OUT=$logs STEPS=${STEPS:-40} RUNS=${RUNS:-3} timeout "${BENCH_TIMEOUT:-300}" bash scripts/gpu/bench.sh >/dev/null
grep -E 'mode=train' "$logs/bench.txt" | grep -o 'impl=[a-z]* model=[a-z]* mode=train device=[^ ]* .*batch=[0-9]*\|tok_per_s=[0-9.]*' | paste - - | head -40
OUT=$logs TEST_TIMEOUT=60 MEMCHECK_TIMEOUT=150 timeout "${CHECK_TIMEOUT:-250}" bash scripts/gpu/check.sh all | tail -8
tar -C "$logs" -czf "$out/gpu-results.tar.gz" .
