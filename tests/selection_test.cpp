// Global optimum and model choice: restarts evaluated in one pass, K selection by information
// criteria, criteria against hand-computed values, and warm starts.

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace {

using betamix::FitOptions;
using betamix::MixtureParams;

const MixtureParams kDemo{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};

// The best log-likelihood of x: EM to a tight tolerance from the truth.
double best_ll(const std::vector<double>& x, const MixtureParams& truth) {
  FitOptions o;
  o.k = static_cast<int>(truth.k());
  o.method = betamix::Method::EM;
  o.tolerance = 1e-14;
  o.start = truth;
  o.device = betamix::Device::Cpu;
  return betamix::fit(x, o).log_likelihood;
}

bool reaches(double ll, double best) {
  // Starts within 1e-6 relative of the best count as reaching it (as FitResult::starts_at_best).
  return std::abs(ll - best) <= 1e-6 * std::abs(best);
}

// With --init random, single EM starts on the demo data end in the one-component local
// optimum (a single broad Beta fitted to everything) often; 16 starts in one pass must find the
// global optimum for (almost) every seed.
TEST(RestartsTest, SixteenRandomStartsFindTheBestFit) {
  const std::vector<double> x = betamix::sample(kDemo, 2000, 77);
  const double best = best_ll(x, kDemo);
  int single_ok = 0, multi_ok = 0;
  constexpr int kSeeds = 100;
  for (int seed = 0; seed < kSeeds; ++seed) {
    FitOptions o;
    o.k = 2;
    o.method = betamix::Method::EM;
    o.init = betamix::InitMethod::Random;
    o.seed = seed;
    o.device = betamix::Device::Cpu;
    o.threads = 1;
    single_ok += reaches(betamix::fit(x, o).log_likelihood, best);
    o.restarts = 16;
    const betamix::FitResult r = betamix::fit(x, o);
    multi_ok += reaches(r.log_likelihood, best);
    ASSERT_EQ(r.start_log_likelihoods.size(), 16u);
    EXPECT_EQ(r.start_log_likelihoods[r.best_start], r.log_likelihood);
    int at_best = 0;
    for (double ll : r.start_log_likelihoods) at_best += reaches(ll, r.log_likelihood);
    EXPECT_EQ(r.starts_at_best, at_best);
  }
  // The data set is only a useful test if single starts fail often.
  EXPECT_LT(single_ok, kSeeds * 3 / 4) << "single random starts reached the best LL too often";
  EXPECT_GE(multi_ok, 99) << "16 starts reached the best LL in only " << multi_ok << " seeds";
}

TEST(RestartsTest, StartsInOnePassEqualSeparateFits) {
  const std::vector<double> x = betamix::sample(kDemo, 3001, 5);
  FitOptions o;
  o.k = 2;
  o.init = betamix::InitMethod::Random;
  o.seed = 11;
  o.restarts = 4;
  o.device = betamix::Device::Cpu;
  const betamix::FitResult together = betamix::fit(x, o);
  // Start 0 of a random-init fit is its own seeded start; a one-start fit has the same first
  // start, so their likelihoods must be identical.
  o.restarts = 1;
  const betamix::FitResult alone = betamix::fit(x, o);
  EXPECT_EQ(together.start_log_likelihoods[0], alone.log_likelihood);
}

// The second start is the other data-driven start (k-means after quantile groups, and the
// reverse): its likelihood is that of a one-start fit from it. On 0.7 Beta(5000, 5000) + 0.3
// Beta(1000, 4000) the quantile start loses a component under Adam (ComponentCollapsed, LL
// about -550, far below the maximum of about 6423 that EM reaches) and the k-means start does
// not, so two starts reach within 1 nat of EM's maximum where one start did not.
TEST(RestartsTest, SecondStartIsTheOtherDataDrivenStart) {
  const MixtureParams truth{{0.7, 0.3}, {5000.0, 1000.0}, {5000.0, 4000.0}};
  const std::vector<double> x = betamix::sample(truth, 2000, 3);
  FitOptions o;
  o.k = 2;
  o.device = betamix::Device::Cpu;
  o.threads = 1;
  o.method = betamix::Method::EM;
  const double best = betamix::fit(x, o).log_likelihood;
  o.method = betamix::Method::Adam;
  const betamix::FitResult one = betamix::fit(x, o);
  EXPECT_EQ(one.status, betamix::FitStatus::ComponentCollapsed);
  EXPECT_LT(one.log_likelihood, best - 1000.0);
  o.restarts = 2;
  const betamix::FitResult two = betamix::fit(x, o);
  EXPECT_GT(two.log_likelihood, best - 1.0);
  EXPECT_EQ(two.best_start, 1);
  for (const auto init : {betamix::InitMethod::Quantile, betamix::InitMethod::KMeans}) {
    const auto other = init == betamix::InitMethod::Quantile ? betamix::InitMethod::KMeans
                                                             : betamix::InitMethod::Quantile;
    o.init = init;
    o.restarts = 2;
    o.max_iterations = 50;
    const betamix::FitResult both = betamix::fit(x, o);
    o.init = other;
    o.restarts = 1;
    EXPECT_EQ(both.start_log_likelihoods[1], betamix::fit(x, o).log_likelihood);
  }
}

// Where the two data-driven starts coincide (K = 1: one quantile group and one cluster are the
// same moment-matched Beta) the second start is a random one rather than a copy, so "starts at
// the best" counts starts that got there on their own. A K = 1 likelihood is concave in the
// shapes, so the random start must reach the same maximum; one EM iteration tells the starts
// apart (a copy would give the identical likelihood).
TEST(RestartsTest, SecondStartIsNotACopyOfTheFirst) {
  const MixtureParams truth{{1.0}, {3.0}, {5.0}};
  const std::vector<double> x = betamix::sample(truth, 3000, 11);
  FitOptions o;
  o.k = 1;
  o.device = betamix::Device::Cpu;
  o.threads = 1;
  o.method = betamix::Method::EM;
  o.restarts = 2;
  o.max_iterations = 1;
  const betamix::FitResult early = betamix::fit(x, o);
  ASSERT_EQ(early.start_log_likelihoods.size(), 2u);
  EXPECT_NE(early.start_log_likelihoods[0], early.start_log_likelihoods[1]);
  o.max_iterations = 1000;
  const betamix::FitResult done = betamix::fit(x, o);
  EXPECT_EQ(done.status, betamix::FitStatus::Converged);
  EXPECT_NEAR(done.start_log_likelihoods[0], done.start_log_likelihoods[1],
              1e-6 * std::abs(done.log_likelihood));
  EXPECT_EQ(done.starts_at_best, 2);
}

struct SelectionCase {
  const char* name;
  MixtureParams truth;
};

class SelectKTest : public ::testing::TestWithParam<SelectionCase> {};

// Well-separated components at n = 10^5: BIC must recover the true K among 1..K+1.
TEST_P(SelectKTest, BicRecoversTheTrueK) {
  const MixtureParams& truth = GetParam().truth;
  const int true_k = static_cast<int>(truth.k());
  const std::vector<double> x = betamix::sample(truth, 100000, 2024);
  std::vector<int> ks;
  for (int k = 1; k <= true_k + 1; ++k) ks.push_back(k);
  FitOptions o;
  o.method = betamix::Method::EM;
  o.init = betamix::InitMethod::KMeans;
  o.restarts = 2;
  // The true K converges in far fewer iterations on separated components; an over-fitted K
  // creeps on for thousands, and stopping it early only lowers its likelihood (and raises its
  // BIC), which cannot make a wrong K win.
  o.max_iterations = 300;
  o.device = betamix::Device::Cpu;
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), ks, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), ks.size());
  EXPECT_EQ(static_cast<int>(sel.fits[sel.selected].params.k()), true_k);
  EXPECT_TRUE(sel.fits[true_k - 1].converged) << "the true K did not converge";
  for (std::size_t i = 0; i < sel.fits.size(); ++i) {
    EXPECT_GE(sel.fits[i].bic, sel.fits[sel.selected].bic);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Separated, SelectKTest,
    ::testing::Values(
        SelectionCase{"K1", {{1.0}, {5.0}, {5.0}}}, SelectionCase{"K2", kDemo},
        SelectionCase{"K3", {{0.3, 0.4, 0.3}, {2.0, 20.0, 30.0}, {30.0, 20.0, 2.0}}},
        SelectionCase{
            "K4", {{0.25, 0.25, 0.25, 0.25}, {2.0, 12.0, 28.0, 30.0}, {30.0, 28.0, 12.0, 2.0}}}),
    [](const auto& info) { return std::string(info.param.name); });

