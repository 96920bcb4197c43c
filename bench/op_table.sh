#!/usr/bin/env bash
# The small-op table: bench_op_overhead --table and its PyTorch twin
# (bench/op_overhead.py --table, Debian's /usr/bin/python3) in the same run,
# at THREADS (default 1), and a markdown table of microseconds per call and
# tapegrad / PyTorch (below 1: tapegrad is faster).
#
#   bash bench/op_table.sh
#
# Knobs: BUILD_DIR [build]  THREADS [1]  STEPS [200]  REPS [7]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}
threads=${THREADS:-1}
args=(--table --threads "$threads" --steps "${STEPS:-200}" --reps "${REPS:-7}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== processor: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $threads thread(s); $(date -u +%F)"
"$build/bench/bench_op_overhead" "${args[@]}" | tee "$work/tapegrad.txt"
/usr/bin/python3 bench/op_overhead.py "${args[@]}" | tee "$work/pytorch.txt"
python3 - "$work/tapegrad.txt" "$work/pytorch.txt" <<'PY'
import sys
def read(path):
    rows = {}
    for line in open(path):
        f = dict(x.split("=", 1) for x in line.split()[1:])
        rows[(f["op"], int(f["size"]), int(f["grad"]))] = float(f["us"])
    return rows
ours, theirs = read(sys.argv[1]), read(sys.argv[2])
print("\n| op | size | grad | tapegrad µs | PyTorch µs | ratio |\n|---|---|---|---|---|---|")
for key in ours:
    op, size, grad = key
    print(f"| {op} | {size} | {'yes' if grad else 'no'} | {ours[key]:.2f} | {theirs[key]:.2f} | {ours[key] / theirs[key]:.2f} |")
over = sum(ours[k] > theirs[k] for k in ours)
print(f"\n{over} of {len(ours)} rows slower than PyTorch")
PY
