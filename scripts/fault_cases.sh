#!/usr/bin/env bash
# Fault cases against a built tree, as a reliability engineer runs them:
# trainings of `speech` and `translate` stopped by SIGTERM, SIGINT
# and kill -9 at random moments, then resumed to the end; each end must equal
# an uninterrupted run's, tensor for tensor (bit for bit). Plus a second
# training on a finished run, two at once, and a double signal.
#   scripts/fault_cases.sh BUILD_DIR [ROUNDS]     (needs espeak-ng, sox and Multi30k)
set -uo pipefail
build=$(realpath "$1") rounds=${2:-6}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
speech=$build/examples/speech translate=$build/examples/translate/translate
work=$(mktemp -d /tmp/tapegrad_faults.XXXXXX)
trap 'rm -rf "$work"' EXIT
data=${MULTI30K_DIR:-$source_dir/../shared/data/multi30k}
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }

# Whether two safetensors files hold the same tensors, byte for byte (metadata aside: it holds times).
same_tensors() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return {k: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in header.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
sys.exit(0 if a == b else 1)
PY
}

# run_to_end LOG SIGNAL CMD...: runs CMD (which takes --resume) until it finishes, sending SIGNAL at a
# random moment of each of the first three attempts; `stops` counts the attempts it stopped.
stops=0
run_to_end() {
  local log=$1 sig=$2
  shift 2
  local cmd=("$@") attempt=0 resume=()
  stops=0
  while true; do
    "${cmd[@]}" "${resume[@]}" >>"$log" 2>&1 &
    local pid=$!
    if (( attempt < 3 )); then  # somewhere in the first 90% of an uninterrupted run's time
      sleep "$(python3 -c "import random; print(round(random.uniform(0.05, 0.9) * $reference_seconds, 3))")"
      kill "-$sig" "$pid" 2>/dev/null
    fi
    wait "$pid"
    local status=$?
    attempt=$((attempt + 1))
    # Stopped: saved and said how to resume, or killed (kill -9, or a signal before the handler was installed).
    if { [[ $status -eq 0 ]] && tail -n 3 "$log" | grep -q "resume with:"; } || (( status > 128 )); then
      stops=$((stops + 1))
      resume=(--resume)
      [[ -f "$dir/last.safetensors" ]] || resume=(--overwrite)  # killed before its first save
      continue
    fi
    [[ $status -eq 0 ]] && return 0
    echo "exit status $status"; tail -n 5 "$log"; return 1
  done
}

# --- speech --------------------------------------------------------------------------------------
printf '%s\n' "a dog runs" "a cat sits" "two men walk" "the boy plays ball" "a girl swims" "men ride bikes" \
  "a red car" "the sun is up" "birds fly high" "kids eat cake" "it's raining" "a big tree" >"$work/text.txt"
bash "$source_dir/scripts/synthesize-speech.sh" --tiny --jobs 2 --text "$work/text.txt" "$work/corpus" >/dev/null
speech_common=(train --data "$work/corpus" --layers 1 --batch-size 3 --warmup 2 --threads 1)
speech_args=("${speech_common[@]}" --epochs 150 --channels 48 --hidden 48)
start=$(date +%s.%N)
"$speech" "${speech_args[@]}" --checkpoint-dir "$work/speech_ref" >"$work/speech_ref.log" 2>&1 || { cat "$work/speech_ref.log"; exit 1; }
reference_seconds=$(python3 -c "print($(date +%s.%N) - $start)")
echo "speech: the uninterrupted run takes ${reference_seconds:0:4} s"

for round in $(seq "$rounds"); do
  for sig in TERM INT KILL; do
    dir=$work/speech_${sig}_$round
    if run_to_end "$work/speech_${sig}_$round.log" "$sig" "$speech" "${speech_args[@]}" --checkpoint-dir "$dir" &&
      same_tensors "$dir/last.safetensors" "$work/speech_ref/last.safetensors"; then
      ok "speech: SIG$sig at random moments ($stops stops), resumed to the end: the same parameters and Adam state as the uninterrupted run"
    else
      bad "speech: SIG$sig round $round ($work/speech_${sig}_$round.log)"
    fi
  done
