#pragma once
/// \file
/// The per-sample terms of the moment pass, from which host/information.hpp assembles the
/// observed information; shared by the CPU and CUDA moment passes. For one sample with case
/// weight v, lx = log x, l1x = log(1 - x), responsibilities r_0..r_k-1 and log-density log p,
/// with the moments m = v (1, lx, l1x, lx^2, lx l1x, l1x^2), the pass sums over the samples
///
///   sum (q, j)       = m_q r_j          q < 6, j < k            6k sums       (single)
///   sum (q, j, l)    = m_q r_j r_l      q < 6, j <= l < k       6 k(k+1)/2    (pair)
///   sum LL           = v log p                                  1
///
/// in that order: the single sums [q][j], then per moment q the pairs row-major over the upper
/// triangle (j, l = j..k-1), then LL. Both backends fill the same array through moment_slot()
/// and moment_term(), so the sums differ only in the order of addition.

#include "betamix/math/hd.hpp"

namespace betamix::math {

/// Moments per sample: 1, lx, l1x, lx^2, lx l1x, l1x^2 (each times the case weight).
inline constexpr int kMoments = 6;

/// Pairs j <= l of k components.
BETAMIX_HD_INLINE constexpr int moment_pair_count(int k) { return k * (k + 1) / 2; }

/// Sums of the moment pass for k components.
BETAMIX_HD_INLINE constexpr int moment_sum_count(int k) {
  return kMoments * k + kMoments * moment_pair_count(k) + 1;
}

/// The weighted moments of one sample, m[0..6).
template <class Real>
BETAMIX_HD_INLINE void sample_moments(Real v, Real lx, Real l1x, Real* m) {
  m[0] = v;
  m[1] = v * lx;
  m[2] = v * l1x;
  m[3] = v * lx * lx;
  m[4] = v * lx * l1x;
  m[5] = v * l1x * l1x;
}

/// What sum number i (0 <= i < moment_sum_count(k)) of the layout above holds.
struct MomentSlot {
  int q;  ///< the moment, or -1 for LL
  int j;  ///< the (first) component
  int l;  ///< the second component of a pair, or -1 for a single sum
};

/// Decodes sum number i for k components.
BETAMIX_HD_INLINE MomentSlot moment_slot(int k, int i) {
  if (i < kMoments * k) return {i / k, i % k, -1};
  i -= kMoments * k;
  const int pairs = moment_pair_count(k);
  if (i >= kMoments * pairs) return {-1, 0, -1};
  const int q = i / pairs;
  int p = i % pairs, j = 0;
  while (p >= k - j) {  // row j of the upper triangle holds k - j pairs
    p -= k - j;
    ++j;
  }
  return {q, j, j + p};
}

/// One sample's term of the sum in `slot`: m_q r_j, m_q r_j r_l, or v log p.
template <class Real>
BETAMIX_HD_INLINE Real moment_term(MomentSlot slot, const Real* r, const Real* m,
                                   Real weighted_log_p) {
  if (slot.q < 0) return weighted_log_p;
  const Real rr = slot.l < 0 ? r[slot.j] : r[slot.j] * r[slot.l];
  return rr * m[slot.q];
}

}  // namespace betamix::math
