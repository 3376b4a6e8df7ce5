#pragma once
// Launcher of the fused GPU pass (pass.cu): sufficient statistics of `starts` parameter sets of
// `k` components over n samples in one read of the data.

#include <cuda_runtime.h>

#include <cstddef>

namespace betamix::detail {

/// Largest k with a compile-time (fully unrolled) kernel.
inline constexpr int kPassMaxFixedK = 16;
/// Largest k the GPU pass supports at all (k > 16 runs a slower kernel with a runtime k).
inline constexpr int kPassMaxK = 64;

/// Blocks of the pass kernel for k components over n samples on the current device: as many as
/// fit on the device at once (SM count x resident blocks per SM), but no more than the data
/// need. The totals depend on this number, so a fit computes it once and keeps it.
int pass_grid_size(std::size_t n, int k);

/// Local memory a thread of the runtime-k pass kernel uses, as cudaFuncGetAttributes reports it
/// (its stack: 2608 bytes for sm_90 in cuobjdump -res-usage, for its 3 x 64 + 1 accumulators).
std::size_t pass_local_bytes_per_thread();

/// Bytes of local memory the pass kernel with the largest per-thread stack (the runtime-k kernel)
/// makes the driver set aside when it first runs: its stack, at least the size of its
/// accumulator arrays, times every thread the current device can hold at once. The moment
/// pass's kernel needs less (moment_pass.cu).
std::size_t pass_local_memory_bytes();

/// Doubles of the partial-sums buffer of launch_pass().
std::size_t pass_partials_size(int starts, int k, int grid);

/// One pass on `stream`. Data (padded to a multiple of 4 floats, 16-byte aligned):
///   d_b == nullptr: d_a = x;   else d_a = log x, d_b = log1p(-x)      (DataLayout)
///   d_v: float case weights, or nullptr for all 1.
/// d_constants: float [am1 | bm1 | c log2(e)], each starts*k long, laid out [start][k]
/// (float_pass_constants(), backend.hpp).
/// d_partials: pass_partials_size() doubles of scratch.
/// d_totals: starts*(3k+1) doubles, laid out [start][N_0..N_k-1, S_0.., T_0.., LL] with S, T
/// and LL in base 2 (PassStats::assign_float_pass converts them), summed in a fixed order, so
/// identical run to run for the same grid.
void launch_pass(std::size_t n, int starts, int k, int grid, const float* d_a, const float* d_b,
                 const float* d_v, const float* d_constants, double* d_partials, double* d_totals,
                 cudaStream_t stream);

/// d_totals[row] = sum of d_partials[row * blocks + 0 .. blocks) for row < rows, added in a
/// fixed order (the second stage of every reducing pass).
void launch_combine(int rows, int blocks, const double* d_partials, double* d_totals,
                    cudaStream_t stream);

}  // namespace betamix::detail
