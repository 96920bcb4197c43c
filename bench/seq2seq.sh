#!/usr/bin/env bash
# Training and decoding speed of the translation models, tapegrad against
# PyTorch, on identical batches and initial weights (bench/README.md explains).
# It first prints the processor (name, family, model), which float32 product
# tapegrad runs there (its own kernel, or OpenBLAS and its core) and the
# multiply-add peak of the threads; then:
#   1. per model, a pairing check: dropout 0, 5 steps on both sides, the
#      first losses must agree (same model, same batches);
#   2. per model, RUNS rounds of training runs, each round after a measurement
#      of the machine's sgemm GFLOP/s on (64·30, 512) x (512, 1536), then
#      tapegrad at THREADS and at 1 thread, then PyTorch in every configuration
#      of bench/torch_configs.sh (1..THREADS threads, OMP_WAIT_POLICY default
#      and passive); the comparison is with PyTorch's best configuration (the
#      highest median), thread for thread with its best at 1 thread, and, as
#      the old column, with PyTorch at THREADS threads (default policy). The
#      sgemm measurement:
#      OpenBLAS directly, and tg::matmul (its own AVX-512 kernel where it has
#      one, backends/cpu/cpu_gemm.h); the limit is the faster of the two.
#      Medians of tok/s and peak RSS, the ratios tapegrad/PyTorch (of the
#      medians, and the median of the per-run ratios), and the shares of the
#      sgemm limit and of OpenBLAS's sgemm (matmul FLOPs per target token ×
#      tok/s ÷ the median GFLOP/s);
#   3. per model, RUNS rounds of greedy and beam decoding with the weights
#      tapegrad trained, the sides and configurations as in training: medians
#      of sentences/s, the ratios, and how many outputs are identical;
#   4. per model, the matrix products of round 1's tapegrad runs (training
#      steps, each search): the shapes taking the most time, each with the
#      kernel that ran it and its GFLOP/s against the multiply-add peak.
# Works from any directory. Environment knobs (defaults in brackets):
#   BUILD_DIR [build]  THREADS [2]  RUNS [3]  STEPS [100]  MODELS ["cho bahdanau"]
#   SENTENCES [1000] (greedy)  BEAM_SENTENCES [200]  PYTHON [/usr/bin/python3]
#   VOCAB [word] (or subword: one joint SentencePiece unigram model of VOCAB_SIZE [8000] pieces)
#   TIE [0] (1: bahdanau's and the transformer's output layer through the target embedding; Cho stays untied)
#   MODELS may name transformer: EMBED [256] (d_model), HIDDEN [1024] (feed-forward), LAYERS [3], HEADS [4]
#   a side; PyTorch runs torch.nn's TransformerEncoder/DecoderLayer. Training only: torch.nn has no cached
#   incremental decoding to compare a decoder with.
#   PRECISION [fp32] (bf16: the timed training runs of both sides in bfloat16 products, tapegrad's
#   --precision bf16 against PyTorch's torch.autocast("cpu", dtype=torch.bfloat16); fp16, tf32 likewise)
#   REPORT_ONLY [0] (1: run nothing, print the tables from WORK's results.txt, e.g. of a run cut short)
#   DECODE_ONLY [0] (1: no pairing check and no training: decode with an earlier run's trained weights, WORK
#   naming that run's folder)
#   QUANTIZE [none] (int8: decoding runs again with int8 weights on both sides, modes greedy-int8 and
#   beam5-int8: tapegrad's --quantize int8 against PyTorch's quantize_dynamic on the same layers: output layer,
#   attention W_q, decoder cell, encoder GRU)
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
quantize=${QUANTIZE:-none}
precision=${PRECISION:-fp32}
decode_modes="greedy beam5"
if [[ "$quantize" == int8 ]]; then decode_modes+=" greedy-int8 beam5-int8"; fi
work=${WORK:-$(mktemp -d /tmp/seq2seq-bench.XXXXXX)}
mkdir -p "$work"

