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

/// exp through the standard library (on the device, CUDA's). Backends may pass their own.
struct StdExp {
  template <class Real>
  BETAMIX_HD_INLINE Real operator()(Real x) const {
    return std::exp(x);
  }
};

/// 1 / s by division. Backends may pass their own.
struct StdReciprocal {
  template <class Real>
  BETAMIX_HD_INLINE Real operator()(Real s) const {
    return Real(1) / s;
  }
};

/// Evaluates the K weighted component log-densities l_k of one sample, replaces them in `r` by
/// the responsibilities, and returns the shift m = max_k l_k and the sum s = sum_k exp(l_k - m),
/// so that log p(x) = m + log s. Shifting by the maximum keeps every exponent <= 0 (nothing
/// overflows) and makes s >= 1 (its log is finite); s <= K. Callers that pass a compile-time
/// `k` get fully unrolled loops. `exp` is only ever called with arguments <= 0 (and not at
/// all for k = 1), `reciprocal` only with 1 <= s <= k.
template <class Real, class Exp = StdExp, class Reciprocal = StdReciprocal>
BETAMIX_HD_INLINE void mixture_responsibilities_split(Real log_x, Real log1m_x,
                                                      ComponentView<Real> comp, int k, Real* r,
                                                      Real& m, Real& s, Exp exp = Exp{},
                                                      Reciprocal reciprocal = Reciprocal{}) {
  if (k == 1) {
    m = component_log_density(log_x, log1m_x, comp.am1[0], comp.bm1[0], comp.c[0]);
    s = Real(1);
    r[0] = Real(1);
    return;
  }
  if (k == 2) {
    // One exp instead of two: the larger term is exp(0) = 1.
    const Real l0 = component_log_density(log_x, log1m_x, comp.am1[0], comp.bm1[0], comp.c[0]);
    const Real l1 = component_log_density(log_x, log1m_x, comp.am1[1], comp.bm1[1], comp.c[1]);
    const bool first = l0 >= l1;
    m = first ? l0 : l1;
    const Real e = exp(first ? l1 - l0 : l0 - l1);
    s = Real(1) + e;
    const Real big = reciprocal(s), small = e * big;
    r[0] = first ? big : small;
    r[1] = first ? small : big;
    return;
  }
  m = component_log_density(log_x, log1m_x, comp.am1[0], comp.bm1[0], comp.c[0]);
  r[0] = m;
  for (int j = 1; j < k; ++j) {
    r[j] = component_log_density(log_x, log1m_x, comp.am1[j], comp.bm1[j], comp.c[j]);
    m = r[j] > m ? r[j] : m;
  }
  s = Real(0);
  for (int j = 0; j < k; ++j) {
    r[j] = exp(r[j] - m);
    s += r[j];
  }
  const Real inv = reciprocal(s);
  for (int j = 0; j < k; ++j) r[j] *= inv;
}

/// As mixture_responsibilities_split, returning log p(x) = log sum_k exp(l_k) = m + log s.
template <class Real>
BETAMIX_HD_INLINE Real mixture_responsibilities(Real log_x, Real log1m_x, ComponentView<Real> comp,
                                                int k, Real* r) {
  Real m, s;
  mixture_responsibilities_split(log_x, log1m_x, comp, k, r, m, s);
  return m + std::log(s);
}

}  // namespace betamix::math
