// detail::mean_nll_gradient (the gradient Adam follows) against central finite differences of
// the mean negative log-likelihood, computed by the naive long-double reference, with respect
// to theta = [log a_1..K, log b_1..K, eta_1..K] (w = softmax(eta)), at random parameters.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"
#include "updates.hpp"

namespace betamix {
namespace {

// -LL / n at theta, by the reference (long double sums; per-sample terms in long double).
double ref_mean_nll(const std::vector<double>& theta, const std::vector<double>& x) {
  const MixtureParams p = detail::from_unconstrained(theta);
  return -test::ref_stats(p, x).ll / static_cast<double>(x.size());
}

// Random parameters from a fixed-seed std::mt19937_64: shapes log-uniform on [0.3, 20],
// logits uniform on [-1, 1].
std::vector<double> random_theta(int k, std::mt19937_64& gen) {
  auto unit = [&gen] { return static_cast<double>(gen() >> 11) * 0x1.0p-53; };
  std::vector<double> theta(3 * k);
  for (int j = 0; j < 2 * k; ++j) theta[j] = std::log(0.3) + unit() * std::log(20.0 / 0.3);
  for (int j = 2 * k; j < 3 * k; ++j) theta[j] = 2.0 * unit() - 1.0;
  return theta;
}

class GradientTest : public ::testing::TestWithParam<int> {};

// The five-point central difference f'(t) ~ (f(t-2h) - 8 f(t-h) + 8 f(t+h) - f(t+2h)) / (12 h)
// has truncation error h^4 f^(5) / 30 (up to ~2e-10 seen at h = 1e-3, where shapes near 20
// make the higher derivatives large) and rounding error ~ 1.5 delta / h, where delta ~ 1e-16
// is the reference's rounding of an O(1) mean: ~1e-13. The tolerance 1e-9 + 1e-8 |ref| is
// ~10x above the truncation error and far below what a wrong term gives (a missing chain-rule
// factor a changes a component by O(1), a sign error by 2|g|, a digamma off by 1e-6 by ~1e-6).
TEST_P(GradientTest, MatchesFiniteDifferences) {
  const int k = GetParam();
  // Data from a fixed mixture; the gradient is evaluated elsewhere, at random parameters.
  const MixtureParams data_mix{{0.3, 0.3, 0.4}, {2.0, 6.0, 1.2}, {7.0, 3.0, 1.5}};
  const std::vector<double> x = sample(data_mix, 2000, 42);
  std::mt19937_64 gen(100 + k);
  const double h = 1e-3;
  test::ToleranceCheck check(1e-9, 1e-8);
  for (int trial = 0; trial < 4; ++trial) {
    const std::vector<double> theta = random_theta(k, gen);
    const MixtureParams p = detail::from_unconstrained(theta);
    const test::RefStats st = test::ref_stats(p, x);
    const std::vector<double> g = detail::mean_nll_gradient(
        p, {st.n.data(), st.s.data(), st.t.data(), static_cast<double>(x.size())});
    ASSERT_EQ(g.size(), theta.size());
    for (std::size_t i = 0; i < theta.size(); ++i) {
      auto f = [&](double step) {
        std::vector<double> t = theta;
        t[i] += step;
        return ref_mean_nll(t, x);
      };
      const double fd = (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h);
      const char* block[] = {"log a", "log b", "eta"};
      check.add(
          "trial " + std::to_string(trial) + " d/d " + block[i / k] + "_" + std::to_string(i % k),
          g[i], fd);
    }
  }
  EXPECT_TRUE(check.result());
}

INSTANTIATE_TEST_SUITE_P(K, GradientTest, ::testing::Values(1, 2, 3));

// from_unconstrained inverts to_unconstrained (up to the rounding of log and exp).
TEST(GradientTest, UnconstrainedRoundTrip) {
  const MixtureParams p{{0.2, 0.5, 0.3}, {0.5, 4.0, 30.0}, {3.0, 4.0, 2.0}};
  const MixtureParams q = detail::from_unconstrained(detail::to_unconstrained(p));
  // exp(log v) is within a few ulps of v.
  test::ToleranceCheck check(0.0, 8 * 2.220446049250313e-16);
  for (std::size_t j = 0; j < p.k(); ++j) {
    check.add("w" + std::to_string(j), q.weights[j], p.weights[j]);
    check.add("a" + std::to_string(j), q.alpha[j], p.alpha[j]);
    check.add("b" + std::to_string(j), q.beta[j], p.beta[j]);
  }
  EXPECT_TRUE(check.result());
}

}  // namespace
}  // namespace betamix
