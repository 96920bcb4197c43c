#!/usr/bin/env python3
"""The page of `translate serve` in a real browser (issue #41): headless
Chromium driven through WebDriver (Debian's chromium and chromium-driver;
the protocol spoken with urllib, nothing from pip). Trains a tiny model,
starts the server on a free port, types a German sentence into the page,
presses the button, and checks that the English answer shown equals the
server's own answer for that sentence and that the attention heatmap drew.
Exits 77 (skipped) when chromium or chromedriver is missing.

    check_serve_browser.py TRANSLATE_BINARY SOURCE_DIR [--checkpoint FILE --sentence TEXT --screenshot PNG]

The optional arguments serve docs/serving.md's picture: a trained model
instead of the tiny one, a sentence of one's own, the page saved as a PNG.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SENTENCE = "ein mann fährt mit dem fahrrad ."


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        fail(f"{method} {url}: {e.code} {e.read().decode(errors='replace')}")


def wait_for(what, condition, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("translate")
    parser.add_argument("source")
    parser.add_argument("--checkpoint")
    parser.add_argument("--sentence", default=SENTENCE)
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    translate, source, sentence = args.translate, args.source, args.sentence
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        print("SKIP: chromium or chromedriver missing (scripts/install-deps.sh installs chromium and chromium-driver)")
        return 77
    work = tempfile.mkdtemp(prefix="tapegrad_serve_browser_")
    processes = []
    try:
        data = os.environ.get("MULTI30K_DIR") or os.path.join(source, "..", "shared", "data", "multi30k")
        if not args.checkpoint and not os.path.exists(os.path.join(data, "train.lc.norm.tok.de.gz")):
            print(f"SKIP: Multi30k not found in {data} (set MULTI30K_DIR)")
            return 77
        checkpoint = args.checkpoint or os.path.join(work, "run", "best.safetensors")
        train = None if args.checkpoint else subprocess.run([translate, "train", "--model", "bahdanau", "--embed", "16", "--hidden", "16",
                                "--limit-train", "400", "--limit-val", "50", "--epochs", "1", "--batch-size", "32", "--threads", "1",
                                "--data-dir", data, "--checkpoint-dir", os.path.join(work, "run")],
                               capture_output=True, text=True)
        if train is not None and train.returncode != 0:
            fail(f"train: {train.stderr}")
        server = subprocess.Popen([translate, "serve", "--checkpoint", checkpoint,
                                   "--port", "0", "--beam", "2", "--threads", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(server)
        line = server.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if not match:
            fail(f"translate serve did not start: {line} {server.stderr.read()}")
        base = match.group(1)
        expected = call("POST", base + "/translate", {"q": sentence})["translatedText"]

        driver_port = free_port()
        chromedriver = subprocess.Popen([driver, f"--port={driver_port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        processes.append(chromedriver)
        webdriver = f"http://127.0.0.1:{driver_port}"
        wait_for("chromedriver", lambda: _ready(webdriver))
        options = {"binary": browser,
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            f"--user-data-dir={os.path.join(work, 'profile')}"]}
        session = call("POST", webdriver + "/session",
                       {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})["value"]["sessionId"]
        s = f"{webdriver}/session/{session}"
        try:
            call("POST", s + "/url", {"url": base + "/"})

            def element(css):
                found = call("POST", s + "/element", {"using": "css selector", "value": css})["value"]
                return next(iter(found.values()))

            box = element("#source")
            call("POST", f"{s}/element/{box}/clear", {})
            call("POST", f"{s}/element/{box}/value", {"text": sentence})
            call("POST", f"{s}/element/{element('#translate')}/click", {})
            output = element("#output")
            shown = wait_for("the translation on the page",
                             lambda: (lambda t: t if t and t != "…" else None)(
                                 call("GET", f"{s}/element/{output}/text")["value"]))
            if shown != expected:
                status = call("GET", f"{s}/element/{element('#status')}/text")["value"]
                fail(f"the page shows {shown!r}, the server answers {expected!r} (status: {status!r})")
            heatmap = element("#heatmap")
            wait_for("the heatmap", lambda: call("GET", f"{s}/element/{heatmap}/attribute/data-drawn")["value"] == "yes")
            width = call("GET", f"{s}/element/{heatmap}/property/width")["value"]
            if width < 100:
                fail(f"the heatmap canvas is {width} pixels wide")
            if args.screenshot:
                call("POST", s + "/window/rect", {"width": 900, "height": 760})
                with open(args.screenshot, "wb") as f:
                    f.write(base64.b64decode(call("GET", s + "/screenshot")["value"]))
        finally:
            call("DELETE", s)
        print(f"browser: typed {sentence!r}, the page showed {shown!r} and drew the heatmap ({width} px wide): ok")
        return 0
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def _ready(webdriver):
    try:
        with urllib.request.urlopen(webdriver + "/status", timeout=2) as r:
            return json.loads(r.read())["value"]["ready"]
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(main())
