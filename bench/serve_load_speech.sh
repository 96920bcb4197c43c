#!/usr/bin/env bash
# The load test of `speech serve`: test-voice clips synthesized
# from Multi30k captions (scripts/synthesize-speech.sh), posted one per
# request by 1, 16 and 64 concurrent clients (bench_serve_load --wav-dir),
# against the offline `speech eval` (greedy) of the same clips. Without
# CHECKPOINT it makes one of the recogniser's default size from a single
# training step: the speed does not depend on what the weights learned.
#
#   bash bench/serve_load_speech.sh            # knobs: BUILD_DIR THREADS [2] REQUESTS [2000] CLIPS [100] MAX_BATCH [16] PORT [18081]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}
threads=${THREADS:-2}
requests=${REQUESTS:-2000}
port=${PORT:-18081}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
echo "== processor: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) cores"
bash scripts/synthesize-speech.sh --lines $((${CLIPS:-100} + 20)) --val 10 --test "${CLIPS:-100}" "$work/corpus" >/dev/null
checkpoint=${CHECKPOINT:-}
if [ -z "$checkpoint" ]; then
  "$build/examples/speech" train --data "$work/corpus" --max-steps 1 --epochs 1 --threads "$threads" \
    --checkpoint-dir "$work/run" >/dev/null
  checkpoint="$work/run/last.safetensors"
fi
echo "== offline: speech eval of the ${CLIPS:-100} test clips, greedy, $threads threads"
"$build/examples/speech" eval --data "$work/corpus" --split test --beam 1 --checkpoint "$checkpoint" \
  --threads "$threads" | tee "$work/offline.log" | head -1
read -r clips offline_seconds < <(sed -n 's/^test (\([0-9]*\) utterances, \([0-9.]*\) s).*/\1 \2/p' "$work/offline.log")
offline_rate=$(python3 -c "print(round($clips / $offline_seconds, 2))")
"$build/examples/speech" serve --checkpoint "$checkpoint" --threads "$threads" --port "$port" --http-threads 80 \
  --max-queue 100000 --max-batch "${MAX_BATCH:-16}" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving" "$work/server.log" && break; sleep 0.2; done
grep "serving" "$work/server.log"
for clients in 1 16 64; do
  count=$([ "$clients" = 1 ] && echo 100 || ([ "$clients" = 16 ] && echo $((requests / 4)) || echo "$requests"))
  "$build/bench/bench_serve_load" --port "$port" --wav-dir "$work/corpus/test" --clients "$clients" \
    --requests "$count" --server-pid "$server" | tee -a "$work/load.txt"
done
kill -TERM "$server"
wait "$server" || true
python3 bench/serve_load_table.py "$work/load.txt" "$offline_rate" clips
