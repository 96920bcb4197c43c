#!/usr/bin/env python3
"""The page of `speech serve` in a real browser, as
tests/check_speech_cli.sh runs it against its server: headless Chromium
(tests/webdriver.py) opens the page, uploads a synthesized clip through the
file input, and the transcript shown must equal EXPECTED and the alignment
over the spectrogram must draw. Then the recording path: Chromium's fake
microphone plays the same clip, the page records two seconds of it,
resamples them to 16 kHz, sends a WAV, and must show a transcript and draw
its alignment without an error; the page's SubRip subtitles must hold the
transcript. Exits 77 (skipped) without chromium or chromedriver.

    check_speech_page.py URL WAV EXPECTED_TEXT [--screenshot PNG --width PX --height PX]
"""
import os
import sys
import time

from webdriver import Browser, WebDriverError


def main():
    url, wav, expected = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    # Optional: --screenshot PNG [--width PX --height PX] saves the page after the upload (docs/serving.md).
    options = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    if not Browser.available():
        print("SKIP: chromium or chromedriver missing")
        return 77
    try:
        with Browser() as b:
            b.open(url)
            b.type("#clip", wav, clear=False)  # a file input takes the path
            b.wait_for("the alignment", lambda: b.attribute("#alignment", "data-drawn") == "yes")
            shown = b.text("#transcript")
            if shown != expected:
                raise WebDriverError(f"the page shows {shown!r}, expected {expected!r} (status {b.text('#status')!r})")
            # The subtitles it would download: SubRip cues of the same words (or none heard).
            b.wait_for("the subtitles", lambda: b.text("#srt") or b.text("#status"))
            srt = b.text("#srt")
            words = " ".join(line for line in srt.splitlines() if line and not line[0].isdigit())
            if srt != "(no words heard)" and words.split() != expected.split():
                raise WebDriverError(f"the subtitles {srt!r} do not hold the transcript {expected!r}")
            if b.property("#download", "hidden"):
                raise WebDriverError("the .srt download link is hidden")
            if "--screenshot" in options:
                b.screenshot(options["--screenshot"], width=int(options.get("--width", 900)),
                             height=int(options.get("--height", 760)))
        microphone = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                      f"--use-file-for-fake-audio-capture={wav}"]
        with Browser(microphone) as b:
            b.open(url)
            b.click("#record")
            b.wait_for("the recording to start", lambda: b.text("#record") == "Stop" or b.text("#status"), 20)
            if b.text("#status"):
                raise WebDriverError(f"recording did not start: {b.text('#status')!r}")
            time.sleep(2)
            b.click("#record")
            b.wait_for("the recorded clip's alignment", lambda: b.attribute("#alignment", "data-drawn") == "yes"
                       or b.text("#status"))
            if b.text("#status"):
                raise WebDriverError(f"the recorded clip was refused: {b.text('#status')!r}")
            recorded = b.text("#transcript")
    except WebDriverError as e:
        print(f"FAIL: {e}")
        return 1
    print(f"speech page: uploaded {os.path.basename(wav)}, read {shown!r}, drew the alignment; recorded 2 s from "
          f"a fake microphone, read {recorded!r}, drew its alignment: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
