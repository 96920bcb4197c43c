#!/usr/bin/env bash
# Decoding a trained translation checkpoint with and without a vocabulary
# shortlist (`translate shortlist`, docs/translate.md): `translate eval` on a
# Multi30k split, greedy and beam 5, float32 and int8, RUNS rounds each; the
# median decoding seconds (eval's own figure: the search alone, not loading),
# the speed-up of the shortlist over the full vocabulary, the BLEU of both
# (multi-bleu -lc, then sacreBLEU-style cased), and the size of each batch's
# vocabulary. Works from any directory.
#   CHECKPOINT (required)  BUILD_DIR [build]  THREADS [2]  RUNS [3]
#   SPLIT [test_2016_flickr]  FREQUENT [100]  BEST [20]  MODES ["greedy beam5"]
#   QUANTIZE ["none int8"]  DATA_DIR [$MULTI30K_DIR, then the download cache]
#   WORK [a new temporary directory: the shortlist, hypotheses and logs]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build}"
[[ "$build" = /* ]] || build="$here/$build"
translate="$build/examples/translate/translate"
: "${CHECKPOINT:?set CHECKPOINT to a translation checkpoint (best.safetensors)}"
threads="${THREADS:-2}" runs="${RUNS:-3}" split="${SPLIT:-test_2016_flickr}"
work="${WORK:-$(mktemp -d /tmp/tapegrad_shortlist_bench.XXXXXX)}"
mkdir -p "$work"
data=()
[[ -n "${DATA_DIR:-}" ]] && data=(--data-dir "$DATA_DIR")
[[ -x "$translate" ]] || { echo "no $translate: build first (meson setup $build && ninja -C $build)" >&2; exit 1; }

cp "$CHECKPOINT" "$work/model.safetensors"
"$translate" shortlist --checkpoint "$work/model.safetensors" --frequent "${FREQUENT:-100}" --best "${BEST:-20}" \
  --overwrite "${data[@]}" | tee "$work/shortlist.log"
source "$here/bench/stats.sh"  # processor
echo "processor: $(processor), $threads threads; $(date -u +%F)"

# eval's output: "wrote N ... (S s)" and the two BLEU lines.
seconds_of() { sed -n 's/.*hypotheses to .* (\([0-9.]*\) s)$/\1/p' "$1"; }
bleu_of() { grep -A1 "^multi-bleu" "$1" | tail -1 | awk '{print $3}' | tr -d ,; }
sacre_of() { grep -A1 "^sacreBLEU" "$1" | tail -1 | awk '{print $3}' | tr -d ,; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-8s %-6s %-10s %10s %8s %8s %9s\n' mode int8 vocabulary "median s" speed-up BLEU "sacre"
for mode in ${MODES:-greedy beam5}; do
  beam=1
  [[ "$mode" == beam* ]] && beam="${mode#beam}"
  for quantize in ${QUANTIZE:-none int8}; do
    declare -A full_seconds=()
    for list in full shortlist; do
      extra=(--quantize "$quantize")
      [[ "$list" == shortlist ]] && extra+=(--shortlist "$work/model.shortlist")
      times=()
      for ((r = 1; r <= runs; ++r)); do
        log="$work/$mode.$quantize.$list.$r.log"
        "$translate" eval --checkpoint "$work/model.safetensors" --split "$split" --beam "$beam" --threads "$threads" \
          --out "$work/$mode.$quantize.$list.hyps.en" "${extra[@]}" "${data[@]}" > "$log" 2>&1
        times+=("$(seconds_of "$log")")
      done
      med="$(printf '%s\n' "${times[@]}" | median)"
      [[ "$list" == full ]] && full_seconds[$mode$quantize]="$med"
      ratio="$(awk -v a="${full_seconds[$mode$quantize]}" -v b="$med" 'BEGIN {printf "%.2f", a / b}')"
      printf '%-8s %-6s %-10s %10s %8s %8s %9s\n' "$mode" "$quantize" "$list" "$med" "${ratio}x" "$(bleu_of "$log")" \
        "$(sacre_of "$log")"
    done
  done
done
echo "logs and hypotheses: $work"
