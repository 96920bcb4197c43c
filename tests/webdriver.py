"""A WebDriver client in the standard library (urllib), enough for the page
tests: headless Chromium through Debian's chromedriver, elements by CSS
selector, typing, clicking, files, text, attributes, screenshots.

    with Browser() as b:            # None where chromium or chromedriver is missing: Browser.available()
        b.open(url); b.type("#source", "ein hund"); b.click("#translate"); b.text("#output")
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


class WebDriverError(Exception):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, timeout=60):
    """JSON over HTTP; an error status raises WebDriverError with the answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        raise WebDriverError(f"{method} {url}: {e.code} {e.read().decode(errors='replace')}") from None


class Browser:
    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)  # more Chromium switches (a fake microphone)

    @staticmethod
    def available():
        return shutil.which("chromium") is not None and shutil.which("chromedriver") is not None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="tapegrad_chromium_")
        port = _free_port()
        self.driver = subprocess.Popen([shutil.which("chromedriver"), f"--port={port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        self.wait_for("chromedriver", lambda: self._ready(base), seconds=30)
        options = {"binary": shutil.which("chromium"),
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            f"--user-data-dir={self.profile}"] + self.extra_args}
        session = call("POST", base + "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.session = f"{base}/session/{session['value']['sessionId']}"
        return self

    def __exit__(self, *_):
        try:
            call("DELETE", self.session)
        except (WebDriverError, OSError):
            pass
        self.driver.terminate()
        self.driver.wait(timeout=20)
        shutil.rmtree(self.profile, ignore_errors=True)

    @staticmethod
    def _ready(base):
        try:
            with urllib.request.urlopen(base + "/status", timeout=2) as r:
                return json.loads(r.read())["value"]["ready"]
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    @staticmethod
    def wait_for(what, condition, seconds=60):
        end = time.time() + seconds
        while time.time() < end:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        raise WebDriverError(f"timed out waiting for {what}")

    def open(self, url):
        call("POST", self.session + "/url", {"url": url})

    def element(self, css):
        found = call("POST", self.session + "/element", {"using": "css selector", "value": css})["value"]
        return f"{self.session}/element/{next(iter(found.values()))}"

    def type(self, css, text, clear=True):
        e = self.element(css)
        if clear:
            call("POST", e + "/clear", {})
        call("POST", e + "/value", {"text": text})

    def click(self, css):
        call("POST", self.element(css) + "/click", {})

    def text(self, css):
        return call("GET", self.element(css) + "/text")["value"]

    def attribute(self, css, name):
        return call("GET", f"{self.element(css)}/attribute/{name}")["value"]

    def property(self, css, name):
        return call("GET", f"{self.element(css)}/property/{name}")["value"]

    def screenshot(self, path, width=900, height=760):
        call("POST", self.session + "/window/rect", {"width": width, "height": height})
        with open(path, "wb") as f:
            f.write(base64.b64decode(call("GET", self.session + "/screenshot")["value"]))
