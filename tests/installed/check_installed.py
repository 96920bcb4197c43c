#!/usr/bin/env python3
"""tapegrad as a user meets it: installed, then built against with pkg-config alone.

  check_installed.py BUILD_DIR SOURCE_DIR [--jobs N] [--keep]

1. `meson install --destdir` into a temporary folder; pkg-config then reads the
   installed .pc files (PKG_CONFIG_SYSROOT_DIR maps their paths into it).
2. Every installed header compiled alone (`#include <X>` in an empty file),
   with nothing but the union of the installed packages' --cflags: a header
   that includes one not installed, or misses an include of its own, fails by
   name.
3. Programs users write or copy, compiled with `pkg-config --cflags --libs`
   of the packages they use and run: the README's first program (fit.cpp,
   taken from README.md), every tutorial program and exercise solution, the
   custom-model example (examples/classifier), xor_mlp, one program of the
   text library (examples/bleu) and one of the audio library
   (tests/installed/audio_tone.cpp). A missing `Requires:` shows as an
   undefined reference at link time.

Prints one line per failure and ends with "N passed, N failed" (exit 1 on
any failure)."""
import argparse
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

# (name, sources relative to SOURCE_DIR, packages, arguments, text the output must hold)
# "{run}" in an argument is the program's own run folder.
PROGRAMS = [
    ("fit (README)", ["README.md#fit.cpp"], ["tapegrad"], [], "w = "),
    ("classifier", ["examples/classifier/main.cpp"], ["tapegrad"], ["--checkpoint", "{run}/classifier.safetensors"], ""),
    ("xor_mlp", ["examples/xor_mlp/main.cpp"], ["tapegrad"], [], ""),
    ("bleu (tapegrad-text)", ["examples/bleu/main.cpp"], ["tapegrad-text"],
     ["--ref", "{run}/ref.txt", "--hyp", "{run}/ref.txt"], "BLEU = 100.00"),
    ("audio_tone (tapegrad-audio)", ["tests/installed/audio_tone.cpp"], ["tapegrad-audio"], ["{run}/tone.wav"], ""),
]
TUTORIAL_PACKAGES = {"05_training.cpp": ["tapegrad", "tapegrad-text"],  # the rest: tapegrad alone
                     "07_convolution.cpp": ["tapegrad", "zlib"]}
# Chapter 7 reads Fashion-MNIST with the fashion_mnist example's reader (which uses zlib).
TUTORIAL_SOURCES = {"07_convolution.cpp": ["examples/fashion_mnist/idx.cpp"]}


def run(cmd, timeout=600, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, e.stdout or "", f"timed out after {timeout} s")


def first_error(text, limit=3):
    lines = [l for l in text.splitlines() if "error" in l or "undefined reference" in l] or text.splitlines()
    return " | ".join(lines[:limit])[:600]


def readme_program(source, name):
    """The code block of README.md that starts with '// fit.cpp'."""
    text = (source / "README.md").read_text()
    match = re.search(r"```cpp\n(// " + re.escape(name) + r".*?)```", text, re.S)
    if not match:
        raise SystemExit(f"check_installed: README.md has no ```cpp block starting with // {name}")
    return match.group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("source")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="leave the install and programs in place")
    args = parser.parse_args()
    source = pathlib.Path(args.source).resolve()
    build = pathlib.Path(args.build).resolve()
    compiler = os.environ.get("CXX", "g++")
    work = pathlib.Path(tempfile.mkdtemp(prefix="tapegrad-installed-"))
    root = work / "root"
    failures, passed = [], 0
    try:
        installed = run(["meson", "install", "-C", str(build), "--no-rebuild", "--destdir", str(root), "--quiet"])
        if installed.returncode != 0:
            print(f"FAILED install: meson install: {first_error(installed.stdout + installed.stderr)}")
            print("0 passed, 1 failed")
            return 1
        pc_files = sorted(root.rglob("pkgconfig/tapegrad.pc"))
        if not pc_files:
            print("FAILED install: no tapegrad.pc installed")
            print("0 passed, 1 failed")
            return 1
        libdir = pc_files[0].parent.parent
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc_files[0].parent), PKG_CONFIG_SYSROOT_DIR=str(root),
                   LD_LIBRARY_PATH=str(libdir) + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
        env.pop("PKG_CONFIG_LIBDIR", None)
        packages = sorted(p.stem for p in pc_files[0].parent.glob("tapegrad*.pc"))

        def pkg_config(flags, names):
            r = run(["pkg-config", *flags, *names], env=env)
            if r.returncode != 0:
                raise RuntimeError(f"pkg-config {' '.join(flags + names)}: {r.stderr.strip()}")
            return r.stdout.split()

        all_cflags = pkg_config(["--cflags"], packages)
        include_root = next(pathlib.Path(f[2:]) for f in all_cflags if f.startswith("-I") and f.endswith("/tapegrad"))
        headers = sorted(str(h.relative_to(include_root)) for h in include_root.rglob("*.h"))

        def check_header(header):
            r = run([compiler, "-std=c++20", "-fsyntax-only", "-x", "c++", "-", *all_cflags],
                    input=f"#include <{header}>\n", env=env, cwd=work)
            return f"header {header}", r.returncode == 0, first_error(r.stderr)

        def check_program(program):
            name, sources, needs, arguments, expect = program
            folder = work / re.sub(r"[^A-Za-z0-9_]+", "_", name)
            folder.mkdir()
            files = []
            for s in sources:
                if "#" in s:  # a code block of a document
                    doc, block = s.split("#")
                    path = folder / block
                    path.write_text(readme_program(source, block))
                    files.append(str(path))
                else:
                    files.append(str(source / s))
            (folder / "ref.txt").write_text("a man rides a bicycle on the street .\ntwo dogs play in the snow .\n")
            try:
                flags = pkg_config(["--cflags", "--libs"], needs)
            except RuntimeError as e:
                return f"program {name}", False, str(e)
            binary = folder / "program"
            r = run([compiler, "-std=c++20", "-O1", *files, "-o", str(binary), *flags], env=env, cwd=folder)
            if r.returncode != 0:
                return f"program {name} (build)", False, first_error(r.stderr)
            r = run([str(binary), *[a.format(run=folder) for a in arguments]], env=env, cwd=folder, timeout=300)
            output = r.stdout + r.stderr
            ok = r.returncode == 0 and expect in output
            why = f"exit {r.returncode}: {first_error(output)}" if r.returncode else f"output lacks {expect!r}"
            return f"program {name}", ok, "" if ok else why

        programs = list(PROGRAMS)
        for path in sorted((source / "examples/tutorial").rglob("*.cpp")):
            programs.append((f"tutorial {path.relative_to(source / 'examples/tutorial')}",
                             [str(path.relative_to(source)), *TUTORIAL_SOURCES.get(path.name, [])],
                             TUTORIAL_PACKAGES.get(path.name, ["tapegrad"]), [], ""))

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(check_header, headers)) + list(pool.map(check_program, programs))
        for what, ok, why in results:
            if ok:
                passed += 1
            else:
                failures.append(what)
                print(f"FAILED {what}: {why}")
        print(f"{len(headers)} installed headers, {len(programs)} programs, against {', '.join(packages)} "
              f"installed under {root}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
