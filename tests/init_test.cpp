// The starting parameters of a fit (host/init.cpp): moment matching and the quantile groups,
// on narrow groups and on tied values, where a careless rule loses the groups' means.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "betamix/betamix.hpp"
#include "init.hpp"

namespace betamix {
namespace {

double mean_of(const MixtureParams& p, int j) { return p.alpha[j] / (p.alpha[j] + p.beta[j]); }

TEST(MomentMatch, MatchesMeanAndVariance) {
  double a = 0.0, b = 0.0;
  detail::moment_match(0.3, 0.01, a, b);  // a + b = 0.3 * 0.7 / 0.01 - 1 = 20
  EXPECT_NEAR(a, 6.0, 1e-12);
  EXPECT_NEAR(b, 14.0, 1e-12);
}

// A group too narrow for shapes within 1e4, or of one repeated value (v = 0, or a rounding
// residue of 1e-17), keeps its mean at the largest concentration allowed.
TEST(MomentMatch, NarrowGroupsKeepTheirMean) {
  for (const double v : {0.0, 1e-17, 1e-9}) {
    for (const double m : {0.3, 0.5, 0.9}) {
      double a = 0.0, b = 0.0;
      detail::moment_match(m, v, a, b);
      EXPECT_NEAR(a / (a + b), m, 1e-12) << "m = " << m << ", v = " << v;
      EXPECT_DOUBLE_EQ(std::max(a, b), 1e4) << "m = " << m << ", v = " << v;
    }
  }
}

// Two values, 500 each: one group for each (cutting at the median sample, 0.7, would put every
// sample in the first group and start both components on the mixture's mean).
TEST(QuantileInit, TwoValuesMakeTwoGroups) {
  std::vector<double> x(500, 0.3);
  x.insert(x.end(), 500, 0.7);
  const MixtureParams p = detail::quantile_init(x.data(), nullptr, x.size(), 2);
  EXPECT_NEAR(mean_of(p, 0), 0.3, 1e-12);
  EXPECT_NEAR(mean_of(p, 1), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(p.weights[0], 0.5);
  EXPECT_DOUBLE_EQ(p.weights[1], 0.5);
}

// A run of equal values across a cut goes to the side that leaves the group sizes nearer
// n / k: 100, 700, 200 samples at 0.1, 0.5, 0.9 split 800 / 200 (not 100 / 900); 300, 600,
// 100 split 300 / 700 (not 900 / 100).
TEST(QuantileInit, ARunOfTiesGoesToTheNearerSide) {
  struct Case {
    std::size_t low, mid, high;
    double first_weight;
  };
  for (const Case& c : {Case{100, 700, 200, 0.8}, Case{300, 600, 100, 0.3}}) {
    std::vector<double> x(c.low, 0.1);
    x.insert(x.end(), c.mid, 0.5);
    x.insert(x.end(), c.high, 0.9);
    const MixtureParams p = detail::quantile_init(x.data(), nullptr, x.size(), 2);
    EXPECT_DOUBLE_EQ(p.weights[0], c.first_weight) << c.low << "/" << c.mid << "/" << c.high;
  }
}

// Without ties the groups hold n / k samples each, as before.
TEST(QuantileInit, DistinctValuesMakeEqualGroups) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {3.0}}, 1000, 5);
  const MixtureParams p = detail::quantile_init(x.data(), nullptr, x.size(), 4);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(p.weights[j], 0.25, 1.5e-3) << "group " << j;
  for (int j = 0; j + 1 < 4; ++j) EXPECT_LT(mean_of(p, j), mean_of(p, j + 1));
}

}  // namespace
}  // namespace betamix
