// Method::EM and Method::Squarem: the likelihood never decreases from one kept point to the
// next (over many random starts and three data sets), EM, SQUAREM and Adam reach the same
// optimum, SQUAREM in far fewer passes where EM is slow and per start among restarts, and a
// dying component ends in a status with finite numbers, never in NaN.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"
#include "updates.hpp"

namespace betamix {
namespace {

struct DataSet {
  const char* name;
  MixtureParams truth;
};

const DataSet kDataSets[] = {
    {"Demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
    {"Overlap3", {{0.3, 0.4, 0.3}, {2.0, 7.0, 12.0}, {12.0, 7.0, 2.0}}},
    {"NearZero", {{0.4, 0.6}, {0.5, 4.0}, {8.0, 4.0}}},
};

// Names the data set in test listings instead of dumping its bytes.
void PrintTo(const DataSet& d, std::ostream* os) { *os << d.name; }

FitOptions em_options(int k) {
  FitOptions o;
  o.k = k;
  o.method = Method::EM;
  o.device = Device::Cpu;
  o.threads = 1;
  return o;
}

class EmTest : public ::testing::TestWithParam<DataSet> {};

// Fits from 50 random starts with `method` and checks that the mean NLL of the kept points in
// `history` never increases. Returns (passes, kept points) over all starts.
std::pair<int, int> expect_likelihood_never_decreases(const DataSet& d, Method method) {
  const int k = static_cast<int>(d.truth.k());
  const std::vector<double> x = sample(d.truth, 2000, 31);
  test::ToleranceCheck rise(0.0, 0.0);
  int passes = 0, kept = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    FitOptions o = em_options(k);
    o.method = method;
    o.init = InitMethod::Random;
    o.seed = seed;
    o.tolerance = 1e-13;
    o.max_iterations = 150;
    const FitResult r = fit(x, o);
    EXPECT_LE(r.history.size(), static_cast<std::size_t>(r.iterations) + 1) << "seed " << seed;
    EXPECT_EQ(r.mean_nll, r.history.back()) << "seed " << seed << ": the result is the last point";
    passes += r.iterations + 1;
    kept += static_cast<int>(r.history.size());
    for (std::size_t i = 1; i < r.history.size(); ++i) {
      const double prev = r.history[i - 1];
      rise.add("seed " + std::to_string(seed) + " point " + std::to_string(i) + " (" +
                   to_string(r.status) + ")",
               std::max(r.history[i] - prev, 0.0), 0.0, 1e-13 + 1e-12 * std::abs(prev), 0.0);
    }
  }
  EXPECT_TRUE(rise.result()) << to_string(method);
  // The check must see the method at work, not 50 starts that stop at once.
  EXPECT_GT(passes, 50 * 10) << to_string(method);
  return {passes, kept};
}

// Each EM iteration maximises the expected complete-data log-likelihood (weights in closed
// form, shapes by Newton steps that are only accepted when they do not decrease it), so the
// mean NLL in `history` never increases, and every pass is a point of it. Rounding: the pass
// sums n terms of size O(1) in double, ~1e-16 of the mean each time, and the M-step compares
// objectives to within ~1e-15 relative; allow 1e-13 absolute + 1e-12 relative per step. A real
// decrease of the likelihood (a wrong M-step) is orders of magnitude larger.
TEST_P(EmTest, LikelihoodNeverDecreases) {
  const auto [passes, kept] = expect_likelihood_never_decreases(GetParam(), Method::EM);
  EXPECT_EQ(kept, passes);
}

// SQUAREM keeps an extrapolated point only when it is at least as likely as the point before,
// and moves between kept points by EM steps: the same bound holds for its kept points. Its
// history skips the rejected extrapolations, and the check must see some of those too.
TEST_P(EmTest, SquaremLikelihoodNeverDecreases) {
  const auto [passes, kept] = expect_likelihood_never_decreases(GetParam(), Method::Squarem);
  EXPECT_LT(kept, passes) << "no extrapolation was rejected: the safeguard went untested";
}

// The best LL of the data: EM from the truth, run to a tolerance far below the tests'.
double best_log_likelihood(const DataSet& d, const std::vector<double>& x) {
  FitOptions o = em_options(static_cast<int>(d.truth.k()));
  o.start = d.truth;
  o.tolerance = 1e-15;
  o.max_iterations = 200000;
  return fit(x, o).log_likelihood;
}

// SQUAREM with its default stopping rule stops at the optimum: within 1e-9 relative of the best
// LL (EM's rule, which it applies to its cycles, stops within ~1e-10 of the optimum's mean NLL).
TEST_P(EmTest, SquaremReachesTheOptimum) {
  const DataSet& d = GetParam();
  const std::vector<double> x = sample(d.truth, 20000, 8);
  FitOptions o = em_options(static_cast<int>(d.truth.k()));
  o.method = Method::Squarem;
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  test::ToleranceCheck ll(0.0, 1e-9);
  ll.add("LL", r.log_likelihood, best_log_likelihood(d, x));
  EXPECT_TRUE(ll.result());
  EXPECT_EQ(std::string(to_string(r.method)), "squarem");
}

INSTANTIATE_TEST_SUITE_P(DataSets, EmTest, ::testing::ValuesIn(kDataSets),
                         [](const auto& info) { return std::string(info.param.name); });

// Where the components overlap, EM's convergence is linear with a rate near 1; SQUAREM needs
// several times fewer passes to the same stopping rule (7x on this data set; at least 4x
// asserted, so that the test fails if the extrapolation stops being used, not on tuning).
TEST(SquaremTest, FarFewerPassesThanEmWhereComponentsOverlap) {
  const std::vector<double> x = sample(kDataSets[1].truth, 20000, 8);
  const FitResult em = fit(x, em_options(3));
  FitOptions o = em_options(3);
  o.method = Method::Squarem;
  const FitResult sq = fit(x, o);
  ASSERT_EQ(em.status, FitStatus::Converged) << em.status_detail;
  ASSERT_EQ(sq.status, FitStatus::Converged) << sq.status_detail;
  EXPECT_LE(4 * (sq.iterations + 1), em.iterations + 1)
      << "EM " << em.iterations << " passes, SQUAREM " << sq.iterations;
}

// Where components overlap heavily (0.4 Beta(3, 4) + 0.6 Beta(4, 3), 2000 samples; plain EM
// needs ~27000 passes), SQUAREM's kept extrapolations make the cycles' gains come in bursts, and
// their ratios had let it stop 9e-7 nats (4.5e-10 of the mean NLL, 450 times the tolerance)
// below the maximum. The rate of the EM steps inside the last cycle now also bounds what is
// left: it stops within 1e-10 of the mean NLL that EM reaches at tolerance 1e-15 (it stops at
// 1.5e-11; the rate estimate is capped near 1, as at the maximum the steps are rounding noise).
TEST(SquaremTest, StopsAtTheMaximumWhereCyclesGainInBursts) {
  const std::vector<double> x = sample(MixtureParams{{0.4, 0.6}, {3.0, 4.0}, {4.0, 3.0}}, 2000, 3);
  FitOptions o = em_options(2);
  o.tolerance = 1e-15;
  o.max_iterations = 200000;
  const FitResult em = fit(x, o);
  ASSERT_EQ(em.status, FitStatus::Converged) << em.status_detail;
  o = em_options(2);
  o.method = Method::Squarem;
  const FitResult sq = fit(x, o);
  ASSERT_EQ(sq.status, FitStatus::Converged) << sq.status_detail;
  EXPECT_LT(sq.mean_nll - em.mean_nll, 1e-10);
}

// Several starts in one pass each run their own SQUAREM cycle: the best of 8 starts reaches
// the optimum, and start 0 (the quantile start) follows the path it follows alone, bit for bit
// (each start's statistics are summed on their own).
TEST(SquaremTest, EachStartRunsItsOwnCycle) {
  const std::vector<double> x = sample(kDataSets[1].truth, 20000, 8);
  FitOptions o = em_options(3);
  o.method = Method::Squarem;
  const FitResult alone = fit(x, o);
  o.restarts = 8;
  o.seed = 5;
  const FitResult together = fit(x, o);
  test::ToleranceCheck ll(0.0, 1e-9);
  ll.add("best LL", together.log_likelihood, best_log_likelihood(kDataSets[1], x));
  EXPECT_TRUE(ll.result());
  ASSERT_EQ(together.start_log_likelihoods.size(), 8u);
  EXPECT_EQ(together.start_log_likelihoods[0], alone.log_likelihood);
}

// EM and Adam, both with their default stopping rules, find the same optimum: LL within 1e-7
// relative (both stop within ~1e-9 of the optimum's mean NLL), parameters within 1e-3
// relative (the shapes are the least determined; at n = 20000 the two optimisers' stopping
// points differ by ~1e-4 at most).
TEST(EmAdamTest, SameOptimum) {
  for (const DataSet& d : {kDataSets[0], kDataSets[1]}) {
    const int k = static_cast<int>(d.truth.k());
    const std::vector<double> x = sample(d.truth, 20000, 8);
    const FitResult em = fit(x, em_options(k));
    FitOptions o = em_options(k);
    o.method = Method::Adam;
    const FitResult adam = fit(x, o);
    EXPECT_EQ(em.status, FitStatus::Converged) << d.name << ": " << em.status_detail;
    EXPECT_EQ(adam.status, FitStatus::Converged) << d.name << ": " << adam.status_detail;
    test::ToleranceCheck ll(0.0, 1e-7), params(0.0, 1e-3);
    ll.add("LL", adam.log_likelihood, em.log_likelihood);
    for (std::size_t j = 0; j < em.params.k(); ++j) {
      const std::string c = " " + std::to_string(j);
      params.add("w" + c, adam.params.weights[j], em.params.weights[j]);
      params.add("alpha" + c, adam.params.alpha[j], em.params.alpha[j]);
      params.add("beta" + c, adam.params.beta[j], em.params.beta[j]);
    }
    EXPECT_TRUE(ll.result()) << d.name;
    EXPECT_TRUE(params.result()) << d.name;
  }
}

void expect_all_finite(const FitResult& r, const std::string& what) {
  std::vector<double> all = {r.log_likelihood, r.mean_nll, r.aic, r.bic};
  for (const auto* v :
       {&r.params.weights, &r.params.alpha, &r.params.beta, &r.history, &r.start_log_likelihoods}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(std::isfinite(all[i])) << what << ": number " << i << " is " << all[i];
  }
  for (std::size_t j = 0; j < r.params.k(); ++j) {
    EXPECT_GE(r.params.weights[j], 0.0) << what;
    EXPECT_GT(r.params.alpha[j], 0.0) << what;
    EXPECT_GT(r.params.beta[j], 0.0) << what;
  }
}

// Two components at shapes 5e7 started together escape each other slowly: EM gains ~1e-10
// nats a step for its first hundred steps, then 3 nats in all. Its stopping rule must not take
// that creep for rounding noise (a floor scaled by the size of the per-sample terms, ~7e7 here,
// had stopped it after 2 iterations, 3.2 nats short): it reaches the log-likelihood of a run of
// 20000 iterations to 1e-6 nats.
TEST(EmStopTest, SlowEscapeAtHugeShapesIsNotTakenForNoise) {
  const MixtureParams truth{{0.5, 0.5}, {49992500.0, 50007500.0}, {50007500.0, 49992500.0}};
  const std::vector<double> x = sample(truth, 30, 7);
  FitOptions o = em_options(2);
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  o.tolerance = 0.0;
  o.max_iterations = 20000;
  const double best = fit(x, o).log_likelihood;
  EXPECT_GT(r.log_likelihood, best - 1e-6) << r.iterations << " iterations";
}

// The M-step's Newton search from shapes as small as doubles go (5e-324), where trigamma
// overflows and the Hessian is singular in double: EM and SQUAREM still reach the maximum that
// the default start reaches (they stopped at once, "converged" at the start, LL -2e5). The
// K = 1 maximum is unique (the log-likelihood is concave in the shapes), so both must agree to
// the tolerance of the fit.
TEST(EmTinyStartTest, ShapesNearZeroStillReachTheMaximum) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {5.0}}, 1000, 9);
  FitOptions o = em_options(1);
  const double best = fit(x, o).log_likelihood;
  const double starts[][2] = {{1e-100, 1e-100}, {1e-300, 1e-300}, {5e-324, 1.0},
                              {1.0, 5e-324},    {1e-200, 5.0},    {1e-30, 1e-30}};
  for (const Method method : {Method::EM, Method::Squarem}) {
    for (const auto& ab : starts) {
      o.method = method;
      o.start = MixtureParams{{1.0}, {ab[0]}, {ab[1]}};
      const FitResult r = fit(x, o);
      char what[128];
      std::snprintf(what, sizeof what, "%s from (%g, %g): %d iterations, %s", to_string(method),
                    ab[0], ab[1], r.iterations, r.status_detail.c_str());
      EXPECT_EQ(r.status, FitStatus::Converged) << what;
      EXPECT_NEAR(r.log_likelihood, best, 1e-6 * std::abs(best)) << what;
    }
  }
}

