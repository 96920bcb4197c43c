#!/usr/bin/env python3
"""The page of `translate serve` in a real browser: headless
Chromium driven through WebDriver (tests/webdriver.py; Debian's chromium and
chromium-driver). Trains a tiny model, starts the server on a free port,
types a German sentence into the page, presses the button, and checks that
the English answer shown equals the server's own answer for that sentence
and that the attention heatmap drew. Exits 77 (skipped) when chromium or
chromedriver is missing.

    check_serve_browser.py TRANSLATE_BINARY SOURCE_DIR [--checkpoint FILE --sentence TEXT --screenshot PNG
                                                       --width PX --height PX]

The optional arguments serve docs/serving.md's picture: a trained model
instead of the tiny one, a sentence of one's own, the page saved as a PNG.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from webdriver import Browser, WebDriverError, call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("translate")
    parser.add_argument("source")
    parser.add_argument("--checkpoint")
    parser.add_argument("--sentence", default="ein mann fährt mit dem fahrrad .")
    parser.add_argument("--screenshot")
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=760)
    args = parser.parse_args()
    if not Browser.available():
        print("SKIP: chromium or chromedriver missing (scripts/install-deps.sh installs chromium and chromium-driver)")
        return 77
    data = os.environ.get("MULTI30K_DIR") or os.path.join(args.source, "..", "shared", "data", "multi30k")
    if not args.checkpoint and not os.path.exists(os.path.join(data, "train.lc.norm.tok.de.gz")):
        print(f"SKIP: Multi30k not found in {data} (set MULTI30K_DIR)")
        return 77
    work = tempfile.mkdtemp(prefix="tapegrad_serve_browser_")
    server = None
    try:
        checkpoint = args.checkpoint or os.path.join(work, "run", "best.safetensors")
        if not args.checkpoint:
            train = subprocess.run([args.translate, "train", "--model", "bahdanau", "--embed", "16", "--hidden", "16",
                                    "--limit-train", "400", "--limit-val", "50", "--epochs", "1", "--batch-size", "32",
                                    "--threads", "1", "--data-dir", data, "--checkpoint-dir", os.path.join(work, "run")],
                                   capture_output=True, text=True)
            if train.returncode != 0:
                raise WebDriverError(f"train: {train.stderr}")
        server = subprocess.Popen([args.translate, "serve", "--checkpoint", checkpoint, "--port", "0", "--beam", "2",
                                   "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if not match:
            raise WebDriverError(f"translate serve did not start: {line} {server.stderr.read()}")
        base = match.group(1)
        expected = call("POST", base + "/translate", {"q": args.sentence})["translatedText"]
        with Browser() as b:
            b.open(base + "/")
            b.type("#source", args.sentence)
            b.click("#translate")
            shown = b.wait_for("the translation on the page", lambda: (lambda t: t if t and t != "…" else None)(
                b.text("#output")))
            if shown != expected:
                raise WebDriverError(f"the page shows {shown!r}, the server answers {expected!r} "
                                     f"(status: {b.text('#status')!r})")
            b.wait_for("the heatmap", lambda: b.attribute("#heatmap", "data-drawn") == "yes")
            # What the page took from the server: its languages, its character limit; the copy button shown.
            count = b.text("#count")
            if count != f"{len(args.sentence)} / 50000 characters":
                raise WebDriverError(f"the character count reads {count!r}")
            options = b.property("#source-language", "length")
            if options != 3:  # detect, German, English
                raise WebDriverError(f"the source language list has {options} options, expected 3")
            if b.property("#copy", "hidden"):
                raise WebDriverError("the copy button is hidden after a translation")
            width = b.property("#heatmap", "width")
            if width < 100:
                raise WebDriverError(f"the heatmap canvas is {width} pixels wide")
            if args.screenshot:
                b.screenshot(args.screenshot, width=args.width, height=args.height)
        print(f"browser: typed {args.sentence!r}, the page showed {shown!r} and drew the heatmap ({width} px wide): ok")
        return 0
    except WebDriverError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
