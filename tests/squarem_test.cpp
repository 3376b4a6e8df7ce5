// Method::Squarem (EM with squared extrapolation): the likelihood of the kept points never
// decreases, it reaches the optimum EM reaches, in far fewer passes where EM is slow, and it
// runs per start when several starts share the pass.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

struct DataSet {
  const char* name;
  MixtureParams truth;
};

// The data sets of em_test.cpp: separated, overlapping (where EM is slow), and a component
// with alpha < 1 whose density is unbounded at 0.
const DataSet kDataSets[] = {
    {"Demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
    {"Overlap3", {{0.3, 0.4, 0.3}, {2.0, 7.0, 12.0}, {12.0, 7.0, 2.0}}},
    {"NearZero", {{0.4, 0.6}, {0.5, 4.0}, {8.0, 4.0}}},
};

void PrintTo(const DataSet& d, std::ostream* os) { *os << d.name; }

FitOptions options(int k, Method method) {
  FitOptions o;
  o.k = k;
  o.method = method;
  o.device = Device::Cpu;
  o.threads = 1;
  o.standard_errors = false;
  return o;
}

// The best LL of the data: EM from the truth, run to a tolerance far below the tests'.
double best_log_likelihood(const DataSet& d, const std::vector<double>& x) {
  FitOptions o = options(static_cast<int>(d.truth.k()), Method::EM);
  o.start = d.truth;
  o.tolerance = 1e-15;
  o.max_iterations = 200000;
  return fit(x, o).log_likelihood;
}

class SquaremTest : public ::testing::TestWithParam<DataSet> {};

// Every kept point is at least as likely as the one before: extrapolations are kept only then,
// and the EM steps between them never lower the likelihood. Same rounding allowance as the EM
// test (1e-13 absolute + 1e-12 relative per step). The history holds the kept points only, so
// it may be shorter than the passes; the check must also see extrapolations kept and rejected.
TEST_P(SquaremTest, LikelihoodNeverDecreases) {
  const DataSet& d = GetParam();
  const int k = static_cast<int>(d.truth.k());
  const std::vector<double> x = sample(d.truth, 2000, 31);
  test::ToleranceCheck rise(0.0, 0.0);
  int passes = 0, kept = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    FitOptions o = options(k, Method::Squarem);
    o.init = InitMethod::Random;
    o.seed = seed;
    o.tolerance = 1e-13;
    o.max_iterations = 150;
    const FitResult r = fit(x, o);
    ASSERT_LE(r.history.size(), static_cast<std::size_t>(r.iterations) + 1) << "seed " << seed;
    passes += r.iterations + 1;
    kept += static_cast<int>(r.history.size());
    for (std::size_t i = 1; i < r.history.size(); ++i) {
      const double prev = r.history[i - 1];
      rise.add("seed " + std::to_string(seed) + " point " + std::to_string(i) + " (" +
                   to_string(r.status) + ")",
               std::max(r.history[i] - prev, 0.0), 0.0, 1e-13 + 1e-12 * std::abs(prev), 0.0);
    }
    // The result is the last kept point.
    EXPECT_EQ(r.mean_nll, r.history.back()) << "seed " << seed;
  }
  EXPECT_TRUE(rise.result());
  EXPECT_GT(passes, 50 * 10) << "the check must see the method at work";
  EXPECT_LT(kept, passes) << "no extrapolation was rejected: the safeguard went untested";
}

// With the default stopping rule it stops at the optimum: within 1e-9 relative of the best LL
// (the EM stopping rule stops within ~1e-10 of the optimum's mean NLL, |mean NLL| ~ 0.1..1).
TEST_P(SquaremTest, ReachesTheOptimum) {
  const DataSet& d = GetParam();
  const std::vector<double> x = sample(d.truth, 20000, 8);
  const double best = best_log_likelihood(d, x);
  const FitResult r = fit(x, options(static_cast<int>(d.truth.k()), Method::Squarem));
  EXPECT_EQ(r.status, FitStatus::Converged) << r.status_detail;
  test::ToleranceCheck ll(0.0, 1e-9);
  ll.add("LL", r.log_likelihood, best);
  EXPECT_TRUE(ll.result());
  EXPECT_EQ(std::string(to_string(r.method)), "squarem");
}

INSTANTIATE_TEST_SUITE_P(DataSets, SquaremTest, ::testing::ValuesIn(kDataSets),
                         [](const auto& info) { return std::string(info.param.name); });

// Where the components overlap, EM's convergence is linear with a rate near 1; SQUAREM needs
// several times fewer passes to the same stopping rule (7x on this data set; at least 4x
// asserted, so that the test fails if the extrapolation stops being used, not on tuning).
TEST(SquaremSpeedTest, FarFewerPassesThanEmWhereComponentsOverlap) {
  const DataSet& d = kDataSets[1];
  const std::vector<double> x = sample(d.truth, 20000, 8);
  const FitResult em = fit(x, options(3, Method::EM));
  const FitResult sq = fit(x, options(3, Method::Squarem));
  ASSERT_EQ(em.status, FitStatus::Converged) << em.status_detail;
  ASSERT_EQ(sq.status, FitStatus::Converged) << sq.status_detail;
  EXPECT_LE(4 * (sq.iterations + 1), em.iterations + 1)
      << "EM " << em.iterations << " passes, SQUAREM " << sq.iterations;
}

// Several starts in one pass each run their own SQUAREM cycle: the best of 8 starts reaches
// the optimum, and every start's final LL is one of a fit from that start alone.
TEST(SquaremRestartsTest, EachStartRunsItsOwnCycle) {
  const DataSet& d = kDataSets[1];
  const std::vector<double> x = sample(d.truth, 20000, 8);
  FitOptions o = options(3, Method::Squarem);
  o.restarts = 8;
  o.seed = 5;
  const FitResult together = fit(x, o);
  test::ToleranceCheck ll(0.0, 1e-9);
  ll.add("best LL", together.log_likelihood, best_log_likelihood(d, x));
  EXPECT_TRUE(ll.result());
  ASSERT_EQ(together.start_log_likelihoods.size(), 8u);
  // Start 0 is the quantile start: alone, it follows the same path bit for bit.
  const FitResult alone = fit(x, options(3, Method::Squarem));
  EXPECT_EQ(together.start_log_likelihoods[0], alone.log_likelihood);
}

}  // namespace
}  // namespace betamix
