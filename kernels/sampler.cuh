#pragma once
// Launcher of the GPU sampler (sampler.cu) and the component tables it reads.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend.hpp"
#include "betamix/params.hpp"

namespace betamix::detail {

/// Largest number of components the GPU sampler takes (its component search is linear).
inline constexpr int kSampleMaxK = kCudaSampleMaxK;

/// The sampler's tables [cumulative weights | log d ratios | alpha's and beta's gamma constants],
/// 8k Reals, from normalised parameters: the CPU sampler's tables (detail::sample_tables,
/// host/sample_tables.hpp). Throws InputError for invalid parameters or shapes Real cannot
/// hold, DeviceError when k > kSampleMaxK.
template <class Real>
std::vector<Real> make_sample_tables(const MixtureParams& params);

/// d_out[i] = sample number first_index + i of the mixture for seed `seed`, i < n, drawn from
/// the cuRAND Philox stream (seed, subsequence first_index + i) so that the values do not
/// depend on the launch shape. d_tables: the 8k Reals of make_sample_tables().
template <class Real>
void launch_sample(std::size_t n, int k, std::uint64_t seed, std::uint64_t first_index,
                   const Real* d_tables, Real* d_out, cudaStream_t stream);

}  // namespace betamix::detail
