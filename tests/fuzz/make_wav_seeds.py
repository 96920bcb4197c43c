"""Writes fuzz_wav's seed inputs into a folder: a 16-bit PCM WAV, the same cut
short (its data chunk claims more than the file holds), a 32-bit float WAV,
and a float WAV holding a NaN. Made here, not committed: the project commits
no audio (speech data comes from scripts/synthesize-speech.sh).

    python3 tests/fuzz/make_wav_seeds.py FOLDER
"""
import math
import os
import struct
import sys


def wav(format_tag, bits, payload):
    block = bits // 8
    fmt = struct.pack("<IHHIIHH", 16, format_tag, 1, 16000, 16000 * block, block, bits)
    return b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVE" + b"fmt " + fmt + \
        b"data" + struct.pack("<I", len(payload)) + payload


def main(folder):
    pcm = wav(1, 16, b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(64)))
    floats = [0, 0.5, -0.5, 1.5, 0.1, 0.2, 0.3, 0.4]
    seeds = {
        "pcm16_64.wav": pcm,
        "pcm16_cut.wav": pcm[:80],
        "float_8.wav": wav(3, 32, b"".join(struct.pack("<f", v) for v in floats)),
        "float_nan.wav": wav(3, 32, b"".join(struct.pack("<f", v) for v in [0, float("nan"), 0.25, 0])),
    }
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