// AIC, BIC and ICL against values computed by hand from the naive reference.
TEST(CriteriaTest, MatchHandComputedValues) {
  const MixtureParams truth{{0.3, 0.7}, {2.0, 6.0}, {5.0, 2.0}};
  const std::vector<double> x = betamix::sample(truth, 5000, 3);
  FitOptions o;
  o.k = 2;
  o.method = betamix::Method::EM;
  o.device = betamix::Device::Cpu;
  const betamix::FitResult r = betamix::fit(x, o);
  const betamix::test::RefStats ref = betamix::test::ref_stats(r.params, x);
  const double n = static_cast<double>(x.size()), p = 3 * 2 - 1;
  double entropy = 0.0;  // -sum_i sum_k r_ik log r_ik
  for (double xi : x) {
    double l[2], m = -INFINITY;
    for (int k = 0; k < 2; ++k) {
      l[k] = std::log(r.params.weights[k]) +
             betamix::test::ref_beta_log_pdf(xi, r.params.alpha[k], r.params.beta[k]);
      m = std::max(m, l[k]);
    }
    const double lse = m + std::log(std::exp(l[0] - m) + std::exp(l[1] - m));
    for (int k = 0; k < 2; ++k) {
      const double rik = std::exp(l[k] - lse);
      if (rik > 0.0) entropy -= rik * std::log(rik);
    }
  }
  // The library sums in a different order (and gets the entropy from the sufficient
  // statistics): agreement to 1e-9 relative of the criterion's magnitude is rounding only.
  const double tol = 1e-9;
  EXPECT_NEAR(r.log_likelihood, ref.ll, tol * std::abs(ref.ll));
  EXPECT_NEAR(r.aic, 2 * p - 2 * ref.ll, tol * std::abs(r.aic));
  EXPECT_NEAR(r.bic, p * std::log(n) - 2 * ref.ll, tol * std::abs(r.bic));
  EXPECT_NEAR(r.icl, p * std::log(n) - 2 * ref.ll + 2 * entropy, tol * std::abs(r.icl) + 1e-9);
  EXPECT_GT(r.icl, r.bic);  // the components overlap, so the entropy is positive
}

