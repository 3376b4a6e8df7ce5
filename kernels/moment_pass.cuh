#pragma once
// Launcher of the GPU moment pass (moment_pass.cu): the sums of the observed information
// (betamix/math/moments.hpp) of one parameter set over the loaded samples, in double.

#include <cuda_runtime.h>

#include <cstddef>

namespace betamix::detail {

/// Largest k of the GPU moment pass (its tile of responsibilities lives in shared memory).
inline constexpr int kMomentMaxK = 64;

/// Blocks of the moment pass over n samples on the current device. The sums depend on this
/// number, so it is a function of n and the device alone.
int moment_grid_size(std::size_t n);

/// Doubles of the partial-sums buffer of launch_moment_pass().
std::size_t moment_partials_size(int k, int grid);

/// One moment pass on `stream`. The data as for launch_pass() (pass.cuh): d_b == nullptr:
/// d_a = x, else d_a = log x and d_b = log1p(-x); d_v: case weights or nullptr.
/// d_constants: double [am1 | bm1 | c], k each. d_partials: moment_partials_size() doubles of
/// scratch. d_totals: math::moment_sum_count(k) doubles, in the layout of moments.hpp, summed
/// in a fixed order (identical run to run).
void launch_moment_pass(std::size_t n, int k, int grid, const float* d_a, const float* d_b,
                        const float* d_v, const double* d_constants, double* d_partials,
                        double* d_totals, cudaStream_t stream);

}  // namespace betamix::detail