// em_gain: the EM objective's gain from a point to its M-step, computed here from the
// reference statistics and the definition Q(t | f) = sum_k N_k (log w_k + (a_k - 1) sbar_k +
// (b_k - 1) tbar_k - log B(a_k, b_k)) with std::lgamma, agrees with the library's to 1e-12
// relative (both sum K terms of size |Q| / total ~ 1 in double); it is positive away from the
// maximum and at most the gain of the mean log-likelihood (EM's monotonicity: LL(t) - LL(f) >=
// Q(t | f) - Q(f | f)), and at the maximum that EM converged to it is below 1e-10.
TEST(EmGainTest, LowerBoundOfTheLikelihoodGain) {
  const MixtureParams truth{{0.3, 0.4, 0.3}, {2.0, 7.0, 12.0}, {12.0, 7.0, 2.0}};
  const std::vector<double> x = sample(truth, 3000, 41);
  const double total = static_cast<double>(x.size());
  const auto q = [&](const MixtureParams& t, const test::RefStats& f) {
    double sum = 0.0;
    for (std::size_t j = 0; j < t.k(); ++j) {
      const double lb =
          std::lgamma(t.alpha[j]) + std::lgamma(t.beta[j]) - std::lgamma(t.alpha[j] + t.beta[j]);
      sum += f.n[j] * (std::log(t.weights[j]) - lb) + (t.alpha[j] - 1.0) * f.s[j] +
             (t.beta[j] - 1.0) * f.t[j];
    }
    return sum / total;
  };
  const MixtureParams starts[] = {
      {{0.2, 0.5, 0.3}, {1.0, 3.0, 9.0}, {9.0, 3.0, 1.0}},
      {{0.6, 0.2, 0.2}, {3.0, 6.0, 20.0}, {15.0, 8.0, 3.0}},
      truth,
  };
  for (const MixtureParams& from : starts) {
    const test::RefStats f = test::ref_stats(from, x);
    const detail::StartStats st{f.n.data(), f.s.data(), f.t.data(), total};
    const detail::MStep m = detail::em_step(from, st, detail::kRunawayShape);
    ASSERT_LT(m.collapsed, 0) << m.reason;
    const double gain = detail::em_gain(from, m.params, st);
    const double expected = q(m.params, f) - q(from, f);
    EXPECT_NEAR(gain, expected, 1e-12 * std::abs(q(from, f))) << "from alpha " << from.alpha[0];
    EXPECT_GT(gain, 0.0);
    const double ll_gain = (test::ref_stats(m.params, x).ll - f.ll) / total;
    EXPECT_LE(gain, ll_gain + 1e-12) << "from alpha " << from.alpha[0];
  }
  FitOptions o = em_options(3);
  o.start = truth;
  o.tolerance = 1e-14;
  o.max_iterations = 100000;
  const FitResult r = fit(x, o);
  ASSERT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  const test::RefStats f = test::ref_stats(r.params, x);
  const detail::StartStats st{f.n.data(), f.s.data(), f.t.data(), total};
  const double at_max =
      detail::em_gain(r.params, detail::em_step(r.params, st, detail::kRunawayShape).params, st);
  EXPECT_LT(at_max, 1e-10);
  EXPECT_GE(at_max, 0.0);
}

