#pragma once
/// \file
/// Float32 logarithm and reciprocal for the GPU pass, on exactly the inputs the pass can give
/// them, so that none of the special-case handling of the general logf, log1pf and division
/// (zero, subnormals, infinities, NaN, negative values) is evaluated per sample:
///
///   log_normal(y)     log y      for y a positive normal float (2^-126 <= y < inf)
///   log1m(x)          log(1 - x) for x a normal float in (0, 1)
///   reciprocal(s)     1 / s      for 1 <= s <= 2^16 (a sum of exponentials of which one is 1)
///
/// Accuracy against double precision, over every float of the domain
/// (BETAMIX_EXHAUSTIVE=1 build/tests/float_math_test; a stride of it by default): log_normal within
/// 0.96 ulp on [2^-126, 2^32], log1m within 1.44 ulp on every normal float in (0, 1), reciprocal
/// within 1 ulp. The same code runs on the host, where the tests run it; only the hardware
/// reciprocal approximation (the start of reciprocal() and the tiny correction term of log1m()) is
/// the exact quotient on the host, so host and device may differ by an ulp.

#include <cstdint>
#include <cstring>

#include "betamix/math/hd.hpp"

namespace betamix::math {

namespace float_math_detail {

BETAMIX_HD_INLINE std::int32_t bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_int(x);
#else
  std::int32_t i;
  std::memcpy(&i, &x, sizeof i);
  return i;
#endif
}

BETAMIX_HD_INLINE float from_bits(std::int32_t i) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(i);
#else
  float x;
  std::memcpy(&x, &i, sizeof x);
  return x;
#endif
}

BETAMIX_HD_INLINE float fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}

// Hardware reciprocal (about 1 ulp) on the device, without the range checks of __fdividef;
// callers pass normal, finite s. The exact quotient on the host.
BETAMIX_HD_INLINE float approx_reciprocal(float s) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(s));
  return r;
#else
  return 1.0f / s;
#endif
}

}  // namespace float_math_detail

/// log y for a positive normal float y. y = 2^e m with m in [2/3, 4/3), and
/// log y = e log 2 + log1p(f), f = m - 1 (exact), log1p(f) = f + f^2 Q(f) with Q a degree-8
/// polynomial fitted (weighted least squares iterated toward the minimax, script
/// tests/data/make_float_math_coefficients.py) to (log1p(f) - f) / f^2 on [-1/3, 1/3].
BETAMIX_HD_INLINE float log_normal(float y) {
  namespace d = float_math_detail;
  const std::int32_t u = d::bits(y);
  const std::int32_t e_bits = (u - 0x3f2aaaab) & static_cast<std::int32_t>(0xff800000u);
  const float f = d::from_bits(u - e_bits) - 1.0f;
  const float e = static_cast<float>(e_bits >> 23);
  float q = -1.331160367e-01f;
  q = d::fma(q, f, 1.400623769e-01f);
  q = d::fma(q, f, -1.207818240e-01f);
  q = d::fma(q, f, 1.400082260e-01f);
  q = d::fma(q, f, -1.668950170e-01f);
  q = d::fma(q, f, 2.001077086e-01f);
  q = d::fma(q, f, -2.499950677e-01f);
  q = d::fma(q, f, 3.333320916e-01f);
  q = d::fma(q, f, -5.000000000e-01f);
  const float log1p_f = d::fma(q * f, f, f);
  // log 2 = kLn2Hi + kLn2Lo: the float nearest log 2 alone would bias every result with e != 0
  // by e * 1.9e-9.
  constexpr float kLn2Hi = 0.693147182464599609375f;
  constexpr float kLn2Lo = -1.9046543e-09f;
  return d::fma(e, kLn2Hi, d::fma(e, kLn2Lo, log1p_f));
}

/// log(1 - x) for a normal float x in (0, 1). y = 1 - x rounds for x < 1/2; its rounding
/// error t (y + t = 1 - x exactly, by Fast2Sum: |1| >= |x|) is at most 2^-25, and
/// log(y + t) = log y + t / y to within (t / y)^2 / 2 < 2^-49.
BETAMIX_HD_INLINE float log1m(float x) {
  const float y = 1.0f - x;
  const float t = -x - (y - 1.0f);  // exact; 0 when x >= 1/2
  return float_math_detail::fma(t, float_math_detail::approx_reciprocal(y), log_normal(y));
}

/// One Newton step r0 + r0 (1 - s r0) toward 1 / s: from an r0 within a few ulp, a result
/// within an ulp.
BETAMIX_HD_INLINE float refine_reciprocal(float s, float r0) {
  namespace d = float_math_detail;
  return d::fma(r0, d::fma(-s, r0, 1.0f), r0);
}

/// 1 / s for 1 <= s <= 2^16: one Newton step from the hardware approximation on the device
/// (no slow path for subnormal or huge s is needed in this range).
BETAMIX_HD_INLINE float reciprocal(float s) {
  return refine_reciprocal(s, float_math_detail::approx_reciprocal(s));
}

}  // namespace betamix::math
