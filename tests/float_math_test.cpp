// The float32 logarithms, exp2 and reciprocal of the GPU pass (betamix/math/float_math.hpp) against
// double precision, in ulps of the float32 result, over every float of their domain taken in a
// stride (every float when BETAMIX_EXHAUSTIVE=1: a minute or two). The bounds are those of the
// header; an exhaustive run measured 1.86 ulp (log2_normal) and 2.43 ulp (log2_1m).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "betamix/math/beta_math.hpp"
#include "betamix/math/float_math.hpp"
#include "betamix/math/float_pass.hpp"
#include "support/worst.hpp"

namespace betamix {
namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::uint32_t stride() {
  const char* all = std::getenv("BETAMIX_EXHAUSTIVE");
  return all && std::strcmp(all, "1") == 0 ? 1u : 61u;
}

// |got - exact| in units of the float32 spacing at the exact value.
double ulps(float got, double exact) {
  if (exact == 0.0) return got == 0.0f ? 0.0 : std::numeric_limits<double>::infinity();
  const double spacing = std::ldexp(1.0, std::ilogb(static_cast<float>(exact)) - 23);
  return std::abs(static_cast<double>(got) - exact) / spacing;
}

struct Worst {
  double ulps = 0.0;
  float at = 0.0f;
  void add(double u, float x) {
    if (test::is_worse(u, ulps)) {
      ulps = u;
      at = x;
    }
  }
};

// The base-2 logarithms the pass uses: log2(y) = e + log1p(f) log2(e) cancels near y = 4/3
// (e = 1, log1p(f) ~ -0.41), which costs up to 1.86 ulp; log2(1 - x) for tiny x adds the
// correction t / y in base 2 to a cancelling sum, up to 2.43 ulp (exhaustive runs).
TEST(FloatMath, Log2NormalWithinTwoUlpOnNormalFloatsUpTo2To32) {
  Worst worst;
  const std::uint32_t step = stride();
  for (std::uint32_t u = 0x00800000u; u <= 0x4f800000u; u += step) {  // [2^-126, 2^32]
    const float y = from_bits(u);
    worst.add(ulps(math::log2_normal(y), std::log2(static_cast<double>(y))), y);
  }
  // The ends and the points where the argument reduction switches exponent.
  for (const float y : {std::numeric_limits<float>::min(), 0.5f, 2.0f / 3.0f, 1.0f, 4.0f / 3.0f,
                        std::nextafter(4.0f / 3.0f, 0.0f), 65536.0f, 16777216.0f}) {
    worst.add(ulps(math::log2_normal(y), std::log2(static_cast<double>(y))), y);
  }
  EXPECT_LE(worst.ulps, 2.0) << "at y = " << worst.at;
  EXPECT_EQ(math::log2_normal(1.0f), 0.0f);
  EXPECT_EQ(math::log2_normal(0.5f), -1.0f);
  EXPECT_EQ(math::log2_normal(1024.0f), 10.0f);
  // Not in the domain, but passed through so that the pass's LL cannot hide them.
  EXPECT_TRUE(std::isnan(math::log2_normal(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(math::log2_normal(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
}

TEST(FloatMath, Log2Of1mWithinTwoAndAHalfUlpOnNormalFloatsInTheUnitInterval) {
  Worst worst;
  const std::uint32_t step = stride();
  for (std::uint32_t u = 0x00800000u; u < 0x3f800000u; u += step) {
    const float x = from_bits(u);
    worst.add(ulps(math::log2_1m(x), std::log1p(-static_cast<double>(x)) / std::log(2.0)), x);
  }
  for (const float x : {std::numeric_limits<float>::min(), 1e-30f, 0x1.0p-25f, 3.7251837e-08f, 0.5f,
                        1.0f - 0x1.0p-24f}) {
    worst.add(ulps(math::log2_1m(x), std::log1p(-static_cast<double>(x)) / std::log(2.0)), x);
  }
  EXPECT_LE(worst.ulps, 2.5) << "at x = " << worst.at;
}

// The software exp2 of the pass: exact at integers, within an ulp on every float in [-125, 0]
// (0.952 ulp in an exhaustive run), 0 below, and unbiased: over the arguments that matter in a
// sum s >= 1 (d in [-30, 0], evenly spaced) the mean relative error is 1/67 of 2^-24; the test
// allows 1/20. An approximation off by its 2 ulp in one direction (2^-22) would be 80 times that.
TEST(FloatMath, Exp2NonPositiveWithinAnUlpAndUnbiased) {
  Worst worst;
  const std::uint32_t step = stride();
  for (std::uint32_t u = 0x80000000u; u <= 0xc2fa0000u; u += step) {  // -0 down to -125
    const float d = from_bits(u);
    worst.add(ulps(math::exp2_nonpositive(d), std::exp2(static_cast<double>(d))), d);
  }
  for (const float d : {-0.5f, std::nextafter(-0.5f, 0.0f), -1.5f, -124.5f, -125.0f}) {
    worst.add(ulps(math::exp2_nonpositive(d), std::exp2(static_cast<double>(d))), d);
  }
  EXPECT_LE(worst.ulps, 1.0) << "at d = " << worst.at;
  for (int i = 0; i >= -125; --i) {
    EXPECT_EQ(math::exp2_nonpositive(static_cast<float>(i)), std::ldexp(1.0f, i)) << "d = " << i;
  }
  EXPECT_EQ(math::exp2_nonpositive(std::nextafter(-125.0f, -126.0f)), 0.0f);
  EXPECT_EQ(math::exp2_nonpositive(-1000.0f), 0.0f);
  EXPECT_EQ(math::exp2_nonpositive(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(math::exp2_nonpositive(std::numeric_limits<float>::quiet_NaN())));

  constexpr int kPoints = 3000000;
  double bias = 0.0;
  for (int i = 0; i < kPoints; ++i) {
    const float d = static_cast<float>(-30.0 * (i + 0.5) / kPoints);
    const double exact = std::exp2(static_cast<double>(d));
    bias += (static_cast<double>(math::exp2_nonpositive(d)) - exact) / exact;
  }
  bias /= kPoints;
  EXPECT_LE(std::abs(bias), std::ldexp(1.0, -24) / 20) << "mean relative error " << bias;
}

// The device starts the Newton step from the hardware approximation (about 1 ulp); from any
// start within 2 ulp the refined reciprocal is within an ulp.
TEST(FloatMath, RefinedReciprocalWithinAnUlpFromAStartWithinTwo) {
  Worst worst;
  const std::uint32_t step = stride();
  for (std::uint32_t u = 0x3f800000u; u <= 0x47800000u; u += step) {  // [1, 2^16]
    const float s = from_bits(u);
    const double exact = 1.0 / static_cast<double>(s);
    float start = static_cast<float>(exact);
    for (int i = 0; i < 2; ++i) start = std::nextafter(start, 0.0f);
    for (int off = -2; off <= 2; ++off, start = std::nextafter(start, 1.0f)) {
      worst.add(ulps(math::refine_reciprocal(s, start), exact), s);
    }
    worst.add(ulps(math::reciprocal(s), exact), s);
  }
  EXPECT_LE(worst.ulps, 1.0) << "at s = " << worst.at;
}

// One sample's mixture math as the pass runs it (base 2: float_pass.hpp) against the
// double-precision math of the CPU backend: log p(x) and the responsibilities to 8 float32
// ulps of the largest term summed in l_k (a few roundings of the sum, the logs' 2.5 ulp, and
// exp2's 2 ulp on the difference).
TEST(FloatMath, FloatMixtureMathInBase2MatchesDouble) {
  const double am1[3] = {1.5, -0.4, 9.0}, bm1[3] = {4.0, -0.6, 0.5}, c[3] = {1.2, -0.9, 0.3};
  const double log2e = 1.4426950408889634;
  const float am1f[3] = {1.5f, -0.4f, 9.0f}, bm1f[3] = {4.0f, -0.6f, 0.5f},
              c2f[3] = {static_cast<float>(1.2 * log2e), static_cast<float>(-0.9 * log2e),
                        static_cast<float>(0.3 * log2e)};
  for (const int k : {1, 2, 3}) {
    for (const float x : {1e-30f, 1e-6f, 0.01f, 0.3f, 0.5f, 0.77f, 0.95f, 1.0f - 0x1.0p-24f}) {
      const double lx = std::log(static_cast<double>(x)), l1x = std::log1p(-static_cast<double>(x));
      double r[3];
      const double lp =
          math::mixture_responsibilities(lx, l1x, math::ComponentView<double>{am1, bm1, c}, k, r);
      double scale = 1.0;  // magnitude of the terms summed in l_k
      for (int j = 0; j < k; ++j) {
        scale = std::fmax(scale, std::abs(c[j]) + std::abs(am1[j] * lx) + std::abs(bm1[j] * l1x));
      }
      float lx2, l1x2, rf[3], m2, s;
      math::float_sample_logs(x, lx2, l1x2);
      math::mixture_responsibilities_split<float>(
          lx2, l1x2, math::ComponentView<float>{am1f, bm1f, c2f}, k, rf, m2, s,
          math::FloatPassExp2{}, math::FloatPassReciprocal{});
      const double lpf = (m2 + math::log2_normal(s)) / log2e;
      EXPECT_NEAR(lpf, lp, 8 * 6e-8 * scale) << "k=" << k << " x=" << x;
      for (int j = 0; j < k; ++j) {
        EXPECT_NEAR(rf[j], r[j], 8 * 6e-8 * scale) << "k=" << k << " x=" << x << " j=" << j;
      }
    }
  }
}

}  // namespace
}  // namespace betamix