// Adam's stopping rule is not fooled by a step size too small to move: the mean NLL is flat
// from the first iteration (the parameters change by ~1e-12 per step), but an EM step from the
// same statistics would gain ~1e-3, so the fit runs to its iteration limit instead of reporting
// convergence at the start, as it did. The default step size still converges.
TEST(AdamStopTest, AStepTooSmallToMoveIsNotConvergence) {
  const std::vector<double> x =
      sample(MixtureParams{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}, 5000, 17);
  FitOptions o = em_options(2);
  o.method = Method::Adam;
  o.max_iterations = 300;
  o.learning_rate = 1e-12;
  const FitResult slow = fit(x, o);
  EXPECT_EQ(slow.status, FitStatus::MaxIterations) << "after " << slow.iterations;
  EXPECT_LT(std::abs(slow.history.back() - slow.history.front()), 1e-9);  // flat indeed
  o.learning_rate = 0.05;
  o.max_iterations = 10000;
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
}

// SQUAREM on EmStopTest's data (two components at shapes 5e7 escaping each other slowly)
// stops by the saddle, 3 nats short, with its components 4e-4 apart: the result says so.
TEST(CoincidingComponentsTest, NearlyCoincidingAtAStopIsNamed) {
  const MixtureParams truth{{0.5, 0.5}, {49992500.0, 50007500.0}, {50007500.0, 49992500.0}};
  const std::vector<double> x = sample(truth, 30, 7);
  FitOptions o = em_options(2);
  o.method = Method::Squarem;
  const FitResult r = fit(x, o);
  ASSERT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  if (r.log_likelihood < fit(x, em_options(2)).log_likelihood - 1e-3) {
    EXPECT_NE(r.status_detail.find("coincide"), std::string::npos) << r.status_detail;
  }
}

