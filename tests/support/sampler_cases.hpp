#pragma once
// What both samplers (CPU and GPU) are tested on: ordinary, tiny (0.05) and large (500)
// shapes, the sample size of the distribution tests, and the moment check.

#include <cmath>
#include <cstddef>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "betamix/params.hpp"
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

}  // namespace betamix::test
