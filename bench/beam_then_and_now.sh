#!/usr/bin/env bash
# Beam search over a whole test split, today's translate against an earlier
# revision's (by default d01d770, the last one that searched one sentence at a
# time), with the same checkpoint and threads: RUNS alternating runs of
# `translate eval --beam K`, the decoding seconds each printed ("wrote ... (X s)"),
# their medians, the ratio, and whether the hypotheses are byte-identical.
#
#   bash bench/beam_then_and_now.sh runs/bahdanau/best.safetensors
#
# The earlier revision is built in a git worktree under $WORK (CUDA off; a few
# minutes on 2 cores, once). Knobs [defaults]: THEN [d01d770] BUILD_DIR [build]
# THREADS [2] RUNS [3] BEAM [5] SPLIT [test_2016_flickr] WORK [/tmp/tapegrad-then]
# and MULTI30K_DIR as for translate.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $# -ne 1 || ! -f $1 ]]; then
  echo "usage: bash bench/beam_then_and_now.sh CHECKPOINT   (a translate train best.safetensors)" >&2
  exit 2
fi
checkpoint=$(realpath "$1")
then_rev=${THEN:-d01d770}
build_dir=${BUILD_DIR:-build}
threads=${THREADS:-2}
runs=${RUNS:-3}
beam=${BEAM:-5}
split=${SPLIT:-test_2016_flickr}
work=${WORK:-/tmp/tapegrad-then}
mkdir -p "$work"

[[ -f $build_dir/build.ninja ]] || meson setup "$build_dir"
ninja -C "$build_dir" examples/translate/translate
then_tree="$work/tree-$then_rev"
if [[ ! -d $then_tree ]]; then
  git worktree add --detach "$then_tree" "$then_rev"
fi
[[ -f $then_tree/build/build.ninja ]] || meson setup "$then_tree/build" "$then_tree" -Dcuda=disabled
ninja -C "$then_tree/build" examples/translate/translate

declare -A binary=([now]="$build_dir/examples/translate/translate" [then]="$then_tree/build/examples/translate/translate")
results="$work/results.txt"
: >"$results"
for ((run = 1; run <= runs; run++)); do
  for side in now then; do
    out="$work/$side.$run.en"
    log=$("${binary[$side]}" eval --checkpoint "$checkpoint" --split "$split" --beam "$beam" --threads "$threads" \
      --out "$out" 2>&1)
    seconds=$(sed -n 's/^wrote .* hypotheses to .* (\([0-9.]*\) s)$/\1/p' <<<"$log")
    bleu=$(grep -m1 -o 'BLEU = [0-9.]*' <<<"$log" | cut -d' ' -f3)
    echo "run=$run side=$side load=$(cut -d' ' -f1 /proc/loadavg) seconds=$seconds bleu=$bleu" | tee -a "$results"
  done
  cmp -s "$work/now.$run.en" "$work/then.$run.en" && same=yes || same=no
  echo "run=$run identical_hypotheses=$same" | tee -a "$results"
done
source bench/stats.sh  # field, median, ratio
now=$(grep 'side=now' "$results" | field seconds | median)
then_s=$(grep 'side=then' "$results" | field seconds | median)
echo "beam $beam on $split, $threads threads, medians of $runs: now $now s, $then_rev $then_s s," \
  "$(ratio "$then_s" "$now")x faster;" \
  "identical hypotheses in $(grep -c 'identical_hypotheses=yes' "$results")/$runs runs"