// EM from two equal components keeps them equal (their responsibilities split in the ratio of
// their weights, so the M-step gives both the same shapes): it converges to a stationary point
// that one component fits as well, and the result says so, naming them; a fit that separates
// its components says nothing of the kind.
TEST(CoincidingComponentsTest, ConvergedSaddleIsNamed) {
  const std::vector<double> x = sample(MixtureParams{{0.4, 0.6}, {2.0, 8.0}, {8.0, 2.0}}, 2000, 23);
  FitOptions o = em_options(2);
  o.start = MixtureParams{{0.3, 0.7}, {2.0, 2.0}, {2.0, 2.0}};
  const FitResult r = fit(x, o);
  ASSERT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  EXPECT_NE(r.status_detail.find("components 1 and 2 coincide"), std::string::npos)
      << r.status_detail;
  EXPECT_NEAR(r.log_likelihood, fit(x, em_options(1)).log_likelihood,
              1e-6 * std::abs(r.log_likelihood));
  o.start.reset();
  const FitResult apart = fit(x, o);
  ASSERT_EQ(apart.status, FitStatus::Converged) << apart.status_detail;
  EXPECT_EQ(apart.status_detail, "");
  EXPECT_GT(apart.log_likelihood, r.log_likelihood + 1.0);
}

// K = 3 on data from a single Beta, from random starts: components have nothing to separate,
// so some shrink or run away. Every start ends in a status with finite numbers.
TEST(EmDyingComponentTest, ThreeComponentsOnSingleBetaStayFinite) {
  const MixtureParams one{{1.0}, {2.5}, {6.0}};
  const std::vector<double> x = sample(one, 2000, 12);
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    FitOptions o = em_options(3);
    o.init = InitMethod::Random;
    o.seed = seed;
    o.max_iterations = 1000;
    const FitResult r = fit(x, o);
    const std::string what = "seed " + std::to_string(seed) + " (" + to_string(r.status) + ")";
    EXPECT_NE(r.status, FitStatus::NonFinite) << what << ": " << r.status_detail;
    expect_all_finite(r, what);
  }
}