if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
ninja -C "$build_dir" bench/bench_seq2seq bench/bench_matmul bench/bench_instruction_rate
# What the figures were measured on: the processor and the multiply-add peak of the threads
# (bench_instruction_rate on one core, times the threads); tapegrad's float32 product path below.
source bench/stats.sh  # processor, field, median, median3, ratio
echo "processor: $(processor), $(nproc) cores"
instruction_rates=$("$build_dir/bench/bench_instruction_rate" 2>/dev/null || true)
fma_gflops=$(echo "$instruction_rates" | sed -n 's/.*fma_gflops=\([0-9.]*\).*/\1/p')
dpbf16_gflops=$(echo "$instruction_rates" | sed -n 's/.*dpbf16_gflops=\([0-9.]*\).*/\1/p')
[[ -n "$fma_gflops" ]] && echo "multiply-add peak: $fma_gflops GFLOP/s a core, $(awk -v g="$fma_gflops" -v t="$threads" \
  'BEGIN { printf "%.0f", g * t }') GFLOP/s on $threads threads (bench_instruction_rate)"
[[ -n "$dpbf16_gflops" ]] && echo "bfloat16 dot-product peak (vdpbf16ps): $dpbf16_gflops GFLOP/s a core, $(awk \
  -v g="$dpbf16_gflops" -v t="$threads" 'BEGIN { printf "%.0f", g * t }') GFLOP/s on $threads threads"
amx_bf16_gflops=$(echo "$instruction_rates" | sed -n 's/.*amx_bf16_gflops=\([0-9.]*\).*/\1/p')
[[ -n "$amx_bf16_gflops" ]] && echo "bfloat16 tile peak (AMX tdpbf16ps): $amx_bf16_gflops GFLOP/s a core, $(awk \
  -v g="$amx_bf16_gflops" -v t="$threads" 'BEGIN { printf "%.0f", g * t }') GFLOP/s on $threads threads"
int8_gops=$(echo "$instruction_rates" | sed -n 's/.* int8_gops=\([0-9.]*\).*/\1/p')
[[ -n "$int8_gops" ]] && echo "int8 dot-product peak (vpdpbusd): $int8_gops G operations/s a core, $(awk \
  -v g="$int8_gops" -v t="$threads" 'BEGIN { printf "%.0f", g * t }') on $threads threads"
amx_int8_gops=$(echo "$instruction_rates" | sed -n 's/.*amx_int8_gops=\([0-9.]*\).*/\1/p')
[[ -n "$amx_int8_gops" ]] && echo "int8 tile peak (AMX tdpbusd): $amx_int8_gops G operations/s a core, $(awk \
  -v g="$amx_int8_gops" -v t="$threads" 'BEGIN { printf "%.0f", g * t }') on $threads threads"
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: '$python -c \"import torch\"' failed; the PyTorch side cannot run" >&2
  exit 1
fi
# OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels on a processor it does not know (Intel Xeon family 6
# model 207: 43 GFLOP/s sgemm at 2 threads instead of 257): both sides then get the AVX-512 kernels it has, the
# best setting of PyTorch and of the sgemm limit.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]] && grep -qw avx512f /proc/cpuinfo &&
  OPENBLAS_VERBOSE=2 "$python" -c 'import torch; torch.ones(2, 2) @ torch.ones(2, 2)' 2>&1 | grep -q 'Core: Prescott'; then
  export OPENBLAS_CORETYPE=SkylakeX
  echo "OpenBLAS does not know this processor (core Prescott): OPENBLAS_CORETYPE=SkylakeX for both sides"
