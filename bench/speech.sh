#!/usr/bin/env bash
# Training speed of the speech recogniser against its PyTorch twin (bench/speech.cpp
# explains both): RUNS rounds, each of tapegrad at THREADS and at 1 thread and of
# PyTorch in every configuration of bench/torch_configs.sh (1..THREADS threads,
# OMP_WAIT_POLICY default and passive); the medians of frames/s and the ratios
# against PyTorch's best configuration, thread for thread (both at 1), and against
# PyTorch at THREADS with the default policy.
# Knobs: BUILD_DIR [build] THREADS [2] RUNS [3] STEPS [20] BATCH [32] FRAMES [300]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build} threads=${THREADS:-2} runs=${RUNS:-3} steps=${STEPS:-20} batch=${BATCH:-32} frames=${FRAMES:-300}
ninja -C "$build_dir" bench/bench_speech >/dev/null
source bench/stats.sh          # field, median, ratio
source bench/torch_configs.sh  # torch_configs, config_threads, config_env, best_config
results=$(mktemp)
args=(--steps "$steps" --batch "$batch" --frames "$frames")
mapfile -t configs < <(torch_configs "$threads")
tg_threads=("$threads")
if ((threads > 1)); then tg_threads+=(1); fi
for ((i = 1; i <= runs; i++)); do
  for t in "${tg_threads[@]}"; do
    "$build_dir/bench/bench_speech" "${args[@]}" --threads "$t" | sed "s/\$/ config=tg-t$t/" | tee -a "$results"
  done
  for config in "${configs[@]}"; do
    # shellcheck disable=SC2046  # config_env's words are separate assignments
    env $(config_env "$config") /usr/bin/python3 bench/speech_torch.py "${args[@]}" --threads "$(config_threads "$config")" |
      sed "s/\$/ config=$config/" | tee -a "$results"
  done
done
median_of() { grep "impl=$1 .* config=$2\$" "$results" | field frames_per_s | median; }
best=$(grep 'impl=pytorch' "$results" | best_config '*' frames_per_s)
tg=$(median_of tapegrad "tg-t$threads") pt=$(median_of pytorch "$best")
echo "medians of $runs rounds, batch $batch, $frames frames, frames/s:"
echo "  tapegrad at $threads threads $tg; PyTorch at its best ($best) $pt: ratio $(ratio "$tg" "$pt")"
if ((threads > 1)); then
  best1=$(grep 'impl=pytorch' "$results" | best_config 't1-*' frames_per_s)
  tg1=$(median_of tapegrad tg-t1) pt1=$(median_of pytorch "$best1") ptn=$(median_of pytorch "t$threads-default")
  echo "  thread for thread: tapegrad at 1 thread $tg1; PyTorch at 1 thread ($best1) $pt1: ratio $(ratio "$tg1" "$pt1")"
  echo "  PyTorch at $threads threads, default policy $ptn: tapegrad at $threads threads / it $(ratio "$tg" "$ptn")"
fi
echo -n "  every configuration:"
for config in "tg-t$threads" ${tg_threads[1]:+tg-t1}; do echo -n " $config $(median_of tapegrad "$config")"; done
for config in "${configs[@]}"; do echo -n " $config $(median_of pytorch "$config")"; done
echo
rm -f "$results"
