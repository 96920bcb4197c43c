#!/usr/bin/env bash
# Training throughput of `speech train` with the audio augmentation on against
# off: the same corpus, model, seed and batches, ROUNDS rounds alternating the
# two, each STEPS updates; the medians of the trainer's utterances per second
# (its progress line, over the epoch so far) and their ratio. The augmented
# features of the next batch are made on a thread beside the step at
# background priority, the step's own thread making those not yet begun when
# it needs them (apps/speech/speech_train.cpp), so the ratio says whether
# that keeps up. The first batches also make the FFT plans of new lengths:
# fewer steps than the default count them more.
# Knobs: DATA (a corpus of scripts/synthesize-speech.sh; required) BUILD_DIR [build]
# ROUNDS [3] STEPS [150] THREADS [2]
# MODEL ["--channels 128 --hidden 128 --layers 2 --batch-size 16"]
# AUGMENT ["--speed 0.1 --pitch 2 --reverb 0.3 --noise 0.5"]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
data=${DATA:?set DATA to a corpus folder (scripts/synthesize-speech.sh)}
build_dir=${BUILD_DIR:-build} rounds=${ROUNDS:-3} steps=${STEPS:-150} threads=${THREADS:-2}
model=${MODEL:---channels 128 --hidden 128 --layers 2 --batch-size 16}
augment=${AUGMENT:---speed 0.1 --pitch 2 --reverb 0.3 --noise 0.5}
ninja -C "$build_dir" examples/speech >/dev/null
source bench/stats.sh  # median, ratio
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$work/results"
run() {  # run NAME FLAGS...: one training of STEPS updates, its last utt/s
  local name=$1
  shift
  # shellcheck disable=SC2086  # the knobs are lists of flags
  "$build_dir/examples/speech" train --data "$data" --epochs 100 --max-steps "$steps" --threads "$threads" $model "$@" \
    --checkpoint-dir "$work/$name" --overwrite >"$work/$name.log" 2>&1
  local rate
  rate=$(grep -o '[0-9.]* utt/s' "$work/$name.log" | tail -1 | cut -d' ' -f1)
  echo "config=$name utt_per_s=$rate" | tee -a "$results"
}
for ((i = 1; i <= rounds; i++)); do
  run plain --speed 0 --pitch 0 --reverb 0 --noise 0
  # shellcheck disable=SC2086
  run augmented $augment
done
plain=$(grep 'config=plain ' "$results" | field utt_per_s | median)
augmented=$(grep 'config=augmented ' "$results" | field utt_per_s | median)
echo "medians of $rounds rounds of $steps steps ($model; $threads threads) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs):"
echo "  without augmentation $plain utt/s, with ($augment) $augmented utt/s: ratio $(ratio "$augmented" "$plain")"
