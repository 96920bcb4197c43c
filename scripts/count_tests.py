"""Totals a `meson test` run: doctest programs count their test cases, any
other test program counts as one. Prints "N passed, N failed"."""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        ok = test["result"] == "OK"
        summary = re.search(r"test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", test.get("stdout") or "")
        if summary:
            passed += int(summary.group(1))
            failed += int(summary.group(2))
            if not ok and int(summary.group(2)) == 0:
                failed += 1  # crashed or timed out after its summary
        elif ok:
            passed += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
