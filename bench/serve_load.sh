#!/usr/bin/env bash
# The load test of `translate serve`: with CHECKPOINT under 1, 16, 64
# and 256 concurrent clients, and one client again with 500 idle connections
# held open beside it (bench_serve_load: requests of one to five
# consecutive test_2016_flickr sentences), against the offline `translate
# eval` of the same 1,000 sentences with the same search. Prints one line per
# load and a table: errors, latency p50/p95/p99, sentences/s and its share of
# the offline rate, p99 at 16 clients against one client's, and the server's
# resident memory after the first thousand requests and at the end.
#
#   CHECKPOINT=runs/demo/best.safetensors bash bench/serve_load.sh
#
# Knobs: BUILD_DIR [build]  BEAM [5]  THREADS [2]  REQUESTS [20000] (64 and 256 clients; 16 clients: a quarter,
# one client: 300)  TRANSLATE [$BUILD_DIR/examples/translate/translate: the server, e.g. another build's]
# SERVER_FLAGS [--http-threads 256]  MAX_BATCH [64]  MAX_WAIT_MS [5]  QUANTIZE [none]  PORT [18080]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}
checkpoint=${CHECKPOINT:?CHECKPOINT=path/to/best.safetensors}
beam=${BEAM:-5}
threads=${THREADS:-2}
requests=${REQUESTS:-20000}
port=${PORT:-18080}
data=${MULTI30K_DIR:-../shared/data/multi30k}
text="$data/test_2016_flickr.de.gz"
[ -f "$text" ] || { echo "no $text: set MULTI30K_DIR" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== processor: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) cores"
echo "== offline: translate eval of test_2016_flickr, beam $beam, $threads threads"
"$build/examples/translate/translate" eval --checkpoint "$checkpoint" --src "$text" --ref "$data/test_2016_flickr.en.gz" \
  --beam "$beam" --threads "$threads" --quantize "${QUANTIZE:-none}" --out "$work/offline.en" | tee "$work/offline.log" |
  grep "wrote"
offline_seconds=$(sed -n 's/.*(\([0-9.]*\) s)$/\1/p' "$work/offline.log")
offline_rate=$(python3 -c "print(round(1000 / $offline_seconds, 1))")
echo "offline: 1000 sentences in $offline_seconds s = $offline_rate sent/s"

"${TRANSLATE:-$build/examples/translate/translate}" serve --checkpoint "$checkpoint" --beam "$beam" --threads "$threads" \
  --port "$port" --max-batch "${MAX_BATCH:-64}" --max-wait-ms "${MAX_WAIT_MS:-5}" --quantize "${QUANTIZE:-none}" \
  ${SERVER_FLAGS:---http-threads 256} --max-queue 100000 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving" "$work/server.log" && break; sleep 0.2; done
grep "serving" "$work/server.log"
load() {  # load CLIENTS REQUESTS [IDLE_CONNECTIONS]
  "$build/bench/bench_serve_load" --port "$port" --text "$text" --clients "$1" --requests "$2" --server-pid "$server" \
    --idle-connections "${3:-0}" | tee -a "$work/load.txt"
}
load 1 300
load 16 $((requests / 4))
load 64 "$requests"
load 256 "$requests"
load 1 300 500
kill -TERM "$server"
wait "$server" || true
python3 bench/serve_load_table.py "$work/load.txt" "$offline_rate" sentences