// A component started where there are no data (Beta(200, 1), mean 0.995, on Beta(2.5, 6)
// data) gets no responsibility: EM reports ComponentCollapsed, naming it, and returns the
// last parameters whose likelihood it computed, so LL and parameters agree.
TEST(EmDyingComponentTest, EmptyComponentCollapses) {
  const MixtureParams one{{1.0}, {2.5}, {6.0}};
  const std::vector<double> x = sample(one, 2000, 13);
  FitOptions o = em_options(2);
  o.start = MixtureParams{{0.5, 0.5}, {2.5, 200.0}, {6.0, 1.0}};
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << r.status_detail;
  // Named as numbered in the result (by mean): the empty component has the larger mean.
  EXPECT_NE(r.status_detail.find("component 2 is dying"), std::string::npos) << r.status_detail;
  expect_all_finite(r, "collapsed fit");
  // The reported LL is the LL of the reported parameters (1e-12 of sum |L_i|, as in pass_test).
  const test::RefStats ref = test::ref_stats(r.params, x);
  test::ToleranceCheck check(1e-12 * ref.ll_abs, 0.0);
  check.add("log_likelihood", r.log_likelihood, ref.ll);
  EXPECT_TRUE(check.result());
}

// Adam on the same rule: a start with a component of weight 0 (it can never regain weight
// through the softmax) stops as ComponentCollapsed at once, not as a converged fit with a
// dead component; so does the empty component above, under Adam.
TEST(EmDyingComponentTest, AdamReportsADeadComponentToo) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.5}, {6.0}}, 2000, 13);
  FitOptions o;
  o.k = 2;
  o.start = MixtureParams{{0.0, 1.0}, {2.0, 2.5}, {3.0, 6.0}};
  FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << r.status_detail;
  EXPECT_NE(r.status_detail.find("no sample is left to it"), std::string::npos) << r.status_detail;
  expect_all_finite(r, "adam, dead start");
  o.start = MixtureParams{{0.5, 0.5}, {2.5, 200.0}, {6.0, 1.0}};
  r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << r.status_detail;
  EXPECT_NE(r.status_detail.find("component 2 is dying"), std::string::npos) << r.status_detail;
}

