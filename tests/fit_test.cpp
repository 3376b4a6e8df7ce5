// betamix::fit end to end on the CPU: recovery of known mixtures, agreement with an
// independent single-Beta maximum likelihood (mpmath, tests/data/single_beta_mle.csv), Adam
// reaching the optimum that EM certifies, the acceptance test over 100 seeds, determinism, the
// fields of FitResult and the handling of bad input.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "support/reference.hpp"
#include "updates.hpp"

namespace betamix {
namespace {

const MixtureParams kDemo{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
// Three overlapping components: where the weighted densities cross (x ~ 0.28 and 0.72), 5 %
// of the middle component and 8 % of each outer one lie on the wrong side. The issue's
// example, Beta(2,8), Beta(5,5), Beta(8,2), overlaps about twice as much (11 % and 19 %), and
// EM, the reference, then needs ~7000 iterations at n = 1e5 (tens of seconds here); with
// these shapes it needs a few hundred.
const MixtureParams kOverlap3{{0.3, 0.4, 0.3}, {2.0, 7.0, 12.0}, {12.0, 7.0, 2.0}};

FitOptions cpu_options(int k, int threads = 1) {
  FitOptions o;
  o.k = k;
  o.device = Device::Cpu;
  o.threads = threads;
  return o;
}

// The float64 reference maximum-likelihood fit: EM from the true parameters, run until its
// stopping rule is met at tolerance 1e-14 (callers check that it converged).
FitResult reference_fit(const std::vector<double>& x, const MixtureParams& truth) {
  FitOptions o = cpu_options(static_cast<int>(truth.k()));
  o.method = Method::EM;
  o.tolerance = 1e-14;
  o.max_iterations = 100000;
  o.start = truth;
  return fit(x, o);
}

std::string name(const char* what, std::size_t j) { return what + std::to_string(j); }

// (a) The demo at n = 1e5 recovers the truth: weights within 0.01 absolute, shapes within 5 %.
// At n = 1e5 the standard errors (observed information, as in the K = 3 test below) are
// 0.0016 for the weights and 0.6-0.7 % for the shapes, so these bounds are ~6 and ~7 standard
// errors: loose enough never to trip on a correct fit, tight enough to catch a biased one.
TEST(FitTest, DemoRecoversTruth) {
  const std::vector<double> x = sample(kDemo, 100000, 1);
  const FitResult r = fit(x, cpu_options(2, 0));
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  test::ToleranceCheck w(0.01, 0.0), shapes(0.0, 0.05);
  for (std::size_t j = 0; j < 2; ++j) {
    w.add(name("w", j), r.params.weights[j], kDemo.sorted_by_mean().weights[j]);
    shapes.add(name("alpha", j), r.params.alpha[j], kDemo.sorted_by_mean().alpha[j]);
    shapes.add(name("beta", j), r.params.beta[j], kDemo.sorted_by_mean().beta[j]);
  }
  EXPECT_TRUE(w.result());
  EXPECT_TRUE(shapes.result());
}

// (b) K = 1 against the single-Beta MLE of the fixture data, solved to 40 digits with mpmath.
// The MLE is a smooth function of the data's two mean logs, which the pass sums in double to
// ~1e-15 relative, so an optimiser that has converged lands far within 1e-6 relative of it
// (EM: ~1e-14). At the optimum a 1e-6 parameter error moves the mean NLL by only ~1e-12, so
// the NLL is held to 1e-11 absolute.
void expect_single_beta_mle(const FitResult& r) {
  const test::Table mle("single_beta_mle.csv");
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  test::ToleranceCheck check(0.0, 1e-6);
  check.add("alpha", r.params.alpha[0], mle.at(0, "alpha"));
  check.add("beta", r.params.beta[0], mle.at(0, "beta"));
  check.add("mean NLL", r.mean_nll, mle.at(0, "mean_nll"), 1e-11, 0.0);
  EXPECT_TRUE(check.result());
  EXPECT_EQ(r.params.weights[0], 1.0);
}

std::vector<double> single_beta_data() {
  const std::vector<double> x = test::read_values("single_beta_data.txt");
  EXPECT_EQ(x.size(), static_cast<std::size_t>(test::Table("single_beta_mle.csv").at(0, "n")));
  return x;
}

// EM's M-step solves exactly the digamma system of the MLE by Newton.
TEST(FitTest, SingleBetaEmMatchesMpmathMle) {
  FitOptions o = cpu_options(1);
  o.method = Method::EM;
  expect_single_beta_mle(fit(single_beta_data(), o));
}

// The default optimiser (Adam) must get there by its stopping rule.
TEST(FitTest, SingleBetaAdamMatchesMpmathMle) {
  expect_single_beta_mle(fit(single_beta_data(), cpu_options(1)));
}

// Solves H z = e_i for each i and returns diag(H^-1) (Gauss-Jordan with partial pivoting).
std::vector<double> inverse_diagonal(std::vector<std::vector<double>> h) {
  const std::size_t m = h.size();
  std::vector<std::vector<double>> inv(m, std::vector<double>(m, 0.0));
  for (std::size_t i = 0; i < m; ++i) inv[i][i] = 1.0;
  for (std::size_t c = 0; c < m; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < m; ++r) {
      if (std::abs(h[r][c]) > std::abs(h[piv][c])) piv = r;
    }
    std::swap(h[c], h[piv]);
    std::swap(inv[c], inv[piv]);
    const double d = h[c][c];
    for (std::size_t j = 0; j < m; ++j) {
      h[c][j] /= d;
      inv[c][j] /= d;
    }
    for (std::size_t r = 0; r < m; ++r) {
      if (r == c) continue;
      const double f = h[r][c];
      for (std::size_t j = 0; j < m; ++j) {
        h[r][j] -= f * h[c][j];
        inv[r][j] -= f * inv[c][j];
      }
    }
  }
  std::vector<double> diag(m);
  for (std::size_t i = 0; i < m; ++i) diag[i] = inv[i][i];
  return diag;
}

// Free parameters of a K-mixture: [log a_1..K, log b_1..K, log(w_2/w_1) .. log(w_K/w_1)].
std::vector<double> free_parameters(const MixtureParams& p) {
  std::vector<double> theta = detail::to_unconstrained(p);
  const std::size_t k = p.k();
  for (std::size_t j = 2 * k + 1; j < 3 * k; ++j) theta[j] -= theta[2 * k];
  theta.erase(theta.begin() + 2 * k);
  return theta;
}

// Standard errors of the free parameters at the optimum `p`: sqrt(diag(H^-1) / n), with H the
// Hessian of the mean NLL (central differences of the analytic gradient, itself checked in
// gradient_test).
std::vector<double> standard_errors(const MixtureParams& p, const std::vector<double>& x) {
  auto backend = detail::make_cpu_backend(1);
  backend->load(x.data(), nullptr, x.size());
  const std::size_t k = p.k(), m = 3 * k - 1;
  auto gradient = [&](const std::vector<double>& free) {
    std::vector<double> theta(free);
    theta.insert(theta.begin() + 2 * k, 0.0);  // eta_1 = 0
    const MixtureParams q = detail::from_unconstrained(theta);
    detail::PassConstants c;
    c.resize(1, static_cast<int>(k));
    c.set(0, q);
    detail::PassStats s;
    backend->pass(c, s);
    std::vector<double> g =
        detail::mean_nll_gradient(q, {s.n.data(), s.s.data(), s.t.data(), double(x.size())});
    g.erase(g.begin() + 2 * k);
    return g;
  };
  const std::vector<double> at = free_parameters(p);
  std::vector<std::vector<double>> h(m, std::vector<double>(m));
  const double step = 1e-5;
  for (std::size_t j = 0; j < m; ++j) {
    std::vector<double> up = at, down = at;
    up[j] += step;
    down[j] -= step;
    const std::vector<double> gu = gradient(up), gd = gradient(down);
    for (std::size_t i = 0; i < m; ++i) h[i][j] = (gu[i] - gd[i]) / (2 * step);
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < i; ++j) h[i][j] = h[j][i] = 0.5 * (h[i][j] + h[j][i]);
  }
  std::vector<double> se = inverse_diagonal(h);
  for (double& v : se) v = std::sqrt(v / x.size());
  return se;
}

// (c) Three overlapping components at n = 1e5: Adam with the default options reaches the
// optimum that EM (from the truth, tolerance 1e-14) certifies, to 1e-6 in mean NLL (the
// acceptance criterion; Adam's stopping rule leaves 1e-10 to 1e-9). The estimates lie within 5
// standard errors of the truth in every free parameter (log shapes, log weight ratios), the
// errors taken from the observed information at the optimum: a correct fit misses that with
// probability ~6e-7 per parameter.
TEST(FitTest, OverlappingThreeComponentsReachOptimum) {
  const std::vector<double> x = sample(kOverlap3, 100000, 3);
  const FitResult ref = reference_fit(x, kOverlap3);
  ASSERT_EQ(ref.status, FitStatus::Converged) << ref.status_detail;
  const FitResult adam = fit(x, cpu_options(3));
  EXPECT_EQ(adam.status, FitStatus::Converged) << adam.status_detail;
  test::ToleranceCheck nll(1e-6, 0.0);
  nll.add("mean NLL", adam.mean_nll, ref.mean_nll);
  EXPECT_TRUE(nll.result());

  const std::vector<double> se = standard_errors(ref.params, x);
  const std::vector<double> got = free_parameters(adam.params);
  const std::vector<double> want = free_parameters(kOverlap3);
  test::ToleranceCheck near_truth(0.0, 0.0);
  const char* names[] = {"log a", "log a", "log a",     "log b",
                         "log b", "log b", "log w2/w1", "log w3/w1"};
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(std::isfinite(se[i]) && se[i] > 0.0) << "standard error " << i;
    near_truth.add(std::string(names[i]) + " #" + std::to_string(i), got[i], want[i], 5 * se[i],
                   0.0);
  }
  EXPECT_TRUE(near_truth.result());
}

