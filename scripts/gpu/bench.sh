#!/usr/bin/env bash
# Runs on a GPU machine, over what scripts/gpu/stage.sh staged in .gpu/:
# training throughput of Cho and Bahdanau (embed 256, hidden 512) at batch
# 16, 64 and 128, tapegrad (--device cuda) against PyTorch eager + cuDNN
# (bench/seq2seq_torch.py --device cuda) on identical batches and initial
# weights, alternating RUNS runs of each, at each of PRECISIONS (fp32: both
# in float32; bf16: tapegrad --precision bf16 against torch.autocast(bfloat16);
# also tf32, fp16); then greedy and beam-5 decoding of test_2016_flickr with
# the float32 weights trained at batch 64. One line per result
# (bench/seq2seq.cpp's format) in $OUT/bench.txt.
#   STEPS [60] RUNS [2] BATCHES ["16 64 128"] MODELS ["cho bahdanau"] PRECISIONS ["fp32 bf16"] scripts/gpu/bench.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh
work=$(mktemp -d /tmp/gpu-bench.XXXXXX)
steps=${STEPS:-60}
runs=${RUNS:-2}
batches=${BATCHES:-16 64 128}
models=${MODELS:-cho bahdanau}
precisions=${PRECISIONS:-fp32 bf16}
tg=(.gpu/bin/bench_seq2seq)
pt=(python3 bench/seq2seq_torch.py)

{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cudnn", torch.backends.cudnn.version())'
  for model in $models; do
    echo "== $model: pairing check (dropout 0, 5 steps, batch 64)"
    "${tg[@]}" train --device cuda --model "$model" --steps 5 --warmup 1 --dropout 0 \
      --plan "$work/$model-check.plan" --init "$work/$model-check-init.safetensors"
    "${pt[@]}" train --device cuda --plan "$work/$model-check.plan" --init "$work/$model-check-init.safetensors"
    for batch in $batches; do
      for precision in $precisions; do
        echo "== $model: training, batch $batch, precision $precision, $steps steps, $runs alternating runs"
        for ((i = 1; i <= runs; i++)); do
          "${tg[@]}" train --device cuda --model "$model" --batch-size "$batch" --steps "$steps" --warmup 5 \
            --precision "$precision" --plan "$work/$model-$batch.plan" --init "$work/$model-$batch-init.safetensors" \
            --save "$work/$model-$batch-$precision.safetensors"
          "${pt[@]}" train --device cuda --precision "$precision" --plan "$work/$model-$batch.plan" \
            --init "$work/$model-$batch-init.safetensors"
        done
      done
    done
    echo "== $model: decoding test_2016_flickr (weights trained at batch 64)"
    "${tg[@]}" decode --device cuda --model "$model" --weights "$work/$model-64-fp32.safetensors" \
      --plan "$work/$model-decode.plan" --outputs "$work/$model-outputs.txt" --beam-sentences "${BEAM_SENTENCES:-200}"
    "${pt[@]}" decode --device cuda --plan "$work/$model-decode.plan" --weights "$work/$model-64-fp32.safetensors" \
      --compare "$work/$model-outputs.txt"
  done
} 2>&1 | tee "$out/bench.txt"
