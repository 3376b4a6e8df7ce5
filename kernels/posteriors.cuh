#pragma once
// Launcher of the GPU posteriors (posteriors.cu): the responsibilities of every sample under
// one parameter set, for `betamix predict`.

#include <cuda_runtime.h>

#include <cstddef>

namespace betamix::detail {

/// Throws DeviceError unless 1 <= k <= kPassMaxK, the components the GPU posteriors take.
void check_posteriors_k(int k);

/// For every sample i < n: d_post[i * k + j] = the posterior probability of component j, and
/// d_best[i] = the first j with the largest one, in double precision. The data as for
/// launch_pass() (pass.cuh); d_constants: double [am1 | bm1 | c], k each; k <= kPassMaxK.
void launch_posteriors(std::size_t n, int k, const float* d_a, const float* d_b,
                       const double* d_constants, double* d_post, int* d_best, cudaStream_t stream);

}  // namespace betamix::detail