// (d) The acceptance test: default options (Adam, quantile start, one start) on the demo at
// n = 10,000 reach the global optimum for every seed 0..99: mean NLL within 1e-6 of the
// float64 reference (EM from the truth, tolerance 1e-14, which must itself converge). One
// thread instead of OpenMP's default: the result is bit-identical for any thread count (test
// DeterministicAcrossRunsAndThreads), and a 10,000-sample pass is a single chunk, so a second
// thread only waits at the barrier, which on a busy machine costs more than the fit.
TEST(FitTest, DefaultOptionsReachGlobalOptimumForEverySeed) {
  test::ToleranceCheck check(1e-6, 0.0);
  int not_converged = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const std::vector<double> x = sample(kDemo, 10000, seed);
    const FitResult ref = reference_fit(x, kDemo);
    ASSERT_EQ(ref.status, FitStatus::Converged) << "reference, seed " << seed;
    FitOptions o;
    o.k = 2;
    o.device = Device::Cpu;
    o.threads = 1;
    const FitResult r = fit(x, o);
    not_converged += r.status != FitStatus::Converged;
    check.add("seed " + std::to_string(seed), r.mean_nll, ref.mean_nll);
  }
  EXPECT_TRUE(check.result());
  EXPECT_EQ(not_converged, 0);
}

