#!/usr/bin/env bash
# Gets Multi30k task 1 (German-English) into DEST (default:
# ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k, outside the source tree,
# where the programs look for it: data/text/multi30k_dir.h): for train, val and
# test_2016_flickr, the raw files X.{de,en}.gz and the data set's own
# preprocessed files X.lc.norm.tok.{de,en}.gz (lowercased, normalized,
# Moses-tokenized).
#
#   scripts/get_multi30k.sh [DEST]
#
# Source, in order:
#   1. the multi30k/dataset GitHub repository (data/task1/raw/ and data/task1/tok/,
#      or a mirror of that layout named by $MULTI30K_URL;
#      the tok files are plain text there and are gzipped here);
#   2. a local copy when the network is unreachable or a download fails:
#      $MULTI30K_DIR, else ../shared/data/multi30k beside the repository;
#      linked into DEST (MULTI30K_COPY=1 copies instead).
# Every file is checked: gzip integrity, line count, and the SHA-256 of its
# uncompressed text (MULTI30K_SKIP_SHA=1 skips the last for a changed upstream).
# Exits non-zero, saying why, when no source works.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k}
base_url=${MULTI30K_URL:-https://raw.githubusercontent.com/multi30k/dataset/master/data/task1}  # MULTI30K_URL: a mirror

# name  lines  sha256 of the uncompressed text
manifest="
train.de 29000 2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72
train.en 29000 460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6
val.de 1014 660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660
val.en 1014 1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227
test_2016_flickr.de 1000 4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16
test_2016_flickr.en 1000 399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182
train.lc.norm.tok.de 29000 cb5a23529b65ec2061f1dc446192a9c37382b63cc75f81a0be59d34894b3a505
train.lc.norm.tok.en 29000 08925f8e0572bcd5a006702fc5fe20e2d77c6917d4eebd576fc20de6693c2119
val.lc.norm.tok.de 1014 97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00
val.lc.norm.tok.en 1014 46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec
test_2016_flickr.lc.norm.tok.de 1000 c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4
test_2016_flickr.lc.norm.tok.en 1000 5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2
"

# verify FILE.gz LINES SHA: prints what is wrong and fails, or succeeds quietly.
verify() {
  local file=$1 lines=$2 sha=$3
  [ -s "$file" ] || { echo "  $file: missing or empty" >&2; return 1; }
  gzip -t "$file" 2>/dev/null || { echo "  $file: not valid gzip" >&2; return 1; }
  local got_lines got_sha
  got_lines=$(gzip -dc "$file" | wc -l)
  [ "$got_lines" -eq "$lines" ] || { echo "  $file: $got_lines lines, expected $lines" >&2; return 1; }
  if [ "${MULTI30K_SKIP_SHA:-0}" != 1 ]; then
    got_sha=$(gzip -dc "$file" | sha256sum | cut -d' ' -f1)
    [ "$got_sha" = "$sha" ] || { echo "  $file: SHA-256 $got_sha, expected $sha" >&2; return 1; }
  fi
}

# verify_dir DIR: all twelve files of the manifest are in DIR and check out.
verify_dir() {
  local dir=$1 name lines sha ok=0
  while read -r name lines sha; do
    [ -n "$name" ] || continue
    verify "$dir/$name.gz" "$lines" "$sha" || ok=1
  done <<< "$manifest"
  return $ok
}

# download DIR: fetches every file into DIR; fails at the first file that does not come.
download() {
  local dir=$1 name lines sha url
  command -v curl > /dev/null || { echo "curl not installed" >&2; return 1; }
  while read -r name lines sha; do
    [ -n "$name" ] || continue
    case $name in
      *.lc.norm.tok.*) url=$base_url/tok/$name ;;   # plain text upstream
      *) url=$base_url/raw/$name.gz ;;
    esac
    echo "  $url"
    if [[ $name == *.lc.norm.tok.* ]]; then
      curl -fsSL --connect-timeout 5 --max-time 60 -o "$dir/$name" "$url" && gzip -nf "$dir/$name" || return 1
    else
      curl -fsSL --connect-timeout 5 --max-time 60 -o "$dir/$name.gz" "$url" || return 1
    fi
  done <<< "$manifest"
}

# from_local SRC: links (or copies) the twelve files of SRC into $dest.
from_local() {
  local src name lines sha
  src=$(cd "$1" && pwd)
  while read -r name lines sha; do
    [ -n "$name" ] || continue
    rm -f "$dest/$name.gz"
    if [ "${MULTI30K_COPY:-0}" = 1 ]; then
      cp "$src/$name.gz" "$dest/$name.gz" || return 1
    else
      ln -s "$src/$name.gz" "$dest/$name.gz" || return 1
    fi
  done <<< "$manifest"
}

mkdir -p "$dest" || { echo "get_multi30k: cannot create '$dest'" >&2; exit 1; }
if verify_dir "$dest" 2> /dev/null; then
  echo "get_multi30k: '$dest' already holds Multi30k (12 files verified)"
  exit 0
fi

echo "get_multi30k: downloading from $base_url into '$dest'"
partial=$dest/.partial
rm -rf "$partial" && mkdir -p "$partial"
if download "$partial" && verify_dir "$partial"; then
  mv -f "$partial"/*.gz "$dest"/ && rm -rf "$partial"
  echo "get_multi30k: source used: download from $base_url (12 files verified)"
  exit 0
fi
rm -rf "$partial"
echo "get_multi30k: download failed (no network, or a file did not come or did not verify); trying a local copy"

for candidate in "${MULTI30K_DIR:-}" "$repo/../shared/data/multi30k"; do
  [ -n "$candidate" ] && [ -d "$candidate" ] || continue
  if verify_dir "$candidate"; then
    if from_local "$candidate" && verify_dir "$dest"; then
      how=linked; [ "${MULTI30K_COPY:-0}" = 1 ] && how=copied
      echo "get_multi30k: source used: local copy $(cd "$candidate" && pwd) ($how into '$dest', 12 files verified)"
      exit 0
    fi
  else
    echo "get_multi30k: local copy '$candidate' is incomplete or differs (see above)" >&2
  fi
done

echo "get_multi30k: no source worked: the download failed and no verified local copy was found" >&2
echo "  (set MULTI30K_DIR to a directory holding the 12 files, or run again with network access)" >&2
exit 1
