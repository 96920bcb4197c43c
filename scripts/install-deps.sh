#!/usr/bin/env bash
# Installs the Debian packages tapegrad builds with (skips what is present).
set -euo pipefail
packages=(g++ meson ninja-build pkg-config libopenblas-dev libfmt-dev doctest-dev libcli11-dev zlib1g-dev libsentencepiece-dev sentencepiece libopenmpi-dev openmpi-bin libsndfile1-dev libfftw3-dev espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox libcpp-httplib-dev nlohmann-json3-dev libboost1.81-dev chromium chromium-driver dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
