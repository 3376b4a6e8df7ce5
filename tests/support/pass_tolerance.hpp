#pragma once
// The tolerance of a float32 pass (the GPU's, or its emulation on the CPU in
// tests/float_pass_test.cpp) against the CPU backend's double-precision pass.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/math/beta_math.hpp"
#include "support/worst.hpp"

namespace betamix::test {

/// The same doubles, bit for bit.
inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// The same statistics, bit for bit (a deterministic pass run again, or another route to it).
inline bool same_bits(const detail::PassStats& a, const detail::PassStats& b) {
  return same_bits(a.n, b.n) && same_bits(a.s, b.s) && same_bits(a.t, b.t) && same_bits(a.ll, b.ll);
}

// Tolerance of one statistic, atol + rtol * M:
//  - M = sum_i |term_i|: |reference| for N, S and T (terms of one sign), sum_i v_i |L_i| for LL
//    (whose terms cancel). rtol = 1e-6 covers the systematic float32 error: the constants
//    c_k, a_k - 1, b_k - 1 rounded to float32 shift every sample's log-density the same way,
//    by up to ~|c_k| 2^-24 ~ 6e-7 for these shapes.
//  - atol = 1e-6 sqrt(sum_i (v_i s_i)^2), s_i = 1 for N and LL, |log x_i| for S, |log(1-x_i)|
//    for T: each sample's float32 log-density is off by up to ~1e-6 (sums of terms of
//    magnitude ~10 at 2^-24), independently across samples, so the error of a sum grows like
//    the root of the sum of squares. It dominates for small n and for components with N_k ~ 0.
// Case weights of any size (2^1000 would overflow the squares, 2^-1000 underflow them) are
// first multiplied by `unit`, detail::float_weight_scale(), a power of two that brings the
// largest near 1: the sums are in those units, and so are the errors they are compared with.
struct Scales {
  double ll_magnitude = 0.0, q1 = 0.0, qs = 0.0, qt = 0.0;
  double unit = 1.0;
};

inline Scales scales(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
                     int start) {
  const int k = c.k;
  const std::size_t off = static_cast<std::size_t>(start) * k;
  const math::ComponentView<double> comp{c.am1.data() + off, c.bm1.data() + off, c.c.data() + off};
  std::vector<double> r(k);
  Scales s;
  if (v) s.unit = detail::float_weight_scale(v, x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]), l1x = std::log1p(-x[i]), w = v ? v[i] * s.unit : 1.0;
    s.ll_magnitude += w * std::abs(math::mixture_responsibilities(lx, l1x, comp, k, r.data()));
    s.q1 += w * w;
    s.qs += w * w * lx * lx;
    s.qt += w * w * l1x * l1x;
  }
  return s;
}

inline void expect_close(const std::vector<double>& x, const double* v,
                         const detail::PassConstants& c, const detail::PassStats& result,
                         const detail::PassStats& cpu) {
  constexpr double kRtol = 1e-6, kAtol = 1e-6;
  ASSERT_EQ(result.starts, cpu.starts);
  ASSERT_EQ(result.k, cpu.k);
  const int k = cpu.k;
  double worst = 0.0;
  std::string where;
  // got, ref and magnitude in the data's units; q (a sum of squares) in units of s.unit.
  auto check = [&](const char* name, int r, int j, double got, double ref, double magnitude,
                   double q, double unit) {
    const double tol = kAtol * std::sqrt(q) + kRtol * magnitude * unit;
    const double ratio = std::abs(got - ref) * unit / tol;
    if (is_worse(ratio, worst)) {
      worst = ratio;
      where = std::string(name) + "[start " + std::to_string(r) + "][" + std::to_string(j) +
              "]: float32 pass " + std::to_string(got) + " cpu " + std::to_string(ref) + " tol " +
              std::to_string(tol);
    }
  };
  for (int r = 0; r < cpu.starts; ++r) {
    const Scales s = scales(x, v, c, r);
    check("LL", r, 0, result.ll[r], cpu.ll[r], s.ll_magnitude / s.unit, s.q1, s.unit);
    for (int j = 0; j < k; ++j) {
      const std::size_t i = static_cast<std::size_t>(r) * k + j;
      check("N", r, j, result.n[i], cpu.n[i], std::abs(cpu.n[i]), s.q1, s.unit);
      check("S", r, j, result.s[i], cpu.s[i], std::abs(cpu.s[i]), s.qs, s.unit);
      check("T", r, j, result.t[i], cpu.t[i], std::abs(cpu.t[i]), s.qt, s.unit);
    }
  }
  EXPECT_LE(worst, 1.0) << "worst (error / tolerance) at " << where;
}

}  // namespace betamix::test
