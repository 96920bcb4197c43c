#!/usr/bin/env bash
# Runs on a GPU machine, over .gpu/: `translate train --profile` for MODEL
# [cho] at BATCH [128] with CUDA_LAUNCH_BLOCKING=1, so that each kernel
# finishes before its op returns and the profiler's host clock measures the
# GPU's work per op (slower overall; for finding where the time goes only).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh
model=${MODEL:-cho}
batch=${BATCH:-128}
CUDA_LAUNCH_BLOCKING=1 .gpu/bin/translate train --device cuda --model "$model" --batch-size "$batch" \
  --max-steps "${STEPS:-25}" --profile --profile-warmup 5 --checkpoint-dir "/tmp/profile-$model-$batch" --overwrite \
  >"$out/profile_${model}_$batch.txt" 2>&1
grep -v '^\s*step' "$out/profile_${model}_$batch.txt" | head -45
