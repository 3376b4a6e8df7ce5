#pragma once
/// \file
/// Drawing one sample of a Beta mixture from a stream of 32-bit random words, shared by the
/// CPU sampler (Philox on the host) and the CUDA sampler (cuRAND's Philox):
///
///   k  = first component with u <= w_1 + ... + w_k        (one uniform)
///   G1 ~ Gamma(a_k), G2 ~ Gamma(b_k)                       (Marsaglia-Tsang)
///   x  = G1 / (G1 + G2) = 1 / (1 + exp(log G2 - log G1))
///
/// Marsaglia & Tsang (2000): for shape s >= 1, d = s - 1/3, c = 1/sqrt(9 d) (per component,
/// once); draw z ~ N(0,1), v = (1 + c z)^3, accept d v when log u < z^2/2 + d - d v + d log v
/// (evaluated without cancellation for large d, mt_log_bound). For s < 1 draw
/// Gamma(s + 1) and multiply by u^(1/s). Everything stays in log space so that tiny shapes
/// (u^(1/s) underflows for s = 0.05) still give a valid, if extreme, ratio; the result is
/// clamped to the open interval (0,1) at the precision of Real.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "betamix/math/hd.hpp"

namespace betamix::math {

/// A uniform variate strictly inside (0,1): 23 random bits for float, 52 for double.
template <class Real, class Stream>
BETAMIX_HD_INLINE Real uniform_open(Stream& s) {
  // The grid (j + 0.5) 2^-p with j < 2^p needs p + 1 significant bits, so p = 23 for float
  // and p = 52 for double keep every point exact, never 0 and never 1.
  if constexpr (std::is_same_v<Real, float>) {
    return (static_cast<float>(s.next() >> 9) + 0.5f) * 1.1920928955078125e-7f;
  } else {
    const std::uint64_t hi = s.next() >> 6, lo = s.next() >> 6;  // 26 + 26 = 52 bits
    return (static_cast<double>((hi << 26) | lo) + 0.5) * 2.220446049250313e-16;
  }
}

/// The second normal of a Box-Muller pair, kept for the next standard_normal() call of the same
/// sample (each sample has its own, so every draw stays a function of its stream alone).
template <class Real>
struct NormalSpare {
  Real value = Real(0);
  bool held = false;
};

/// Standard normal variate by the Box-Muller transform: r cos(2 pi u2), and r sin(2 pi u2) for
/// the next call.
template <class Real, class Stream>
BETAMIX_HD_INLINE Real standard_normal(Stream& s, NormalSpare<Real>& spare) {
  if (spare.held) {
    spare.held = false;
    return spare.value;
  }
  const Real u1 = uniform_open<Real>(s);
  const Real u2 = uniform_open<Real>(s);
  const Real r = std::sqrt(Real(-2) * std::log(u1));
  const Real angle = Real(6.283185307179586) * u2;
  spare.value = r * std::sin(angle);
  spare.held = true;
  return r * std::cos(angle);
}

/// Marsaglia-Tsang's bound on log u, z^2/2 + d - d v + d log v, for v = t^3, t = 1 + y, y = c z,
/// c = 1/sqrt(9 d). As written its terms of size d cancel to within a few ulps of d, which
/// swamps the O(1) bound once d is large (float: from about 1e6 on, draws too narrow). Since
/// d c^2 = 1/9, z^2/2 cancels the y^2 term of d (1 - v + log v) exactly, leaving
///   3 d sum_{n >= 4} (-1)^(n+1) y^n / n = d y^4 (-3/4 + 3y/5 - y^2/2 + 3y^3/7 - ...),
/// free of cancellation; summed to n = 10 where |y| < 1/8 (float) or 1/64 (double), its
/// truncation error is below 1e-8 and about 1e-16 respectively for every z Box-Muller can give
/// (|z| < 5.8 in float, 8.6 in double). Larger |y| mean d < 7 z^2 (float) or d < 455 z^2
/// (double), where the expression as written is accurate.
template <class Real>
BETAMIX_HD_INLINE Real mt_log_bound(Real z, Real y, Real t, Real d, Real log_v) {
  constexpr Real kSeriesBelow = std::is_same_v<Real, float> ? Real(0.125) : Real(0.015625);
  if (std::fabs(y) < kSeriesBelow) {
    const Real p =
        Real(-0.75) +
        y * (Real(0.6) +
             y * (Real(-0.5) + y * (Real(3.0 / 7.0) +
                                    y * (Real(-0.375) + y * (Real(1.0 / 3.0) + y * Real(-0.3))))));
    return d * y * y * (y * y) * p;
  }
  const Real v = t * t * t;
  return Real(0.5) * z * z + d - d * v + d * log_v;
}

/// Marsaglia-Tsang's constants of one shape, computed once per component on the host
/// (detail::sample_tables): g[0] = the shape s; for s' = s (s >= 1) or s + 1 (s < 1, drawn with
/// the boost), g[1] = d = s' - 1/3 and g[2] = c = 1/sqrt(9 d).
inline constexpr int kGammaConstants = 3;

/// log(G / d) with G ~ Gamma(shape, 1), shape > 0, from the shape's constants `g` (above). The
/// scale log d is left to the caller: sample_mixture adds log(d_b / d_a) for the ratio, rounded
/// once, where two rounded log d (about 18 at d = 1e8, an ulp of 2e-6 in float) would shift
/// every draw of a large-shape component by a fixed bias.
template <class Real, class Stream>
BETAMIX_HD_INLINE Real log_gamma_over_d(const Real* g, Stream& s, NormalSpare<Real>& spare) {
  const Real shape = g[0], d = g[1], c = g[2];
  Real log_boost = Real(0);
  if (shape < Real(1)) {
    // Gamma(s) = Gamma(s + 1) * U^(1/s), taken as a log so that it cannot underflow.
    log_boost = std::log(uniform_open<Real>(s)) / shape;
  }
  for (;;) {
    const Real z = standard_normal<Real>(s, spare);
    const Real y = c * z;
    const Real t = Real(1) + y;
    if (t <= Real(0)) continue;
    const Real log_u = std::log(uniform_open<Real>(s));
    const Real log_v = Real(3) * std::log(t);
    if (log_u < mt_log_bound(z, y, t, d, log_v)) return log_v + log_boost;
  }
}

/// Clamps x to the open interval (0,1) at the precision of Real: the smallest normal number
/// above 0 and the largest number below 1.
template <class Real>
BETAMIX_HD_INLINE Real clamp_open_unit(Real x) {
  constexpr Real kLow =
      std::is_same_v<Real, float> ? Real(1.17549435e-38f) : Real(2.2250738585072014e-308);
  constexpr Real kHigh =
      std::is_same_v<Real, float> ? Real(1.0f - 5.9604645e-8f) : Real(1.0 - 1.1102230246251565e-16);
  return !(x >= kLow) ? kLow : (x > kHigh ? kHigh : x);  // NaN, too, becomes kLow
}

/// Reals per component in the tables of sample_mixture (SampleTables).
inline constexpr int kSampleTableWidth = 2 + 2 * kGammaConstants;

/// The component tables of sample_mixture, one array of kSampleTableWidth * k Reals laid out
/// [cum_w (k) | log_d_ratio (k) | g_alpha (kGammaConstants k) | g_beta (kGammaConstants k)]:
/// cumulative weights (the last exactly 1), log(d_beta / d_alpha) of each component, and the
/// gamma constants (above) of each component's alpha and beta. `P` is `Real*` where the host
/// fills them (detail::sample_tables) and `const Real*` where they are read.
template <class P>
struct SampleTables {
  P cum_w, log_d_ratio, g_alpha, g_beta;
  int k;
};

template <class P>
BETAMIX_HD_INLINE SampleTables<P> sample_tables_at(P base, int k) {
  return {base, base + k, base + 2 * k, base + (2 + kGammaConstants) * k, k};
}

/// One draw from the mixture of the tables `t`, strictly inside (0,1).
template <class Real, class Stream>
BETAMIX_HD_INLINE Real sample_mixture(const SampleTables<const Real*>& t, Stream& s) {
  const Real u = uniform_open<Real>(s);
  int j = 0;
  while (j < t.k - 1 && u > t.cum_w[j]) ++j;
  const Real* ga = t.g_alpha + kGammaConstants * j;
  const Real* gb = t.g_beta + kGammaConstants * j;
  NormalSpare<Real> spare;
  const Real r1 = log_gamma_over_d<Real>(ga, s, spare);
  const Real r2 = log_gamma_over_d<Real>(gb, s, spare);
  const Real diff = t.log_d_ratio[j] + (r2 - r1);  // log G2 - log G1
  if (diff != diff) {
    // Both logs are -inf: shapes so small (below ~1e-37 in float) that log U / shape
    // overflows. Beta(a, b) tends to 1 with probability a / (a + b), else to 0, as a, b -> 0.
    const bool one = uniform_open<Real>(s) * (ga[0] + gb[0]) < ga[0];
    return clamp_open_unit<Real>(one ? Real(1) : Real(0));
  }
  // x = G1 / (G1 + G2) = 1 / (1 + e), e = exp(log G2 - log G1); exp may overflow to inf,
  // giving exactly 0, which the clamp moves to the smallest positive normal number. Above 1/2
  // x is taken as 1 - e / (1 + e): 1 + e would round e to the spacing of the numbers above 1,
  // twice that below 1, so that x = 1 / (1 + e) lands on every other number near 1 (and 1 - x
  // is off by up to that spacing); e / (1 + e) keeps e's relative precision, and the one
  // rounding of 1 - e / (1 + e) lands on the nearest number.
  const Real e = std::exp(diff);
  const Real inv = Real(1) / (Real(1) + e);
  return clamp_open_unit<Real>(e < Real(1) ? Real(1) - e * inv : inv);
}

}  // namespace betamix::math
