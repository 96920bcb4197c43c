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

# check_error: exit status 1 and a message naming what is wrong.
check_error() {  # check_error TEXT COMMAND...
  local text=$1
  shift
  "$@" >"$dir/error.out" 2>&1
  local status=$?
  [[ $status -eq 1 ]] || { cat "$dir/error.out"; fail "expected exit status 1, got $status: $*"; }
  expect "$text" "$dir/error.out"
}

printf '%s\n' "a dog runs" "a cat sits" "two men walk" "the boy plays ball" "a girl swims" "men ride bikes" \
  "a red car" "the sun is up" "birds fly high" "kids eat cake" "it's raining" "a big tree" >"$dir/text.txt"
bash "$source/scripts/synthesize-speech.sh" --tiny --jobs 2 --text "$dir/text.txt" "$dir/corpus" >/dev/null ||
  fail "synthesize-speech.sh --tiny"
tiny=(--channels 16 --hidden 16 --layers 1 --batch-size 4 --warmup 2 --threads 1)
small=("${tiny[@]}" --checkpoint-dir "$dir/ck")

"$speech" train --data "$dir/corpus" --epochs 2 "${small[@]}" >"$dir/train.log" 2>&1 || { cat "$dir/train.log"; fail "train"; }
expect "SpecAugment: 2 frequency masks" "$dir/train.log"
expect "epoch 2: train loss" "$dir/train.log"
[[ -f "$dir/ck/last.safetensors" && -f "$dir/ck/best.safetensors" && -f "$dir/ck/metrics.csv" ]] ||
  fail "train wrote no checkpoints"
# The run's own settings on resume: a differing one given is said, not used.
"$speech" train --data "$dir/corpus" --epochs 3 --resume "${small[@]}" --seed 5 --lr 0.01 >"$dir/resume.log" 2>&1 ||
  { cat "$dir/resume.log"; fail "resume"; }
expect "note: --seed 5 differs from the run's 1; the run's is used" "$dir/resume.log"
expect "note: --lr 0.01 differs from the run's 0.001; the run's is used" "$dir/resume.log"
expect "lr 0.001 (cosine), seed 1" "$dir/resume.log"
expect "resumed from $dir/ck/last.safetensors: epoch 3, batch 0 done, step 4" "$dir/resume.log"
expect "epoch 3: train loss" "$dir/resume.log"
grep -q "^epoch 1" "$dir/resume.log" && fail "a resumed run trained epoch 1 again"
"$speech" train --data "$dir/corpus" --epochs 3 --resume "${small[@]}" >"$dir/nothing.log" 2>&1 ||
  { cat "$dir/nothing.log"; fail "resume with nothing left"; }
expect "nothing to train: 3 epochs of --epochs 3 finished already (raise --epochs to go on)" "$dir/nothing.log"

# The audio augmentation: said, kept in the run's settings, and drawn from the seed, so that two
# epochs straight and the same run stopped after its first epoch (2 steps) and resumed give the same
# weights, bit for bit.
augment=(--speed 0.1 --pitch 2 --reverb 0.5 --noise 0.5 --warp 0.1)
"$speech" train --data "$dir/corpus" --epochs 2 "${tiny[@]}" "${augment[@]}" --checkpoint-dir "$dir/aug2" >"$dir/aug2.log" 2>&1 ||
  { cat "$dir/aug2.log"; fail "train with augmentation"; }
expect "audio augmentation: speed ±10%, pitch ±2 semitones, reverb 50% (RT60 0.2-0.8 s), noise 50% (white/pink/brown, SNR 5-30 dB), formant warp ±10%" "$dir/aug2.log"
"$speech" train --data "$dir/corpus" --epochs 2 --max-steps 2 "${tiny[@]}" "${augment[@]}" --checkpoint-dir "$dir/aug1" >"$dir/aug1.log" 2>&1 &&
  "$speech" train --data "$dir/corpus" --epochs 2 --resume "${tiny[@]}" --checkpoint-dir "$dir/aug1" >"$dir/aug1r.log" 2>&1 ||
  { cat "$dir/aug1.log" "$dir/aug1r.log"; fail "train with augmentation, resumed"; }
