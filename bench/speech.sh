#!/usr/bin/env bash
# Training speed of the speech recogniser against its PyTorch twin (bench/speech.cpp
# explains both): RUNS alternating runs of each side, the medians of frames/s and
# their ratio. Knobs: BUILD_DIR [build] THREADS [2] RUNS [3] STEPS [20] BATCH [32] FRAMES [300]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build} threads=${THREADS:-2} runs=${RUNS:-3} steps=${STEPS:-20} batch=${BATCH:-32} frames=${FRAMES:-300}
ninja -C "$build_dir" bench/bench_speech >/dev/null
source bench/stats.sh  # field, median, ratio
results=$(mktemp)
args=(--threads "$threads" --steps "$steps" --batch "$batch" --frames "$frames")
for ((i = 1; i <= runs; i++)); do
  "$build_dir/bench/bench_speech" "${args[@]}" | tee -a "$results"
  OMP_NUM_THREADS="$threads" /usr/bin/python3 bench/speech_torch.py "${args[@]}" | tee -a "$results"
done
tg=$(grep 'impl=tapegrad' "$results" | field frames_per_s | median)
pt=$(grep 'impl=pytorch' "$results" | field frames_per_s | median)
echo "medians of $runs runs, threads=$threads, batch $batch, $frames frames: tapegrad $tg frames/s, PyTorch $pt frames/s," \
  "ratio $(ratio "$tg" "$pt")"
rm -f "$results"