fi
# Which float32 product kernel runs (after OPENBLAS_CORETYPE, which the choice reads).
"$build_dir/bench/bench_matmul" --mkn 64 512 1536 --reps 1 --threads "$threads" | grep '^# float32 products' | sed 's/^# //'
tg_bench="$build_dir/bench/bench_seq2seq"
torch_bench=("$python" bench/seq2seq_torch.py)
source bench/torch_configs.sh  # torch_configs, config_threads, config_env, best_config
mapfile -t configs < <(torch_configs "$threads")
# Runs one side's bench command in a configuration and appends its result lines, tagged config=..., to the results.
run_tagged() {
  local config=$1; shift
  "$@" | sed "/^seq2seq /s/\$/ config=$config/" | tee -a "$results"
}
# PyTorch's bench in configuration $1 with the arguments after it (its --threads from the configuration).
run_torch() {
  local config=$1; shift
  # shellcheck disable=SC2046  # config_env's words are separate assignments
  run_tagged "$config" env $(config_env "$config") "${torch_bench[@]}" "$@" --threads "$(config_threads "$config")"
}
ncells=$(( threads > 1 ? 9 : 4 ))  # the cells of compare_header's part of a table row, and the model's
tg_configs=("tg-t$threads")
if ((threads > 1)); then tg_configs+=(tg-t1); fi
results="$work/results.txt"
report_only=${REPORT_ONLY:-0}
if [[ "$report_only" != 1 ]]; then : >"$results"; fi

lines() { grep "^seq2seq impl=$1 model=$2 mode=$3 " "$results" || true; }
# The lines of one configuration: lines IMPL MODEL MODE | in_config CONFIG.
in_config() { grep " config=$1\$" || true; }

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
# paired_ratio MODEL MODE KEY TG_CONFIG PT_CONFIG: the median over the rounds of tapegrad's figure / PyTorch's
# figure of the same round (robust to load drifting between rounds).
paired_ratio() {
  paste <(lines tapegrad "$1" "$2" | in_config "$4" | field "$3") <(lines pytorch "$1" "$2" | in_config "$5" | field "$3") |
    awk '$2 > 0 { print $1 / $2 }' | median3
}
# config_median IMPL MODEL MODE CONFIG KEY: the median of KEY over one configuration's runs.
config_median() { lines "$1" "$2" "$3" | in_config "$4" | field "$5" | median; }
# compare MODEL MODE KEY: table cells "tg | PyTorch best (config) | ratio (paired) | tg at 1 | PyTorch best at 1
# (config) | ratio (paired) | PyTorch at THREADS default | ratio (paired)".
compare() {
  local model=$1 mode=$2 key=$3 tg pt best best1 tg1 pt1 ptn cells
  best=$(lines pytorch "$model" "$mode" | best_config '*' "$key")
  best1=$(lines pytorch "$model" "$mode" | best_config 't1-*' "$key")
  tg=$(config_median tapegrad "$model" "$mode" "tg-t$threads" "$key")
  pt=$(config_median pytorch "$model" "$mode" "$best" "$key")
  cells="$tg | $pt ($best) | $(ratio "$tg" "$pt") ($(paired_ratio "$model" "$mode" "$key" "tg-t$threads" "$best"))"
  if ((threads > 1)); then
    tg1=$(config_median tapegrad "$model" "$mode" tg-t1 "$key")
    pt1=$(config_median pytorch "$model" "$mode" "$best1" "$key")
    ptn=$(config_median pytorch "$model" "$mode" "t$threads-default" "$key")
    cells+=" | $tg1 | $pt1 ($best1) | $(ratio "$tg1" "$pt1") ($(paired_ratio "$model" "$mode" "$key" tg-t1 "$best1"))"
    cells+=" | $ptn | $(ratio "$tg" "$ptn") ($(paired_ratio "$model" "$mode" "$key" "tg-t$threads" "t$threads-default"))"
  fi
  echo "$cells"
}
# The header cells that go with compare's, after $1 (tok/s or sent/s).
compare_header() {
  local unit=$1
  printf '%s' "tapegrad $unit ($threads threads) | PyTorch $unit at its best (configuration) | tapegrad/PyTorch best (per-round median)"
  if ((threads > 1)); then
    printf '%s' " | tapegrad $unit at 1 thread | PyTorch $unit at its best at 1 thread | thread for thread (per-round median)"
    printf '%s' " | PyTorch $unit at $threads threads, default policy | tapegrad/PyTorch at $threads threads (per-round median)"
  fi
  echo
}
# A markdown separator row of $1 cells.
separator() { printf '|'; for ((c = 0; c < $1; c++)); do printf -- '---|'; done; echo; }

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date '+%Y-%m-%d %H:%M') =="