done

# --- translate -----------------------------------------------------------------------------------
translate_common=(train --model cho --batch-size 8 --limit-train 2000 --limit-val 8 --threads 1 --data-dir "$data")
translate_args=("${translate_common[@]}" --epochs 4 --embed 48 --hidden 48)
start=$(date +%s.%N)
"$translate" "${translate_args[@]}" --checkpoint-dir "$work/tr_ref" >"$work/tr_ref.log" 2>&1 || { cat "$work/tr_ref.log"; exit 1; }
reference_seconds=$(python3 -c "print($(date +%s.%N) - $start)")
echo "translate: the uninterrupted run takes ${reference_seconds:0:4} s"

for round in $(seq "$rounds"); do
  for sig in TERM INT KILL; do
    dir=$work/tr_${sig}_$round
    if run_to_end "$work/tr_${sig}_$round.log" "$sig" "$translate" "${translate_args[@]}" --checkpoint-dir "$dir" &&
      same_tensors "$dir/last.safetensors" "$work/tr_ref/last.safetensors"; then
      ok "translate: SIG$sig at random moments ($stops stops), resumed to the end: the same parameters and Adam state as the uninterrupted run"
    else
      bad "translate: SIG$sig round $round ($work/tr_${sig}_$round.log)"
    fi
  done
done

# --- the folder ----------------------------------------------------------------------------------
# Runs long enough to be caught in the middle: a bigger model, many epochs.
long_speech=("$speech" "${speech_common[@]}" --epochs 2000 --channels 192 --hidden 192)  # batches of tens of ms
long_translate=("$translate" "${translate_common[@]}" --epochs 200 --embed 64 --hidden 64)
for program in speech translate; do
  if [[ $program == speech ]]; then cmd=("$speech" "${speech_args[@]}") ref=$work/speech_ref long=("${long_speech[@]}")
  else cmd=("$translate" "${translate_args[@]}") ref=$work/tr_ref long=("${long_translate[@]}"); fi
  sum=$(md5sum <"$ref/last.safetensors")
  if ! "${cmd[@]}" --checkpoint-dir "$ref" >"$work/again.log" 2>&1 && grep -q "holds a run already" "$work/again.log" &&
    [[ $(md5sum <"$ref/last.safetensors") == "$sum" ]]; then
    ok "$program: a second training on a finished run is refused, last unchanged"
  else bad "$program: a second training on a finished run"; fi
  "${long[@]}" --checkpoint-dir "$work/${program}_busy" >"$work/busy1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [[ -s "$work/${program}_busy/.lock" ]] && break; sleep 0.1; done
  sleep 1
  if ! "${cmd[@]}" --checkpoint-dir "$work/${program}_busy" >"$work/busy2.log" 2>&1 && grep -q "another run (pid $pid)" "$work/busy2.log"; then
    ok "$program: two trainings on one folder: the second is refused at once, naming the first's pid"
  else bad "$program: two trainings at once ($(tail -n 2 "$work/busy2.log"))"; fi
  kill -TERM "$pid"; sleep 0.005; kill -TERM "$pid"
  wait "$pid"; status=$?
  if [[ $status -eq 143 ]]; then ok "$program: a second SIGTERM quits at once (status 143)"
  elif [[ $status -eq 0 ]] && grep -q "resume with:" "$work/busy1.log"; then
    echo "skip  $program: the first SIGTERM's stop and save finished before the second arrived (5 ms later)"
  else bad "$program: a double SIGTERM ended with status $status ($(tail -n 2 "$work/busy1.log"))"; fi
done
echo "fault cases: $passed passed, $failed failed"
(( failed == 0 ))
