// Standard errors from the observed information (host/information.cpp): the assembled Hessian
// equals finite differences of a naive log-likelihood, the moment pass gives the same bits
// whatever the thread count, the reported standard errors match the spread of estimates over
// many simulated data sets, and a singular information is reported, not inverted.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "information.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

// theta = [a_1..K, b_1..K, w_1..w_(K-1)], w_K = 1 - sum: the order of the information.
MixtureParams from_theta(const std::vector<double>& t, int k) {
  MixtureParams p;
  double rest = 1.0;
  for (int j = 0; j < k; ++j) {
    p.alpha.push_back(t[j]);
    p.beta.push_back(t[k + j]);
    const double w = j < k - 1 ? t[2 * k + j] : rest;
    rest -= j < k - 1 ? w : 0.0;
    p.weights.push_back(w);
  }
  return p;
}

std::vector<double> information_of(const MixtureParams& p, const std::vector<double>& x,
                                   const std::vector<double>* w, int threads,
                                   std::size_t partial_bytes = detail::kCpuPartialBytes) {
  auto backend = detail::make_cpu_backend(threads, partial_bytes);
  backend->load(x.data(), w ? w->data() : nullptr, x.size());
  detail::PassConstants c;
  c.resize(1, static_cast<int>(p.k()));
  c.set(0, p);
  detail::MomentStats m;
  backend->moment_pass(c, m);
  return detail::observed_information(p, m);
}

