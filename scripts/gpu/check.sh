#!/usr/bin/env bash
# Runs on a GPU machine, over what scripts/gpu/stage.sh staged in .gpu/:
# the device, the three CUDA test programs, then the same under
# compute-sanitizer memcheck, then (where the machine has Open MPI's mpirun)
# data-parallel training on 2 ranks sharing the GPU equal to one process.
# Logs go to $OUT (or /tmp/gpu-out).
#   CUDA_TESTS ["cuda_kernels cuda_ops cuda_models"] scripts/gpu/check.sh [tests|memcheck|ranks|all]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
what=${1:-all}
cuda_tests=${CUDA_TESTS:-cuda_kernels cuda_ops cuda_models}
source scripts/gpu/env.sh

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv | tee "$out/gpu.txt"
summary=()
if [[ $what == tests || $what == all ]]; then
  for t in $cuda_tests; do
    start=$(date +%s)
    timeout "${TEST_TIMEOUT:-240}" ".gpu/bin/test_$t" >"$out/$t.log" 2>&1
    rc=$?
    tail -5 "$out/$t.log"
    summary+=("$t rc=$rc $(( $(date +%s) - start ))s: $(grep -E '^\[doctest\] (test cases|assertions)' "$out/$t.log" | tr '\n' ' ')")
  done
fi
if [[ $what == memcheck || $what == all ]]; then
  for t in $cuda_tests; do
    start=$(date +%s)
    timeout "${MEMCHECK_TIMEOUT:-300}" compute-sanitizer --tool memcheck --error-exitcode 99 \
      ".gpu/bin/test_$t" >"$out/memcheck_$t.log" 2>&1
    rc=$?
    tail -4 "$out/memcheck_$t.log"
    summary+=("memcheck $t rc=$rc $(( $(date +%s) - start ))s: $(grep -E 'ERROR SUMMARY|LEAK SUMMARY' "$out/memcheck_$t.log" | tr '\n' ' ')")
  done
fi
if [[ $what == ranks || $what == all ]]; then
  if command -v mpirun >/dev/null && [[ -x .gpu/bin/test_dist_translate ]]; then
    start=$(date +%s)
    TAPEGRAD_TEST_DEVICE=cuda timeout "${TEST_TIMEOUT:-240}" mpirun --allow-run-as-root --oversubscribe -np 2 \
      .gpu/bin/test_dist_translate >"$out/dist_translate_cuda.log" 2>&1
    rc=$?
    tail -4 "$out/dist_translate_cuda.log"
    summary+=("2 ranks on the GPU rc=$rc $(( $(date +%s) - start ))s: $(grep -E '^\[doctest\] (test cases|assertions)' "$out/dist_translate_cuda.log" | tr '\n' ' ')")
  else
    summary+=("2 ranks on the GPU: not run (no mpirun here, or test_dist_translate not staged)")
  fi
fi
echo "==== summary"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
