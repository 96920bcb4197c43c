"""Checks every #include of the library against the layer table
(docs/layers.md): a header or source file of a layer may include only the
layers that the table lets it use. Prints one line per wrong-way include,
naming file:line, the include and the rule broken, and exits 1 if any.

    python3 tests/layering/check_includes.py SOURCE_ROOT
"""
import fnmatch
import os
import re
import sys

# layer -> the layers its files may include (each includes itself). A layer
# is a top folder, or a folder under backends/ or data/: each backend is a
# layer of its own, so that the engine (core) includes no backend and no
# backend includes another; each data library too, so that a program links
# only the one it uses.
# The engine's layers (libtapegrad), which tapegrad.h gathers (signals/ through
# train/harness.h's install_stop_signals).
ENGINE = {"core", "io", "ops", "nn", "optim", "train", "signals"}
MAY_INCLUDE = {
    "core": {"core"},
    "io": {"core", "io"},  # files: safetensors, CRC-32, whole text files
    "backends/reference": {"core", "backends/reference"},
    "backends/cpu": {"core", "backends/cpu"},
    "backends/cuda": {"core", "backends/cuda"},
    # The fused kernel families (kernels/<family>/): checks, tables, reference
    # bodies; a family's cpu and CUDA bodies are part of those backends
    # (BACKEND_BODIES below).
    "kernels": {"core", "kernels"},
    "ops": {"core", "kernels", "ops"},
    "nn": {"core", "ops", "io", "nn"},
    "optim": {"core", "kernels", "optim"},
    "signals": {"signals"},  # stop signals, beneath train and serve
    "train": {"core", "io", "ops", "nn", "optim", "signals", "train"},
    "data/text": {"core", "data/text"},  # the text library (tapegrad-text)
    "data/audio": {"core", "data/audio"},  # the audio library (tapegrad-audio)
    "distributed": {"core", "distributed"},  # data-parallel training across processes (MPI)
    "plot": {"core", "plot"},  # SVG charts (training curve, attention alignment)
    "serve": {"core", "signals", "serve"},  # HTTP serving: routes, limits, batching, serving until a stop signal
    # The applications (apps/<app>/): each on the engine, the data library it reads and the shared
    # layers it needs; no app includes another.
    "apps/translate": ENGINE | {"data/text", "distributed", "serve", "plot", "apps/translate", "tapegrad.h", "tapegrad_text.h"},
    "apps/speech": ENGINE | {"data/audio", "serve", "plot", "apps/speech", "tapegrad.h", "tapegrad_audio.h"},
    "apps/language_model": ENGINE | {"data/text", "distributed", "apps/language_model", "tapegrad.h", "tapegrad_text.h"},
    "apps/time_series": ENGINE | {"data/text", "apps/time_series", "tapegrad.h", "tapegrad_text.h"},
}
# The programs (examples/): the engine and data libraries as installed, the
# layers programs share (distributed runs, serving, charts), their own
# helpers (examples/*.h), and an application only through its public header
# apps/<app>/<app>.h.
EXAMPLES_MAY_INCLUDE = ENGINE | {"kernels", "data/text", "data/audio", "distributed", "serve", "plot", "examples"}
# The umbrella headers at the root, one per installed library.
UMBRELLAS = {
    "tapegrad.h": {"core", "io", "ops", "nn", "optim", "train"},
    "tapegrad_text.h": {"core", "data/text"},
    "tapegrad_audio.h": {"core", "data/audio"},
    "tapegrad_kernels.h": {"core", "kernels", "backends/cpu", "backends/reference", "tapegrad.h"},
}
# Third-party headers that belong to one part of a layer only: file name
# prefix -> the files (path prefixes, or fnmatch patterns) that may include it.
PRIVATE_SYSTEM_HEADERS = {
    "cblas.h": ("backends/cpu/",),  # OpenBLAS: the cpu backend
    "openblas": ("backends/cpu/",),
    "cuda": ("backends/cuda/", "kernels/*_cuda.cu"),  # CUDA runtime: the cuda backend and the families' *_cuda.cu bodies
    "cublas": ("backends/cuda/",),
    "dlfcn.h": ("core/dispatch/device_module.cpp",),  # dlopen: device modules are loaded there only
    "zlib.h": ("data/text/",),  # gzip corpora: the text library
    "sentencepiece": ("data/text/subword.cpp",),  # SentencePiece: subword vocabularies, behind data/text/subword.h
    "sndfile.h": ("data/audio/audio_file.cpp",),  # libsndfile: audio files, behind data/audio/audio_file.h
    "fftw3.h": ("data/audio/fft.cpp",),  # FFTW: the spectra of data/audio/features.h and augment.h
    "httplib.h": ("tests/", "bench/"),  # cpp-httplib's client: tests and the load benchmark only (serve/ has its own server)
}
# A family's backend bodies, by file name suffix: they sit in kernels/ beside
# their family but belong to a backend, so they may include it too.
BACKEND_BODIES = {
    "_cpu.cpp": {"core", "kernels", "backends/cpu"},
    "_cuda.cu": {"core", "kernels", "backends/cuda"},
}
# Inside core, the engine's own order, lowest first: a core file may include
# core files of its level or below. A file is named by its stem, or by its
# name where a header and its source sit at different levels (a declaration
# below the tape, its definition above it).
# Inside core/, one folder a role, lowest first: a file includes its own
# folder and the folders before it, never one after it.
CORE_FOLDERS = [
    "services",  # knows no tensor: errors, the op profiler, generators, the host allocator, threads
    "types",     # the values a tensor is made of: dtype, shape, device, view, scalar
    "dispatch",  # backends, their registry, device modules, kernel tables and checks, the primitives
    "tensor",    # storage, Tensor and its gradient slot, creation, printing, computing without the tape
    "autograd",  # the tape and what backward keeps and writes
]