// The information at a point away from the optimum (the formula is the exact Hessian
// anywhere), with and without case weights, against central second differences of the naive
// long-double log-likelihood of tests/support. Truncation error is O(h^2) ~ 1e-8 relative with
// h = 1e-4 |theta|; rounding of LL (~1e-14 absolute, |LL| ~ 1e2) over 4 h_i h_j >= 4e-9 adds
// ~1e-5 absolute. Entries are O(1e1..1e4) and agree to ~7e-8 relative; tolerance 1e-4
// absolute + 1e-6 relative. A wrong term of the Hessian is off by O(1) relative.
TEST(StandardErrors, HessianMatchesFiniteDifferences) {
  const MixtureParams truth{{0.3, 0.5, 0.2}, {2.0, 5.0, 9.0}, {8.0, 5.0, 2.0}};
  const MixtureParams at{{0.35, 0.45, 0.2}, {2.2, 4.6, 8.5}, {7.5, 5.3, 2.1}};
  const int k = 3, dim = 3 * k - 1;
  const std::vector<double> x = sample(truth, 257, 5);
  std::vector<double> v(x.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.25 + static_cast<double>(i % 7) * 0.5;
  const std::vector<double>* const cases[] = {nullptr, &v};
  for (const std::vector<double>* w : cases) {
    const std::vector<double> info = information_of(at, x, w, 1);
    std::vector<double> theta;
    for (int j = 0; j < k; ++j) theta.push_back(at.alpha[j]);
    for (int j = 0; j < k; ++j) theta.push_back(at.beta[j]);
    for (int j = 0; j < k - 1; ++j) theta.push_back(at.weights[j]);
    const auto ll = [&](std::vector<double> t, int i, double di, int j, double dj) {
      t[i] += di;
      t[j] += dj;
      return test::ref_stats(from_theta(t, k), x, w ? w->data() : nullptr).ll;
    };
    test::ToleranceCheck check(1e-4, 1e-6);
    for (int i = 0; i < dim; ++i) {
      for (int j = 0; j < dim; ++j) {
        const double hi = 1e-4 * theta[i], hj = 1e-4 * theta[j];
        const double d2 = (ll(theta, i, hi, j, hj) - ll(theta, i, hi, j, -hj) -
                           ll(theta, i, -hi, j, hj) + ll(theta, i, -hi, j, -hj)) /
                          (4.0 * hi * hj);
        check.add((w ? "weighted " : "") + std::string("J[") + std::to_string(i) + "][" +
                      std::to_string(j) + "]",
                  info[static_cast<std::size_t>(i) * dim + j], -d2);
      }
    }
    EXPECT_TRUE(check.result());
  }
}

// distance_to_maximum = sqrt(g' Cov g) with g the score, against central first differences of
// the naive long-double log-likelihood (h = 1e-5 |theta|: truncation ~1e-10 relative, rounding
// ~1e-14 / 1e-5 = 1e-9 absolute against entries of 1e0..1e2) and the reported covariance
// (checked by the Hessian test above). Agreement ~1e-8 relative; tolerance 1e-6. Away from
// the optimum the distance is large and the note says so; a wrong sign or term in the score
// moves the distance by O(1).
TEST(StandardErrors, DistanceToMaximumIsTheNewtonStepInStandardErrors) {
  const MixtureParams truth{{0.3, 0.4, 0.3}, {2.0, 20.0, 30.0}, {30.0, 20.0, 2.0}};
  const int k = 3, dim = 3 * k - 1;
  const std::vector<double> x = sample(truth, 2000, 5);
  // Separated components, and 0.5 % to 3 % off the maximum (about 1 to 3 standard errors), where
  // the information is still positive definite.
  FitOptions o;
  o.k = k;
  o.method = Method::EM;
  o.start = truth;
  o.device = Device::Cpu;
  o.standard_errors = false;
  std::vector<double> v(x.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.25 + static_cast<double>(i % 7) * 0.5;
  const std::vector<double>* const cases[] = {nullptr, &v};
  for (const std::vector<double>* w : cases) {
    MixtureParams at = fit(x.data(), x.size(), o, w ? w->data() : nullptr).params;
    for (int j = 0; j < k; ++j) {
      at.alpha[j] *= 1.0 + 0.01 * (j + 1);
      at.beta[j] *= 1.0 - 0.005 * (j + 1);
    }
    const StandardErrors s =
        standard_errors(at, x.data(), x.size(), w ? w->data() : nullptr, Device::Cpu);
    ASSERT_TRUE(s.available) << (w ? "weighted: " : "") << s.reason;
    std::vector<double> theta;
    for (int j = 0; j < k; ++j) theta.push_back(at.alpha[j]);
    for (int j = 0; j < k; ++j) theta.push_back(at.beta[j]);
    for (int j = 0; j < k - 1; ++j) theta.push_back(at.weights[j]);
    std::vector<double> g(dim);
    for (int i = 0; i < dim; ++i) {
      const double h = 1e-5 * theta[i];
      std::vector<double> up = theta, down = theta;
      up[i] += h;
      down[i] -= h;
      g[i] = (test::ref_stats(from_theta(up, k), x, w ? w->data() : nullptr).ll -
              test::ref_stats(from_theta(down, k), x, w ? w->data() : nullptr).ll) /
             (2.0 * h);
    }
    double q = 0.0;
    for (int r = 0; r < dim; ++r) {
      for (int c = 0; c < dim; ++c) q += g[r] * s.covariance[r * dim + c] * g[c];
    }
    test::ToleranceCheck check(0.0, 1e-6);
    check.add(w ? "weighted distance" : "distance", s.distance_to_maximum, std::sqrt(q));
    EXPECT_TRUE(check.result());
    EXPECT_GT(s.distance_to_maximum, kFarFromMaximum);
    EXPECT_NE(s.note.find("standard errors from the maximum"), std::string::npos) << s.note;
  }
}

// At a converged fit the distance is far below a standard error and there is no note; a fit
// stopped early carries a note naming its status, and its distance says how far it is.
TEST(StandardErrors, FitsSayWhetherTheyAreAtTheMaximum) {
  const MixtureParams truth{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  const std::vector<double> x = sample(truth, 10000, 4);
  FitOptions o;
  o.k = 2;
  o.device = Device::Cpu;
  for (Method m : {Method::Adam, Method::EM, Method::Squarem}) {
    o.method = m;
    const FitResult f = fit(x, o);
    ASSERT_EQ(f.status, FitStatus::Converged) << to_string(m);
    ASSERT_TRUE(f.se && f.se->available) << to_string(m);
    EXPECT_LT(f.se->distance_to_maximum, 1e-3) << to_string(m);
    EXPECT_EQ(f.se->note, "") << to_string(m);
  }
  o.method = Method::Adam;
  o.max_iterations = 5;
  const FitResult early = fit(x, o);
  ASSERT_EQ(early.status, FitStatus::MaxIterations);
  ASSERT_TRUE(early.se && early.se->available);
  EXPECT_GT(early.se->distance_to_maximum, kFarFromMaximum);
  EXPECT_EQ(early.se->note.rfind("the fit ended with status max_iterations", 0), 0u)
      << early.se->note;
}

// The chunk partials are added in chunk order, so 1 and 2 threads give identical bits, and so
// does a pass that holds the partials of two chunks at a time (its waves).
TEST(StandardErrors, MomentPassIsDeterministic) {
  const MixtureParams p{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  for (std::size_t n : {1, 7, 100003}) {
    const std::vector<double> x = sample(p, n, 9);
    const std::vector<double> two = information_of(p, x, nullptr, 2);
    EXPECT_EQ(information_of(p, x, nullptr, 1), two) << n;
    EXPECT_EQ(information_of(p, x, nullptr, 2, /*partial_bytes=*/1), two) << n;
  }
}

// Above kMaxStandardErrorK components the information is not assembled (its (3K - 1)^2
// entries): the standard errors are unavailable with the reason, from the API and from fit().
TEST(StandardErrors, TooManyComponentsGiveAReasonNotAnAllocation) {
  const int k = kMaxStandardErrorK + 1;
  MixtureParams p;
  for (int j = 0; j < k; ++j) {
    p.weights.push_back(1.0 / k);
    p.alpha.push_back(1.0 + j);
    p.beta.push_back(2.0);
  }
  const std::vector<double> x = sample(p, 2000, 4);
  const StandardErrors se = standard_errors(p, x.data(), x.size(), nullptr, Device::Cpu);
  EXPECT_FALSE(se.available);
  EXPECT_NE(se.reason.find("at most K = 1000"), std::string::npos) << se.reason;
  FitOptions o;
  o.k = k;
  o.start = p;
  o.max_iterations = 0;
  o.device = Device::Cpu;
  const FitResult r = fit(x, o);
  ASSERT_TRUE(r.se.has_value());
  EXPECT_FALSE(r.se->available);
  EXPECT_NE(r.se->reason.find("at most K = 1000"), std::string::npos) << r.se->reason;
}

// The check: at n = 10^4 the reported standard errors match the spread of the
// estimates over independent simulated data sets within 15 %. With R = 400 replicates the
// sample standard deviation itself has a relative error of about 1/sqrt(2 R) = 3.5 %, so 15 %
// is over 4 of its standard deviations, and the asymptotic standard error is accurate to a
// few % at this n. EM from the truth with a tight tolerance converges in a few dozen passes.
TEST(StandardErrors, MatchSpreadOverSimulatedDataSets) {
  const MixtureParams truth = MixtureParams{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}.sorted_by_mean();
  constexpr int kReplicates = 400;
  constexpr std::size_t kN = 10000;
  FitOptions o;
  o.k = 2;
  o.method = Method::EM;
  o.tolerance = 1e-12;
  o.start = truth;
  o.device = Device::Cpu;
  // One thread throughout: at n = 10^4 a pass takes well under a millisecond, less than waking
  // an OpenMP team on a busy machine.
  o.threads = 1;
  const auto backend = detail::make_cpu_backend(1);
  std::vector<double> x(kN);
  // theta as reported: w_1, a_1, b_1, a_2, b_2 (w_2 = 1 - w_1 has the same spread).
  std::vector<std::vector<double>> est(5), se(5);
  for (int r = 0; r < kReplicates; ++r) {
    detail::sample_cpu(truth, kN, 1000 + r, x.data(), 1);
    const FitResult f = fit(x, o);
    ASSERT_EQ(f.status, FitStatus::Converged) << r;
    backend->load(x.data(), nullptr, kN);
    const StandardErrors s = detail::standard_errors(*backend, f.params);
    ASSERT_TRUE(s.available) << s.reason;
    const double e[5] = {f.params.weights[0], f.params.alpha[0], f.params.beta[0],
                         f.params.alpha[1], f.params.beta[1]};
    const double u[5] = {s.se.weights[0], s.se.alpha[0], s.se.beta[0], s.se.alpha[1], s.se.beta[1]};
    EXPECT_DOUBLE_EQ(s.se.weights[0], s.se.weights[1]);  // K = 2: w_2 = 1 - w_1
    for (int q = 0; q < 5; ++q) {
      est[q].push_back(e[q]);
      se[q].push_back(u[q]);
    }
  }
  const char* names[5] = {"w_1", "alpha_1", "beta_1", "alpha_2", "beta_2"};
  test::ToleranceCheck check(0.0, 0.15);
  for (int q = 0; q < 5; ++q) {
    double mean = 0.0, mean_se = 0.0;
    for (int r = 0; r < kReplicates; ++r) {
      mean += est[q][r] / kReplicates;
      mean_se += se[q][r] / kReplicates;
    }
    double var = 0.0;
    for (double v : est[q]) var += (v - mean) * (v - mean) / (kReplicates - 1);
    check.add(std::string("se of ") + names[q], mean_se, std::sqrt(var));
  }
  EXPECT_TRUE(check.result());
}

// Intervals: weights within [0, 1], shapes positive and bracketing the estimate.
TEST(StandardErrors, IntervalsBracketTheEstimate) {
  const MixtureParams truth{{0.9, 0.1}, {3.0, 20.0}, {6.0, 2.0}};
  const std::vector<double> x = sample(truth, 7, 3);
  FitOptions o;
  o.k = 2;
  o.method = Method::EM;
  o.start = truth;
  o.device = Device::Cpu;
  const FitResult f = fit(x, o);
  const StandardErrors s = standard_errors(f.params, x.data(), x.size());
  if (!s.available) GTEST_SKIP() << "7 samples: " << s.reason;
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_GE(s.ci95_lower.weights[j], 0.0);
    EXPECT_LE(s.ci95_upper.weights[j], 1.0);
    EXPECT_GT(s.ci95_lower.alpha[j], 0.0);
    EXPECT_LT(s.ci95_lower.alpha[j], f.params.alpha[j]);
    EXPECT_GT(s.ci95_upper.beta[j], f.params.beta[j]);
  }
}

// Two identical components: moving weight between them does not change the likelihood, so
// the information is singular (or indefinite) and no standard error is invented.
TEST(StandardErrors, SingularInformationIsReported) {
  const MixtureParams same{{0.5, 0.5}, {3.0, 3.0}, {4.0, 4.0}};
  const std::vector<double> x = sample(same, 1000, 4);
  const StandardErrors s = standard_errors(same, x.data(), x.size());
  EXPECT_FALSE(s.available);
  EXPECT_NE(s.reason.find("observed information"), std::string::npos) << s.reason;
  EXPECT_TRUE(s.covariance.empty());
  const MixtureParams dead{{1.0, 0.0}, {3.0, 2.0}, {4.0, 2.0}};
  const StandardErrors z = standard_errors(dead, x.data(), x.size());
  EXPECT_FALSE(z.available);
  EXPECT_NE(z.reason.find("zero weight"), std::string::npos) << z.reason;
}

// Case weights near the smallest doubles make the information so small that its inverse
// overflows: unavailable, with the reason, rather than infinite or NaN errors.
TEST(StandardErrors, OverflowingCovarianceIsReported) {
  const MixtureParams p{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  const std::vector<double> x = sample(p, 1000, 2);
  const std::vector<double> w(x.size(), 1e-310);
  const StandardErrors s = standard_errors(p, x.data(), x.size(), w.data(), Device::Cpu);
  EXPECT_FALSE(s.available);
  EXPECT_NE(s.reason.find("overflows"), std::string::npos) << s.reason;
}

// Bad data are the same InputErrors as in fit().
TEST(StandardErrors, ValidatesInput) {
  const MixtureParams p{{1.0}, {2.0}, {2.0}};
  const std::vector<double> x{0.2, 1.0};
  EXPECT_THROW(standard_errors(p, x.data(), x.size()), InputError);
  const std::vector<double> y{0.2, 0.3}, w{1.0, -1.0};
  EXPECT_THROW(standard_errors(p, y.data(), y.size(), w.data()), InputError);
}

}  // namespace
}  // namespace betamix
