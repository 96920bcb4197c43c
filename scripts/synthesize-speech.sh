#!/usr/bin/env bash
# Synthesizes a speech-recognition corpus with espeak-ng (Debian's espeak-ng;
# resampling and optional noise with sox): each sentence of a text file
# spoken by one voice, at a speed and pitch drawn for it, as a 16 kHz mono
# 16-bit WAV, with its transcript. Nothing of it is committed: the corpus is
# made from the text whenever it is needed.
#
#   scripts/synthesize-speech.sh [options] OUT_DIR
#     --text FILE     sentences, one per line (default: Multi30k's English
#                     training captions, train.en.gz, found as the programs find Multi30k)
#     --lines N       use the first N lines (default 8000; 0: all)
#     --val N         sentences spoken by the validation voices (default 300)
#     --test N        sentences spoken by the test voices (default 500)
#     --noise LEVEL   mix in white noise of this amplitude (e.g. 0.01; default none)
#     --jobs N        parallel synthesizers (default: the number of cores)
#     --seed N        speeds and pitches (default 1)
#     --voices SET    training voices: "many" (default: the numbered variants
#                     and 40 named ones) or "numbered" (m1-m5 f1-f3 only)
#     --perturb F     training audio resampled by a factor drawn in [1-F, 1+F]
#                     (sox speed: tempo and formants move together, as a longer
#                     or shorter vocal tract; default 0.1; 0: none)
#     --tiny          12 sentences: 8 train, 2 val, 2 test (for tests)
#
# Voices are an espeak-ng accent and a variant ("en-gb-scotland+m3"). The
# variants are split three ways, so that no test (or validation) voice ever
# speaks in training: train m1 m2 m3 m4 m5 f1 f2 f3 and the named variants
# below (× 8 accents), validation m6 f4, test m7 f5 (× the same accents).
# Validation and test audio is never perturbed, and does not change with
# --voices or --perturb.
#
# Writes OUT_DIR/{train,val,test}/NNNNNN.wav and OUT_DIR/{train,val,test}.tsv,
# one line per utterance: the WAV's path (relative to OUT_DIR), its transcript
# (lowercase letters, space and apostrophe: what the recogniser writes), the
# voice, the speed (words per minute), the pitch (0-99) and the perturbation
# factor (1: none), tab-separated.
set -euo pipefail

text="" lines=8000 n_val=300 n_test=500 noise="" jobs=$(nproc) seed=1 voices=many perturb=0.1 out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --text) text=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    --val) n_val=$2; shift 2 ;;
    --test) n_test=$2; shift 2 ;;
    --noise) noise=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --voices) voices=$2; shift 2 ;;
    --perturb) perturb=$2; shift 2 ;;
    --tiny) lines=12; n_val=2; n_test=2; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    -*) echo "synthesize-speech: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
if [[ -z "$out" ]]; then echo "synthesize-speech: give the output folder (see --help)" >&2; exit 2; fi
for tool in espeak-ng sox; do
  if ! command -v "$tool" >/dev/null; then
    echo "synthesize-speech: $tool is missing: apt-get install espeak-ng sox" >&2
    exit 1
  fi
done
if [[ -z "$text" ]]; then
  for dir in "${MULTI30K_DIR:-}" "$(dirname "$0")/../../shared/data/multi30k" "${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k"; do
    if [[ -n "$dir" && -f "$dir/train.en.gz" ]]; then text="$dir/train.en.gz"; break; fi
  done
  if [[ -z "$text" ]]; then
    echo "synthesize-speech: no --text given and Multi30k's train.en.gz not found (set MULTI30K_DIR)" >&2
    exit 1
  fi
fi
if [[ ! -r "$text" ]]; then echo "synthesize-speech: cannot read $text" >&2; exit 1; fi

accents=(en-us en-gb en-gb-scotland en-gb-x-gbclan en-gb-x-rp en-gb-x-gbcwmd en-029 en-us-nyc)
train_variants=(m1 m2 m3 m4 m5 f1 f2 f3)
# Named variants that sound like people (not whisper, croak or the robots);
# none is a copy of a validation or test variant.
named_variants=(Alex Alicia Andrea Andy Annie Denis Gene Henrique Hugo Jacky Lee Marco Mario Michael Mike
  Nguyen adam anika antonio aunty belinda benjamin boris caleb ed iven john kaukovalta klatt klatt2 klatt3
  linda m8 max norbert pablo quincy shelby steph travis)
