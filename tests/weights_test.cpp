// Case weights: an integer weight is exactly a repeated row. The pass statistics of weighted
// data and of the data with each row repeated weight-many times agree to rounding, and so do
// the fits, AIC/BIC (n = sum of weights) and the standard errors; bad weights are InputErrors.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

struct Repeated {
  std::vector<double> x, w, expanded;
};

// 1003 samples with integer weights 0..4 (zeros included: a weight-0 row is a dropped row).
Repeated make_data() {
  const MixtureParams truth{{0.3, 0.5, 0.2}, {2.0, 6.0, 12.0}, {9.0, 6.0, 2.0}};
  Repeated d;
  d.x = sample(truth, 1003, 17);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const int copies = static_cast<int>((i * 7 + 3) % 5);
    d.w.push_back(copies);
    for (int c = 0; c < copies; ++c) d.expanded.push_back(d.x[i]);
  }
  return d;
}

FitOptions options(Method method) {
  FitOptions o;
  o.k = 3;
  o.method = method;
  o.device = Device::Cpu;
  o.threads = 1;
  o.start = MixtureParams{{0.34, 0.33, 0.33}, {1.5, 5.0, 10.0}, {7.0, 5.0, 2.5}};
  return o;
}

// The pass itself: at the same parameters, the statistics of weighted data and of repeated
// rows are the same sums in a different order (v_i r_ik once against r_ik v_i times), so they
// agree to rounding: ~1e-16 per term, 1e-13 relative with room; LL against sum_i v_i |L_i|.
TEST(CaseWeights, PassStatisticsEqualRepeatedRows) {
  const Repeated d = make_data();
  const MixtureParams p = *options(Method::EM).start;
  const auto stats = [&](const std::vector<double>& x, const double* w) {
    auto backend = detail::make_cpu_backend(1);
    backend->load(x.data(), w, x.size());
    detail::PassConstants c;
    c.resize(1, 3);
    c.set(0, p);
    detail::PassStats s;
    backend->pass(c, s);
    return s;
  };
  const detail::PassStats a = stats(d.x, d.w.data()), b = stats(d.expanded, nullptr);
  const test::RefStats ref = test::ref_stats(p, d.x, d.w.data());
  test::ToleranceCheck check(0.0, 1e-13);
  for (int j = 0; j < 3; ++j) {
    check.add("N", a.n[j], b.n[j]);
    check.add("S", a.s[j], b.s[j]);
    check.add("T", a.t[j], b.t[j]);
  }
  check.add("LL", a.ll[0], b.ll[0], 1e-13 * ref.ll_abs, 0.0);
  EXPECT_TRUE(check.result());
}

// Adam from the same start for a fixed number of iterations: the gradient is that of the mean
// NLL, the same function of the same statistics, so both runs follow the same path to
// rounding and end at the same point. Measured agreement ~1e-14; LL to 1e-12 and parameters
// to 1e-9 relative, as the issue asks.
TEST(CaseWeights, AdamFitsEqualRepeatedRows) {
  const Repeated d = make_data();
  FitOptions o = options(Method::Adam);
  o.tolerance = 0.0;
  o.max_iterations = 600;
  const FitResult weighted = fit(d.x.data(), d.x.size(), o, d.w.data());
  const FitResult repeated = fit(d.expanded.data(), d.expanded.size(), o);
  test::ToleranceCheck ll(0.0, 1e-12), p(0.0, 1e-9);
  ll.add("log-likelihood", weighted.log_likelihood, repeated.log_likelihood);
  ll.add("mean NLL", weighted.mean_nll, repeated.mean_nll);
  ll.add("AIC", weighted.aic, repeated.aic);
  ll.add("BIC (n = sum of weights)", weighted.bic, repeated.bic);
  for (std::size_t j = 0; j < 3; ++j) {
    const std::string c = " " + std::to_string(j + 1);
    p.add("weight" + c, weighted.params.weights[j], repeated.params.weights[j]);
    p.add("alpha" + c, weighted.params.alpha[j], repeated.params.alpha[j]);
    p.add("beta" + c, weighted.params.beta[j], repeated.params.beta[j]);
  }
  EXPECT_TRUE(ll.result());
  EXPECT_TRUE(p.result());
  EXPECT_EQ(weighted.n, d.x.size());
  EXPECT_EQ(repeated.n, d.expanded.size());
}

