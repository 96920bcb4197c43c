#!/usr/bin/env bash
# Synthesizes a speech-recognition corpus from a text file with the speech
# synthesizers Debian packages: espeak-ng (formant synthesis, many accents and
# variants), flite (CMU's small engine: diphone and clustergen voices) and
# festival (diphone and HTS voices). Each sentence is spoken by one voice at a
# speaking rate drawn for it, then every engine's audio is made alike: 16 kHz
# mono 16-bit, peak at -3 dBFS, silence at the ends cut and 0.1 s put back.
# Nothing of it is committed: the corpus is made from the text when needed.
#
#   scripts/synthesize-speech.sh [options] OUT_DIR
#     --text FILE     sentences, one per line (default: Multi30k's English
#                     training captions, train.en.gz, found as the programs find Multi30k)
#     --lines N       use the first N lines (default 8000; 0: all)
#     --val N         validation sentences (default 300)
#     --test N        test sentences (default 500)
#     --engines LIST  the synthesizers to use, comma-separated (default
#                     espeak-ng,flite,festival; one not installed is skipped, and said)
#     --hold-out E    the synthesizer kept out of training and validation
#                     (default festival; none: no heldout split)
#     --share-speakers  keep in training the other engines' voices made from the
#                     held-out synthesizer's speakers (flite's kal16 and slt for
#                     festival): the synthesizer stays unheard, those speakers
#                     do not (default: left out; festival's ked_diphone is then
#                     the one held-out voice whose speaker is never heard)
#     --noise LEVEL   mix in white noise of this amplitude (e.g. 0.01; default none)
#     --jobs N        parallel synthesizers (default: the number of cores)
#     --seed N        voices, rates and pitches (default 1)
#     --voices SET    espeak-ng's training voices: "many" (default: the numbered
#                     variants and 40 named ones) or "numbered" (m1-m5 f1-f3 only)
#     --perturb F     training audio resampled by a factor drawn in [1-F, 1+F]
#                     (sox speed: tempo and formants move together; default 0.1; 0: none)
#     --tiny          12 sentences: 8 train, 2 val, 2 test (for tests)
#
# The splits. test: the test sentences read by espeak-ng variants no training
# or validation sentence is read by (m7, f5). heldout: the same sentences
# read by the held-out synthesizer's voices, which never speak in training or
# validation; nor does any voice of another engine made from the same
# speaker's recordings (flite's kal16 and slt are festival's kal and slt).
# train and val: each sentence's engine drawn evenly from the others, then a
# voice of it (espeak-ng: an accent and a variant, "en-gb-scotland+m3";
# training variants m1-m5, f1-f3 and the named ones, validation m6 and f4).
# Validation and test audio is never perturbed, and does not change with
# --voices or --perturb.
#
# Writes OUT_DIR/<split>/NNNNNN.wav and OUT_DIR/<split>.tsv, one line per
# utterance: the WAV's path (relative to OUT_DIR), its transcript (lowercase
# letters, space and apostrophe: what the recogniser writes), the voice as
# engine:name ("flite:awb", "espeak-ng:en-us+m3"), the speaking rate (words
# per minute; flite and festival stretch their own rate by 175 / it), the
# pitch (espeak-ng's 0-99; "-" for the others) and the perturbation factor
# (1: none), tab-separated.
set -euo pipefail

text="" lines=8000 n_val=300 n_test=500 noise="" jobs=$(nproc) seed=1 voices=many perturb=0.1 out=""
engines="espeak-ng,flite,festival" hold_out=festival share_speakers=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --text) text=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    --val) n_val=$2; shift 2 ;;
    --test) n_test=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --hold-out) hold_out=$2; shift 2 ;;
    --share-speakers) share_speakers=1; shift ;;
    --noise) noise=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --voices) voices=$2; shift 2 ;;
    --perturb) perturb=$2; shift 2 ;;
    --tiny) lines=12; n_val=2; n_test=2; shift ;;
    -h|--help) sed -n '2,51p' "$0"; exit 0 ;;
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

# The other engines' English voices, each as name:speaker (the recordings it was made from).
flite_voices=(kal16:kal awb:awb rms:rms slt:slt)
festival_voices=(kal_diphone:kal ked_diphone:ked cmu_us_slt_arctic_hts:slt)
festival_has() { compgen -G "/usr/share/festival/voices/*/$1" >/dev/null; }
available=() # engine:voice:speaker of every engine installed
IFS=',' read -r -a wanted <<<"$engines"
for engine in "${wanted[@]}"; do
  case "$engine" in
    espeak-ng) ;;
    flite)
      if command -v flite >/dev/null; then
        for v in "${flite_voices[@]}"; do available+=("flite:$v"); done
      else
        echo "synthesize-speech: flite is not installed, skipped (apt-get install flite)" >&2
      fi ;;
    festival)
      if command -v festival >/dev/null; then
        for v in "${festival_voices[@]}"; do
          if festival_has "${v%%:*}"; then available+=("festival:$v")
          else echo "synthesize-speech: festival's voice ${v%%:*} is not installed, skipped (apt-get install festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts)" >&2; fi
        done
      else
        echo "synthesize-speech: festival is not installed, skipped (apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts)" >&2
      fi ;;
    *) echo "synthesize-speech: --engines lists espeak-ng, flite and festival, got '$engine'" >&2; exit 2 ;;
  esac
