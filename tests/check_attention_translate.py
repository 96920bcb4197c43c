"""Runs examples/attention_translate for a few steps of a tiny model on the
first pairs of Multi30k and checks what it prints: the data and model lines,
a loss line per logged step with the loss falling, the sample translations
and the BLEU line. Exits 77 (skipped) when Multi30k is not there.

    python3 tests/check_attention_translate.py PROGRAM SOURCE_ROOT
"""
import os
import re
import subprocess
import sys


def main():
    program, source_root = sys.argv[1], sys.argv[2]
    # As the programs (data/text/multi30k_dir.h): $MULTI30K_DIR (scripts/test.sh sets it to the shared copy
    # beside the checkout), else the download cache.
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    data_dir = os.environ.get("MULTI30K_DIR") or os.path.join(cache, "tapegrad", "multi30k")
    if not os.path.exists(os.path.join(data_dir, "train.lc.norm.tok.de.gz")):
        print(f"SKIP: Multi30k not found in '{data_dir}' (set MULTI30K_DIR)")
        return 77
    args = [program, "--data-dir", data_dir, "--train-limit", "2000", "--embed", "32", "--hidden", "32",
            "--steps", "30", "--batch-size", "32", "--log-every", "10", "--eval-limit", "100", "--threads", "2"]
    run = subprocess.run(args, capture_output=True, text=True)
    print(" ".join(args))
    print(run.stdout, run.stderr, sep="")
    if run.returncode != 0:
        print(f"FAIL: exit status {run.returncode}, expected 0")
        return 1
    expected = [r"^data: \d+ training pairs", r"^model: E 32, H 32, \d+ parameters",
                r"^  mt  ", r"^val BLEU \(greedy, 100 sentences\): BLEU = \d+\.\d\d, "]
    missing = [e for e in expected if not re.search(e, run.stdout, re.MULTILINE)]
    losses = [float(x) for x in re.findall(r"^step \d+/30 .* loss (\d+\.\d+)", run.stdout, re.MULTILINE)]
    if missing:
        print(f"FAIL: no line matching {missing}")
        return 1
    if len(losses) != 3 or not losses[-1] < losses[0]:
        print(f"FAIL: expected 3 loss lines with the loss falling, got {losses}")
        return 1
    print(f"ok: loss {losses[0]} -> {losses[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
