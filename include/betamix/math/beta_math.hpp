#pragma once
/// \file
/// The per-sample mixture math shared by the CPU and CUDA passes:
///
///   l_k  = c_k + (a_k - 1) log x + (b_k - 1) log(1 - x),   c_k = log w_k - log B(a_k, b_k)
///   L    = logsumexp_k l_k = m + log sum_k exp(l_k - m),   m = max_k l_k
///   r_k  = exp(l_k - m) / sum_j exp(l_j - m)
///
/// The constants c_k are computed on the host in double precision, so no special function is
/// evaluated per sample: one exp per component and one log per sample.

#include <cmath>

#include "betamix/math/hd.hpp"

namespace betamix::math {

/// The per-component constants of one pass: l_k(x) = c[k] + am1[k] log x + bm1[k] log(1-x).
template <class Real>
struct ComponentView {
  const Real* am1;  ///< alpha_k - 1
  const Real* bm1;  ///< beta_k - 1
  const Real* c;    ///< log w_k - log B(alpha_k, beta_k)
};

/// Weighted log Beta density of component k without the special function:
/// c + (a-1) log x + (b-1) log(1-x).
template <class Real>
BETAMIX_HD_INLINE Real component_log_density(Real log_x, Real log1m_x, Real am1, Real bm1, Real c) {
  return c + am1 * log_x + bm1 * log1m_x;
}

/// Evaluates the K weighted component log-densities of one sample, replaces them in `r` by the
/// responsibilities and returns the log of the mixture density, log sum_k exp(l_k). Callers
/// that pass a compile-time `k` get fully unrolled loops.
template <class Real>
BETAMIX_HD_INLINE Real mixture_responsibilities(Real log_x, Real log1m_x, ComponentView<Real> comp,
                                                int k, Real* r) {
  Real m = component_log_density(log_x, log1m_x, comp.am1[0], comp.bm1[0], comp.c[0]);
  r[0] = m;
  for (int j = 1; j < k; ++j) {
    r[j] = component_log_density(log_x, log1m_x, comp.am1[j], comp.bm1[j], comp.c[j]);
    m = r[j] > m ? r[j] : m;
  }
  // Shift by the maximum: every exponent is <= 0, so nothing overflows and the largest term
  // is exactly 1, so the sum is >= 1 and its log is finite.
  Real s = Real(0);
  for (int j = 0; j < k; ++j) {
    r[j] = std::exp(r[j] - m);
    s += r[j];
  }
  const Real inv = Real(1) / s;
  for (int j = 0; j < k; ++j) r[j] *= inv;
  return m + std::log(s);
}

}  // namespace betamix::math