void expect_same_fit(const FitResult& a, const FitResult& b, const std::string& what) {
  EXPECT_EQ(a.log_likelihood, b.log_likelihood) << what;
  EXPECT_EQ(a.iterations, b.iterations) << what;
  EXPECT_EQ(a.params.weights, b.params.weights) << what;
  EXPECT_EQ(a.params.alpha, b.params.alpha) << what;
  EXPECT_EQ(a.params.beta, b.params.beta) << what;
  EXPECT_EQ(a.history, b.history) << what;
}

// (e) Determinism: the same fit twice, and 1 vs 2 threads (n = 40000 spans three chunks of the
// CPU pass), give bit-identical results, for both optimisers and with several starts.
TEST(FitTest, DeterministicAcrossRunsAndThreads) {
  const std::vector<double> x = sample(kDemo, 40000, 9);
  for (const Method method : {Method::Adam, Method::EM}) {
    FitOptions o = cpu_options(2, 1);
    o.method = method;
    o.restarts = 3;
    o.max_iterations = 100;
    const FitResult one = fit(x, o);
    const FitResult again = fit(x, o);
    o.threads = 2;
    const FitResult two = fit(x, o);
    expect_same_fit(one, again, std::string(to_string(method)) + " twice");
    expect_same_fit(one, two, std::string(to_string(method)) + " 1 vs 2 threads");
  }
}

