#pragma once
/// \file
/// Float32 base-2 logarithms, exp2 and reciprocal for the GPU pass, on exactly the inputs the
/// pass gives them, so that none of the special-case handling of the general log2f, log1pf,
/// exp2f and division (zero, subnormals, infinities, NaN, negative values) runs per sample:
///
///   log2_normal(y)       log2 y      for y a positive normal float (2^-126 <= y < inf);
///                                    NaN and +inf pass through
///   log2_1m(x)           log2(1 - x) for x a normal float in (0, 1)
///   to_log2(l)           l log2(e)   (a stored natural log in base 2)
///   exp2_nonpositive(d)  2^d         for d <= 0, unbiased (exp2_approx: the hardware's)
///   reciprocal(s)        1 / s       for 1 <= s <= 2^16 (a sum of exponentials, one of them 1)
///
/// Accuracy against double precision, over every float of the domain
/// (BETAMIX_EXHAUSTIVE=1 build/tests/float_math_test; a stride of it by default): log2_normal
/// within 1.86 ulp on [2^-126, 2^32], log2_1m within 2.43 ulp on every normal float in (0, 1),
/// exp2_nonpositive within 0.96 ulp on [-125, 0], reciprocal within 1 ulp. The same code runs
/// on the host, where the tests run it; only the hardware approximations (exp2_approx, the
/// start of reciprocal() and the tiny correction term of log2_1m()) are exact on the host, so
/// host and device may differ by an ulp or two in those.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "betamix/math/hd.hpp"

// Fast2Sum and rounding by adding 1.5 * 2^23 need IEEE arithmetic as written; -ffast-math
// would fold them away (d - ((d + c) - c) to 0).
#if defined(__FAST_MATH__) && !defined(__CUDA_ARCH__)
#error "betamix/math/float_math.hpp must not be compiled with -ffast-math"
#endif

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

// The hardware approximations of the device (without the range checks of __fdividef or
// exp2f; callers pass arguments in range): rcp.approx (about 1 ulp, normal finite s) and
// ex2.approx (about 2 ulp; results below the smallest normal float flush to 0). On the host,
// the exact quotient and std::exp2.
enum class Approx { Reciprocal, Exp2 };

template <Approx A>
BETAMIX_HD_INLINE float hardware(float v) {
#if defined(__CUDA_ARCH__)
  float r;
  if constexpr (A == Approx::Reciprocal) {
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  } else {
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  }
  return r;
#else
  if constexpr (A == Approx::Reciprocal) {
    return 1.0f / v;
  } else {
    return std::exp2(v);
  }
#endif
}

BETAMIX_HD_INLINE float approx_reciprocal(float s) { return hardware<Approx::Reciprocal>(s); }

// log2(e) = kLog2eHi + kLog2eLo: the float nearest log2(e) alone is 1.5e-8 low, a bias every
// result would share.
constexpr float kLog2eHi = 1.44269502162933349609375f;
constexpr float kLog2eLo = 1.925963033500011079e-08f;

// y = 2^e m with m in [2/3, 4/3): returns e and log1p(f), f = m - 1 (exact), log1p(f) =
// f + f^2 Q(f) with Q a degree-8 polynomial fitted (weighted least squares iterated toward the
// minimax, script tests/data/make_float_math_coefficients.py) to (log1p(f) - f) / f^2 on
// [-1/3, 1/3].
struct LogParts {
  float e;
  float log1p_f;
};

BETAMIX_HD_INLINE LogParts log_parts(float y) {
  const std::int32_t u = bits(y);
  const std::int32_t e_bits = (u - 0x3f2aaaab) & static_cast<std::int32_t>(0xff800000u);
  const float f = from_bits(u - e_bits) - 1.0f;
  float q = -1.331160367e-01f;
  q = fma(q, f, 1.400623769e-01f);
  q = fma(q, f, -1.207818240e-01f);
  q = fma(q, f, 1.400082260e-01f);
  q = fma(q, f, -1.668950170e-01f);
  q = fma(q, f, 2.001077086e-01f);
  q = fma(q, f, -2.499950677e-01f);
  q = fma(q, f, 3.333320916e-01f);
  q = fma(q, f, -5.000000000e-01f);
  return {static_cast<float>(e_bits >> 23), fma(q * f, f, f)};
}