def core_folder(path):
    """The level of a core file (its folder's place in CORE_FOLDERS), or None outside them."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "core" or parts[1] not in CORE_FOLDERS:
        return None
    return CORE_FOLDERS.index(parts[1])


SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".inl")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def layer_of(path):
    """The layer a path (relative to the root, "/"-separated) belongs to: the
    longest layer name that is a folder prefix of it, else its top folder."""
    best = None
    for layer in MAY_INCLUDE:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best if best is not None else path.split("/")[0]


def layer_files(root):
    for layer in MAY_INCLUDE:
        top = os.path.join(root, layer)
        for folder, _, names in os.walk(top):
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES):
                    path = os.path.relpath(os.path.join(folder, name), root)
                    path = path.replace(os.sep, "/")
                    allowed = MAY_INCLUDE[layer]
                    if layer == "kernels":
                        for suffix, backend_allowed in BACKEND_BODIES.items():
                            if path.endswith(suffix):
                                allowed = backend_allowed
                    yield path, allowed
    for name, allowed in UMBRELLAS.items():
        if os.path.exists(os.path.join(root, name)):
            yield name, allowed


def included_layer(root, path, target):
    """The layer an #include "target" in `path` names, or the root file's name."""
    here = os.path.dirname(path)
    if "/" not in target and here and os.path.exists(os.path.join(root, here, target)):
        return layer_of(here + "/" + target)  # beside the including file
    resolved = os.path.normpath(target).replace(os.sep, "/")
    if resolved.startswith("../"):
        resolved = os.path.normpath(os.path.join(here, target)).replace(os.sep, "/")
    return layer_of(resolved) if "/" in resolved else resolved


def check(root):
    problems = []
    scanned = 0
    for path, allowed in layer_files(root):
        scanned += 1
        layer = layer_of(path) if "/" in path else path
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                bracket, target = m.groups()
                closing = ">" if bracket == "<" else '"'
                where = f"{path}:{number}: #include {bracket}{target}{closing}"
                if bracket == "<":
                    for header, owners in PRIVATE_SYSTEM_HEADERS.items():
                        if target.startswith(header) and not any(path.startswith(o) or fnmatch.fnmatch(path, o) for o in owners):
                            problems.append(f"{where}: <{header}...> belongs to {' and '.join(owners)} only")
                    continue
                to = included_layer(root, path, target)
                if layer == "core" and to == "core":
                    here, there = core_folder(path), core_folder(os.path.normpath(target).replace(os.sep, "/"))
                    if here is None or there is None:
                        stray = path if here is None else target
                        problems.append(f"{where}: {stray} is in none of core's folders ({', '.join(CORE_FOLDERS)})")
                    elif there > here:
                        problems.append(f"{where}: inside core, {CORE_FOLDERS[here]}/ may not include "
                                        f"{CORE_FOLDERS[there]}/ (CORE_FOLDERS, lowest first)")
                    continue
                if to in UMBRELLAS and to not in allowed:
                    problems.append(f"{where}: library files include the layers' own headers, not the umbrella {to}")
                elif to in UMBRELLAS:
                    pass  # an umbrella built on another
                elif to not in MAY_INCLUDE:
                    problems.append(f"{where}: {to}/ is not a library layer; the library includes only "
                                    f"{', '.join(sorted(MAY_INCLUDE))}")
                elif to not in allowed:
                    problems.append(f"{where}: {layer} may include only {', '.join(sorted(allowed))}, "
                                    f"not {to} (layer table: docs/layers.md)")
    return scanned, problems


def check_examples(root):
    """Wrong-way includes of the programs in examples/ (EXAMPLES_MAY_INCLUDE)."""
    problems = []
    for folder, _, names in os.walk(os.path.join(root, "examples")):
        for name in sorted(names):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or m.group(1) == "<":
                        continue
                    target = m.group(2)
                    where = f"{path}:{number}: #include \"{target}\""
                    to = included_layer(root, path, target)
                    if to in UMBRELLAS:
                        continue
                    if to.startswith("apps/"):
                        app = to.split("/")[1]
                        if os.path.normpath(target).replace(os.sep, "/") != f"apps/{app}/{app}.h":
                            problems.append(f"{where}: a program includes an application through its public header "
                                            f"apps/{app}/{app}.h only")
                    elif to not in EXAMPLES_MAY_INCLUDE:
                        problems.append(f"{where}: a program may include only {', '.join(sorted(EXAMPLES_MAY_INCLUDE))}, "
                                        f"the umbrella headers and the apps' public headers, not {to}")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    scanned, problems = check(root)
    problems += check_examples(root)
    if scanned < 10:
        print(f"error: only {scanned} library files under {root}: is it the source root?")
        return 1
    for p in problems:
        print(p)
    print(f"{scanned} files checked against the layer table, {len(problems)} wrong-way includes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