for model in $models; do
  if [[ "$report_only" == 1 ]]; then continue; fi  # the tables only, from WORK's results.txt
  model_flags=("${vocab_flags[@]}")
  if [[ "${TIE:-0}" == 1 && "$model" != cho ]]; then model_flags+=(--tie-embeddings); fi
  if [[ "$model" == transformer ]]; then
    model_flags+=(--embed "${EMBED:-256}" --hidden "${HIDDEN:-1024}" --layers "${LAYERS:-3}" --heads "${HEADS:-4}")
  fi
  if [[ "${DECODE_ONLY:-0}" == 1 ]]; then
    if [[ ! -f "$work/$model-trained.safetensors" ]]; then
      echo "error: DECODE_ONLY=1 decodes with an earlier run's $work/$model-trained.safetensors, which is not there;" \
        "give that run's WORK" >&2
      exit 1
    fi
  else
    echo
    echo "== $model: pairing check (dropout 0, 5 steps) =="
    "$tg_bench" train --model "$model" "${model_flags[@]}" --threads "$threads" --steps 5 --warmup 1 --dropout 0 \
      --plan "$work/$model-check.plan" --init "$work/$model-check-init.safetensors" | tee -a "$work/check.txt"
    OMP_NUM_THREADS="$threads" "${torch_bench[@]}" train --threads "$threads" --plan "$work/$model-check.plan" \
      --init "$work/$model-check-init.safetensors" | tee -a "$work/check.txt"
    for key in first_loss last_loss; do
      tg=$(grep "impl=tapegrad model=$model " "$work/check.txt" | tail -1 | field "$key")
      pt=$(grep "impl=pytorch model=$model " "$work/check.txt" | tail -1 | field "$key")
      awk -v k="$key" -v a="$tg" -v b="$pt" 'BEGIN {
        d = (a - b) / b; if (d < 0) d = -d
        printf "%s: tapegrad %s, pytorch %s, relative difference %.2e\n", k, a, b, d }'
    done

    echo
    echo "== $model: training, $runs rounds, $steps steps: tapegrad at ${tg_configs[*]#tg-}, PyTorch at ${configs[*]} =="
    for ((i = 1; i <= runs; i++)); do
      measure_sgemm
      products_flag=()  # round 1: each product shape's kernel and GFLOP/s, to $model-products.txt
      if ((i == 1)); then products_flag=(--products "$work/$model-products.txt"); fi
      run_tagged "tg-t$threads" "$tg_bench" train --model "$model" "${model_flags[@]}" --precision "$precision" \
        --threads "$threads" --steps "$steps" "${products_flag[@]}" \
        --plan "$work/$model.plan" --init "$work/$model-init.safetensors" --save "$work/$model-trained.safetensors"
      if ((threads > 1)); then
        run_tagged tg-t1 "$tg_bench" train --model "$model" "${model_flags[@]}" --precision "$precision" \
          --threads 1 --steps "$steps" \
          --plan "$work/$model.plan" --init "$work/$model-init.safetensors"
      fi
      for config in "${configs[@]}"; do
        run_torch "$config" train --plan "$work/$model.plan" --init "$work/$model-init.safetensors" --precision "$precision"
      done
    done
  fi

  if [[ "$model" == transformer ]]; then continue; fi  # training only (see the header)
  echo
  echo "== $model: decoding with the weights tapegrad trained ($sentences sentences greedy, $beam_sentences beam)," \
    "$runs alternating runs each =="
  for ((i = 1; i <= runs; i++)); do
    for tg_config in "${tg_configs[@]}"; do
      outputs=$work/$model-outputs.txt
      products_flag=()
      if [[ "$tg_config" != "tg-t$threads" ]]; then outputs=$work/$model-outputs-1.txt; elif ((i == 1)); then products_flag=(--products "$work/$model-products.txt"); fi
      run_tagged "$tg_config" "$tg_bench" decode --model "$model" "${model_flags[@]}" --threads "$(config_threads "${tg_config#tg-}")" \
        --weights "$work/$model-trained.safetensors" --sentences "$sentences" --beam-sentences "$beam_sentences" \
        --plan "$work/$model-decode.plan" --outputs "$outputs" --quantize "$quantize" "${products_flag[@]}"
    done
    for config in "${configs[@]}"; do
      run_torch "$config" decode --plan "$work/$model-decode.plan" --weights "$work/$model-trained.safetensors" \
        --compare "$work/$model-outputs.txt" --quantize "$quantize"
    done
  done
done

if [[ "${DECODE_ONLY:-0}" != 1 ]]; then
  echo
  echo "== training: medians of $runs runs, threads=$threads, $steps steps (first 3 not timed), precision $precision =="
  sgemm=$(grep '^sgemm ' "$results" | field gflops | median)
  openblas=$(grep '^sgemm ' "$results" | field openblas_gflops | median)
  own=$(grep '^sgemm ' "$results" | field tapegrad_gflops | median)
  echo "sgemm (1920,512)x(512,1536), threads=$threads, medians over the runs: OpenBLAS $openblas GFLOP/s" \
    "(range $(grep '^sgemm ' "$results" | field openblas_gflops | sort -g | sed -n '1p;$p' | paste -sd-))," \
    "tg::matmul $own (range $(grep '^sgemm ' "$results" | field tapegrad_gflops | sort -g | sed -n '1p;$p' | paste -sd-));" \
    "the limit (the faster, per run): $sgemm"
  echo "vocabulary: ${VOCAB:-word}$([[ "${VOCAB:-word}" == subword ]] && echo " (${VOCAB_SIZE:-8000} pieces, joint)"), tied: ${TIE:-0}"
  echo "PyTorch configurations: t<threads>-<OMP_WAIT_POLICY default or passive>; its best is the highest median"
  echo "| model | $(compare_header tok/s) |"
  separator "$ncells"
  for model in $models; do
    echo "| $model | $(compare "$model" train tok_per_s) |"
  done
  echo
  echo "Memory and the sgemm limit (tapegrad at $threads threads; PyTorch at its best configuration):"
  echo "| model | tapegrad peak RSS MB (live tensors at most) | PyTorch peak RSS MB | RSS tapegrad/PyTorch | matmul MFLOP/tok | tapegrad % of sgemm limit | PyTorch % of sgemm limit | tapegrad % of OpenBLAS sgemm | PyTorch % of OpenBLAS sgemm |"
  separator 9
  for model in $models; do
    best=$(lines pytorch "$model" train | best_config '*' tok_per_s)
    tg_tok=$(config_median tapegrad "$model" train "tg-t$threads" tok_per_s)
    pt_tok=$(config_median pytorch "$model" train "$best" tok_per_s)
    tg_rss=$(config_median tapegrad "$model" train "tg-t$threads" peak_rss_mb)
    tg_live=$(config_median tapegrad "$model" train "tg-t$threads" host_peak_in_use_mb)
    pt_rss=$(config_median pytorch "$model" train "$best" peak_rss_mb)
    mflop=$(lines tapegrad "$model" train | field matmul_mflop_per_tok | head -1)
    share() { awk -v t="$1" -v f="$mflop" -v g="$2" 'BEGIN { printf "%.1f", 100 * t * f * 1e6 / (g * 1e9) }'; }
    echo "| $model | $tg_rss ($tg_live) | $pt_rss | $(ratio "$tg_rss" "$pt_rss") | $mflop | $(share "$tg_tok" "$sgemm") | $(share "$pt_tok" "$sgemm") | $(share "$tg_tok" "$openblas") | $(share "$pt_tok" "$openblas") |"
  done
  echo
  echo "Every configuration's median (tok/s):"
  for model in $models; do
    row="$model:"
    for c in "${tg_configs[@]}"; do row+=" $c $(config_median tapegrad "$model" train "$c" tok_per_s)"; done
    for c in "${configs[@]}"; do row+=" $c $(config_median pytorch "$model" train "$c" tok_per_s)"; done
    echo "$row"
  done
fi

if [[ " $models " == " transformer " ]]; then
  echo
  echo "(plans, weights, outputs and logs in $work)"
  exit 0
fi
echo
echo "== decoding: sentences/s, medians of $runs rounds =="
echo "| model | search | sentences | $(compare_header sent/s) | identical outputs (runs, all PyTorch configurations) |"
separator $((ncells + 3))
for model in $models; do
  if [[ "$model" == transformer ]]; then continue; fi
  for mode in $decode_modes; do
    n=$(lines tapegrad "$model" "$mode" | field sentences | head -1)
    same=$(lines pytorch "$model" "$mode" | field identical_to_tapegrad | sort -u | paste -sd,)  # one figure when every run agrees
    if [[ "$mode" == *-int8 ]]; then
      same+="; tapegrad int8 = its float32: $(lines tapegrad "$model" "$mode" | field identical_to_fp32 | sort -u | paste -sd,)"
    fi
    echo "| $model | $mode | $n | $(compare "$model" "$mode" sent_per_s) | $same |"
  done
done
if [[ "$quantize" == int8 ]]; then
  echo
  echo "int8 against float32, each side its own (medians, sent/s):"
  for model in $models; do
    if [[ "$model" == transformer ]]; then continue; fi
    for mode in greedy beam5; do
      tg32=$(config_median tapegrad "$model" "$mode" "tg-t$threads" sent_per_s)
      tg8=$(config_median tapegrad "$model" "$mode-int8" "tg-t$threads" sent_per_s)
      best32=$(lines pytorch "$model" "$mode" | best_config '*' sent_per_s)
      best8=$(lines pytorch "$model" "$mode-int8" | best_config '*' sent_per_s)
      echo "$model $mode: tapegrad int8/float32 $(ratio "$tg8" "$tg32") ($tg8 / $tg32);" \
        "PyTorch int8/float32 at their best $(ratio "$(config_median pytorch "$model" "$mode-int8" "$best8" sent_per_s)" \
        "$(config_median pytorch "$model" "$mode" "$best32" sent_per_s)") ($best8, $best32)"
    done
  done
fi
echo
echo "Every configuration's median (sent/s):"
for model in $models; do
  if [[ "$model" == transformer ]]; then continue; fi
  for mode in $decode_modes; do
    row="$model $mode:"
    for c in "${tg_configs[@]}"; do row+=" $c $(config_median tapegrad "$model" "$mode" "$c" sent_per_s)"; done
    for c in "${configs[@]}"; do row+=" $c $(config_median pytorch "$model" "$mode" "$c" sent_per_s)"; done
    echo "$row"
  done
done
# Each model's products in round 1 (bench_seq2seq --products): the shapes taking the most time, with the
# kernel that ran each and its GFLOP/s as a share of the threads' multiply-add peak.
# A vdpbf16ps product's share is of the bfloat16 dot-product peak, an AMX one's of the tile peak, every other
# product's of the multiply-add peak.
peak=$(awk -v g="${fma_gflops:-0}" -v t="$threads" 'BEGIN { printf "%.0f", g * t }')
bf16_peak=$(awk -v g="${dpbf16_gflops:-0}" -v t="$threads" 'BEGIN { printf "%.0f", g * t }')
amx_peak=$(awk -v g="${amx_bf16_gflops:-0}" -v t="$threads" 'BEGIN { printf "%.0f", g * t }')
for model in $models; do
  [[ -s "$work/$model-products.txt" ]] || continue
  echo
  echo "$model: the products of round 1 (tapegrad, $threads threads), most time first; peak $peak GFLOP/s" \
    "(vdpbf16ps: $bf16_peak; AMX: $amx_peak):"
  for mode in $(grep '^product ' "$work/$model-products.txt" | field mode | awk '!seen[$0]++'); do
    grep "^product mode=$mode " "$work/$model-products.txt" | grep ' kernel=' | head -8 |
      awk -v p="$peak" -v pb="$bf16_peak" -v pa="$amx_peak" '{ for (i = 1; i <= NF; i++) if ($i ~ /^gflops=/) g = substr($i, 8);
        q = ($0 ~ /vdpbf16ps/) ? pb : ($0 ~ /\(amx\)/) ? pa : p; printf "%s of_peak=%.0f%%\n", $0, (q > 0 ? 100 * g / q : 0) }'
    grep "^product mode=$mode total_seconds=" "$work/$model-products.txt" || true
  done
done
echo
echo "(plans, weights, outputs and logs in $work)"
