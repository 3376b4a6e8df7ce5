// The GPU posteriors: for every sample i and component j,
//
//   r_ij = exp(l_ij - L_i),  l_ij = c_j + (a_j - 1) log x_i + (b_j - 1) log(1 - x_i),
//   L_i = logsumexp_j l_ij                                  (math::mixture_responsibilities)
//
// and the first j with the largest r_ij, in double precision (log x computed in double from the
// stored float32 x, or the stored float32 logs). Launch shape: one thread per sample in a 1-D
// grid-stride loop with 64-bit indices, 256 threads per block, at most 16 blocks per SM; the
// constants (3k doubles) are copied into dynamic shared memory first. Nothing is reduced.

#include <algorithm>
#include <string>

#include "betamix/error.hpp"
#include "betamix/math/beta_math.hpp"
#include "cuda_check.cuh"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "pass.cuh"
#include "posteriors.cuh"

namespace betamix::detail {
namespace {

constexpr int kPosteriorBlock = 256;

__global__ void __launch_bounds__(kPosteriorBlock)
    posterior_kernel(std::size_t n, int k, const float* __restrict__ a, const float* __restrict__ b,
                     const double* __restrict__ constants, double* __restrict__ post,
                     int* __restrict__ best) {
  extern __shared__ double posterior_smem[];
  for (int i = threadIdx.x; i < 3 * k; i += kPosteriorBlock) posterior_smem[i] = constants[i];
  __syncthreads();  // the constants are complete before any thread reads them
  const math::ComponentView<double> comp{posterior_smem, posterior_smem + k,
                                         posterior_smem + 2 * k};
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kPosteriorBlock;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kPosteriorBlock + threadIdx.x; i < n;
       i += stride) {
    double lx, l1x;
    sample_logs(i, a, b, lx, l1x);
    double* r = post + i * k;
    math::mixture_responsibilities(lx, l1x, comp, k, r);
    int top = 0;
    for (int j = 1; j < k; ++j) top = r[j] > r[top] ? j : top;
    best[i] = top;
  }
}

}  // namespace

void check_posteriors_k(int k) {
  if (k < 1 || k > kPassMaxK) {
    throw DeviceError("device cuda: GPU posteriors support 1 to " + std::to_string(kPassMaxK) +
                      " components, got k = " + std::to_string(k) + "; use --device cpu");
  }
}

void launch_posteriors(std::size_t n, int k, const float* d_a, const float* d_b,
                       const double* d_constants, double* d_post, int* d_best,
                       cudaStream_t stream) {
  check_posteriors_k(k);
  if (n == 0) return;
  const std::size_t max_blocks = static_cast<std::size_t>(current_device_sm_count()) * 16;
  const std::size_t blocks = std::min((n + kPosteriorBlock - 1) / kPosteriorBlock, max_blocks);
  posterior_kernel<<<static_cast<unsigned>(blocks), kPosteriorBlock,
                     3 * static_cast<std::size_t>(k) * sizeof(double), stream>>>(
      n, k, d_a, d_b, d_constants, d_post, d_best);
  BETAMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace betamix::detail
