#!/usr/bin/env bash
# The quick start: builds the `translate` program, gets Multi30k, trains a
# small Bahdanau attention model for a few epochs (about 10 minutes on two
# cores), evaluates it on test_2016_flickr and translates one sentence.
# Runs from any directory.
#
#   scripts/translate-demo.sh
#
# Environment: BUILD_DIR (default build), DEMO_DIR (default runs/demo, where the
# checkpoints, metrics.csv, curve.svg and attention.svg go), DEMO_EPOCHS
# (default 3), THREADS (default 2).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
start=$SECONDS

scripts/install-deps.sh
build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build"
ninja -C "$build" examples/translate/translate
translate=$repo/$build/examples/translate/translate

data=${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k  # outside the source tree; the programs look there too
scripts/get_multi30k.sh "$data"
run=${DEMO_DIR:-$repo/runs/demo}
threads=${THREADS:-2}
echo "== built and got the data in $((SECONDS - start)) s"

# A small model (embed 128, hidden 256: 8.7M parameters) on all 29,000 pairs.
# --overwrite: running the demo again trains it afresh in its own folder
# (train refuses a folder holding a run without it).
"$translate" train --model bahdanau --embed 128 --hidden 256 --dropout 0.2 \
  --epochs "${DEMO_EPOCHS:-3}" --batch-size 64 --lr 2e-3 --seed 1 --threads "$threads" \
  --data-dir "$data" --checkpoint-dir "$run" --overwrite

"$translate" eval --checkpoint "$run/best.safetensors" --split test_2016_flickr --threads "$threads" \
  --data-dir "$data" --out "$run/test_2016_flickr.hyps.en"

echo "== Ein Mann fährt Fahrrad auf der Straße."
"$translate" translate --checkpoint "$run/best.safetensors" --threads "$threads" \
  --attention-svg "$run/attention.svg" "Ein Mann fährt Fahrrad auf der Straße."

echo "== done in $((SECONDS - start)) s; training curve: $run/curve.svg, attention: $run/attention.svg"
