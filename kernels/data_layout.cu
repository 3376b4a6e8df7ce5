// Converting the validated double samples into their device layout (data_layout.cuh):
//
//   X:        out[i] = float(x[i])
//   LogPair:  log_x[i] = float(log x[i]),  log1m_x[i] = float(log1p(-x[i]))   (double math)
//
// and the host rule that picks the layout. Launch shape: 1-D grid-stride loops over n with
// 64-bit indices, 256 threads per block, at most 1024 blocks (order does not matter: every
// element is written by exactly one thread and nothing is reduced).

#include <algorithm>
#include <cmath>
#include <limits>

#include "cuda_check.cuh"
#include "data_layout.cuh"

namespace betamix::detail {
namespace {

constexpr int kConvertBlock = 256;
constexpr std::size_t kConvertMaxBlocks = 1024;

__global__ void __launch_bounds__(kConvertBlock)
    to_float_kernel(std::size_t n, const double* __restrict__ in, float* __restrict__ out) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kConvertBlock;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kConvertBlock + threadIdx.x; i < n;
       i += stride) {
    out[i] = static_cast<float>(in[i]);
  }
}

__global__ void __launch_bounds__(kConvertBlock)
    to_log_pair_kernel(std::size_t n, const double* __restrict__ x, float* __restrict__ log_x,
                       float* __restrict__ log1m_x) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kConvertBlock;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kConvertBlock + threadIdx.x; i < n;
       i += stride) {
    log_x[i] = static_cast<float>(log(x[i]));
    log1m_x[i] = static_cast<float>(log1p(-x[i]));
  }
}

unsigned convert_blocks(std::size_t n) {
  return static_cast<unsigned>(
      std::clamp<std::size_t>((n + kConvertBlock - 1) / kConvertBlock, 1, kConvertMaxBlocks));
}

// |log(y + e) - log y| ~ e / y <= tol * max(1, |log y|), written without a division; the
// logarithm is taken only when the cheap test fails. Every passing case has e / y < 1e-5, so
// the first-order estimate is exact to that relative accuracy.
bool log_within(double e, double y) {
  return e <= kLayoutTolerance * y || e <= kLayoutTolerance * y * -std::log(y);
}

}  // namespace

bool float_x_suffices(double x) {
  const float xf = static_cast<float>(x);
  // The pass's logarithms take normal floats only (betamix/math/float_math.hpp).
  if (!(xf >= std::numeric_limits<float>::min())) return false;
  const double e = std::abs(static_cast<double>(xf) - x);  // exact (Sterbenz)
  return log_within(e, x) && log_within(e, 1.0 - x);
}

DataLayout choose_data_layout(const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!float_x_suffices(x[i])) return DataLayout::LogPair;
  }
  return DataLayout::X;
}

void launch_to_float(std::size_t n, const double* d_in, float* d_out, cudaStream_t stream) {
  if (n == 0) return;
  to_float_kernel<<<convert_blocks(n), kConvertBlock, 0, stream>>>(n, d_in, d_out);
  BETAMIX_CUDA_CHECK_LAUNCH();
}

void launch_to_log_pair(std::size_t n, const double* d_x, float* d_log_x, float* d_log1m_x,
                        cudaStream_t stream) {
  if (n == 0) return;
  to_log_pair_kernel<<<convert_blocks(n), kConvertBlock, 0, stream>>>(n, d_x, d_log_x, d_log1m_x);
  BETAMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace betamix::detail
