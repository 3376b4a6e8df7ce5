#pragma once
/// \file
/// The per-sample float32 math of the GPU pass (kernels/pass.cu), as host-and-device code so
/// that the CPU tests run exactly what the kernel runs (tests/float_pass_test.cpp):
///
///   float_sample_logs        log x and log(1 - x) of a float32 sample (the X layout)
///   accumulate_float_group   one start's N_k, S_k, T_k and LL over a group of 4 samples:
///                            per-sample math and the group's sums in float32, in a fixed
///                            order, then added to double accumulators
///
/// exp is the standard library's (CUDA's expf on the device), the logarithms and the
/// reciprocal those of float_math.hpp.

#include "betamix/math/beta_math.hpp"
#include "betamix/math/float_math.hpp"
#include "betamix/math/hd.hpp"

namespace betamix::math {

/// log x and log(1 - x) for x a normal float in (0, 1), the samples the X layout admits.
BETAMIX_HD_INLINE void float_sample_logs(float x, float& log_x, float& log1m_x) {
  log_x = log_normal(x);
  log1m_x = log1m(x);
}

/// The reciprocal of the pass: s = sum of shifted exponentials, 1 <= s <= k.
struct FloatPassReciprocal {
  BETAMIX_HD_INLINE float operator()(float s) const { return reciprocal(s); }
};

/// Adds one start's statistics of 4 samples (logs `lx`, `l1x`, weights `w`; weight 0 for
/// lanes past the data) to acc = [N_0..N_k-1, S_0.., T_0.., LL]. KCap >= k is the capacity
/// of the arrays (k itself when known at compile time, for full unrolling).
///
/// LL adds m + log s per sample (L = logsumexp = m + log s, 1 <= s <= k). With UnitWeights
/// (every weight 1, or 0 past the data) the four logs become one: sum_j log s_j =
/// log prod_j s_j, the product at most k^4 (2^24 for k = 64), so one logarithm per group.
template <int KCap, bool UnitWeights>
BETAMIX_HD_INLINE void accumulate_float_group(int k, const float (&lx)[4], const float (&l1x)[4],
                                              const float (&w)[4], ComponentView<float> comp,
                                              double (&acc)[3 * KCap + 1]) {
  float part[3 * KCap + 1];
  BETAMIX_UNROLL
  for (int t = 0; t < 3 * k + 1; ++t) part[t] = 0.0f;
  float product = 1.0f;
  BETAMIX_UNROLL
  for (int j = 0; j < 4; ++j) {
    float r[KCap], m, s;
    mixture_responsibilities_split<float>(lx[j], l1x[j], comp, k, r, m, s, StdExp{},
                                          FloatPassReciprocal{});
    if constexpr (UnitWeights) {
      part[3 * k] += w[j] * m;
      product *= w[j] > 0.0f ? s : 1.0f;
    } else {
      part[3 * k] += w[j] * (m + log_normal(s));
    }
    BETAMIX_UNROLL
    for (int c = 0; c < k; ++c) {
      const float wr = w[j] * r[c];
      part[c] += wr;
      part[k + c] += wr * lx[j];
      part[2 * k + c] += wr * l1x[j];
    }
  }
  if constexpr (UnitWeights) part[3 * k] += log_normal(product);
  BETAMIX_UNROLL
  for (int t = 0; t < 3 * k + 1; ++t) acc[t] += part[t];
}

}  // namespace betamix::math
