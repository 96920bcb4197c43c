"""Totals a `meson test` run: doctest programs count their test cases, any
other test program counts as one. A program that reports itself skipped
(exit code 77, e.g. the CUDA suites without a GPU) counts neither way and
gets a line "1 skipped: <name> (<its SKIP line>)" before the total.
The last line is always "N passed, N failed"."""
import json
import re
import sys

passed = failed = 0
skipped = []
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        stdout = test.get("stdout") or ""
        if test["result"] == "SKIP":
            reason = next((l.strip() for l in stdout.splitlines() if l.startswith("SKIP:")), "no reason given")
            skipped.append(f"1 skipped: {test['name']} ({reason})")
            continue
        ok = test["result"] == "OK"
        summary = re.search(r"test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", stdout)
        if summary:
            passed += int(summary.group(1))
            failed += int(summary.group(2))
            if not ok and int(summary.group(2)) == 0:
                failed += 1  # crashed or timed out after its summary
        elif ok:
            passed += 1
        else:
            failed += 1
for line in skipped:
    print(line)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
