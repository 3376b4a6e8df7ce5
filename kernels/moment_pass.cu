// The GPU moment pass: for one parameter set, the sums over the samples of the per-sample
// terms of betamix/math/moments.hpp,
//
//   m_q r_j,   m_q r_j r_l (j <= l),   v log p,    m = v (1, lx, l1x, lx^2, lx l1x, l1x^2),
//
// from which host/information.cpp assembles the observed information (the standard errors).
// It runs once per fit, so it favours accuracy over speed: every per-sample quantity is double
// (log x computed in double from the stored float32 x, or the stored float32 logs).
//
// Launch shape: moment_kernel<<<grid, 256, tile>>>; block b takes the tiles of 64 samples
// b, b + grid, ... For each tile, threads 0..63 compute one sample's responsibilities, moments
// and log-density into shared memory; then every thread adds, for the sums it owns (sum i is
// owned by thread i mod 256), the tile's 64 terms in sample order to its own double
// accumulators. After the last tile each block writes one partial per sum, and combine_kernel
// (pass.cu) adds the `grid` partials of each sum in a fixed order: no atomics, the totals
// depend only on the data, the constants and the grid.

#include <string>

#include "betamix/error.hpp"
#include "betamix/math/beta_math.hpp"
#include "betamix/math/moments.hpp"
#include "cuda_check.cuh"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "moment_pass.cuh"
#include "pass.cuh"

namespace betamix::detail {
namespace {

constexpr int kMomentBlock = 256;
constexpr int kMomentTile = 64;  // samples per tile
// Sums one thread owns at most: ceil(moment_sum_count(kMomentMaxK) / kMomentBlock).
constexpr int kMaxOwned = (math::moment_sum_count(kMomentMaxK) + kMomentBlock - 1) / kMomentBlock;
// Resident blocks per SM the grid is sized for.
constexpr int kMomentBlocksPerSm = 4;

// Dynamic shared memory of one block: the tile's responsibilities [tile][k], moments
// [tile][6], v log p [tile], and the constants [am1 | bm1 | c].
constexpr std::size_t moment_smem_bytes(int k) {
  return (static_cast<std::size_t>(kMomentTile) * (k + math::kMoments + 1) + 3 * k) *
         sizeof(double);
}

__global__ void __launch_bounds__(kMomentBlock)
    moment_kernel(std::size_t n, int k, const float* __restrict__ a, const float* __restrict__ b,
                  const float* __restrict__ v, const double* __restrict__ constants,
                  double* __restrict__ partials) {
  extern __shared__ double moment_smem[];
  double* s_r = moment_smem;
  double* s_m = s_r + kMomentTile * k;
  double* s_lp = s_m + kMomentTile * math::kMoments;
  double* s_const = s_lp + kMomentTile;
  for (int i = threadIdx.x; i < 3 * k; i += kMomentBlock) s_const[i] = constants[i];

  const int width = math::moment_sum_count(k);
  // The sums this thread owns, decoded once (moment_slot() walks a row of the triangle).
  double acc[kMaxOwned];
  math::MomentSlot slots[kMaxOwned];
  int owned = 0;
  for (int o = 0; o * kMomentBlock + static_cast<int>(threadIdx.x) < width; ++o, ++owned) {
    slots[o] = math::moment_slot(k, o * kMomentBlock + static_cast<int>(threadIdx.x));
    acc[o] = 0.0;
  }
  __syncthreads();  // the constants are complete before any thread reads them

  const math::ComponentView<double> comp{s_const, s_const + k, s_const + 2 * k};
  const std::size_t tiles = (n + kMomentTile - 1) / kMomentTile;
  // The tile loop is uniform across the block, so every thread reaches every barrier.
  for (std::size_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    if (threadIdx.x < kMomentTile) {
      const int t = threadIdx.x;
      const std::size_t i = tile * kMomentTile + t;
      double lx = -0.6931471805599453, l1x = -0.6931471805599453, w = 0.0;  // x = 0.5, weight 0
      if (i < n) {
        sample_logs(i, a, b, lx, l1x);
        w = v ? static_cast<double>(v[i]) : 1.0;
      }
      s_lp[t] = w * math::mixture_responsibilities(lx, l1x, comp, k, s_r + t * k);
      math::sample_moments(w, lx, l1x, s_m + t * math::kMoments);
    }
    __syncthreads();  // the tile's terms are complete before they are summed
    for (int o = 0; o < owned; ++o) {
      const math::MomentSlot slot = slots[o];
      double sum = 0.0;
      for (int t = 0; t < kMomentTile; ++t) {
        sum += math::moment_term(slot, s_r + t * k, s_m + t * math::kMoments, s_lp[t]);
      }
      acc[o] += sum;
    }
    __syncthreads();  // the tile is summed before the next one overwrites it
  }
  for (int o = 0; o < owned; ++o) {
    const std::size_t at = static_cast<std::size_t>(o) * kMomentBlock + threadIdx.x;
    partials[at * gridDim.x + blockIdx.x] = acc[o];
  }
}

void check_moment_k(int k) {
  if (k < 1 || k > kMomentMaxK) {
    throw DeviceError("device cuda: the GPU moment pass supports 1 to " +
                      std::to_string(kMomentMaxK) + " components, got k = " + std::to_string(k));
  }
}

}  // namespace

int moment_grid_size(std::size_t n) {
  const std::size_t wave = static_cast<std::size_t>(current_device_sm_count()) * kMomentBlocksPerSm;
  const std::size_t tiles = (n + kMomentTile - 1) / kMomentTile;
  const std::size_t grid = tiles < wave ? tiles : wave;
  return static_cast<int>(grid < 1 ? 1 : grid);
}

std::size_t moment_partials_size(int k, int grid) {
  return static_cast<std::size_t>(math::moment_sum_count(k)) * grid;
}

void launch_moment_pass(std::size_t n, int k, int grid, const float* d_a, const float* d_b,
                        const float* d_v, const double* d_constants, double* d_partials,
                        double* d_totals, cudaStream_t stream) {
  check_moment_k(k);
  moment_kernel<<<static_cast<unsigned>(grid), kMomentBlock, moment_smem_bytes(k), stream>>>(
      n, k, d_a, d_b, d_v, d_constants, d_partials);
  BETAMIX_CUDA_CHECK_LAUNCH();
  launch_combine(math::moment_sum_count(k), grid, d_partials, d_totals, stream);
}

}  // namespace betamix::detail
