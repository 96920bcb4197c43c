#!/usr/bin/env bash
# Runs on a GPU machine, over .gpu/: greedy and beam-5 decoding of
# test_2016_flickr, tapegrad (batched search) against PyTorch, RUNS [3]
# alternating runs each, with weights trained for 40 steps at batch 64; and a
# translation checkpoint written on the GPU loaded by the `safetensors` package.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh
work=$(mktemp -d /tmp/gpu-decode.XXXXXX)
{
  for model in cho bahdanau; do
    .gpu/bin/bench_seq2seq train --device cuda --model "$model" --steps 40 --warmup 5 \
      --save "$work/$model.safetensors" | grep -o 'model=[a-z]* .*tok_per_s=[0-9.]*'
    for ((i = 1; i <= ${RUNS:-3}; i++)); do
      .gpu/bin/bench_seq2seq decode --device cuda --model "$model" --weights "$work/$model.safetensors" \
        --plan "$work/$model-decode.plan" --outputs "$work/$model-outputs.txt" --beam-sentences 0
      python3 bench/seq2seq_torch.py decode --device cuda --plan "$work/$model-decode.plan" \
        --weights "$work/$model.safetensors" --compare "$work/$model-outputs.txt"
    done
  done
  .gpu/bin/translate train --device cuda --model bahdanau --max-steps 5 --checkpoint-dir "$work/ckpt" | tail -2
  python3 scripts/gpu/load_checkpoint.py "$work/ckpt/last.safetensors"
} 2>&1 | tee "$out/decode.txt"
