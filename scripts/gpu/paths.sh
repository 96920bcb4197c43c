#!/usr/bin/env bash
# Runs on a GPU machine, over what scripts/gpu/stage.sh staged in .gpu/: every
# application path once with --device cuda, briefly (a few dozen steps on a
# slice of the data), to see each one run and write sane numbers, not to
# measure quality. translate: Cho, Bahdanau (word), Bahdanau on subwords with
# tied embeddings, Transformer; eval greedy and beam 5, an ensemble of two,
# `translate translate`. speech: train, eval, transcribe on the small corpus
# stage.sh packed (.gpu/speech.tar.xz). One line per path in $out/paths.txt:
# "ok NAME" or "FAIL NAME rc=N" with the log beside it.
#   STEPS [40] EVAL_LIMIT [200] DEVICE [cuda] scripts/gpu/paths.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/gpu/env.sh
steps=${STEPS:-40}
device=${DEVICE:-cuda}  # DEVICE=cpu tries the script where no GPU is
work=$(mktemp -d /tmp/gpu-paths.XXXXXX)
tr=(.gpu/bin/translate)
sp=(.gpu/bin/speech)
: >"$out/paths.txt"

path() {  # path NAME COMMAND...: runs it, logs to $out/paths-NAME.log, records ok/FAIL
  local name=$1
  shift
  local start=$SECONDS
  timeout "${PATH_TIMEOUT:-120}" "$@" >"$out/paths-$name.log" 2>&1
  local rc=$?
  if [[ $rc == 0 ]]; then
    echo "ok $name $((SECONDS - start))s: $(grep -iE 'bleu|cer|loss' "$out/paths-$name.log" | tail -1)" | tee -a "$out/paths.txt"
  else
    echo "FAIL $name rc=$rc $((SECONDS - start))s: $(tail -2 "$out/paths-$name.log" | tr '\n' ' ')" | tee -a "$out/paths.txt"
  fi
}

train=(train --device "$device" --max-steps "$steps" --limit-train 4000 --limit-val 100 --overwrite)
path cho "${tr[@]}" "${train[@]}" --model cho --checkpoint-dir "$work/cho"
path bahdanau "${tr[@]}" "${train[@]}" --model bahdanau --checkpoint-dir "$work/bahdanau"
path bahdanau_seed2 "${tr[@]}" "${train[@]}" --model bahdanau --seed 2 --checkpoint-dir "$work/bahdanau2"
path subword_tied "${tr[@]}" "${train[@]}" --model bahdanau --vocab subword --vocab-size 2000 --joint-vocab \
  --tie-embeddings --checkpoint-dir "$work/subword"
path transformer "${tr[@]}" "${train[@]}" --model transformer --embed 128 --hidden 256 --layers 2 --heads 4 \
  --checkpoint-dir "$work/transformer"
path transformer_bf16 "${tr[@]}" "${train[@]}" --model transformer --embed 128 --hidden 256 --layers 2 --heads 4 \
  --precision bf16 --checkpoint-dir "$work/transformer_bf16"
evaluate=(eval --device "$device" --split test_2016_flickr --limit "${EVAL_LIMIT:-200}")
for run in cho bahdanau subword transformer; do
  path "eval_${run}_greedy" "${tr[@]}" "${evaluate[@]}" --checkpoint "$work/$run/last.safetensors"
  path "eval_${run}_beam5" "${tr[@]}" "${evaluate[@]}" --beam 5 --checkpoint "$work/$run/last.safetensors"
done
path eval_ensemble "${tr[@]}" "${evaluate[@]}" --beam 5 --checkpoint "$work/bahdanau/last.safetensors" \
  --checkpoint "$work/bahdanau2/last.safetensors"
path translate_sentences "${tr[@]}" translate --device "$device" --checkpoint "$work/bahdanau/last.safetensors" \
  "Ein Mann fährt Fahrrad." "Zwei Hunde spielen im Schnee."

if [[ -f .gpu/speech.tar.xz ]]; then
  tar -C "$work" -xJf .gpu/speech.tar.xz
  data=$(dirname "$(find "$work" -name train.tsv | head -1)")
  path speech_train "${sp[@]}" train --device "$device" --data "$data" --epochs 3 --checkpoint-dir "$work/speech"
  path speech_eval "${sp[@]}" eval --device "$device" --data "$data" --split test --checkpoint "$work/speech/best.safetensors"
  path speech_eval_beam "${sp[@]}" eval --device "$device" --data "$data" --split test --beam 8 --lm-order 4 \
    --checkpoint "$work/speech/best.safetensors"
  path speech_transcribe "${sp[@]}" transcribe --device "$device" --checkpoint "$work/speech/best.safetensors" \
    "$data/$(head -1 "$data/test.tsv" | cut -f1)"
else
  echo "FAIL speech: .gpu/speech.tar.xz not staged" | tee -a "$out/paths.txt"
fi
echo "paths: $(grep -c '^ok' "$out/paths.txt") ok, $(grep -c '^FAIL' "$out/paths.txt") failed"
