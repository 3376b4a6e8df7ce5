// Posteriors and held-out likelihood of a fitted model (the library behind `betamix predict`
// and `betamix score`) against the naive reference of tests/support, at awkward sizes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

const MixtureParams kModel{{0.3, 0.5, 0.2}, {2.0, 6.0, 0.7}, {9.0, 6.0, 0.4}};

// Responsibilities from lgamma-based log densities and a written-out log-sum-exp; the shared
// math uses host-side log B constants and exp of shifted sums, so they agree to ~1e-13
// relative on values of order 1, and to ~1e-13 absolute on tiny posteriors.
TEST(Posterior, ResponsibilitiesMatchReference) {
  for (std::size_t n : {1, 7, 257}) {
    const std::vector<double> x = sample(kModel, n, 11);
    const std::vector<double> post = responsibilities(kModel, x);
    const std::vector<int> best = predict(kModel, x);
    ASSERT_EQ(post.size(), n * 3);
    test::ToleranceCheck check(1e-13, 1e-12);
    for (std::size_t i = 0; i < n; ++i) {
      double l[3], m = -INFINITY, s = 0.0;
      for (int j = 0; j < 3; ++j) {
        l[j] = std::log(kModel.weights[j]) +
               test::ref_beta_log_pdf(x[i], kModel.alpha[j], kModel.beta[j]);
        m = std::max(m, l[j]);
      }
      for (double v : l) s += std::exp(v - m);
      int arg = 0;
      for (int j = 0; j < 3; ++j) {
        check.add("r[" + std::to_string(i) + "][" + std::to_string(j) + "]", post[i * 3 + j],
                  std::exp(l[j] - m) / s);
        if (l[j] > l[arg]) arg = j;
      }
      EXPECT_EQ(best[i], arg) << i;
    }
    EXPECT_TRUE(check.result()) << n;
  }
}

// predict() keeps only the labels, computing the posteriors a piece at a time (2^22 values:
// 65536 samples at K = 64, so 200003 samples take four pieces, the last one partial): the same
// labels as the most likely component of responsibilities().
TEST(Posterior, PredictInPiecesMatchesTheResponsibilities) {
  MixtureParams p;
  for (int j = 0; j < 64; ++j) {
    p.weights.push_back(1.0 + j % 5);
    p.alpha.push_back(1.0 + 0.7 * j);
    p.beta.push_back(45.0 - 0.6 * j);
  }
  p = p.normalized();
  const std::vector<double> x = sample(p, 200003, 13);
  const std::vector<double> post = responsibilities(p, x);
  const std::vector<int> best = predict(p, x);
  ASSERT_EQ(best.size(), x.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double* r = post.data() + i * 64;
    if (best[i] != static_cast<int>(std::max_element(r, r + 64) - r)) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
  // Not all one label, or a misplaced piece could go unseen.
  EXPECT_LT(std::count(best.begin(), best.end(), best[0]), static_cast<std::ptrdiff_t>(x.size()));
}

// The held-out log-likelihood is the reference sum; LL rounding is bounded by sum_i |L_i|.
TEST(Posterior, LogLikelihoodMatchesReference) {
  const std::vector<double> x = sample(kModel, 100003, 12);
  const test::RefStats ref = test::ref_stats(kModel, x);
  test::ToleranceCheck check(1e-12 * ref.ll_abs, 0.0);
  check.add("LL", log_likelihood(kModel, x), ref.ll);
  EXPECT_TRUE(check.result());
}

// pdf() integrates to 1 (midpoint rule on 20000 cells: error ~1e-9 for these smooth shapes)
// and is 0 outside (0,1), NaN at NaN.
TEST(Posterior, PdfIsADensity) {
  const MixtureParams smooth{{0.4, 0.6}, {2.0, 5.0}, {5.0, 1.5}};
  constexpr int kGrid = 20000;
  std::vector<double> x(kGrid);
  for (int g = 0; g < kGrid; ++g) x[g] = (g + 0.5) / kGrid;
  double integral = 0.0;
  for (double v : pdf(smooth, x)) integral += v / kGrid;
  EXPECT_NEAR(integral, 1.0, 1e-6);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::vector<double> outside = pdf(smooth, {0.0, 1.0, -0.5, 2.0, -kInf, kInf});
  for (double v : outside) EXPECT_EQ(v, 0.0);
  const std::vector<double> nan = pdf(smooth, {0.5, std::nan("")});
  EXPECT_GT(nan[0], 0.0);
  EXPECT_TRUE(std::isnan(nan[1]));
}

// Bad samples are InputErrors naming the index, as in fit().
TEST(Posterior, ValidatesSamples) {
  EXPECT_THROW(responsibilities(kModel, {0.5, 1.0}), InputError);
  EXPECT_THROW(log_likelihood(kModel, {0.5, std::nan("")}), InputError);
}

}  // namespace
}  // namespace betamix
