#!/usr/bin/env bash
# Training and decoding speed of the translation models, tapegrad against
# PyTorch, on identical batches and initial weights (bench/README.md explains):
#   1. per model, a pairing check: dropout 0, 5 steps on both sides, the
#      first losses must agree (same model, same batches);
#   2. per model, RUNS alternating training runs of each side, each pair after
#      a measurement of the machine's sgemm GFLOP/s on (64·30, 512) x (512, 1536):
#      OpenBLAS directly, and tg::matmul (its own AVX-512 kernel where it has
#      one, backends/cpu/cpu_gemm.h); the limit is the faster of the two.
#      Medians of tok/s and peak RSS, the ratios tapegrad/PyTorch (of the
#      medians, and the median of the per-run ratios), and the shares of the
#      sgemm limit and of OpenBLAS's sgemm (matmul FLOPs per target token ×
#      tok/s ÷ the median GFLOP/s);
#   3. per model, RUNS alternating runs of greedy and beam decoding with the
#      weights tapegrad trained: medians of sentences/s of both sides, the
#      ratios, and how many outputs are identical.
# Works from any directory. Environment knobs (defaults in brackets):
#   BUILD_DIR [build]  THREADS [2]  RUNS [3]  STEPS [100]  MODELS ["cho bahdanau"]
#   SENTENCES [1000] (greedy)  BEAM_SENTENCES [200]  PYTHON [/usr/bin/python3]
#   VOCAB [word] (or subword: one joint SentencePiece unigram model of VOCAB_SIZE [8000] pieces)
#   TIE [0] (1: bahdanau's and the transformer's output layer through the target embedding; Cho stays untied)
#   MODELS may name transformer: EMBED [256] (d_model), HIDDEN [1024] (feed-forward), LAYERS [3], HEADS [4]
#   a side; PyTorch runs torch.nn's TransformerEncoder/DecoderLayer. Training only: torch.nn has no cached
#   incremental decoding to compare a decoder with.
#   WORK [a new temporary directory; plans, weights and logs stay there]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${BUILD_DIR:-build}
threads=${THREADS:-2}
runs=${RUNS:-3}
steps=${STEPS:-100}
models=${MODELS:-cho bahdanau}
sentences=${SENTENCES:-1000}
beam_sentences=${BEAM_SENTENCES:-200}
python=${PYTHON:-/usr/bin/python3}
vocab_flags=(--vocab "${VOCAB:-word}" --vocab-size "${VOCAB_SIZE:-8000}")
work=${WORK:-$(mktemp -d /tmp/seq2seq-bench.XXXXXX)}
mkdir -p "$work"

if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
ninja -C "$build_dir" bench/bench_seq2seq bench/bench_matmul
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: '$python -c \"import torch\"' failed; the PyTorch side cannot run" >&2
  exit 1
fi
tg_bench="$build_dir/bench/bench_seq2seq"
torch_bench=(env OMP_NUM_THREADS="$threads" "$python" bench/seq2seq_torch.py)
results="$work/results.txt"
: >"$results"

source bench/stats.sh  # field, median, median3, ratio
lines() { grep "^seq2seq impl=$1 model=$2 mode=$3 " "$results" || true; }

# The machine's sgemm GFLOP/s now on (64·30, 512) x (512, 1536): OpenBLAS directly, tg::matmul, and the
# faster of the two (the limit), appended to the results.
measure_sgemm() {
  local line openblas own
  line=$("$build_dir/bench/bench_matmul" --threads "$threads" --reps 5 --mkn 1920 512 1536 | grep '^matmul')
  openblas=$(echo "$line" | field openblas_gflops)
  own=$(echo "$line" | field tapegrad_gflops)
  echo "sgemm threads=$threads load=$(cut -d' ' -f1 /proc/loadavg) openblas_gflops=$openblas tapegrad_gflops=$own" \
    "gflops=$(awk -v a="$openblas" -v b="$own" 'BEGIN { print (a > b ? a : b) }')" | tee -a "$results"
}
# Median over the runs of tapegrad's figure / PyTorch's figure of the same run (robust to load drifting between runs).
paired_ratio() {
  paste <(lines tapegrad "$1" "$2" | field "$3") <(lines pytorch "$1" "$2" | field "$3") |
    awk '$2 > 0 { print $1 / $2 }' | median3
}

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date '+%Y-%m-%d %H:%M') =="

