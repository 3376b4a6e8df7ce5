// The GPU sampler: sample i is
//
//   math::sample_mixture<Real>(tables, stream_i),
//   stream_i = cuRAND Philox4x32-10, the words of curand_init(seed, subsequence = i,
//              offset = 0) and curand(), each block computed when first read
//
// which draws the same 32-bit words as the CPU's math::PhiloxStream(seed, i), so CPU and GPU
// samples of one seed agree up to the rounding of device vs host math. Launch shape:
// 256 threads per block, a grid-stride loop over i with 64-bit indices, at most 16 blocks per
// SM; the component tables (8k Reals, host/sample_tables.hpp) are read from global memory
// through the read-only cache (a few dozen bytes for small k, the same for every thread).

#include <curand_kernel.h>

#include <algorithm>
#include <string>

#include "betamix/error.hpp"
#include "betamix/math/beta_sampler.hpp"
#include "cuda_check.cuh"
#include "device_memory.cuh"
#include "sample_tables.hpp"
#include "sampler.cuh"

namespace betamix::detail {
namespace {

constexpr int kSampleBlock = 256;

// The word stream math::sample_mixture reads: cuRAND's Philox4x32-10 block function over the
// counter and key that curand_init(seed, subsequence = index, offset = 0) sets (counter
// (0, 0, index_lo, index_hi), key (seed_lo, seed_hi)), the words of each block taken x, y, z, w
// and the counter's low word then incremented, so the words are those curand() returns on that
// state. Each block is computed when its first word is read (curand_init computes two blocks
// and curand() one ahead; a float sample reads about two blocks' worth of words in all).
class CurandPhiloxStream {
 public:
  __device__ CurandPhiloxStream(std::uint64_t seed, std::uint64_t index)
      : ctr_(make_uint4(0, 0, static_cast<unsigned>(index), static_cast<unsigned>(index >> 32))),
        key_(make_uint2(static_cast<unsigned>(seed), static_cast<unsigned>(seed >> 32))) {}

  __device__ std::uint32_t next() {
    if (left_ == 0) {
      out_ = curand_Philox4x32_10(ctr_, key_);
      if (++ctr_.x == 0) ++ctr_.y;  // never carries before 2^32 blocks
      left_ = 4;
    }
    // Take x and shift the rest down: constant register indices, no local memory.
    const std::uint32_t w = out_.x;
    out_ = make_uint4(out_.y, out_.z, out_.w, 0);
    --left_;
    return w;
  }

 private:
  uint4 ctr_;
  uint2 key_;
  uint4 out_ = make_uint4(0, 0, 0, 0);
  int left_ = 0;
};

template <class Real>
__global__ void __launch_bounds__(kSampleBlock)
    sample_kernel(std::size_t n, int k, std::uint64_t seed, std::uint64_t first_index,
                  const Real* __restrict__ tables, Real* __restrict__ out) {
  const math::SampleTables<const Real*> t = math::sample_tables_at(tables, k);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kSampleBlock;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kSampleBlock + threadIdx.x; i < n;
       i += stride) {
    CurandPhiloxStream rng(seed, first_index + i);
    out[i] = math::sample_mixture<Real>(t, rng);
  }
}

}  // namespace

template <class Real>
std::vector<Real> make_sample_tables(const MixtureParams& params) {
  params.validate();
  const int k = static_cast<int>(params.k());
  if (k > kSampleMaxK) {
    throw DeviceError("device cuda: the GPU sampler supports at most " +
                      std::to_string(kSampleMaxK) + " components, got " + std::to_string(k) +
                      "; use --device cpu");
  }
  return detail::sample_tables<Real>(params);
}

template <class Real>
void launch_sample(std::size_t n, int k, std::uint64_t seed, std::uint64_t first_index,
                   const Real* d_tables, Real* d_out, cudaStream_t stream) {
  if (n == 0) return;
  const std::size_t max_blocks = static_cast<std::size_t>(current_device_sm_count()) * 16;
  const std::size_t blocks = std::min((n + kSampleBlock - 1) / kSampleBlock, max_blocks);
  sample_kernel<Real><<<static_cast<unsigned>(blocks), kSampleBlock, 0, stream>>>(
      n, k, seed, first_index, d_tables, d_out);
  BETAMIX_CUDA_CHECK_LAUNCH();
}

template std::vector<float> make_sample_tables<float>(const MixtureParams&);
template std::vector<double> make_sample_tables<double>(const MixtureParams&);
template void launch_sample<float>(std::size_t, int, std::uint64_t, std::uint64_t, const float*,
                                   float*, cudaStream_t);
template void launch_sample<double>(std::size_t, int, std::uint64_t, std::uint64_t, const double*,
                                    double*, cudaStream_t);

}  // namespace betamix::detail
