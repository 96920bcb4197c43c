#!/usr/bin/env bash
# Copies a CUDA build's programs into one folder that can travel to a GPU
# machine which has the CUDA runtime and cuBLAS but none of tapegrad's other
# dependencies (OpenBLAS, fmt, zlib): the programs, libtapegrad, every shared
# library they need that is not CUDA's or the C/C++ runtime's, and Multi30k.
#   scripts/gpu/stage.sh [BUILD_DIR=build-gpu] [DEST=.gpu]
# Build with -Dportable=true: the GPU machine's processor may lack this one's
# instructions. scripts/gpu/check.sh runs the staged programs there;
# STAGE_SPEECH=0 leaves out the small speech corpus, STAGE_PACK=0 leaves
# bin/ and lib/ unpacked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build-gpu}
dest=${2:-.gpu}
data=${MULTI30K_DIR:-../shared/data/multi30k}
programs=(tests/test_cuda_kernels tests/test_cuda_ops tests/test_cuda_models tests/test_dist_translate
          examples/translate/translate examples/speech bench/bench_seq2seq)

rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib" "$dest/data"
for p in "${programs[@]}"; do
  [[ -x "$build/$p" ]] && cp "$build/$p" "$dest/bin/"
done
cp -L "$build/libtapegrad.so" "$build/libtapegrad-text.so" "$build/libtapegrad-audio.so" "$dest/lib/"
# The CUDA backend module: the engine looks for it beside libtapegrad.so.
cp -L "$build/libtapegrad-cuda.so" "$dest/lib/" ||
  { echo "stage: $build has no libtapegrad-cuda.so (configure it with -Dcuda=enabled)" >&2; exit 1; }
# Shared libraries the programs load, less the ones every GPU machine has.
LD_LIBRARY_PATH="$dest/lib" ldd "$dest"/bin/* "$dest"/lib/libtapegrad*.so | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
  grep -vE '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcublasLt)\.so' |
  while read -r lib; do [[ -e "$dest/lib/$(basename "$lib")" ]] || cp -L "$lib" "$dest/lib/"; done
cp "$data"/*.gz "$dest/data/"
cp bench/seq2seq_torch.py "$dest/" 2>/dev/null || true
# A small speech corpus for scripts/gpu/paths.sh (espeak-ng is not on the GPU
# machine): 100 training, 30 validation, 30 test utterances, about 13 MB packed.
if command -v espeak-ng >/dev/null && [[ ${STAGE_SPEECH:-1} == 1 ]]; then
  corpus=$(mktemp -d)
  MULTI30K_DIR=$data scripts/synthesize-speech.sh --lines 160 --val 30 --test 30 "$corpus/speech" >/dev/null
  tar -C "$corpus" -cJf "$dest/speech.tar.xz" speech
  rm -rf "$corpus"
fi
# The device tool carries at most 64 MiB, and OpenBLAS alone is 36 MB: the
# programs and libraries travel packed, and env.sh unpacks them there.
if [[ ${STAGE_PACK:-1} == 1 ]]; then
  tar -C "$dest" -cf - bin lib | xz -T2 -6 >"$dest/programs.tar.xz"
  rm -rf "$dest/bin" "$dest/lib"
fi
du -sh "$dest"
