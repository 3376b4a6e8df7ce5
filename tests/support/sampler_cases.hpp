#pragma once
// What both samplers (CPU and GPU) are tested on: ordinary, tiny (0.05) and large (500)
// shapes, the sample size of the distribution tests, and the moment check.

#include <cmath>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace betamix::test {

struct SamplerCase {
  const char* name;
  MixtureParams p;
};

inline const SamplerCase kSamplerCases[] = {
    {"Demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
    {"Tiny", {{1.0}, {0.05}, {0.05}}},
    {"TinyAlphaMixture", {{0.3, 0.7}, {0.05, 2.0}, {3.0, 3.0}}},
    {"Large500x500", {{1.0}, {500.0}, {500.0}}},
    {"Large500x50", {{1.0}, {500.0}, {50.0}}},
};

/// Samples per distribution test.
constexpr std::size_t kSamplerN = 200000;

// gtest prints a parameter by name instead of as bytes.
inline void PrintTo(const SamplerCase& c, std::ostream* os) { *os << c.name; }

// Mean and variance of the sample against the exact mixture moments, within 5 standard errors:
// SE(mean) = sqrt(var / n), SE(variance) = sqrt((mu4 - var^2) / n) with mu4 the exact central
// fourth moment. A 5-sigma miss has probability ~6e-7 for a correct sampler.
template <class Real>
inline void check_moments(const MixtureParams& p, const std::vector<Real>& x) {
  const double m1 = ref_mixture_raw_moment(p, 1), m2 = ref_mixture_raw_moment(p, 2);
  const double m3 = ref_mixture_raw_moment(p, 3), m4 = ref_mixture_raw_moment(p, 4);
  const double var = m2 - m1 * m1;
  const double mu4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1;
  const double n = static_cast<double>(x.size());
  double sum = 0.0;
  for (Real v : x) sum += v;
  const double mean = sum / n;
  double ss = 0.0;
  for (Real v : x) ss += (v - mean) * (v - mean);
  const double sample_var = ss / (n - 1);
  ToleranceCheck mean_check(5 * std::sqrt(var / n), 0.0);
  mean_check.add("mean", mean, m1);
  EXPECT_TRUE(mean_check.result());
  ToleranceCheck var_check(5 * std::sqrt((mu4 - var * var) / n), 0.0);
  var_check.add("variance", sample_var, var);
  EXPECT_TRUE(var_check.result());
}

/// Every value strictly inside (0,1); NaN, too, is outside.
template <class Real>
inline void check_open_interval(const std::vector<Real>& x) {
  const char* type = sizeof(Real) == 4 ? "float" : "double";
  std::size_t low = 0, high = 0, nan = 0;
  for (Real v : x) {
    nan += v != v;
    low += v <= Real(0);
    high += v >= Real(1);
  }
  EXPECT_EQ(nan, 0u) << type << ": " << nan << " of " << x.size() << " values are NaN";
  EXPECT_EQ(low, 0u) << type << ": " << low << " of " << x.size() << " values <= 0";
  EXPECT_EQ(high, 0u) << type << ": " << high << " of " << x.size() << " values >= 1";
}

/// Shapes so small that log U / shape overflows to -inf for both gammas: the draw is the limit
/// of Beta(a, b) as a, b -> 0, 1 with probability a / (a + b) and 0 otherwise (clamped inside
/// the interval), never NaN. With a / (a + b) = 1/4 the count of values above 1/2 in 20000
/// draws is binomial(20000, 1/4), sd 61; allow 6 sd.
template <class Real>
inline void check_vanishing_shapes(double a, double b, Device device) {
  ASSERT_NEAR(a / (a + b), 0.25, 1e-12);
  const MixtureParams p{{1.0}, {a}, {b}};
  std::vector<Real> x(20000);
  sample(p, x.size(), 11, x.data(), device);
  check_open_interval(x);
  std::size_t high = 0;
  for (Real v : x) {
    ASSERT_TRUE(v < Real(1e-30) || v > Real(1) - Real(1e-6)) << v;
    high += v > Real(0.5);
  }
  EXPECT_NEAR(static_cast<double>(high), 5000.0, 6 * 61.2);
}

/// Shapes in the millions and beyond: Marsaglia-Tsang's acceptance test must not lose the
/// spread to rounding (d - d v cancels to within d ulps when computed as written). Mean and
/// variance of 10^6 draws from one Beta(a, b) against the exact a / (a + b) and
/// ab / ((a + b)^2 (a + b + 1)), within 5 standard errors: sqrt(var / n), and var sqrt(2 / (n - 1))
/// for the variance (the excess kurtosis, about 6 / (a + b), is negligible at these shapes; the
/// raw-moment formula of check_moments cancels there). The spread of a float32 draw is still
/// hundreds of float spacings at a = 1e9.
template <class Real>
inline void check_large_shape(double a, double b, Device device) {
  SCOPED_TRACE(std::string(sizeof(Real) == 4 ? "float" : "double") + ", alpha " +
               std::to_string(a) + ", beta " + std::to_string(b));
  const MixtureParams p{{1.0}, {a}, {b}};
  std::vector<Real> x(1000000);
  sample(p, x.size(), 31, x.data(), device);
  check_open_interval(x);
  const double n = static_cast<double>(x.size());
  const double mean = a / (a + b), var = a * b / ((a + b) * (a + b) * (a + b + 1));
  double sum = 0.0, ss = 0.0;
  for (Real v : x) sum += v;
  const double m = sum / n;
  for (Real v : x) ss += (v - m) * (v - m);
  EXPECT_NEAR(m, mean, 5 * std::sqrt(var / n));
  EXPECT_NEAR(ss / (n - 1) / var, 1.0, 5 * std::sqrt(2 / (n - 1)));
}

/// check_large_shape at a = b and b = 3a, for a up to 1e9 in float and 1e15 in double. b = 3a
/// also catches a bias of the ratio's scale: log d_b - log d_a taken from two float-rounded
/// logs (about 20, an ulp of 2e-6) shifted the mean of Beta(1e8, 3e8) by 4 standard errors.
inline void check_large_shapes(Device device) {
  for (const double a : {1e6, 1e8, 1e9}) {
    check_large_shape<float>(a, a, device);
    check_large_shape<float>(a, 3 * a, device);
  }
  for (const double a : {1e8, 1e13, 1e15}) {
    check_large_shape<double>(a, a, device);
    check_large_shape<double>(a, 3 * a, device);
  }
}

/// A component at 1: Beta(a, 1) with a so large that 1 - x spans a few dozen spacings of the
/// numbers just below 1 (2^-24 in float, 2^-53 in double: 17 and 90 on average here). Each 1 - x
/// is then a whole number m of spacings, and rounding to the nearest number makes m odd about
/// half the time, where x = 1 / (1 + e) put 94 % of the float draws on even m (1 + e rounds e
/// to the coarser spacing above 1). The mean of 1 - x, 1 / (a + 1), within 5 standard errors
/// (its standard deviation is about its mean).
template <class Real>
inline void check_values_near_one(double a, Device device) {
  SCOPED_TRACE(std::string(sizeof(Real) == 4 ? "float" : "double") + ", alpha " +
               std::to_string(a) + ", beta 1");
  const MixtureParams p{{1.0}, {a}, {1.0}};
  std::vector<Real> x(200000);
  sample(p, x.size(), 41, x.data(), device);
  check_open_interval(x);
  const double spacing = sizeof(Real) == 4 ? 0x1p-24 : 0x1p-53;
  double sum = 0.0, odd = 0.0;
  for (Real v : x) {
    ASSERT_GE(v, Real(0.5));  // so that 1 - v is exact and a whole number of spacings
    const double y = 1.0 - static_cast<double>(v);
    sum += y;
    odd += std::fmod(y / spacing, 2.0) == 1.0;
  }
  const double n = static_cast<double>(x.size()), mean = 1.0 / (a + 1.0);
  EXPECT_NEAR(sum / n, mean, 5 * mean / std::sqrt(n));
  EXPECT_NEAR(odd / n, 0.5, 0.05);
}

inline void check_values_near_one(Device device) {
  check_values_near_one<float>(1e6, device);
  check_values_near_one<double>(1e14, device);
}

}  // namespace betamix::test