case "$voices" in
  many) train_variants+=("${named_variants[@]}") ;;
  numbered) ;;
  *) echo "synthesize-speech: --voices is many or numbered, got '$voices'" >&2; exit 2 ;;
esac
if ! awk -v f="$perturb" 'BEGIN { exit !(f ~ /^[0-9.]+$/ && f + 0 < 0.5) }'; then
  echo "synthesize-speech: --perturb is a factor in [0, 0.5), got '$perturb'" >&2; exit 2
fi
val_variants=(m6 f4)
test_variants=(m7 f5)

mkdir -p "$out/train" "$out/val" "$out/test"
plan="$out/plan.tsv"
# The plan: one line per sentence kept, "split index voice speed pitch factor spoken transcript",
# drawn deterministically from the seed (awk's srand), test and validation sentences first.
# (No pipefail here: reading only the first lines ends gzip with SIGPIPE.)
set +o pipefail
{ if [[ "$text" == *.gz ]]; then gzip -dc -- "$text"; else cat -- "$text"; fi; } |
  { if [[ "$lines" -gt 0 ]]; then head -n "$lines"; else cat; fi; } |
  awk -v seed="$seed" -v n_val="$n_val" -v n_test="$n_test" -v perturb="$perturb" \
      -v accents="${accents[*]}" -v train="${train_variants[*]}" -v val="${val_variants[*]}" -v test="${test_variants[*]}" '
    BEGIN { srand(seed); na = split(accents, A, " "); nt = split(train, TR, " "); nv = split(val, VA, " "); ns = split(test, TE, " "); FS = "\n" }
    {
      spoken = $0; gsub(/\t/, " ", spoken)
      t = tolower($0); gsub(/[^a-z\047 ]/, " ", t); gsub(/ +/, " ", t); sub(/^ /, "", t); sub(/ $/, "", t)
      if (t == "") next
      k = kept++
      if (k < n_test) { split_name = "test"; variant = TE[1 + int(rand() * ns)] }
      else if (k < n_test + n_val) { split_name = "val"; variant = VA[1 + int(rand() * nv)] }
      else { split_name = "train"; variant = TR[1 + int(rand() * nt)] }
      voice = A[1 + int(rand() * na)] "+" variant
      speed = 140 + int(rand() * 60); pitch = 30 + int(rand() * 40)
      factor = split_name == "train" && perturb > 0 ? sprintf("%.3f", 1 - perturb + 2 * perturb * rand()) : "1"
      printf "%s\t%06d\t%s\t%d\t%d\t%s\t%s\t%s\n", split_name, k, voice, speed, pitch, factor, spoken, t
    }' >"$plan"
set -o pipefail
if [[ ! -s "$plan" ]]; then echo "synthesize-speech: no sentence with letters in $text" >&2; exit 1; fi

synthesize() {  # one plan line
  IFS=$'\t' read -r split_name index voice speed pitch factor spoken _ <<<"$1"
  local wav="$out/$split_name/$index.wav" raw="$out/$split_name/$index.raw.wav"
  local effects=(rate 16000)
  if [[ "$factor" != 1 ]]; then effects=(speed "$factor" rate 16000); fi
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$raw" -- "$spoken"
  if [[ -n "$noise" ]]; then
    sox -R -V1 -m "$raw" <(sox -R -V1 "$raw" -p synth whitenoise vol "$noise") -b 16 "$wav" "${effects[@]}" 2>/dev/null ||
      sox -R -V1 -m "$raw" "|sox -R -V1 $raw -p synth whitenoise vol $noise" -b 16 "$wav" "${effects[@]}"
  else
    sox -R -V1 "$raw" -b 16 "$wav" "${effects[@]}"
  fi
  rm -f "$raw"
}
export -f synthesize
export out noise
tr '\n' '\0' <"$plan" | xargs -0 -P "$jobs" -I{} bash -c 'synthesize "$1"' _ {}

for split_name in train val test; do
  awk -F'\t' -v s="$split_name" '$1 == s { printf "%s/%s.wav\t%s\t%s\t%s\t%s\t%s\n", s, $2, $8, $3, $4, $5, $6 }' "$plan" \
    >"$out/$split_name.tsv"
done
rm -f "$plan"
echo "synthesize-speech: $(wc -l <"$out/train.tsv") train, $(wc -l <"$out/val.tsv") val, $(wc -l <"$out/test.tsv") test" \
  "utterances in $out (16 kHz WAV)"