done
case "$hold_out" in
  none|espeak-ng|flite|festival) ;;
  *) echo "synthesize-speech: --hold-out is flite, festival or none, got '$hold_out'" >&2; exit 2 ;;
esac
if [[ "$hold_out" == espeak-ng ]]; then
  echo "synthesize-speech: espeak-ng reads the test split; hold out flite or festival" >&2; exit 2
fi
# Held-out voices; training voices of the other engines are those of no held-out speaker (unless shared).
held=() others=() held_speakers=" "
for v in "${available[@]}"; do
  if [[ "${v%%:*}" == "$hold_out" ]]; then held+=("${v%:*}"); held_speakers+="${v##*:} "; fi
done
for v in "${available[@]}"; do
  if [[ "${v%%:*}" != "$hold_out" && ($share_speakers == 1 || "$held_speakers" != *" ${v##*:} "*) ]]; then others+=("${v%:*}"); fi
done
if [[ "$hold_out" != none && ${#held[@]} -eq 0 ]]; then
  echo "synthesize-speech: the held-out synthesizer $hold_out is not available: no heldout split" >&2
fi

mkdir -p "$out/train" "$out/val" "$out/test"
[[ ${#held[@]} -gt 0 ]] && mkdir -p "$out/heldout"
plan="$out/plan.tsv"
# The plan: one line per utterance, "split index engine voice rate pitch factor spoken transcript",
# drawn deterministically from the seed (awk's srand), test and validation sentences first. Each
# test sentence draws the same numbers whatever the options, so the test split never changes with them.
# (No pipefail here: reading only the first lines ends gzip with SIGPIPE.)
set +o pipefail
{ if [[ "$text" == *.gz ]]; then gzip -dc -- "$text"; else cat -- "$text"; fi; } |
  { if [[ "$lines" -gt 0 ]]; then head -n "$lines"; else cat; fi; } |
  awk -v seed="$seed" -v n_val="$n_val" -v n_test="$n_test" -v perturb="$perturb" \
      -v accents="${accents[*]}" -v train="${train_variants[*]}" -v val="${val_variants[*]}" -v test="${test_variants[*]}" \
      -v held="${held[*]}" -v others="${others[*]}" '
    BEGIN {
      srand(seed); FS = "\n"
      na = split(accents, A, " "); nt = split(train, TR, " "); nv = split(val, VA, " "); ns = split(test, TE, " ")
      nh = split(held, H, " ")
      # Engines for training and validation: espeak-ng and each other engine with voices.
      ne = 1; E[1] = "espeak-ng"
      no = split(others, O, " ")
      for (i = 1; i <= no; ++i) { split(O[i], p, ":"); if (!(p[1] in voices_of)) E[++ne] = p[1]; voices_of[p[1]] = voices_of[p[1]] " " p[2] }
    }
    function pick(list,   v, n) { n = split(list, v, " "); return v[1 + int(rand() * n)] }
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
      if (split_name == "test") {
        printf "test\t%06d\tespeak-ng\t%s\t%d\t%d\t1\t%s\t%s\n", k, voice, speed, pitch, spoken, t
        h = rand()  # drawn whether or not a synthesizer is held out
        if (nh > 0) { split(H[1 + int(h * nh)], p, ":"); printf "heldout\t%06d\t%s\t%s\t%d\t-\t1\t%s\t%s\n", k, p[1], p[2], speed, spoken, t }
        next
      }
      engine = E[1 + int(rand() * ne)]
      if (engine == "espeak-ng") printf "%s\t%06d\tespeak-ng\t%s\t%d\t%d\t%s\t%s\t%s\n", split_name, k, voice, speed, pitch, factor, spoken, t
      else printf "%s\t%06d\t%s\t%s\t%d\t-\t%s\t%s\t%s\n", split_name, k, engine, pick(voices_of[engine]), speed, factor, spoken, t
    }' >"$plan"
set -o pipefail
if [[ ! -s "$plan" ]]; then echo "synthesize-speech: no sentence with letters in $text" >&2; exit 1; fi

# festival starts slowly (a third of a second) and synthesizes fast: each job
# is one festival process reading a Scheme file of its utterances, by voice.
festival_lines=$(awk -F'\t' '$3 == "festival"' "$plan" | sort -t$'\t' -k4,4 -s)
if [[ -n "$festival_lines" ]]; then
  for ((j = 0; j < jobs; ++j)); do
    awk -F'\t' -v j="$j" -v jobs="$jobs" -v out="$out" '
      (NR - 1) % jobs == j {
        if ($4 != voice) { voice = $4; printf "(voice_%s)\n", voice }
        text = $8; gsub(/\\/, "\\\\", text); gsub(/"/, "\\\"", text)
        printf "(Parameter.set (quote Duration_Stretch) %.4f)\n", 175 / $5
        printf "(utt.save.wave (utt.synth (Utterance Text \"%s\")) \"%s/%s/%s.raw.wav\" (quote riff))\n", text, out, $1, $2
      }' <<<"$festival_lines" >"$out/festival.$j.scm"
  done
  for ((j = 0; j < jobs; ++j)); do
    festival -b "$out/festival.$j.scm" >"$out/festival.$j.log" 2>&1 &
  done
  if ! wait; then echo "synthesize-speech: festival failed (see $out/festival.*.log)" >&2; exit 1; fi
  rm -f "$out"/festival.*.scm "$out"/festival.*.log
fi

synthesize() {  # one plan line; any step that fails fails the utterance, and so the corpus, naming it
  IFS=$'\t' read -r split_name index engine voice rate pitch factor spoken _ <<<"$1"
  local wav="$out/$split_name/$index.wav" raw="$out/$split_name/$index.raw.wav"
  case "$engine" in
    espeak-ng) espeak-ng -v "$voice" -s "$rate" -p "$pitch" -w "$raw" -- "$spoken" ;;
    flite) flite -voice "$voice" --setf duration_stretch="$(awk -v r="$rate" 'BEGIN { printf "%.4f", 175 / r }')" \
             -t "$spoken" -o "$raw" </dev/null 2>/dev/null ;;
  esac || { echo "synthesize-speech: $engine failed on $split_name/$index (status $?)" >&2; return 1; }
  [[ -s "$raw" ]] || { echo "synthesize-speech: $engine wrote no audio for $split_name/$index ($raw)" >&2; return 1; }
  # Every engine alike: 16 kHz, peak at -3 dBFS, silence below -45 dBFS cut at both ends, 0.1 s put back.
  local effects=(rate 16000 gain -n -3 silence 1 0.02 -45d reverse silence 1 0.02 -45d reverse pad 0.1 0.1)
  if [[ "$factor" != 1 ]]; then effects=(speed "$factor" "${effects[@]}"); fi
  if [[ -n "$noise" ]]; then
    sox -R -V1 -m "$raw" <(sox -R -V1 "$raw" -p synth whitenoise vol "$noise") -b 16 "$wav" "${effects[@]}" 2>/dev/null ||
      sox -R -V1 -m "$raw" "|sox -R -V1 $raw -p synth whitenoise vol $noise" -b 16 "$wav" "${effects[@]}"
  else
    sox -R -V1 "$raw" -b 16 "$wav" "${effects[@]}"
  fi || { echo "synthesize-speech: sox failed on $split_name/$index (status $?)" >&2; return 1; }
  [[ -s "$wav" ]] || { echo "synthesize-speech: sox wrote no $wav" >&2; return 1; }
  rm -f "$raw"
}
export -f synthesize
export out noise
if ! tr '\n' '\0' <"$plan" | xargs -0 -P "$jobs" -I{} bash -c 'synthesize "$1"' _ {}; then
  echo "synthesize-speech: an utterance failed (said above); $out is incomplete" >&2
  exit 1
fi

splits=(train val test)
[[ ${#held[@]} -gt 0 ]] && splits+=(heldout)
for split_name in "${splits[@]}"; do
  awk -F'\t' -v s="$split_name" '$1 == s { printf "%s/%s.wav\t%s\t%s:%s\t%s\t%s\t%s\n", s, $2, $9, $3, $4, $5, $6, $7 }' "$plan" \
    >"$out/$split_name.tsv"
done
summary() {  # the utterances of a split per engine
  awk -F'\t' '{ split($3, p, ":"); n[p[1]]++ } END { s = ""; for (e in n) s = s (s ? ", " : "") n[e] " " e; print s }' "$out/$1.tsv"
}
rm -f "$plan"
echo "synthesize-speech: $(wc -l <"$out/train.tsv") train ($(summary train)), $(wc -l <"$out/val.tsv") val, $(wc -l <"$out/test.tsv") test" \
  "utterances$([[ ${#held[@]} -gt 0 ]] && echo ", $(wc -l <"$out/heldout.tsv") heldout ($hold_out: ${held[*]#*:})") in $out (16 kHz WAV)"