// (f) The fields of FitResult.
TEST(FitTest, ResultFields) {
  const MixtureParams unsorted{{0.2, 0.5, 0.3}, {30.0, 4.0, 0.5}, {2.0, 4.0, 3.0}};
  const std::vector<double> x = sample(unsorted, 5000, 4);
  FitOptions o = cpu_options(3);
  o.seed = 77;
  const FitResult r = fit(x, o);
  ASSERT_EQ(r.params.k(), 3u);
  for (std::size_t j = 1; j < 3; ++j) {
    EXPECT_LT(r.params.alpha[j - 1] / (r.params.alpha[j - 1] + r.params.beta[j - 1]),
              r.params.alpha[j] / (r.params.alpha[j] + r.params.beta[j]))
        << "components sorted by mean";
  }
  double wsum = 0.0;
  for (double w : r.params.weights) wsum += w;
  const double n = static_cast<double>(x.size());
  const double p = 3 * 3 - 1;
  EXPECT_EQ(r.n, x.size());
  EXPECT_EQ(r.n_parameters(), 8);
  EXPECT_EQ(r.seed, 77u);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.converged, r.status == FitStatus::Converged);
  EXPECT_EQ(r.history.size(), static_cast<std::size_t>(r.iterations) + 1);
  EXPECT_EQ(r.n_clamped, 0u);
  // Hand-computed from LL, in double: a few roundings of numbers ~1e4.
  test::ToleranceCheck check(0.0, 1e-14);
  check.add("weights sum", wsum, 1.0);
  check.add("mean_nll", r.mean_nll, -r.log_likelihood / n);
  // The result is the best point passed, or the last where that is within the tolerance.
  const double best = *std::min_element(r.history.begin(), r.history.end());
  EXPECT_TRUE(r.mean_nll == best || r.mean_nll == r.history.back()) << r.mean_nll;
  EXPECT_LE(r.mean_nll - best, o.tolerance * std::max(1.0, std::abs(best)));
  check.add("aic", r.aic, 2 * p - 2 * r.log_likelihood);
  check.add("bic", r.bic, p * std::log(n) - 2 * r.log_likelihood);
  // The reported LL is the LL of the reported parameters (long-double reference; the pass
  // sums 5000 terms in double: 1e-12 of sum |L_i| as in pass_test).
  const test::RefStats ref = test::ref_stats(r.params, x);
  check.add("log_likelihood", r.log_likelihood, ref.ll, 1e-12 * ref.ll_abs, 0.0);
  EXPECT_TRUE(check.result());
}

// tolerance 0 never stops early: exactly max_iterations iterations, status MaxIterations.
TEST(FitTest, ZeroToleranceRunsAllIterations) {
  const std::vector<double> x = sample(kDemo, 2000, 5);
  for (const Method method : {Method::Adam, Method::EM}) {
    FitOptions o = cpu_options(2);
    o.method = method;
    o.tolerance = 0.0;
    o.max_iterations = 37;
    const FitResult r = fit(x, o);
    EXPECT_EQ(r.iterations, 37) << to_string(method);
    EXPECT_EQ(r.status, FitStatus::MaxIterations) << to_string(method);
    EXPECT_FALSE(r.converged) << to_string(method);
    EXPECT_EQ(r.history.size(), 38u) << to_string(method);
  }
}

