#!/usr/bin/env bash
# Every check that needs a GPU, in one run: for a machine with an NVIDIA GPU, nvcc, CMake and
# PyTorch but none of Debian's -dev packages (bring .third_party/ from
# scripts/gather_third_party.sh). Builds this tree for the GPU's architecture (90: H100, H200;
# BETAMIX_CUDA_ARCH overrides), runs the whole suite (where a GPU is visible, the two tests of
# the no-GPU paths skip, SamplerOnDevice.WithoutAGpuIsADeviceError and
# CliTest.CudaRequestWithoutDevice; the report lists what skipped; a GPU that is not visible
# fails the suite, through BETAMIX_EXPECT_GPU=1), the GPU
# benchmark, the PyTorch baseline on the same device at the same N and iteration count, two
# crosschecks (data on the GPU, and streamed from host memory), and the summary against the
# speed goals. Into $OUT (default gpu-out/) go five files: build.log, ctest.log,
# bench_gpu.json, torch_cuda.json and report.txt (all that is printed from the device query
# on). Every step has a time limit and the whole run stays inside GPU_CHECK_BUDGET_S (570 s),
# the summary coming before the crosschecks. Exit status: the test suite's.
#
# Usage: scripts/gpu_check.sh [all|tests|bench] [--quick]
#   all (default): everything; tests: build and the suite; bench: build (kept from an earlier
#   call on the same machine) and the figures, so the two halves fit two shorter calls.
#   --quick: bench_gpu's smaller sizes.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
stage=all
quick=
for arg in "$@"; do
  case "$arg" in
    all | tests | bench) stage=$arg ;;
    --quick) quick=--quick ;;
    *) echo "gpu_check: unknown argument '$arg' (expected all, tests, bench or --quick)" >&2; exit 2 ;;
  esac
done
arch=${BETAMIX_CUDA_ARCH:-90}
report="$out/report.txt"
step() { echo "== $* ($(date -u +%H:%M:%S))" | tee -a "$report"; }
# The whole script stays inside GPU_CHECK_BUDGET_S seconds (default 570, for a 600 s call):
# `limit N` is the time limit of a step that may take N seconds, cut to what is left.
budget=${GPU_CHECK_BUDGET_S:-570}
limit() {
  local left=$((budget - SECONDS))
  [ "$left" -gt "$1" ] && left=$1
  [ "$left" -lt 1 ] && left=1
  echo "$left"
}

if [ ! -f .third_party/googletest/CMakeLists.txt ] || [ ! -d .third_party/boost ]; then
  echo "gpu_check: .third_party/ is missing or incomplete: run scripts/gather_third_party.sh" \
    "<a configured build folder> here and carry .third_party" >&2
  exit 1
fi
# CMake finds nvcc on PATH or through CUDACXX.
if ! command -v nvcc >/dev/null && [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
step tools
{ "${CUDACXX:-nvcc}" --version | tail -2; c++ --version | head -1; cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__)'; } 2>&1 | tee -a "$report"

step "configure for sm_$arch"
# Every test is stopped after 150 s (BETAMIX_TEST_TIMEOUT), the suite after 300 s.
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DBETAMIX_CUDA=ON -DBETAMIX_THIRD_PARTY_DIR="$PWD/.third_party" -DBETAMIX_TEST_TIMEOUT=150 \
  >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
step build
cmake --build build-gpu -j"$(nproc)" >>"$out/build.log" 2>&1 ||
  { grep -E "error" -A3 "$out/build.log" | head -60; exit 1; }
step device
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv |
  tee -a "$report"
tests=0
if [ "$stage" != bench ]; then
  step tests
  # A test that hangs (a kernel that never ends) is cut off, so that the figures below still
  # come: each test after 150 s, the whole suite after 300 s.
  # BETAMIX_EXPECT_GPU=1: a GPU that is not visible fails a test (GpuExpected) instead of
  # skipping every GPU test. Two OpenMP threads per test: eight tests at a time share the
  # cores, each CPU reference with its own team.
  suite_limit=$(limit 300)
  (cd build-gpu && BETAMIX_EXPECT_GPU=1 OMP_NUM_THREADS=2 \
    timeout -k 5 "$suite_limit" ctest --output-on-failure -j8) >"$out/ctest.log" 2>&1
  tests=$?
  { grep -E "tests passed|tests failed|\((Failed|Timeout|SEGFAULT)\)" "$out/ctest.log"
    echo "skipped:"
    sed -n '/The following tests did not run/,/^$/p' "$out/ctest.log"; } | tee -a "$report"
fi
[ "$stage" = tests ] && exit $tests
# The data of the Adam rows of bench_gpu and of the PyTorch baseline: one file.
data=/tmp/betamix_demo_1e7.f64
build-gpu/betamix sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 10000000 \
  --seed 12345 -q -o "$data"
step bench_gpu
timeout "$(limit 200)" build-gpu/bench/bench_gpu $quick --fit-data "$data" \
  --json "$out/bench_gpu.json" 2>&1 | tee -a "$report"
iters=1000  # bench_gpu's Adam iterations per timed fit (--iters; 200 with --quick)
[ -n "$quick" ] && iters=200
step "PyTorch on the GPU, N = 1e7, K = 2, $iters iterations"
timeout "$(limit 120)" python3 bench/torch_baseline.py --data "$data" --k 2 --device cuda \
  --iters "$iters" \
  --warmup 3 --json "$out/torch_cuda.json" 2>&1 | tee -a "$report"
step summary
python3 bench/gpu_summary.py "$out/bench_gpu.json" "$out/torch_cuda.json" 2>&1 | tee -a "$report"
step crosscheck
timeout "$(limit 60)" build-gpu/betamix crosscheck "$data" -k 2 2>&1 | tee -a "$report"
step "crosscheck, data streamed from host memory in chunks of 10^6"
BETAMIX_CUDA_STREAM_CHUNK=1000000 timeout "$(limit 60)" build-gpu/betamix crosscheck "$data" \
  -k 2 2>&1 | tee -a "$report"
step "done in $SECONDS s"
exit $tests
