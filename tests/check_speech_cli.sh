#!/usr/bin/env bash
# The speech program end to end on a tiny synthesized corpus
# (scripts/synthesize-speech.sh --tiny): train two epochs, resume for a third,
# evaluate with and without the character language model, transcribe a file
# and draw it; and the errors a user meets: a missing corpus, a missing WAV,
# a file that is not a recogniser checkpoint. Exits 77 (skipped) without
# espeak-ng or sox.
#   check_speech_cli.sh SPEECH_BINARY SOURCE_DIR
set -uo pipefail
speech=$1 source=$2
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/install-deps.sh installs it)"; exit 77; }
done
dir=$(mktemp -d /tmp/tapegrad_speech_cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT
[[ -n "${KEEP:-}" ]] && trap - EXIT  # KEEP=1: leave the folder to look at
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect TEXT FILE: FILE holds TEXT
  grep -qF -- "$1" "$2" || { cat "$2"; fail "expected '$1' in the output above"; }
}

printf '%s\n' "a dog runs" "a cat sits" "two men walk" "the boy plays ball" "a girl swims" "men ride bikes" \
  "a red car" "the sun is up" "birds fly high" "kids eat cake" "it's raining" "a big tree" >"$dir/text.txt"
bash "$source/scripts/synthesize-speech.sh" --tiny --jobs 2 --text "$dir/text.txt" "$dir/corpus" >/dev/null ||
  fail "synthesize-speech.sh --tiny"
small=(--channels 16 --hidden 16 --layers 1 --batch-size 4 --warmup 2 --threads 1 --checkpoint-dir "$dir/ck")

"$speech" train --data "$dir/corpus" --epochs 2 "${small[@]}" >"$dir/train.log" 2>&1 || { cat "$dir/train.log"; fail "train"; }
expect "SpecAugment: 2 frequency masks" "$dir/train.log"
expect "epoch 2 loss" "$dir/train.log"
[[ -f "$dir/ck/last.safetensors" && -f "$dir/ck/best.safetensors" ]] || fail "train wrote no checkpoints"
"$speech" train --data "$dir/corpus" --epochs 3 --resume "${small[@]}" >"$dir/resume.log" 2>&1 || { cat "$dir/resume.log"; fail "resume"; }
expect "resumed from $dir/ck/last.safetensors after epoch 2" "$dir/resume.log"
expect "epoch 3 loss" "$dir/resume.log"
grep -q "^epoch 1 " "$dir/resume.log" && fail "a resumed run trained epoch 1 again"

"$speech" eval --data "$dir/corpus" --split val --beam 4 --lm-order 4 --checkpoint "$dir/ck/best.safetensors" \
  --threads 1 >"$dir/eval.log" 2>&1 || { cat "$dir/eval.log"; fail "eval"; }
expect "language model: characters, order 4, from 8 sentences of $dir/corpus/train.tsv" "$dir/eval.log"
expect "val (2 utterances" "$dir/eval.log"
for row in "greedy " "prefix beam 4 " "prefix beam 4 + LM "; do expect "$row" "$dir/eval.log"; done
expect "(sub " "$dir/eval.log"

"$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/ck/best.safetensors" --svg "$dir/picture.svg" \
  >"$dir/text.out" 2>"$dir/transcribe.err" || { cat "$dir/transcribe.err"; fail "transcribe"; }
[[ $(wc -l <"$dir/text.out") -eq 1 ]] || fail "transcribe printed $(wc -l <"$dir/text.out") lines, expected 1"
grep -q "[^a-z' ]" "$dir/text.out" && fail "transcribe wrote characters outside a-z, space, apostrophe: $(cat "$dir/text.out")"
head -c 4 "$dir/picture.svg" | grep -q "<svg" || fail "no SVG written"

# Errors: exit status 1 and a message naming what is wrong.
check_error() {  # check_error TEXT COMMAND...
  local text=$1
  shift
  "$@" >"$dir/error.out" 2>&1
  local status=$?
  [[ $status -eq 1 ]] || { cat "$dir/error.out"; fail "expected exit status 1, got $status: $*"; }
  expect "$text" "$dir/error.out"
}
check_error "cannot read $dir/none/test.tsv" "$speech" eval --data "$dir/none" --checkpoint "$dir/ck/best.safetensors"
check_error "$dir/missing.wav" "$speech" transcribe "$dir/missing.wav" --checkpoint "$dir/ck/best.safetensors"
printf 'not a model' >"$dir/bad.safetensors"
check_error "$dir/bad.safetensors" "$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/bad.safetensors"
check_error "cannot read --lm-text $dir/none.txt" "$speech" eval --data "$dir/corpus" --lm-order 3 --lm-text "$dir/none.txt" \
  --checkpoint "$dir/ck/best.safetensors"
# Audio shorter than one analysis window (25 ms), and checkpoints whose
# numbers are not numbers (edited, the CRC-32 recomputed so that only the value is wrong).
python3 - "$dir" <<'PY' || fail "could not write the short WAV and the edited checkpoints"
import json, struct, sys, zlib
d = sys.argv[1]
data = b"\0\0" * 300
open(f"{d}/short.wav", "wb").write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
    struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", len(data)) + data)
def edit(src, dst, key, value):
    raw = open(src, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header["__metadata__"]
    if value is None: del meta[key]
    else: meta[key] = value
    crc = 0
    for k in sorted(meta):
        if k.startswith("crc32:"): continue
        crc = zlib.crc32(k.encode() + b"\0", crc)
        crc = zlib.crc32(meta[k].encode() + b"\0", crc)
    meta["crc32:__metadata__"] = f"{crc:08x}"
    text = json.dumps(header).encode()
    open(dst, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
edit(f"{d}/ck/best.safetensors", f"{d}/abc.safetensors", "channels", "abc")
edit(f"{d}/ck/last.safetensors", f"{d}/ck2_last.safetensors", "epoch", None)
PY
check_error "$dir/short.wav holds 300 samples (18.8 ms); the recogniser needs at least 400 (25 ms at 16 kHz)" \
  "$speech" transcribe "$dir/short.wav" --checkpoint "$dir/ck/best.safetensors"
check_error "$dir/abc.safetensors: metadata 'channels' is 'abc', not a number" \
  "$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/abc.safetensors"
mkdir -p "$dir/ck2" && mv "$dir/ck2_last.safetensors" "$dir/ck2/last.safetensors"
check_error "$dir/ck2/last.safetensors has no 'epoch' in its metadata" \
  "$speech" train --data "$dir/corpus" --epochs 3 --resume --channels 16 --hidden 16 --layers 1 --batch-size 4 \
  --warmup 2 --threads 1 --checkpoint-dir "$dir/ck2"
echo "speech CLI: train, resume, eval (+LM), transcribe, errors: ok"