// Listed first in the start, the same component is still named by its place in the result.
TEST(EmDyingComponentTest, NamedAsNumberedInTheResult) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.5}, {6.0}}, 2000, 13);
  FitOptions o = em_options(2);
  o.start = MixtureParams{{0.5, 0.5}, {200.0, 2.5}, {1.0, 6.0}};
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << r.status_detail;
  EXPECT_NE(r.status_detail.find("component 2 is dying"), std::string::npos) << r.status_detail;
  EXPECT_GT(r.params.alpha[1] / (r.params.alpha[1] + r.params.beta[1]), 0.9);
}

// A component on a spike of equal values has no maximum-likelihood shapes: they grow without
// bound. Half the samples at exactly 0.5 and half from Beta(2, 5): each method stops once a
// shape passes the limit of the double-precision pass (1e10) and says why, long before the
// iteration limit, with the last finite parameters, naming the component as numbered in the result
// (the spike's mean is the larger). Adam starts on the spike (its shapes then stay equal and grow
// fast); EM and SQUAREM from their default.
TEST(RunawayShapesTest, ASpikeOfEqualValuesStopsTheFit) {
  std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {5.0}}, 500, 3);
  x.insert(x.end(), 500, 0.5);
  for (const Method method : {Method::Adam, Method::EM, Method::Squarem}) {
    FitOptions o = em_options(2);
    o.method = method;
    if (method == Method::Adam) o.start = MixtureParams{{0.5, 0.5}, {4e6, 2.0}, {4e6, 5.0}};
    const FitResult r = fit(x, o);
    const std::string what = to_string(method);
    EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << what << ": " << r.status_detail;
    EXPECT_NE(r.status_detail.find("component 2 is dying: its shapes ran away"), std::string::npos)
        << r.status_detail;
    // The result is the point before the update that passed the limit, as the detail says.
    EXPECT_NE(r.status_detail.find("the result is the point before it"), std::string::npos);
    EXPECT_LT(std::max(r.params.alpha[1], r.params.beta[1]), detail::kRunawayShape) << what;
    EXPECT_LT(r.iterations, 1000) << what;
    expect_all_finite(r, what);
  }
}

