#!/usr/bin/env bash
# Installs what betamix needs to build and test on Debian/Ubuntu, if it is missing.
# Idempotent: a second run installs nothing. nvcc, when present, enables the CUDA backend;
# it is not installed here (the CPU build needs none of it).
set -euo pipefail

packages=(g++ make cmake libomp-dev libboost-dev nlohmann-json3-dev libcli11-dev libgtest-dev googletest)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "betamix setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
