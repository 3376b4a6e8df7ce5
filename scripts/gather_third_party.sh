#!/usr/bin/env bash
# Copies what betamix builds with from Debian's -dev packages into .third_party/ (git-ignored),
# for a machine that has a compiler, CMake and CUDA but none of those packages (the GPU
# machine): the Boost, nlohmann-json and CLI11 headers that the compiler's dependency files of
# a built tree name (about 5 MB, not Boost's 160), and GoogleTest's source. Then, there:
#
#   cmake -S . -B build-gpu -DBETAMIX_THIRD_PARTY_DIR=$PWD/.third_party ...
#
# Usage: scripts/gather_third_party.sh [BUILD]   (BUILD: a configured and built tree, build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=.third_party
if ! find "$build" -name '*.o.d' -print -quit 2>/dev/null | grep -q .; then
  echo "gather_third_party: no dependency files under $build/; run 'make build' first" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out"
find "$build" -name '*.o.d' -print0 |
  xargs -0 grep -ho '/usr/include/\(boost\|nlohmann\|CLI\)/[^ :\\]*' |
  sort -u |
  while read -r header; do
    rel=${header#/usr/include/}
    mkdir -p "$out/$(dirname "$rel")"
    cp "$header" "$out/$rel"
  done
cp -r /usr/src/googletest "$out/googletest"
echo "gather_third_party: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1) in $out/"