// SQUAREM's extrapolation can jump past the runaway limit in one step (to alpha ~ 2e14 here,
// where 0.5 Beta(0.02, 50) + 0.5 Beta(50, 0.02) puts a quarter of its draws on 1 - 2^-53, the
// largest double below 1): such a point is not tried, so the result, the point before the
// collapse, keeps its shapes below the limit, and its log-likelihood is that of its parameters
// (to 1e-6 relative, the accuracy of the lgamma-based reference at shapes near 1e10, ~1e-5 per
// sample; it was 3e3 nats off, 4.6e-3 relative, at the extrapolated point).
TEST(RunawayShapesTest, SquaremDoesNotExtrapolatePastTheLimit) {
  const std::vector<double> x =
      sample(MixtureParams{{0.5, 0.5}, {0.02, 50.0}, {50.0, 0.02}}, 20000, 1);
  FitOptions o = em_options(2);
  o.method = Method::Squarem;
  const FitResult r = fit(x, o);
  EXPECT_EQ(r.status, FitStatus::ComponentCollapsed) << r.status_detail;
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_LT(std::max(r.params.alpha[j], r.params.beta[j]), detail::kRunawayShape) << j;
  }
  const test::RefStats ref = test::ref_stats(r.params, x);
  EXPECT_NEAR(r.log_likelihood, ref.ll, 1e-6 * std::abs(ref.ll));
}

// Real data can be narrow: 10^5 samples of Beta(2e7, 2e7) (standard deviation 1.1e-4) and of
// Beta(3e9, 3e9) have maximum-likelihood shapes, which EM and SQUAREM find on the CPU rather than
// calling them a runaway. The shapes' standard errors are about 0.45 % of them at this n
// (sqrt(2 / n) relative for equal shapes: the variance of x carries the information), so 3 %
// is more than six of them.
TEST(RunawayShapesTest, NarrowDataAreFittedNotCollapsed) {
  for (const double shape : {2e7, 3e9}) {
    const std::vector<double> x = sample(MixtureParams{{1.0}, {shape}, {shape}}, 100000, 21);
    for (const Method method : {Method::EM, Method::Squarem}) {
      FitOptions o = em_options(1);
      o.method = method;
      const FitResult r = fit(x, o);
      const std::string what = std::string(to_string(method)) + " at " + std::to_string(shape);
      EXPECT_EQ(r.status, FitStatus::Converged) << what << ": " << r.status_detail;
      EXPECT_NEAR(r.params.alpha[0] / shape, 1.0, 0.03) << what;
      EXPECT_NEAR(r.params.beta[0] / shape, 1.0, 0.03) << what;
    }
  }
}

// Samples that all have one value (all with a positive case weight) are an InputError: no
// Beta fits a single value.
TEST(RunawayShapesTest, DataOnOneValueAreAnInputError) {
  const std::vector<double> x(100, 0.37);
  EXPECT_THROW(fit(x, em_options(1)), InputError);
  std::vector<double> y = x, w(100, 1.0);
  y[7] = 0.5;
  EXPECT_NO_THROW(fit(y.data(), y.size(), em_options(1), w.data()));
  w[7] = 0.0;  // the one other value weighs nothing
  EXPECT_THROW(fit(y.data(), y.size(), em_options(1), w.data()), InputError);
}

}  // namespace
}  // namespace betamix
