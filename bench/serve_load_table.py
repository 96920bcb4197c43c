#!/usr/bin/env python3
"""The table of a load test (bench/serve_load.sh, bench/serve_load_speech.sh):
bench_serve_load's result lines, one per client count, against the offline rate.

    serve_load_table.py LOAD_LINES OFFLINE_RATE UNIT      (UNIT: sentences or clips)
"""
import re
import sys

rows = [dict(re.findall(r"(\w+)=([\d.]+)", line)) for line in open(sys.argv[1])]
offline, unit = float(sys.argv[2]), sys.argv[3]
print(f"\n| clients | idle connections | requests | errors | p50 ms | p95 ms | p99 ms | {unit}/s | of offline | "
      "RSS after 1,000 / at the end (MB) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['clients']} | {r.get('idle', '0')} | {r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
          f"{r['items_per_s']} | {float(r['items_per_s']) / offline:.2f} | {r['rss_first_mb']} / {r['rss_last_mb']} |")
one = next(r for r in rows if r["clients"] == "1" and r.get("idle", "0") == "0")
sixteen = next(r for r in rows if r["clients"] == "16")
print(f"\np99 at 16 clients / p50 at one client: {float(sixteen['p99_ms']) / float(one['p50_ms']):.2f}, "
      f"/ p99 at one client: {float(sixteen['p99_ms']) / float(one['p99_ms']):.2f}; offline {offline} {unit}/s")
idle = [r for r in rows if r["clients"] == "1" and r.get("idle", "0") != "0"]
if idle:
    print(f"one client beside {idle[0]['idle']} idle connections: p50 {float(idle[0]['p50_ms']) / float(one['p50_ms']):.2f}x, "
          f"p99 {float(idle[0]['p99_ms']) / float(one['p99_ms']):.2f}x the p50 and p99 without them")
