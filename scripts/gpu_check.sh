#!/usr/bin/env bash
# Every check that needs a GPU, in one run: for a machine with an NVIDIA GPU, nvcc, CMake and
# PyTorch but none of Debian's -dev packages (bring .third_party/ from
# scripts/gather_third_party.sh). Builds this tree for the GPU's architecture (90: H100, H200;
# BETAMIX_CUDA_ARCH overrides), runs the whole suite (the GPU tests run, none may skip), the GPU
# benchmark, the PyTorch baseline on the same device at the same N and iteration count, a
# crosscheck, and the summary against the speed goals. Logs and JSON go to $OUT (default
# gpu-out/). Exit status: the test suite's.
#
# Usage: scripts/gpu_check.sh [--quick]   (--quick: bench_gpu's smaller sizes)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
quick=${1:-}
arch=${BETAMIX_CUDA_ARCH:-90}
step() { echo "== $* ($(date -u +%H:%M:%S))"; }

step "configure for sm_$arch"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DBETAMIX_CUDA=ON -DBETAMIX_THIRD_PARTY_DIR="$PWD/.third_party" >"$out/configure.log" 2>&1 ||
  { tail -40 "$out/configure.log"; exit 1; }
step build
cmake --build build-gpu -j"$(nproc)" >"$out/build.log" 2>&1 ||
  { grep -E "error" -A3 "$out/build.log" | head -60; exit 1; }
step device
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv |
  tee "$out/device.txt"
step tests
(cd build-gpu && ctest --output-on-failure -j8) >"$out/ctest.log" 2>&1
tests=$?
grep -E "tests passed|tests failed|\((Failed|Timeout|SEGFAULT)\)" "$out/ctest.log"
echo "skipped: $(grep -c '(Skipped)' "$out/ctest.log")"
step bench_gpu
build-gpu/bench/bench_gpu $quick --json "$out/bench_gpu.json" 2>&1 | tee "$out/bench_gpu.txt"
step "PyTorch on the GPU, N = 1e7, K = 2, 100 iterations"
data=/tmp/betamix_demo_1e7.f64
build-gpu/betamix sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 10000000 \
  --seed 12345 -q -o "$data"
python3 bench/torch_baseline.py --data "$data" --k 2 --device cuda --iters 100 --warmup 3 \
  --json "$out/torch_cuda.json" 2>&1 | tee "$out/torch_cuda.txt"
step crosscheck
build-gpu/betamix crosscheck "$data" -k 2 2>&1 | tee "$out/crosscheck.txt"
step summary
python3 bench/gpu_summary.py "$out/bench_gpu.json" "$out/torch_cuda.json" 2>&1 |
  tee "$out/summary.txt"
exit $tests