// FitOptions::stop, polled once per iteration after the pass, ends every start where it is:
// true at the sixth poll (iteration 5) gives exactly the fit of max_iterations = 5, with
// status Stopped, for Adam (whose result is still the best point it passed) and EM, with two
// starts; a stop that never comes changes nothing.
TEST(FitTest, StopEndsEveryStartAtThePointReached) {
  const std::vector<double> x = sample(kDemo, 2000, 5);
  for (const Method method : {Method::Adam, Method::EM}) {
    FitOptions o = cpu_options(2);
    o.method = method;
    o.restarts = 2;
    o.tolerance = 0.0;
    o.max_iterations = 5;
    const FitResult limited = fit(x, o);
    o.max_iterations = 1000;
    int polls = 0;
    o.stop = [&polls] { return ++polls > 5; };
    const FitResult stopped = fit(x, o);
    EXPECT_EQ(polls, 6) << to_string(method);
    EXPECT_EQ(stopped.status, FitStatus::Stopped) << to_string(method);
    EXPECT_FALSE(stopped.converged);
    EXPECT_EQ(stopped.iterations, 5);
    EXPECT_EQ(stopped.history, limited.history);
    EXPECT_EQ(stopped.log_likelihood, limited.log_likelihood);
    EXPECT_EQ(stopped.start_log_likelihoods, limited.start_log_likelihoods);
    EXPECT_EQ(stopped.params.alpha, limited.params.alpha);
    EXPECT_EQ(stopped.params.beta, limited.params.beta);
    EXPECT_EQ(stopped.params.weights, limited.params.weights);
    ASSERT_TRUE(stopped.se.has_value());
    EXPECT_NE(stopped.se->note.find("status stopped"), std::string::npos) << stopped.se->note;
    o.tolerance = FitOptions{}.tolerance;
    o.stop = [] { return false; };
    const FitResult never = fit(x, o);
    o.stop = nullptr;
    const FitResult plain = fit(x, o);
    EXPECT_EQ(never.status, plain.status);
    EXPECT_EQ(never.log_likelihood, plain.log_likelihood);
    EXPECT_EQ(never.iterations, plain.iterations);
  }
}

// Adam's constant step keeps it moving around the maximum: a long fixed-length run passes
// points better than its last (1000 samples of the demo, 3000 iterations: the best at
// iteration 358, the last 1.3e-3 nats below it). The result is the best point passed, its LL is
// that of the returned parameters, and the detail says which iteration it was; the history
// keeps every iteration. A warm start at EM's maximum, which Adam's first steps leave, returns
// a point no worse than the start.
TEST(FitTest, AdamReturnsTheBestPointItPassed) {
  const std::vector<double> x = sample(kDemo, 1000, 1);
  FitOptions o = cpu_options(2);
  o.tolerance = 0.0;
  o.max_iterations = 3000;
  const FitResult r = fit(x, o);
  ASSERT_EQ(r.history.size(), 3001u);
  const auto best = std::min_element(r.history.begin(), r.history.end());
  EXPECT_EQ(r.mean_nll, *best);
  EXPECT_GT(r.history.back(), r.mean_nll) << "the run ends below a point it passed";
  const std::string at = "the point of iteration " + std::to_string(best - r.history.begin());
  EXPECT_NE(r.status_detail.find(at), std::string::npos) << r.status_detail;
  const test::RefStats ref = test::ref_stats(r.params, x);
  EXPECT_NEAR(r.log_likelihood, ref.ll, 1e-12 * ref.ll_abs);

  const FitResult em = reference_fit(x, kDemo);
  ASSERT_EQ(em.status, FitStatus::Converged) << em.status_detail;
  o.start = em.params;
  o.max_iterations = 50;
  const FitResult warm = fit(x, o);
  EXPECT_LE(warm.mean_nll, warm.history.front());
  EXPECT_GT(*std::max_element(warm.history.begin(), warm.history.end()), warm.history.front())
      << "Adam's steps leave the maximum";
}

// A converged run whose last steps pass a point better than the last by less than the
// tolerance keeps the last: to the fit the two are one point, and the result says nothing of
// it (where it had named the earlier iteration, on demo fits of every size).
TEST(FitTest, AdamKeepsItsLastPointWithinTheTolerance) {
  const std::vector<double> x = sample(kDemo, 100000, 1);
  const FitResult r = fit(x, cpu_options(2));
  ASSERT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  const double best = *std::min_element(r.history.begin(), r.history.end());
  ASSERT_LT(best, r.history.back()) << "the run's last point is its best: nothing to test";
  EXPECT_EQ(r.mean_nll, r.history.back());
  EXPECT_EQ(r.status_detail.find("the point of iteration"), std::string::npos) << r.status_detail;
}