expect "audio augmentation: speed ±10%, pitch ±2 semitones" "$dir/aug1r.log"
python3 - "$dir/aug2/last.safetensors" "$dir/aug1/last.safetensors" <<'PY' || fail "a resumed augmented run differs from one run straight"
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return {k: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert a.keys() == b.keys() and a, (sorted(a), sorted(b))
differ = [k for k in a if a[k] != b[k]]
assert not differ, differ
PY
"$speech" train --data "$dir/corpus" --epochs 1 "${tiny[@]}" --speed 0.5 --checkpoint-dir "$dir/aug_bad" >"$dir/aug_bad.log" 2>&1 &&
  fail "--speed 0.5 was taken"
expect "--speed" "$dir/aug_bad.log"

# A finished run is not replaced unasked; --overwrite starts again.
sum=$(md5sum <"$dir/ck/last.safetensors")
"$speech" train --data "$dir/corpus" --epochs 1 "${small[@]}" >"$dir/again.log" 2>&1 && fail "a second train on a finished run ran"
expect "holds a run already (last.safetensors, best.safetensors, metrics.csv); continue it with --resume, replace it with --overwrite" "$dir/again.log"
[[ $(md5sum <"$dir/ck/last.safetensors") == "$sum" ]] || fail "a refused train changed last.safetensors"

# A folder that cannot be made is reported before the corpus is read.
printf 'x' >"$dir/a_file"
check_error "speech train: cannot create the run folder '$dir/a_file/run'" \
  "$speech" train --data "$dir/none" --epochs 1 "${tiny[@]}" --checkpoint-dir "$dir/a_file/run"

# SIGTERM: the batch finishes, last is saved with its position, the resume
# command is printed; a second training on the folder meanwhile is refused.
"$speech" train --data "$dir/corpus" --epochs 400 "${tiny[@]}" --checkpoint-dir "$dir/sig" >"$dir/sig.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "epoch 1  \[" "$dir/sig.log" 2>/dev/null && break; sleep 0.1; done
"$speech" train --data "$dir/corpus" --epochs 1 "${tiny[@]}" --checkpoint-dir "$dir/sig" >"$dir/twice.log" 2>&1 &&
  fail "a second training on a folder in use ran"
expect "another run (pid $pid) is writing to '$dir/sig'" "$dir/twice.log"
kill -TERM "$pid"
wait "$pid" || { cat "$dir/sig.log"; fail "SIGTERM: exit status $?"; }
expect "terminated (SIGTERM): stopping after this batch and saving" "$dir/sig.log"
expect "saved $dir/sig/last.safetensors" "$dir/sig.log"
expect "resume with: speech train --data $dir/corpus --checkpoint-dir $dir/sig --epochs 400 --resume" "$dir/sig.log"
[[ -f "$dir/sig/last.safetensors" ]] || fail "SIGTERM saved nothing"

# A state holding nan (an optimizer buffer edited, its CRC-32 written anew)
# is refused on resume, and the file is left as it was.
python3 - "$dir/sig/last.safetensors" <<'PY' || fail "could not edit last.safetensors"
import json, struct, sys, zlib
path = sys.argv[1]
raw = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
name = next(k for k in header if k.endswith(".exp_avg_sq"))
begin, end = (8 + n + offset for offset in header[name]["data_offsets"])
raw[begin:begin + 4] = struct.pack("<f", float("nan"))
header["__metadata__"]["crc32:" + name] = f"{zlib.crc32(bytes(raw[begin:end])):08x}"
text = json.dumps(header).encode()
open(path, "wb").write(struct.pack("<Q", len(text)) + text + bytes(raw[8 + n:]))
PY
sum=$(md5sum <"$dir/sig/last.safetensors")
check_error "holds a non-finite value (element 0 is nan); a training state with nan or inf cannot be resumed" \
  "$speech" train --data "$dir/corpus" --epochs 400 "${tiny[@]}" --checkpoint-dir "$dir/sig" --resume
[[ $(md5sum <"$dir/sig/last.safetensors") == "$sum" ]] || fail "a refused resume changed last.safetensors"

"$speech" eval --data "$dir/corpus" --split val --beam 4 --lm-order 4 --checkpoint "$dir/ck/best.safetensors" \
  --threads 1 >"$dir/eval.log" 2>&1 || { cat "$dir/eval.log"; fail "eval"; }
expect "language model: characters, order 4, from 8 sentences of $dir/corpus/train.tsv" "$dir/eval.log"
expect "val (2 utterances" "$dir/eval.log"
for row in "greedy " "prefix beam 4 " "prefix beam 4 + LM "; do expect "$row" "$dir/eval.log"; done
expect "(sub " "$dir/eval.log"
# Rows per synthesizer, then per voice.
expect "per synthesizer:" "$dir/eval.log"
expect "per voice:" "$dir/eval.log"
if [[ -f "$dir/corpus/heldout.tsv" ]]; then
  "$speech" eval --data "$dir/corpus" --split heldout --beam 1 --checkpoint "$dir/ck/best.safetensors" --threads 1 \
    >"$dir/heldout.log" 2>&1 || { cat "$dir/heldout.log"; fail "eval --split heldout"; }
  expect "  festival " "$dir/heldout.log"
  expect "  festival:" "$dir/heldout.log"
else
  echo "note: festival is not installed (scripts/install-deps.sh installs it): no heldout split to evaluate"
fi

"$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/ck/best.safetensors" --svg "$dir/picture.svg" \
  >"$dir/text.out" 2>"$dir/transcribe.err" || { cat "$dir/transcribe.err"; fail "transcribe"; }
[[ $(wc -l <"$dir/text.out") -eq 1 ]] || fail "transcribe printed $(wc -l <"$dir/text.out") lines, expected 1"
grep -q "[^a-z' ]" "$dir/text.out" && fail "transcribe wrote characters outside a-z, space, apostrophe: $(cat "$dir/text.out")"
head -c 4 "$dir/picture.svg" | grep -q "<svg" || fail "no SVG written"
# int8 recurrent layers (--quantize int8): the same kind of answer, and the program says so.
"$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/ck/best.safetensors" --quantize int8 \
  >"$dir/int8.out" 2>"$dir/int8.err" || { cat "$dir/int8.err"; fail "transcribe --quantize int8"; }
expect "int8 weights in the recurrent layers (--quantize int8)" "$dir/int8.err"
[[ $(wc -l <"$dir/int8.out") -eq 1 ]] || fail "transcribe --quantize int8 printed $(wc -l <"$dir/int8.out") lines"
"$speech" eval --data "$dir/corpus" --split val --beam 2 --checkpoint "$dir/ck/best.safetensors" --quantize int8 \
  --threads 1 >"$dir/eval_int8.log" 2>&1 || { cat "$dir/eval_int8.log"; fail "eval --quantize int8"; }
expect "prefix beam 2 " "$dir/eval_int8.log"

# speech serve: POST /transcribe answers what transcribe prints for the same clip (greedy), with the
# characters' times; bad bodies are 400 naming the problem; SIGTERM stops it cleanly.
"$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/ck/best.safetensors" --beam 1 \
  >"$dir/greedy.out" 2>/dev/null || fail "transcribe --beam 1"
"$speech" serve --checkpoint "$dir/ck/best.safetensors" --port 0 --threads 1 >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
for _ in $(seq 300); do grep -q "on http://127.0.0.1:" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/serve.out")
[[ -n "$port" ]] || { cat "$dir/serve.err"; fail "speech serve did not start"; }
curl -s -H 'Content-Type: audio/wav' --data-binary @"$dir/corpus/test/000000.wav" "http://127.0.0.1:$port/transcribe" \
  >"$dir/served.json" || fail "POST /transcribe"
python3 - "$dir/served.json" "$dir/greedy.out" <<'PY' || fail "POST /transcribe's answer"
import json, sys
answer = json.load(open(sys.argv[1]))
expected = open(sys.argv[2]).read().rstrip("\n")
assert answer["text"] == expected, (answer, expected)
assert answer["seconds"] > 0
times = [s["time"] for s in answer["segments"]]
assert times == sorted(times) and all(0 <= t <= answer["seconds"] for t in times), answer
assert "".join(s["char"] for s in answer["segments"]).replace(" ", "") != "" or expected.strip() == ""
PY
curl -s -H 'Content-Type: audio/wav' --data-binary 'not audio' "http://127.0.0.1:$port/transcribe" >"$dir/bad.json"
expect '"error"' "$dir/bad.json"
expect 'the clip' "$dir/bad.json"
curl -s -H 'Content-Type: audio/wav' --data-binary '' "http://127.0.0.1:$port/transcribe" >"$dir/empty.json"
expect 'the body is empty' "$dir/empty.json"
# An hour of FLAC (silence: a few KB to send) is refused from its header, before ~230 MB of samples are decoded.
sox -n -r 16000 -c 1 "$dir/hour.flac" trim 0 3600 || fail "sox: an hour of silence"
curl -s -H 'Content-Type: audio/flac' --data-binary @"$dir/hour.flac" "http://127.0.0.1:$port/transcribe" >"$dir/hour.json"
expect 'lasts 3600.0 s, more than --max-seconds 30' "$dir/hour.json"
curl -s "http://127.0.0.1:$port/models" >"$dir/models.json"
expect '"kind":"ctc"' "$dir/models.json"
# OpenAI's POST /v1/audio/transcriptions (multipart, as curl -F sends it): each response_format, its
# timings parsed; the clip at 8 kHz stereo and as 48 kHz FLAC is resampled, not refused; errors in OpenAI's shape.
sox "$dir/corpus/test/000000.wav" -r 8000 -c 2 "$dir/clip8k.wav" && sox "$dir/corpus/test/000000.wav" -r 48000 "$dir/clip48k.flac" ||
  fail "sox: the resampled clips"
v1="http://127.0.0.1:$port/v1/audio/transcriptions"
for format in json text srt vtt verbose_json; do
  curl -s -F "file=@$dir/corpus/test/000000.wav" -F model=whisper-1 -F response_format=$format \
    -F 'timestamp_granularities[]=word' -F 'timestamp_granularities[]=segment' "$v1" >"$dir/v1.$format" ||
    fail "POST /v1/audio/transcriptions response_format=$format"
done
for clip in clip8k.wav clip48k.flac; do
  curl -s -F "file=@$dir/$clip" -F model=whisper-1 "$v1" >"$dir/v1.$clip.json" || fail "POST $clip"
done
curl -s -F "file=@$dir/corpus/test/000000.wav" -F model=whisper-1 -F response_format=docx "$v1" >"$dir/v1.bad_format"
curl -s -F "file=@$dir/corpus/test/000000.wav" "$v1" >"$dir/v1.no_model"
python3 - "$dir" "$dir/greedy.out" <<'PY' || fail "OpenAI's transcription API"
import json, re, sys
d, expected = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
read = lambda name: open(f"{d}/v1.{name}").read()
assert json.loads(read("json")) == {"text": expected}, read("json")
assert read("text") == expected + "\n", read("text")
verbose = json.loads(read("verbose_json"))
assert verbose["text"] == expected and verbose["task"] == "transcribe" and verbose["duration"] > 0, verbose
import wave  # duration: the audio's length (it had been the feature frames' count x 10 ms)
with wave.open(f"{d}/corpus/test/000000.wav") as clip:
    length = clip.getnframes() / clip.getframerate()
assert abs(verbose["duration"] - length) < 0.0015, (verbose["duration"], length)
words, segments = verbose["words"], verbose["segments"]
assert " ".join(w["word"] for w in words) == " ".join(expected.split()), (words, expected)
assert all(0 <= w["start"] <= w["end"] <= verbose["duration"] + 0.05 for w in words), words
def cues(text, mark):  # (start, end, text) of each cue, times in seconds
    stamp = r"(\d\d):(\d\d):(\d\d)" + re.escape(mark) + r"(\d\d\d)"
    seconds = lambda m, i: int(m[i]) * 3600 + int(m[i + 1]) * 60 + int(m[i + 2]) + int(m[i + 3]) / 1000
    return [(seconds(m, 1), seconds(m, 5), m[9]) for m in re.finditer(stamp + " --> " + stamp + r"\n(.*)\n", text)]
srt, vtt = read("srt"), read("vtt")
assert vtt.startswith("WEBVTT\n\n"), vtt
for got in (cues(srt, ","), cues(vtt, ".")):
    assert [c[2] for c in got] == [s["text"] for s in segments], (got, segments)
    assert all(abs(c[0] - s["start"]) < 0.001 and abs(c[1] - s["end"]) < 0.001 for c, s in zip(got, segments)), got
assert srt.count(" --> ") == len(segments) and re.match(r"^1\n", srt or "1\n"), srt
for clip in ("clip8k.wav", "clip48k.flac"):
    assert isinstance(json.load(open(f"{d}/v1.{clip}.json"))["text"], str), clip
bad = json.loads(read("bad_format"))["error"]
assert bad["type"] == "invalid_request_error" and "response_format 'docx'" in bad["message"], bad
assert "model parameter" in json.loads(read("no_model"))["error"]["message"], read("no_model")
PY
curl -s "http://127.0.0.1:$port/v1/models" >"$dir/v1_models.json"
expect '"object":"model"' "$dir/v1_models.json"
# speech transcribe reads them too: any rate, channels mixed.
for clip in clip8k.wav clip48k.flac; do
  "$speech" transcribe "$dir/$clip" --checkpoint "$dir/ck/best.safetensors" >/dev/null 2>"$dir/transcribe.err" ||
    { cat "$dir/transcribe.err"; fail "transcribe $clip"; }
done
curl -s "http://127.0.0.1:$port/" >"$dir/page.html"
expect '<canvas id="alignment"' "$dir/page.html"
# The page in headless Chromium: upload the clip, read the transcript (skipped without chromium).
python3 "$source/tests/check_speech_page.py" "http://127.0.0.1:$port/" "$dir/corpus/test/000000.wav" \
  "$(cat "$dir/greedy.out")" >"$dir/page.log" 2>&1
page_status=$?
[[ $page_status -eq 0 || $page_status -eq 77 ]] || { cat "$dir/page.log"; fail "the speech page in a browser"; }
cat "$dir/page.log"
kill -TERM "$server"
wait "$server" || fail "speech serve: exit status $? after SIGTERM"
expect "stopped" "$dir/serve.out"

# Errors:
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
edit(f"{d}/ck/last.safetensors", f"{d}/ck2_last.safetensors", "run.epoch", None)
PY
check_error "$dir/short.wav holds 300 samples (18.8 ms); the recogniser needs at least 400 (25 ms at 16 kHz)" \
  "$speech" transcribe "$dir/short.wav" --checkpoint "$dir/ck/best.safetensors"
check_error "$dir/abc.safetensors: metadata 'channels' is 'abc', not a number" \
  "$speech" transcribe "$dir/corpus/test/000000.wav" --checkpoint "$dir/abc.safetensors"
mkdir -p "$dir/ck2" && mv "$dir/ck2_last.safetensors" "$dir/ck2/last.safetensors"
check_error "$dir/ck2/last.safetensors has no 'run.epoch' in its metadata" \
  "$speech" train --data "$dir/corpus" --epochs 3 --resume --channels 16 --hidden 16 --layers 1 --batch-size 4 \
  --warmup 2 --threads 1 --checkpoint-dir "$dir/ck2"

# The corpus checked when it is read: a copy of the tiny
# corpus's WAVs under edited TSVs.
bad="$dir/bad" && mkdir -p "$bad" && ln -s "$dir/corpus/train" "$dir/corpus/val" "$dir/corpus/test" "$bad/"
cp "$dir/corpus/train.tsv" "$dir/corpus/val.tsv" "$bad/"
first=$(head -n 1 "$dir/corpus/val.tsv" | cut -f 1)
train_bad() {  # train_bad TEXT: training on $bad fails naming TEXT, before any step
  check_error "$1" "$speech" train --data "$bad" --epochs 1 "${tiny[@]}" --checkpoint-dir "$dir/bad_run" --overwrite
}
printf '%s\t%s\tv\n' "$first" "$(printf 'a%.0s' $(seq 400))" >>"$bad/train.tsv"
train_bad "train.tsv:9: the transcript of $bad/$first (400 characters, 799 output frames needed with the blanks between repeated letters) is longer than the audio allows"
cp "$dir/corpus/train.tsv" "$bad/train.tsv"
printf '%s\t\tv\n' "$first" >>"$bad/val.tsv"
train_bad "val.tsv:3: the transcript of $bad/$first is empty: error rates are counted per reference character"
cp "$dir/corpus/val.tsv" "$bad/val.tsv"
check_error "more than --max-seconds 0.1 (a batch pads every utterance to its longest)" \
  "$speech" train --data "$bad" --epochs 1 "${tiny[@]}" --checkpoint-dir "$dir/bad_run" --overwrite --max-seconds 0.1
printf '%s\t%s\tv\n' "$first" "über alles" >>"$bad/train.tsv"
train_bad "train.tsv:9: 'ü' in \"über alles\" is not a character the recogniser writes"
grep -q "speech: speech:" "$dir/error.out" && fail "the prefix is doubled: $(cat "$dir/error.out")"
{ printf '\xef\xbb\xbf'; cat "$dir/corpus/train.tsv"; } >"$bad/train.tsv"  # a byte-order mark, as editors write
"$speech" train --data "$bad" --epochs 1 "${tiny[@]}" --checkpoint-dir "$dir/bom_run" >"$dir/bom.log" 2>&1 ||
  { cat "$dir/bom.log"; fail "a TSV starting with a byte-order mark was refused"; }

# Options out of range are refused before any work.
check_option() {  # check_option TEXT ARGS...: a usage error naming TEXT
  "$speech" "${@:2}" >"$dir/option.out" 2>&1 && fail "accepted: ${*:2}"
  expect "$1" "$dir/option.out"
}
ck="$dir/ck/best.safetensors"
check_error "--beam 100000 is more than --max-beam 100" "$speech" eval --data "$dir/corpus" --beam 100000 --checkpoint "$ck"
check_option "--lm-order: must be between 0 and 20, got 500" eval --data "$dir/corpus" --lm-order 500 --checkpoint "$ck"
check_option "--threads: must be between 1 and 1024, got 100000" eval --data "$dir/corpus" --threads 100000 --checkpoint "$ck"
check_option "--lm-weight: expected a number, got 'nan'" eval --data "$dir/corpus" --lm-weight nan --checkpoint "$ck"
check_option "--lm-bonus: must be between -100 and 100, got inf" eval --data "$dir/corpus" --lm-bonus inf --checkpoint "$ck"
check_option "--limit: must be between 0 and 1000000000000, got -3" eval --data "$dir/corpus" --limit -3 --checkpoint "$ck"
echo "speech CLI: train, resume, eval (+LM), transcribe, serve, errors: ok"
