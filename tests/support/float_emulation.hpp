#pragma once
// The GPU pass's float32 arithmetic run on the host: kernels/pass.cu evaluates each sample with
// math::float_sample_logs and math::accumulate_float_group (betamix/math/float_pass.hpp) over
// groups of 4 samples into double accumulators, and the CUDA backend unpacks the totals with
// PassStats::assign_float_pass. emulate_pass() runs those same functions in the kernel's
// grouping, in one thread's order (the GPU's split of the groups over threads only reorders
// double additions).

#include <cmath>
#include <cstddef>
#include <vector>

#include "backend.hpp"
#include "betamix/math/float_pass.hpp"

namespace betamix::test {

inline constexpr int kCap = 16;  // the largest compile-time K of the kernel
inline constexpr int kRuntimeCap =
    64;  // its runtime-k variant (k > 16): kPassMaxK of kernels/pass.cuh

// The device data of a layout: float32 x, or float32 (log x, log1p(-x)) computed in double.
struct FloatData {
  std::vector<float> a, b;  // b empty for the X layout
};

inline FloatData to_device_layout(const std::vector<double>& x, bool float_x) {
  FloatData d;
  d.a.resize(x.size());
  if (!float_x) d.b.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (float_x) {
      d.a[i] = static_cast<float>(x[i]);
    } else {
      d.a[i] = static_cast<float>(std::log(x[i]));
      d.b[i] = static_cast<float>(std::log1p(-x[i]));
    }
  }
  return d;
}

// pass_kernel for every start, on the host: KCap = kCap for k <= 16, kRuntimeCap above.
// `exp2` is the exponential: the pass's own, math::FloatPassExp2::for_k(k) (for k > 2 the
// software exp2, the device's bits; for k <= 2 the device's ex2.approx, exact exp2 here), or a
// test's.
template <int KCap, class Exp2>
detail::PassStats emulate_with_cap(const FloatData& d, const double* v,
                                   const detail::PassConstants& c, Exp2 exp2) {
  const int k = c.k;
  const std::size_t n = d.a.size(), table = static_cast<std::size_t>(c.starts) * k;
  std::vector<float> rounded(3 * table);
  detail::float_pass_constants(c, rounded.data());
  const std::size_t width = 3 * static_cast<std::size_t>(k) + 1;
  std::vector<double> totals(c.starts * width);
  // As the CUDA backend does: weights scaled by a power of two into float range, sums back.
  const double unit = v ? detail::float_weight_scale(v, n) : 1.0;
  for (int r = 0; r < c.starts; ++r) {
    const std::size_t off = static_cast<std::size_t>(r) * k;
    const math::ComponentView<float> comp{rounded.data() + off, rounded.data() + table + off,
                                          rounded.data() + 2 * table + off};
    double acc[3 * KCap + 1] = {};
    for (std::size_t g = 0; g < (n + 3) / 4; ++g) {
      float lx[4], l1x[4], w[4];
      for (int j = 0; j < 4; ++j) {
        const std::size_t i = 4 * g + j;
        const bool valid = i < n;
        const float a = valid ? d.a[i] : 0.0f;
        if (d.b.empty()) {
          math::lane_logs<false>(valid, a, 0.0f, lx[j], l1x[j]);
        } else {
          math::lane_logs<true>(valid, a, valid ? d.b[i] : 0.0f, lx[j], l1x[j]);
        }
        w[j] = valid ? (v ? static_cast<float>(v[i] * unit) : 1.0f) : 0.0f;
      }
      if (v) {
        math::accumulate_float_group<KCap, false>(k, lx, l1x, w, comp, acc, exp2);
      } else {
        math::accumulate_float_group<KCap, true>(k, lx, l1x, w, comp, acc, exp2);
      }
    }
    for (std::size_t t = 0; t < width; ++t) totals[r * width + t] = acc[t] / unit;
  }
  detail::PassStats out;
  out.assign_float_pass(c, rounded.data(), totals.data());
  return out;
}

template <class Exp2>
detail::PassStats emulate_pass(const FloatData& d, const double* v, const detail::PassConstants& c,
                               Exp2 exp2) {
  return c.k <= kCap ? emulate_with_cap<kCap>(d, v, c, exp2)
                     : emulate_with_cap<kRuntimeCap>(d, v, c, exp2);
}

inline detail::PassStats emulate_pass(const FloatData& d, const double* v,
                                      const detail::PassConstants& c) {
  return emulate_pass(d, v, c, math::FloatPassExp2::for_k(c.k));
}

}  // namespace betamix::test
