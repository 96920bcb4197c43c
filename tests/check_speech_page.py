#!/usr/bin/env python3
"""The page of `speech serve` in a real browser (issue #41), as
tests/check_speech_cli.sh runs it against its server: headless Chromium
(tests/webdriver.py) opens the page, uploads a synthesized clip through the
file input, and the transcript shown must equal EXPECTED and the alignment
over the spectrogram must draw. Exits 77 (skipped) without chromium or chromedriver.

    check_speech_page.py URL WAV EXPECTED_TEXT
"""
import os
import sys

from webdriver import Browser, WebDriverError


def main():
    url, wav, expected = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
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
    except WebDriverError as e:
        print(f"FAIL: {e}")
        return 1
    print(f"speech page: uploaded {os.path.basename(wav)}, read {shown!r}, drew the alignment: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