// A fit started from an earlier result reproduces it at once.
TEST(WarmStartTest, ReproducesTheFitInAtMostTwoIterations) {
  const std::vector<double> x = betamix::sample(kDemo, 20000, 8);
  for (const auto first_method : {betamix::Method::EM, betamix::Method::Adam}) {
    FitOptions o;
    o.k = 2;
    o.method = first_method;
    o.device = betamix::Device::Cpu;
    const betamix::FitResult first = betamix::fit(x, o);
    ASSERT_TRUE(first.converged);
    FitOptions warm = o;
    warm.method = betamix::Method::EM;
    warm.start = first.params;
    const betamix::FitResult again = betamix::fit(x, warm);
    EXPECT_TRUE(again.converged);
    EXPECT_LE(again.iterations, 2);
    // Both fits are at the same optimum: 1e-5 relative covers Adam's last steps around it.
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_NEAR(again.params.alpha[k], first.params.alpha[k], 1e-5 * first.params.alpha[k]);
      EXPECT_NEAR(again.params.beta[k], first.params.beta[k], 1e-5 * first.params.beta[k]);
      EXPECT_NEAR(again.params.weights[k], first.params.weights[k], 1e-5);
    }
  }
}

// Data with a spike of 200 equal values: fits with K >= 2 collapse onto it, where the
// likelihood has no maximum and their criterion is where they stopped. Selection takes the
// best fit that did not collapse (here K = 1, which converges), and keeps the others' results.
TEST(SelectKTest, CollapsedFitsAreNotSelected) {
  std::vector<double> x = betamix::sample(MixtureParams{{1.0}, {2.0}, {5.0}}, 5000, 8);
  x.insert(x.end(), 200, 0.3);
  FitOptions o;
  o.method = betamix::Method::Squarem;
  o.device = betamix::Device::Cpu;
  o.standard_errors = false;
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), {1, 2, 3}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), 3u);
  int collapsed = 0;
  for (const betamix::FitResult& r : sel.fits) {
    collapsed += r.status == betamix::FitStatus::ComponentCollapsed;
  }
  ASSERT_GT(collapsed, 0) << "the spike no longer collapses a fit: the test proves nothing";
  const betamix::FitStatus chosen = sel.fits[sel.selected].status;
  EXPECT_TRUE(chosen == betamix::FitStatus::Converged ||
              chosen == betamix::FitStatus::MaxIterations)
      << betamix::to_string(chosen);
}