// A start whose very first pass has no finite log-likelihood ends as non_finite with the
// start's parameters, k of them, and no standard errors, for each method; not as an empty
// result. Here case weights of 1e297 (their sum, 5e299, is within the 1e300 allowed) times
// log-densities near -1e9 (Beta(1e9, 1) and Beta(1.5e9, 1) on samples around 0.3) overflow LL
// to -inf.
TEST(FitTest, NonFiniteFirstPassKeepsTheStart) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {3.0}, {7.0}}, 500, 6);
  const std::vector<double> w(x.size(), 1e297);
  for (const Method method : {Method::Adam, Method::EM, Method::Squarem}) {
    FitOptions o = cpu_options(2);
    o.method = method;
    o.start = MixtureParams{{0.5, 0.5}, {1e9, 1.5e9}, {1.0, 1.0}};
    const FitResult r = fit(x.data(), x.size(), o, w.data());
    EXPECT_EQ(r.status, FitStatus::NonFinite) << to_string(method);
    EXPECT_NE(r.status_detail.find("iteration 0"), std::string::npos) << r.status_detail;
    ASSERT_EQ(r.params.k(), 2u) << to_string(method);
    EXPECT_EQ(r.params.alpha[1], 1.5e9);  // sorted by mean
    EXPECT_FALSE(std::isfinite(r.log_likelihood));
    ASSERT_TRUE(r.se.has_value());
    EXPECT_FALSE(r.se->available);
    EXPECT_NE(r.se->reason.find("no finite log-likelihood"), std::string::npos) << r.se->reason;
  }
}

TEST(FitTest, BadInputThrows) {
  std::vector<double> x = sample(kDemo, 100, 6);
  FitOptions o = cpu_options(2);
  o.k = 0;
  EXPECT_THROW(fit(x, o), InputError) << "k = 0";
  o.k = 101;
  EXPECT_THROW(fit(x, o), InputError) << "k > n";
  o.k = 2;
  EXPECT_THROW(fit(std::vector<double>{}, o), InputError) << "no samples";
  for (const double bad : {std::nan(""), 1.5, -0.25, std::numeric_limits<double>::infinity()}) {
    std::vector<double> y = x;
    y[17] = bad;
    EXPECT_THROW(fit(y, o), InputError) << "value " << bad;
  }
  std::vector<double> y = x;
  y[3] = 0.0;
  EXPECT_THROW(fit(y, o), InputError) << "exact 0 under Reject";
  y[4] = 1.0;
  EXPECT_THROW(fit(y, o), InputError) << "exact 1 under Reject";
  o.on_boundary = BoundaryPolicy::Clamp;
  y[5] = 0.0;
  const FitResult r = fit(y, o);
  EXPECT_EQ(r.n_clamped, 3u);
  EXPECT_TRUE(std::isfinite(r.log_likelihood));
  // The clamped fit is the fit of the data with the clamped values written in (eps = 1e-6).
  std::vector<double> clamped = y;
  clamped[3] = clamped[5] = 1e-6;
  clamped[4] = 1.0 - 1e-6;
  o.on_boundary = BoundaryPolicy::Reject;
  EXPECT_EQ(fit(clamped, o).log_likelihood, r.log_likelihood);

  // An eps so small that 1 - eps is 1 in double would leave a clamped 1 at 1: refused, as are
  // 0, negative, NaN and eps >= 0.5; the smallest eps taken, 2^-53, moves 1 below 1.
  o.on_boundary = BoundaryPolicy::Clamp;
  for (const double bad : {1e-17, 0x1p-54, 0.0, -1e-6, 0.5, std::nan("")}) {
    o.boundary_eps = bad;
    try {
      static_cast<void>(fit(y, o));
      ADD_FAILURE() << "eps " << bad << " was taken";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("boundary eps must lie in [2^-53, 0.5)"),
                std::string::npos)
          << e.what();
    }
  }
  o.boundary_eps = 0x1p-53;
  const FitResult smallest = fit(y, o);
  EXPECT_EQ(smallest.n_clamped, 3u);
  EXPECT_TRUE(std::isfinite(smallest.log_likelihood));
}

}  // namespace
}  // namespace betamix
