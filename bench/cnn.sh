#!/usr/bin/env bash
# Training speed of a small CNN (examples/fashion_mnist's network, dropout
# off, float32, batch 128), tapegrad against PyTorch, on identical batches and
# initial weights (bench_cnn --init writes them; bench/cnn_torch.py reads them):
#   1. a pairing check: 3 steps on both sides from the same start; the losses
#      must agree (same model, same batches);
#   2. RUNS rounds, each measuring first the sgemm limit at 1..THREADS threads
#      (bench_matmul on (64, 288) x (288, 25088), conv2's forward product over
#      the batch: the faster of OpenBLAS and tg::matmul), then timing STEPS
#      steps (after 3 untimed) of tapegrad at 1..THREADS threads and of PyTorch in every configuration of
#      bench/torch_configs.sh (1..THREADS threads, OMP_WAIT_POLICY default and
#      passive); the median ms per step of each, and the speed ratios
#      (PyTorch ms / tapegrad ms: above 1, tapegrad is faster) against
#      PyTorch's best configuration overall and at the same thread count, and
#      tapegrad's share of the sgemm limit (the step's product FLOPs / its time
#      / the limit's median GFLOP/s).
# Works from any directory. Environment knobs (defaults in brackets):
#   BUILD_DIR [build]  THREADS [2]  RUNS [3]  STEPS [20]  BATCH [128]  PYTHON [/usr/bin/python3]
#   WORK [a new temporary directory; weights and results stay there]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${BUILD_DIR:-build}
threads=${THREADS:-2}
runs=${RUNS:-3}
steps=${STEPS:-20}
batch=${BATCH:-128}
python=${PYTHON:-/usr/bin/python3}
work=${WORK:-$(mktemp -d /tmp/cnn-bench.XXXXXX)}
mkdir -p "$work"

if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
ninja -C "$build_dir" bench/bench_cnn bench/bench_matmul
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: '$python -c \"import torch\"' failed; the PyTorch side cannot run" >&2
  exit 1
fi
source bench/stats.sh         # field, median, ratio
source bench/torch_configs.sh  # torch_configs, config_threads, config_env, best_config
mapfile -t configs < <(torch_configs "$threads")
init="$work/init.safetensors"
results="$work/results.txt"
: > "$results"

echo "processor: $(lscpu | grep 'Model name' | sed 's/Model name: *//'); $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "== pairing check: 3 steps from the same weights and batches =="
tg_pair=$("$build_dir/bench/bench_cnn" --threads 1 --batch "$batch" --steps 3 --warmup 0 --init "$init")
torch_pair=$("$python" bench/cnn_torch.py --threads 1 --init "$init" --steps 3 --warmup 0)
echo "$tg_pair"
echo "$torch_pair"
for key in loss_first loss_last; do
  a=$(echo " $tg_pair" | field "$key") b=$(echo " $torch_pair" | field "$key")
  if ! awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-3) }'; then
    echo "error: $key differs: tapegrad $a, PyTorch $b (the sides do not compute the same)" >&2
    exit 1
  fi
done
echo "losses agree"

for ((r = 1; r <= runs; r++)); do
  echo "== round $r of $runs =="
  for ((t = 1; t <= threads; t++)); do
    m=$("$build_dir/bench/bench_matmul" --threads "$t" --mkn 64 288 25088 --reps 5 | grep '^matmul')
    limit=$(echo " $m" | field tapegrad_gflops) blas=$(echo " $m" | field openblas_gflops)
    limit=$(awk -v a="$limit" -v b="$blas" 'BEGIN { print (a > b ? a : b) }')
    echo "sgemm_limit threads=$t gflops=$limit config=sgemm-t$t" | tee -a "$results"
  done
  for ((t = 1; t <= threads; t++)); do
    line=$("$build_dir/bench/bench_cnn" --threads "$t" --batch "$batch" --steps "$steps" --init "$init")
    echo "$line config=tapegrad-t$t" | tee -a "$results"
  done
  for c in "${configs[@]}"; do
    # shellcheck disable=SC2046
    line=$(env $(config_env "$c") "$python" bench/cnn_torch.py --threads "$(config_threads "$c")" --init "$init" \
      --steps "$steps")
    echo "$line config=$c" | tee -a "$results"
  done
done

echo "== medians over $runs rounds (ms per training step, batch $batch; ratio = PyTorch ms / tapegrad ms) =="
printf '%-22s %10s\n' configuration ms_per_step
for c in $(field config < "$results" | grep -v sgemm | sort -u); do
  printf '%-22s %10s\n' "$c" "$(grep " config=$c\$" "$results" | field ms_per_step | median)"
done
# The fastest PyTorch configuration has the lowest median ms: best_config picks the highest img_per_s.
best=$(grep -v 'config=tapegrad' "$results" | grep -v sgemm | best_config '*' img_per_s)
best_ms=$(grep " config=$best\$" "$results" | field ms_per_step | median)
for ((t = 1; t <= threads; t++)); do
  tg_ms=$(grep " config=tapegrad-t$t\$" "$results" | field ms_per_step | median)
  same=$(grep -v 'config=tapegrad' "$results" | grep -v sgemm | best_config "t$t-*" img_per_s)
  same_ms=$(grep " config=$same\$" "$results" | field ms_per_step | median)
  echo "tapegrad at $t thread(s): $tg_ms ms; PyTorch's best at $t ($same): $same_ms ms, ratio $(ratio "$same_ms" "$tg_ms");" \
    "PyTorch's best overall ($best): $best_ms ms, ratio $(ratio "$best_ms" "$tg_ms")"
  limit=$(grep " config=sgemm-t$t\$" "$results" | field gflops | median)
  gflop=$(grep " config=tapegrad-t$t\$" "$results" | field product_gflop_per_step | head -1)
  echo "  sgemm limit at $t thread(s): $limit GFLOP/s; the step's products ($gflop GFLOP) at that rate:" \
    "$(awk -v g="$gflop" -v l="$limit" 'BEGIN { printf "%.1f", 1000 * g / l }') ms;" \
    "share of the limit $(awk -v g="$gflop" -v l="$limit" -v ms="$tg_ms" 'BEGIN { printf "%.2f", 1000 * g / l / ms }')"
done
echo "results: $results"