// A stop during K selection ends the fit in progress (status Stopped), fits no further K and
// selects among the finished fits: here K = 1 finishes, K = 2 is stopped at its iteration 3
// and K = 3 is not fitted.
TEST(SelectKTest, AStopEndsTheSelectionAtTheFitInProgress) {
  const std::vector<double> x = betamix::sample(kDemo, 2000, 3);
  FitOptions o;
  o.device = betamix::Device::Cpu;
  o.threads = 1;
  o.standard_errors = false;
  int polls = 0;
  o.stop = [&polls] {
    ++polls;
    return false;
  };
  o.k = 1;
  const betamix::FitResult one = betamix::fit(x, o);
  ASSERT_EQ(one.status, betamix::FitStatus::Converged);
  const int polls_of_k1 = polls;  // one a pass: iterations 0 .. one.iterations
  ASSERT_EQ(polls_of_k1, one.iterations + 1);
  polls = 0;
  o.stop = [&polls, polls_of_k1] { return ++polls > polls_of_k1 + 3; };
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), {1, 2, 3}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), 2u);
  EXPECT_EQ(sel.fits[0].status, betamix::FitStatus::Converged);
  EXPECT_EQ(sel.fits[0].log_likelihood, one.log_likelihood);
  EXPECT_EQ(sel.fits[1].status, betamix::FitStatus::Stopped);
  EXPECT_EQ(sel.fits[1].iterations, 3);
  // K = 2 fits this two-peak sample far better, but unfinished it is not chosen.
  EXPECT_GT(sel.fits[1].log_likelihood, sel.fits[0].log_likelihood);
  EXPECT_EQ(sel.selected, 0);
  ASSERT_EQ(sel.notes.size(), 1u);
  EXPECT_EQ(sel.notes[0], "stopped during K = 2: K = 3 not fitted");
}

// A stop while a K is fitted again from split starts (the case of the test below: Adam's K = 3
// ends below K = 2) keeps K's first fit and says how far it got: here the stop comes at the
// second iteration of the first split start.
TEST(SelectKTest, AStopWhileAKIsFittedAgainKeepsItsFirstFit) {
  const std::vector<double> x =
      betamix::sample(MixtureParams{{0.5, 0.5}, {2.0, 8.0}, {8.0, 2.0}}, 2000, 1);
  FitOptions o;
  o.device = betamix::Device::Cpu;
  o.standard_errors = false;
  o.learning_rate = 1.0;
  o.max_iterations = 100;
  int polls = 0;
  o.stop = [&polls] {
    ++polls;
    return false;
  };
  double ll3 = 0.0;
  for (const int k : {1, 2, 3}) {  // the polls of the three first fits, one a pass
    o.k = k;
    const betamix::FitResult r = betamix::fit(x, o);
    ASSERT_NE(r.status, betamix::FitStatus::Stopped);
    if (k == 3) ll3 = r.log_likelihood;
  }
  const int first_fits = polls;
  polls = 0;
  o.stop = [&polls, first_fits] { return ++polls > first_fits + 1; };
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), {1, 2, 3}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), 3u);
  EXPECT_EQ(sel.fits[2].log_likelihood, ll3);
  EXPECT_EQ(sel.fits[2].start_log_likelihoods.size(), 1u);
  ASSERT_EQ(sel.notes.size(), 1u);
  EXPECT_EQ(sel.notes[0],
            "stopped while K = 3 was fitted again, after 0 of its 2 split starts; no K was "
            "fitted again after it");
}

// A fit with more components can always match one with fewer (its extra components at weight
// 0): where it ends below, more than 1e-6 relative, it is fitted again from the smaller fit with
// a component split, and selection says so. On 5000 samples of a U-shaped and two skewed
// components, Adam's K = 4 converges 3.4 below K = 3; from K = 3 with a component split it
// reaches 1183.65, 3.9 above, and above SQUAREM's 1182.31 (Adam with 8 starts reaches 1183.65
// too); the new starts count as more starts of K = 4. SQUAREM's K = 4 ends above K = 3 at
// once, with no note.
TEST(SelectKTest, AFitBelowASmallerKStartsAgainFromIt) {
  const MixtureParams truth{{0.3, 0.35, 0.35}, {0.4, 10.0, 2.0}, {0.4, 2.0, 10.0}};
  const std::vector<double> x = betamix::sample(truth, 5000, 1);
  FitOptions o;
  o.device = betamix::Device::Cpu;
  o.standard_errors = false;
  o.method = betamix::Method::Squarem;
  const betamix::ModelSelection sq =
      betamix::select_k(x.data(), x.size(), {1, 2, 3, 4}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sq.fits.size(), 4u);
  EXPECT_TRUE(sq.notes.empty()) << sq.notes[0];
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_GE(sq.fits[i].log_likelihood, sq.fits[i - 1].log_likelihood) << "K = " << i + 1;
  }
  const double best4 = sq.fits[3].log_likelihood;

  o.method = betamix::Method::Adam;
  o.k = 4;
  const double alone = betamix::fit(x, o).log_likelihood;
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), {4, 1, 2, 3}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), 4u);
  const double ll3 = sel.fits[3].log_likelihood;
  ASSERT_GT(ll3 - alone, 1.0) << "Adam's K = 4 no longer ends below K = 3: the case is gone";
  ASSERT_EQ(sel.notes.size(), 1u);
  char gap[32];
  std::snprintf(gap, sizeof gap, "%.4g", ll3 - alone);
  EXPECT_EQ(sel.notes[0].rfind("K = 4 (status converged) ended " + std::string(gap) +
                                   " below the log-likelihood of K = 3, which 4 components can "
                                   "always match",
                               0),
            0u)
      << sel.notes[0];
  EXPECT_NE(sel.notes[0].find("and is K = 4's result"), std::string::npos) << sel.notes[0];
  const betamix::FitResult& r = sel.fits[0];  // K = 4, asked first
  ASSERT_EQ(r.params.k(), 4u);
  EXPECT_GT(r.log_likelihood, ll3);
  EXPECT_GE(r.log_likelihood, best4 - 1e-6 * std::abs(best4)) << "no worse than SQUAREM's K = 4";
  EXPECT_EQ(r.status, betamix::FitStatus::Converged);
  EXPECT_EQ(r.status_detail.rfind("started from the K = 3 fit with its component ", 0), 0u)
      << r.status_detail;
  ASSERT_EQ(r.start_log_likelihoods.size(), 4u) << "the first start, and one for each of 3 splits";
  EXPECT_EQ(r.start_log_likelihoods[0], alone);
  EXPECT_GE(r.best_start, 1);
  EXPECT_EQ(r.start_log_likelihoods[r.best_start], r.log_likelihood);
}

