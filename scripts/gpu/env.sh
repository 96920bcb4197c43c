# Sourced on the GPU machine by the scripts beside it: where the staged
# libraries, CUDA's libraries and Multi30k are (scripts/gpu/stage.sh put them
# in .gpu/), and $out, the folder for logs ($OUT, which the device tool
# brings back, or /tmp/gpu-out).
if [[ -f .gpu/programs.tar.xz && ! -d .gpu/lib ]]; then  # stage.sh packed them (python3: xz may be missing)
  python3 -W ignore -c 'import tarfile; tarfile.open(".gpu/programs.tar.xz").extractall(".gpu")'
fi
cublas_dir=$(dirname "$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib /opt/torch/.venv -name 'libcublas.so.13' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=$PWD/.gpu/lib:${cublas_dir}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export MULTI30K_DIR=$PWD/.gpu/data
export PATH=/usr/local/cuda/bin:$PATH
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
