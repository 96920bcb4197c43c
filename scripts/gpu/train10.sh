#!/usr/bin/env bash
# Runs on a GPU machine, over what scripts/gpu/stage.sh staged in .gpu/: the
# Bahdanau model trained for EPOCHS [10] epochs on the GPU with docs/results.md's
# settings at PRECISION [fp32] (translate train --precision: fp32, tf32, bf16,
# fp16), then test_2016_flickr evaluated with greedy and beam-5 search.
# Log, metrics and hypotheses go to $OUT (file names carry the precision).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh
precision=${PRECISION:-fp32}
run=/tmp/gpu-bahdanau-$precision
tr=(.gpu/bin/translate)
start=$(date +%s)
"${tr[@]}" train --device cuda --model bahdanau --epochs "${EPOCHS:-10}" --dropout 0.3 --lr-schedule plateau \
  --precision "$precision" --checkpoint-dir "$run" --overwrite 2>&1 | tee "$out/train10-$precision.log" |
  grep -v '^\s*step' | tail -40
echo "training wall-clock: $(( $(date +%s) - start )) s" | tee -a "$out/train10-$precision.log"
cp "$run/metrics.csv" "$out/metrics-$precision.csv" 2>/dev/null
for beam in 1 5; do
  s=$(date +%s)
  "${tr[@]}" eval --device cuda --checkpoint "$run/best.safetensors" --split test_2016_flickr --beam "$beam" \
    --out "$out/test.beam$beam.$precision.en" 2>&1 | tee -a "$out/eval-$precision.log"
  echo "eval beam $beam: $(( $(date +%s) - s )) s" | tee -a "$out/eval-$precision.log"
done