// Where no start from the smaller fit with a component split does better, the first fit stays
// K's result, its note says so, and the split starts still count as more starts of it. With
// Adam at learning rate 1 and 100 iterations on 2000 samples of two peaks, K = 3 stops 192.7
// below K = 2; the two starts from K = 2 with a component split end higher (200.9 and 264.2)
// but collapsed or non-finite, so neither can take its place, and the note says so.
TEST(SelectKTest, AFitBelowASmallerKStaysWhereNoSplitStartDoesBetter) {
  const MixtureParams truth{{0.5, 0.5}, {2.0, 8.0}, {8.0, 2.0}};
  const std::vector<double> x = betamix::sample(truth, 2000, 1);
  FitOptions o;
  o.device = betamix::Device::Cpu;
  o.standard_errors = false;
  o.method = betamix::Method::Adam;
  o.learning_rate = 1.0;
  o.max_iterations = 100;
  o.k = 3;
  const betamix::FitResult alone = betamix::fit(x, o);
  const betamix::ModelSelection sel =
      betamix::select_k(x.data(), x.size(), {1, 2, 3}, betamix::Criterion::BIC, o);
  ASSERT_EQ(sel.fits.size(), 3u);
  const double ll2 = sel.fits[1].log_likelihood;
  ASSERT_GT(ll2 - alone.log_likelihood, 1.0)
      << "K = 3 no longer ends below K = 2: the case is gone";
  ASSERT_EQ(sel.notes.size(), 1u);
  char gap[32];
  std::snprintf(gap, sizeof gap, "%.4g", ll2 - alone.log_likelihood);
  EXPECT_EQ(sel.notes[0].rfind("K = 3 (status max_iterations) ended " + std::string(gap) +
                                   " below the log-likelihood of K = 2",
                               0),
            0u)
      << sel.notes[0];
  EXPECT_NE(sel.notes[0].find("starts from the K = 2 fit with a component split did no better"),
            std::string::npos)
      << sel.notes[0];
  const betamix::FitResult& r = sel.fits[2];
  ASSERT_EQ(r.params.k(), 3u);
  EXPECT_EQ(r.log_likelihood, alone.log_likelihood);
  EXPECT_EQ(r.params.alpha, alone.params.alpha);
  EXPECT_EQ(r.status, alone.status);
  EXPECT_EQ(r.status_detail, alone.status_detail);
  ASSERT_EQ(r.start_log_likelihoods.size(), 3u) << "the first start, and one for each of 2 splits";
  EXPECT_EQ(r.start_log_likelihoods[0], alone.log_likelihood);
  EXPECT_EQ(r.best_start, 0);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_GT(r.start_log_likelihoods[i], r.log_likelihood) << "split start " << i;
  }
  EXPECT_NE(sel.notes[0].find("did no better (2 of them ended higher but collapsed or turned "
                              "non-finite"),
            std::string::npos)
      << sel.notes[0];
  EXPECT_EQ(r.starts_at_best, 1);
  EXPECT_EQ(sel.selected, 1) << "K = 2, not the K = 3 that stopped below it";
}

}  // namespace