// log(1 - x) = log y + t / y with y = 1 - x rounded and t its rounding error: y + t = 1 - x
// exactly (Fast2Sum: |1| >= |x|), |t| <= 2^-25, 0 when x >= 1/2, and log(y + t) = log y + t / y
// to within (t / y)^2 / 2 < 2^-49 (in base 2, log2 y + (t / y) log2(e)). Returns y and t / y.
struct OneMinus {
  float y;
  float t_over_y;
};

BETAMIX_HD_INLINE OneMinus one_minus(float x) {
  const float y = 1.0f - x;
  const float t = -x - (y - 1.0f);  // exact
  return {y, t * approx_reciprocal(y)};
}

}  // namespace float_math_detail

/// log2 y for a positive normal float y: e + log1p(f) log2(e). NaN and +inf come back as
/// they are (one select), so that a NaN sum of exponentials leaves the pass's LL NaN.
BETAMIX_HD_INLINE float log2_normal(float y) {
  namespace d = float_math_detail;
  const d::LogParts p = d::log_parts(y);
  const float l = d::fma(p.log1p_f, d::kLog2eLo, d::fma(p.log1p_f, d::kLog2eHi, p.e));
  return y <= 3.40282347e+38f ? l : y;  // false for NaN and +inf
}

/// log2(1 - x) for a normal float x in (0, 1) (float_math_detail::one_minus).
BETAMIX_HD_INLINE float log2_1m(float x) {
  namespace d = float_math_detail;
  const d::OneMinus o = d::one_minus(x);
  return d::fma(o.t_over_y, d::kLog2eHi, log2_normal(o.y));
}

/// A natural logarithm in base 2 (log2(e) in two parts, as in log2_normal).
BETAMIX_HD_INLINE float to_log2(float natural_log) {
  namespace d = float_math_detail;
  return d::fma(natural_log, d::kLog2eHi, natural_log * d::kLog2eLo);
}

/// 2^d for d <= 0 by the device's ex2.approx (one instruction, within 2 ulp; results below the
/// smallest normal float flush to 0); exp2 on the host.
BETAMIX_HD_INLINE float exp2_approx(float d) {
  return float_math_detail::hardware<float_math_detail::Approx::Exp2>(d);
}

/// 2^d for d <= 0, the same bits on the host and the device: d = i + f with i = rint(d) (by
/// adding and subtracting 1.5 * 2^23) and |f| <= 1/2, 2^f = 1 + f P(f) with P of degree 5
/// (fitted by tests/data/make_float_math_coefficients.py), and i added to the exponent of the
/// result (a multiplication by 2^i, exact, which also keeps a NaN d a NaN). Within 0.96 ulp of
/// 2^d for every float d in [-125, 0], and unbiased: the mean relative error over them is
/// 3.4e-10, 1/175 of 2^-24 (tests/float_math_test.cpp). It costs about twelve instructions where
/// exp2_approx() takes one, but that one is only bounded (by 2 ulp), not known to be unbiased.
/// 0 for d < -125 (and -inf): against a sum of at least 1, a term below 2^-125 is nothing.
BETAMIX_HD_INLINE float exp2_nonpositive(float d) {
  namespace fm = float_math_detail;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: d + kRound rounds d to an integer
  const float t = d + kRound;
  const float f = d - (t - kRound);
  float q = 1.535336050e-04f;
  q = fm::fma(q, f, 1.339887502e-03f);
  q = fm::fma(q, f, 9.618436918e-03f);
  q = fm::fma(q, f, 5.550332367e-02f);
  q = fm::fma(q, f, 2.402264774e-01f);
  q = fm::fma(q, f, 6.931471825e-01f);
  const float p = fm::fma(q, f, 1.0f);  // 2^f in [2^-1/2, 2^1/2]
  // The low bits of t hold i (two's complement); shifted into the exponent field and added to
  // the exponent bias, they make 2^i, a normal float for i >= -125.
  const std::uint32_t scale = (static_cast<std::uint32_t>(fm::bits(t)) << 23) + 0x3f800000u;
  const float r = p * fm::from_bits(static_cast<std::int32_t>(scale));
  return d < -125.0f ? 0.0f : r;
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
