#pragma once
/// \file
/// The per-sample float32 math of the GPU pass (kernels/pass.cu), as host-and-device code so
/// that the CPU tests run exactly what the kernel runs (tests/float_pass_test.cpp). It works in
/// base 2: with the constants c2_k = c_k log2(e) (float_pass_constants) and the logs in base 2,
///
///   l2_k = c2_k + (a_k - 1) log2 x + (b_k - 1) log2(1 - x) = l_k log2(e),
///   r_k = 2^(l2_k - m2) / s,   s = sum_j 2^(l2_j - m2),   log2 p(x) = m2 + log2 s,
///
/// so every exponential is one exp2 of a non-positive argument (FloatPassExp2). The sums S_k, T_k
/// and LL come out in base 2, and PassStats::assign_float_pass multiplies them by log(2).
///
///   float_sample_logs        log2 x and log2(1 - x) of a float32 sample (the X layout)
///   lane_logs                the same for one lane of a group, in either layout
///   accumulate_float_group   one start's N_k, S_k, T_k and LL over a group of 4 samples:
///                            per-sample math and the group's sums in float32, in a fixed
///                            order, then added to double accumulators
///
/// The logarithms, exp2 and the reciprocal are those of float_math.hpp.

#include "betamix/math/beta_math.hpp"
#include "betamix/math/float_math.hpp"
#include "betamix/math/hd.hpp"

namespace betamix::math {

/// log2 x and log2(1 - x) for x a normal float in (0, 1), the samples the X layout admits.
BETAMIX_HD_INLINE void float_sample_logs(float x, float& log2_x, float& log2_1m_x) {
  log2_x = log2_normal(x);
  log2_1m_x = log2_1m(x);
}

/// The base-2 logs of one lane of a float4 group: from x (the X layout) or from the stored
/// natural logs a = log x, b = log(1 - x) (the log pair). A lane past the data (!valid) takes
/// x = 1/2: finite logs, and its weight is 0.
template <bool LogPair>
BETAMIX_HD_INLINE void lane_logs(bool valid, float a, float b, float& log2_x, float& log2_1m_x) {
  if constexpr (LogPair) {
    log2_x = valid ? to_log2(a) : -1.0f;
    log2_1m_x = valid ? to_log2(b) : -1.0f;
  } else {
    float_sample_logs(valid ? a : 0.5f, log2_x, log2_1m_x);
  }
}

/// The exponential of the pass, in base 2 (arguments <= 0). With k <= 2 components, the
/// hardware's exp2_approx (one instruction, within 2 ulp); above, the unbiased exp2_nonpositive
/// (about twelve), the same bits on host and device. The hardware's error is bounded but not
/// known to average out, and an error in the same direction in every exponential moves each
/// sample's log2 p(x) = m2 + log2 s by up to that error. At k = 2, where s = 1 + one
/// exponential, by at most half of it, which the CPU-versus-GPU tolerance absorbs even for a
/// full 2-ulp bias (tests/float_pass_test.cpp, FloatPassHardwareExp2); at k = 16 it would not
/// (1.7 times the tolerance, bench/RESULTS.md section 4b). k = 1 takes no exponential.
struct FloatPassExp2 {
  bool hardware;  // k <= 2
  BETAMIX_HD_INLINE static FloatPassExp2 for_k(int k) { return FloatPassExp2{k <= 2}; }
  BETAMIX_HD_INLINE float operator()(float d) const {
    return hardware ? exp2_approx(d) : exp2_nonpositive(d);
  }
};

/// The reciprocal of the pass: s = sum of shifted exponentials, 1 <= s <= k.
struct FloatPassReciprocal {
  BETAMIX_HD_INLINE float operator()(float s) const { return reciprocal(s); }
};

/// Adds one start's statistics of 4 samples (base-2 logs `lx`, `l1x`, weights `w`; weight 0 for
/// lanes past the data) to acc = [N_0..N_k-1, S_0.., T_0.., LL], S, T and LL in base 2; `comp`
/// holds am1, bm1 and c2. KCap >= k is the capacity
/// of the arrays (k itself when known at compile time, for full unrolling). `exp2` is the
/// exponential (FloatPassExp2 in the pass; the tests also pass a deliberately biased one).
///
/// LL adds m2 + log2 s per sample (1 <= s <= k). With UnitWeights
/// (every weight 1, or 0 past the data) the four logs become one: sum_j log2 s_j =
/// log2 prod_j s_j, the product at most k^4 (2^24 for k = 64), so one logarithm per group.
template <int KCap, bool UnitWeights, class Exp2>
BETAMIX_HD_INLINE void accumulate_float_group(int k, const float (&lx)[4], const float (&l1x)[4],
                                              const float (&w)[4], ComponentView<float> comp,
                                              double (&acc)[3 * KCap + 1], Exp2 exp2) {
  float part[3 * KCap + 1];
  BETAMIX_UNROLL
  for (int t = 0; t < 3 * k + 1; ++t) part[t] = 0.0f;
  float product = 1.0f;
  BETAMIX_UNROLL
  for (int j = 0; j < 4; ++j) {
    float r[KCap], m, s;
    mixture_responsibilities_split<float>(lx[j], l1x[j], comp, k, r, m, s, exp2,
                                          FloatPassReciprocal{});
    if constexpr (UnitWeights) {
      part[3 * k] += w[j] * m;
      product *= w[j] > 0.0f ? s : 1.0f;
    } else {
      part[3 * k] += w[j] * (m + log2_normal(s));
    }
    BETAMIX_UNROLL
    for (int c = 0; c < k; ++c) {
      const float wr = w[j] * r[c];
      part[c] += wr;
      part[k + c] += wr * lx[j];
      part[2 * k + c] += wr * l1x[j];
    }
  }
  if constexpr (UnitWeights) part[3 * k] += log2_normal(product);
  BETAMIX_UNROLL
  for (int t = 0; t < 3 * k + 1; ++t) acc[t] += part[t];
}

/// As above, with the pass's exponential for k (FloatPassExp2::for_k), as the kernel runs it.
template <int KCap, bool UnitWeights>
BETAMIX_HD_INLINE void accumulate_float_group(int k, const float (&lx)[4], const float (&l1x)[4],
                                              const float (&w)[4], ComponentView<float> comp,
                                              double (&acc)[3 * KCap + 1]) {
  accumulate_float_group<KCap, UnitWeights>(k, lx, l1x, w, comp, acc, FloatPassExp2::for_k(k));
}

}  // namespace betamix::math
