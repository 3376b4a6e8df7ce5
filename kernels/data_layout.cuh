#pragma once
// How the samples live on the device, the rule that chooses it, and the kernels that convert
// the double input into it.

#include <cuda_runtime.h>

#include <cstddef>

namespace betamix::detail {

/// Device representation of the samples.
enum class DataLayout {
  X,        ///< float32 x; the pass computes log x and log(1-x)          (4 bytes/sample)
  LogPair,  ///< float32 log x and log1p(-x), computed in double on the device (8 bytes/sample)
};

/// Relative tolerance of the layout rule: 4 float32 ulps at magnitude 1.
inline constexpr double kLayoutTolerance = 0x1p-22;

/// True when storing x as float32 changes both log x and log(1-x) by at most
/// kLayoutTolerance * max(1, |value|). Rounding x to float32 moves it by d = |float(x) - x|
/// (exact in double), which moves log y by d / y to first order, for y = x and y = 1 - x.
/// The floor of 1 in max(1, |log y|) is the scale of the float32 sum c + (a-1) log x + ...
/// that the pass adds the logs into. Besides, float(x) must be a normal float (at least
/// FLT_MIN, about 1.2e-38), the domain of the pass's logarithms. In effect: values that round to
/// 0 or to a subnormal float, values that round to 1, and values above ~0.96 whose rounding
/// error is large compared with 1 - x fail.
bool float_x_suffices(double x);

/// X when every sample satisfies float_x_suffices(), else LogPair (stops at the first failure).
DataLayout choose_data_layout(const double* x, std::size_t n);

/// Bytes per sample of a layout.
inline std::size_t layout_bytes_per_sample(DataLayout layout) {
  return layout == DataLayout::X ? 4 : 8;
}

/// log x and log(1 - x) of sample i in double, from either layout: d_log1m_x == nullptr means
/// d_a holds x (X), else d_a holds log x and d_log1m_x log(1 - x) (LogPair). For the passes
/// that run in double precision (the moment pass, the posteriors).
__device__ __forceinline__ void sample_logs(std::size_t i, const float* __restrict__ d_a,
                                            const float* __restrict__ d_log1m_x, double& log_x,
                                            double& log1m_x) {
  if (d_log1m_x) {
    log_x = d_a[i];
    log1m_x = d_log1m_x[i];
  } else {
    const double x = d_a[i];
    log_x = log(x);
    log1m_x = log1p(-x);
  }
}

/// out[i] = float(in[i]) for i < n (round to nearest).
void launch_to_float(std::size_t n, const double* d_in, float* d_out, cudaStream_t stream);

/// log_x[i] = float(log x[i]), log1m_x[i] = float(log1p(-x[i])), computed in double.
void launch_to_log_pair(std::size_t n, const double* d_x, float* d_log_x, float* d_log1m_x,
                        cudaStream_t stream);

}  // namespace betamix::detail
