#!/usr/bin/env python3
"""Our servers as clients that others wrote meet them: the npm packages
tests/clients/package.json pins (three LibreTranslate clients, OpenAI's
SDK), installed by scripts/install-clients.sh, driven by
tests/clients/check_clients.mjs against `translate serve` (a tiny model
trained here on Multi30k) and `speech serve` (a tiny recogniser trained on a
tiny synthesized corpus, sent a clip resampled to 48 kHz stereo FLAC).
Prints each client's checks and exits 1 if one fails; exits 77 (skipped),
saying why, when node, the installed clients or Multi30k are missing. The
speech half is left out (said) without espeak-ng or sox.

    check_clients.py TRANSLATE_BINARY SPEECH_BINARY SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile


def start(command, log_dir, name):
    out = open(os.path.join(log_dir, name + ".out"), "w")
    err = open(os.path.join(log_dir, name + ".err"), "w")
    server = subprocess.Popen(command, stdout=out, stderr=err)
    for _ in range(600):
        text = open(out.name).read()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", text)
        if match:
            return server, match.group(1)
        if server.poll() is not None:
            break
        subprocess.run(["sleep", "0.1"])
    server.kill()
    raise RuntimeError(f"{name} did not start: {open(err.name).read()}")


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{what}: {result.stdout}{result.stderr}")


def main():
    translate, speech, source = sys.argv[1:4]
    clients = os.path.join(source, "tests", "clients")
    if not shutil.which("node"):
        print("SKIP: client not installed: node missing (scripts/install-clients.sh installs Debian's nodejs and npm)")
        return 77
    if not os.path.isdir(os.path.join(clients, "node_modules")):
        print("SKIP: client not installed: tests/clients/node_modules missing (scripts/install-clients.sh)")
        return 77
    data = os.environ.get("MULTI30K_DIR") or os.path.join(source, "..", "shared", "data", "multi30k")
    if not os.path.exists(os.path.join(data, "train.lc.norm.tok.de.gz")):
        print(f"SKIP: Multi30k not found in {data} (set MULTI30K_DIR)")
        return 77
    work = tempfile.mkdtemp(prefix="tapegrad_clients_")
    servers = []
    try:
        run([translate, "train", "--model", "bahdanau", "--embed", "16", "--hidden", "16", "--limit-train", "400",
             "--limit-val", "50", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--data-dir", data,
             "--checkpoint-dir", os.path.join(work, "translate")], "translate train")
        server, translate_url = start([translate, "serve", "--checkpoint", os.path.join(work, "translate", "best.safetensors"),
                                       "--port", "0", "--beam", "3", "--threads", "1", "--data-dir", data], work, "translate")
        servers.append(server)
        node = ["node", os.path.join(clients, "check_clients.mjs"), "--translate", translate_url]
        if shutil.which("espeak-ng") and shutil.which("sox"):
            text = os.path.join(work, "text.txt")
            with open(text, "w") as f:
                f.write("\n".join(["a dog runs", "a cat sits", "two men walk", "the boy plays ball", "a girl swims",
                                   "men ride bikes", "a red car", "the sun is up", "birds fly high", "kids eat cake"]) + "\n")
            run(["bash", os.path.join(source, "scripts", "synthesize-speech.sh"), "--tiny", "--jobs", "2", "--text", text,
                 os.path.join(work, "corpus")], "synthesize-speech.sh --tiny")
            run([speech, "train", "--data", os.path.join(work, "corpus"), "--epochs", "2", "--channels", "16", "--hidden",
                 "16", "--layers", "1", "--batch-size", "4", "--warmup", "2", "--threads", "1", "--checkpoint-dir",
                 os.path.join(work, "speech")], "speech train")
            clip = os.path.join(work, "clip.flac")  # not what the model was trained on: 48 kHz, two channels, FLAC
            run(["sox", os.path.join(work, "corpus", "test", "000000.wav"), "-r", "48000", "-c", "2", clip], "sox")
            server, speech_url = start([speech, "serve", "--checkpoint", os.path.join(work, "speech", "best.safetensors"),
                                        "--port", "0", "--threads", "1", "--api-key", "sk-local"], work, "speech")
            servers.append(server)
            node += ["--speech", speech_url, "--speech-key", "sk-local", "--wav", clip, "--wav-text", "a dog runs"]
        else:
            print("speech half left out: espeak-ng or sox missing")
        result = subprocess.run(node, capture_output=True, text=True, timeout=600)
        checks = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        for c in checks:
            got = c["got"] if isinstance(c["got"], str) else json.dumps(c["got"])
            print(f"{'ok  ' if c['ok'] else 'FAIL'} {c['client']}: {c['check']}: {got[:200]}"
                  + ("" if c["ok"] else f" (expected {c['expected']})"))
        if result.stderr:
            print(result.stderr[-3000:])
        passed = sum(c["ok"] for c in checks)
        print(f"{passed} of {len(checks)} client checks passed")
        return 0 if checks and passed == len(checks) and result.returncode == 0 else 1
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"FAIL: {error}")
        return 1
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