// EM run to a tight tolerance from the same start reaches the same optimum: the
// log-likelihood to 1e-12 relative. The parameters agree only to ~1e-7 (checked at 1e-5):
// the M-step (host/updates.cpp) accepts a Newton step on the shapes only when the
// objective does not decrease, and at its flat maximum a shape change below ~1e-8 (sqrt of
// the double epsilon) moves the objective by less than its rounding, so each M-step leaves
// ~1e-8 of rounding-decided noise in the shapes; EM's slow final convergence (here ~2000
// iterations) then stops the two runs at slightly different points of a flat optimum.
TEST(CaseWeights, ConvergedEmFitsAgree) {
  const Repeated d = make_data();
  // The same number of EM iterations from the same start: a stopping rule could end the two
  // runs one iteration apart, which near a flat optimum is more than rounding.
  FitOptions o = options(Method::EM);
  o.tolerance = 0.0;
  o.max_iterations = 5000;
  const FitResult weighted = fit(d.x.data(), d.x.size(), o, d.w.data());
  const FitResult repeated = fit(d.expanded.data(), d.expanded.size(), o);
  ASSERT_EQ(weighted.iterations, repeated.iterations);
  test::ToleranceCheck ll(0.0, 1e-12), p(0.0, 1e-5);
  ll.add("log-likelihood", weighted.log_likelihood, repeated.log_likelihood);
  ll.add("BIC", weighted.bic, repeated.bic);
  for (std::size_t j = 0; j < 3; ++j) {
    p.add("alpha", weighted.params.alpha[j], repeated.params.alpha[j]);
    p.add("beta", weighted.params.beta[j], repeated.params.beta[j]);
    p.add("weight", weighted.params.weights[j], repeated.params.weights[j]);
  }
  EXPECT_TRUE(ll.result());
  EXPECT_TRUE(p.result());
}

// The observed information is a sum over samples: weighted and repeated data give the same
// standard errors.
TEST(CaseWeights, StandardErrorsEqualRepeatedRows) {
  const Repeated d = make_data();
  FitOptions o = options(Method::EM);
  o.tolerance = 1e-12;
  const FitResult f = fit(d.x.data(), d.x.size(), o, d.w.data());
  const StandardErrors a = standard_errors(f.params, d.x.data(), d.x.size(), d.w.data());
  const StandardErrors b = standard_errors(f.params, d.expanded.data(), d.expanded.size());
  ASSERT_TRUE(a.available) << a.reason;
  ASSERT_TRUE(b.available) << b.reason;
  test::ToleranceCheck check(0.0, 1e-9);
  for (std::size_t j = 0; j < 3; ++j) {
    check.add("se weight", a.se.weights[j], b.se.weights[j]);
    check.add("se alpha", a.se.alpha[j], b.se.alpha[j]);
    check.add("se beta", a.se.beta[j], b.se.beta[j]);
  }
  EXPECT_TRUE(check.result());
}

// Negative, NaN and infinite weights and an all-zero set name themselves.
// The CUDA backend's scale for float32 weights: 1 for ordinary weights, else the power of two
// that brings the largest into [1/2, 1), where float32 holds it and everything within 2^-126
// of it.
TEST(CaseWeights, FloatWeightScale) {
  const auto scale = [](std::vector<double> w) {
    return detail::float_weight_scale(w.data(), w.size());
  };
  EXPECT_EQ(scale({1.0, 5.0, 0.0}), 1.0);
  EXPECT_EQ(scale({0x1p64, 3.0}), 1.0);
  EXPECT_EQ(scale({0x1p-64}), 1.0);
  EXPECT_EQ(scale({0.0, 0.0}), 1.0);
  for (const double largest : {1.7e308, 1e300, 3.5e38, 0x1.8p65, 1e-50, 0x1p-65, 0x1p-1022}) {
    const double s = scale({largest / 4, largest, 0.0});
    int e = 0;
    EXPECT_EQ(std::frexp(s, &e), 0.5) << "a power of two for " << largest;
    EXPECT_GE(largest * s, 0.5) << largest;
    EXPECT_LT(largest * s, 1.0) << largest;
    EXPECT_EQ(static_cast<float>(largest / 4 * s), static_cast<float>(largest * s) / 4) << largest;
  }
  // A subnormal largest weight: scaled by 2^1023, the most a double holds, into float range.
  const double s = scale({1e-320});
  EXPECT_EQ(s, 0x1p1023);
  EXPECT_GE(static_cast<float>(1e-320 * s), 0x1p-51f);
}

TEST(CaseWeights, BadWeightsAreInputErrors) {
  const std::vector<double> x{0.2, 0.5, 0.7};
  FitOptions o;
  o.k = 1;
  o.device = Device::Cpu;
  const auto message = [&](std::vector<double> w) {
    try {
      fit(x.data(), x.size(), o, w.data());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({1.0, -2.0, 1.0}).find("index 1: weight -2 is negative"), std::string::npos);
  EXPECT_NE(message({1.0, 1.0, std::nan("")}).find("index 2: weight is NaN"), std::string::npos);
  EXPECT_NE(message({INFINITY, 1.0, 1.0}).find("index 0: weight is infinite"), std::string::npos);
  EXPECT_NE(message({0.0, 0.0, 0.0}).find("sum to 0"), std::string::npos);
  // Each weight finite, their sum not: refused, not a fit on an infinite n.
  EXPECT_NE(message({1.7e308, 1.7e308, 1.0}).find("sum to more than 1.8e308"), std::string::npos);
  // A finite sum too large for the log-likelihood and the information to stay finite.
  EXPECT_NE(message({3e304, 3e304, 3e304}).find("sum to 9e+304, above the 1e300"),
            std::string::npos)
      << message({3e304, 3e304, 3e304});
  EXPECT_EQ(message({1e299, 1e299, 1e299}), "no error");
}

}  // namespace
}  // namespace betamix