for model in $models; do
  model_flags=("${vocab_flags[@]}")
  if [[ "${TIE:-0}" == 1 && "$model" != cho ]]; then model_flags+=(--tie-embeddings); fi
  if [[ "$model" == transformer ]]; then
    model_flags+=(--embed "${EMBED:-256}" --hidden "${HIDDEN:-1024}" --layers "${LAYERS:-3}" --heads "${HEADS:-4}")
  fi
  echo
  echo "== $model: pairing check (dropout 0, 5 steps) =="
  "$tg_bench" train --model "$model" "${model_flags[@]}" --threads "$threads" --steps 5 --warmup 1 --dropout 0 \
    --plan "$work/$model-check.plan" --init "$work/$model-check-init.safetensors" | tee -a "$work/check.txt"
  "${torch_bench[@]}" train --threads "$threads" --plan "$work/$model-check.plan" \
    --init "$work/$model-check-init.safetensors" | tee -a "$work/check.txt"
  for key in first_loss last_loss; do
    tg=$(grep "impl=tapegrad model=$model " "$work/check.txt" | tail -1 | field "$key")
    pt=$(grep "impl=pytorch model=$model " "$work/check.txt" | tail -1 | field "$key")
    awk -v k="$key" -v a="$tg" -v b="$pt" 'BEGIN {
      d = (a - b) / b; if (d < 0) d = -d
      printf "%s: tapegrad %s, pytorch %s, relative difference %.2e\n", k, a, b, d }'
  done

  echo
  echo "== $model: training, $runs alternating runs each, $steps steps, threads=$threads =="
  for ((i = 1; i <= runs; i++)); do
    measure_sgemm
    "$tg_bench" train --model "$model" "${model_flags[@]}" --threads "$threads" --steps "$steps" --plan "$work/$model.plan" \
      --init "$work/$model-init.safetensors" --save "$work/$model-trained.safetensors" | tee -a "$results"
    "${torch_bench[@]}" train --threads "$threads" --plan "$work/$model.plan" \
      --init "$work/$model-init.safetensors" | tee -a "$results"
  done

  if [[ "$model" == transformer ]]; then continue; fi  # training only (see the header)
  echo
  echo "== $model: decoding with the weights tapegrad trained ($sentences sentences greedy, $beam_sentences beam)," \
    "$runs alternating runs each =="
  for ((i = 1; i <= runs; i++)); do
    "$tg_bench" decode --model "$model" "${model_flags[@]}" --threads "$threads" --weights "$work/$model-trained.safetensors" \
      --sentences "$sentences" --beam-sentences "$beam_sentences" --plan "$work/$model-decode.plan" \
      --outputs "$work/$model-outputs.txt" | tee -a "$results"
    "${torch_bench[@]}" decode --threads "$threads" --plan "$work/$model-decode.plan" \
      --weights "$work/$model-trained.safetensors" --compare "$work/$model-outputs.txt" | tee -a "$results"
  done
done

echo
echo "== training: medians of $runs runs, threads=$threads, $steps steps (first 3 not timed) =="
sgemm=$(grep '^sgemm ' "$results" | field gflops | median)
openblas=$(grep '^sgemm ' "$results" | field openblas_gflops | median)
own=$(grep '^sgemm ' "$results" | field tapegrad_gflops | median)
echo "sgemm (1920,512)x(512,1536), threads=$threads, medians over the runs: OpenBLAS $openblas GFLOP/s" \
  "(range $(grep '^sgemm ' "$results" | field openblas_gflops | sort -g | sed -n '1p;$p' | paste -sd-))," \
  "tg::matmul $own (range $(grep '^sgemm ' "$results" | field tapegrad_gflops | sort -g | sed -n '1p;$p' | paste -sd-));" \
  "the limit (the faster, per run): $sgemm"
echo "vocabulary: ${VOCAB:-word}$([[ "${VOCAB:-word}" == subword ]] && echo " (${VOCAB_SIZE:-8000} pieces, joint)"), tied: ${TIE:-0}"
echo "| model | tapegrad tok/s | PyTorch tok/s | tapegrad/PyTorch (per-run median) | tapegrad peak RSS MB (live tensors at most) | PyTorch peak RSS MB | RSS tapegrad/PyTorch | matmul MFLOP/tok | tapegrad % of sgemm limit | PyTorch % of sgemm limit | tapegrad % of OpenBLAS sgemm | PyTorch % of OpenBLAS sgemm |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for model in $models; do
  tg_tok=$(lines tapegrad "$model" train | field tok_per_s | median)
  pt_tok=$(lines pytorch "$model" train | field tok_per_s | median)
  tg_rss=$(lines tapegrad "$model" train | field peak_rss_mb | median)
  tg_live=$(lines tapegrad "$model" train | field host_peak_in_use_mb | median)
  pt_rss=$(lines pytorch "$model" train | field peak_rss_mb | median)
  mflop=$(lines tapegrad "$model" train | field matmul_mflop_per_tok | head -1)
  share() { awk -v t="$1" -v f="$mflop" -v g="$2" 'BEGIN { printf "%.1f", 100 * t * f * 1e6 / (g * 1e9) }'; }
  echo "| $model | $tg_tok | $pt_tok | $(ratio "$tg_tok" "$pt_tok") ($(paired_ratio "$model" train tok_per_s)) | $tg_rss ($tg_live) | $pt_rss | $(ratio "$tg_rss" "$pt_rss") | $mflop | $(share "$tg_tok" "$sgemm") | $(share "$pt_tok" "$sgemm") | $(share "$tg_tok" "$openblas") | $(share "$pt_tok" "$openblas") |"
done

if [[ " $models " == " transformer " ]]; then
  echo
  echo "(plans, weights, outputs and logs in $work)"
  exit 0
fi
echo
echo "== decoding: sentences/s, medians of $runs runs, threads=$threads =="
echo "| model | search | sentences | tapegrad sent/s | PyTorch sent/s | tapegrad/PyTorch (per-run median) | identical outputs (runs) |"
echo "|---|---|---|---|---|---|---|"
for model in $models; do
  if [[ "$model" == transformer ]]; then continue; fi
  for mode in greedy beam5; do
    tg=$(lines tapegrad "$model" "$mode" | field sent_per_s | median)
    pt=$(lines pytorch "$model" "$mode" | field sent_per_s | median)
    n=$(lines tapegrad "$model" "$mode" | field sentences | head -1)
    same=$(lines pytorch "$model" "$mode" | field identical_to_tapegrad | sort -u | paste -sd,)  # one figure when every run agrees
    echo "| $model | $mode | $n | $tg | $pt | $(ratio "$tg" "$pt") ($(paired_ratio "$model" "$mode" sent_per_s)) | $same |"
  done
done
echo
echo "(plans, weights, outputs and logs in $work)"
