// The CPU backend's pass (N_k, S_k, T_k, LL) against the naive long-double reference
// test::ref_stats, at awkward sizes, for the unrolled K (1, 2) and the staged path (K = 5, 16, 17
// and 250, where sum log s is taken in groups of fewer than a block's samples),
// with and without case weights; and its determinism: the thread count and the grouping of
// starts into one pass change no bit of the result.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

// Per-sample terms carry a relative error of at most ~30 eps times the magnitude of the
// log-density terms (<= ~100 for these shapes), ~7e-13 in the worst case and ~1e-15 in
// practice; the pass sums <= 1e5 of them in double, whose rounding grows like sqrt(n) eps. So
// 1e-12 relative is ~100x what is seen, and still catches a dropped sample (1e-5 at n = 1e5), a
// float accumulator (1e-7) or a wrong chunk boundary. N, S and T are sums of same-signed terms;
// LL's terms may cancel, so its tolerance is 1e-12 of sum_i v_i |L_i| (an absolute bound).
constexpr double kRtol = 1e-12;
// At K = 250 some components lie so far from some samples that their exps underflow: the pass
// takes exp(x) below x = -708 as e^-708 (3.3e-308, host/cpu_pass.cpp), so N, S and T below
// ~1e-300 are round-off, far under anything the fit reads (a component is dead below 1e-9 of
// the data). Larger values keep the relative tolerance.
constexpr double kAtol = 1e-290;

const int kSizes[] = {1, 7, 257, 100003};

MixtureParams truth_for(int k) {
  switch (k) {
    case 1:
      return {{1.0}, {2.5}, {6.0}};
    case 2:
      return {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
    case 5:
      return {{0.1, 0.15, 0.2, 0.25, 0.3}, {0.7, 3.0, 8.0, 12.0, 20.0}, {5.0, 9.0, 8.0, 4.0, 1.2}};
    default: {
      MixtureParams p;
      for (int j = 0; j < k; ++j) {
        p.weights.push_back(1.0 + j % 3);
        p.alpha.push_back(0.5 + j);
        p.beta.push_back(k + 0.5 - j);
      }
      return p.normalized();
    }
  }
}

// The parameters the pass is evaluated at: near the truth but not at it, one set per start.
MixtureParams evaluated_at(const MixtureParams& truth, int start) {
  MixtureParams p = truth;
  for (std::size_t j = 0; j < p.k(); ++j) {
    p.alpha[j] *= 1.0 + 0.1 * (start + 1) * (j % 2 ? 1 : -1);
    p.beta[j] *= 1.0 + 0.05 * (start + 1);
    p.weights[j] *= 1.0 + 0.2 * ((j + start) % 3);
  }
  return p.normalized();
}

// Case weights in [0, 2), from a fixed-seed std::mt19937_64 (its output is specified exactly).
std::vector<double> case_weights(std::size_t n) {
  std::mt19937_64 gen(12345);
  std::vector<double> v(n);
  for (double& w : v) w = 2.0 * static_cast<double>(gen() >> 11) * 0x1.0p-53;
  return v;
}

detail::PassStats run_pass(detail::Backend& backend, const std::vector<MixtureParams>& starts) {
  detail::PassConstants c;
  c.resize(static_cast<int>(starts.size()), static_cast<int>(starts[0].k()));
  for (std::size_t r = 0; r < starts.size(); ++r) c.set(static_cast<int>(r), starts[r]);
  detail::PassStats stats;
  backend.pass(c, stats);
  return stats;
}

// Adds the statistics of start `r` of `got` against the reference to `check`.
void add_stats(test::ToleranceCheck& check, const std::string& where, const detail::PassStats& got,
               int r, const test::RefStats& ref) {
  const int k = got.k;
  for (int j = 0; j < k; ++j) {
    const std::string c = where + " k=" + std::to_string(j);
    check.add(c + " N", got.n[r * k + j], ref.n[j]);
    check.add(c + " S", got.s[r * k + j], ref.s[j]);
    check.add(c + " T", got.t[r * k + j], ref.t[j]);
  }
  check.add(where + " LL", got.ll[r], ref.ll, kRtol * ref.ll_abs, 0.0);
}

class PassTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(PassTest, MatchesReference) {
  const auto [k, weighted] = GetParam();
  const MixtureParams truth = truth_for(k);
  constexpr int kStarts = 3;
  test::ToleranceCheck check(kAtol, kRtol);
  for (const int n : kSizes) {
    const std::vector<double> x = sample(truth, n, 1000 + n);
    const std::vector<double> v = case_weights(n);
    const double* w = weighted ? v.data() : nullptr;
    auto backend = detail::make_cpu_backend(2);
    backend->load(x.data(), w, x.size());
    ASSERT_EQ(backend->size(), static_cast<std::size_t>(n));
    double total = 0.0;
    for (int i = 0; i < n; ++i) total += w ? w[i] : 1.0;
    EXPECT_DOUBLE_EQ(backend->total_weight(), total);

    std::vector<MixtureParams> starts;
    for (int r = 0; r < kStarts; ++r) starts.push_back(evaluated_at(truth, r));
    const detail::PassStats all = run_pass(*backend, starts);
    ASSERT_EQ(all.starts, kStarts);
    ASSERT_EQ(all.k, k);
    for (int r = 0; r < kStarts; ++r) {
      const std::string where = "n=" + std::to_string(n) + " start=" + std::to_string(r);
      add_stats(check, where, all, r, test::ref_stats(starts[r], x, w));
      // A start evaluated alone: the CPU pass runs each start through the same per-chunk code
      // in the same order, so sharing a pass must not change a bit.
      const detail::PassStats alone = run_pass(*backend, {starts[r]});
      for (int j = 0; j < k; ++j) {
        EXPECT_EQ(alone.n[j], all.n[r * k + j]) << where << " k=" << j;
        EXPECT_EQ(alone.s[j], all.s[r * k + j]) << where << " k=" << j;
        EXPECT_EQ(alone.t[j], all.t[r * k + j]) << where << " k=" << j;
      }
      EXPECT_EQ(alone.ll[0], all.ll[r]) << where;
    }
  }
  EXPECT_TRUE(check.result());
}

// Chunks are summed in chunk order whatever thread ran them: 1 and 2 threads must agree to the
// bit, and so must a pass that holds the partials of only two chunks at a time (one per
// thread: its waves). n = 100003 spans seven chunks.
TEST_P(PassTest, ThreadCountDoesNotChangeABit) {
  const auto [k, weighted] = GetParam();
  const MixtureParams truth = truth_for(k);
  const std::size_t n = 100003;
  const std::vector<double> x = sample(truth, n, 77);
  const std::vector<double> v = case_weights(n);
  const double* w = weighted ? v.data() : nullptr;
  auto one = detail::make_cpu_backend(1), two = detail::make_cpu_backend(2);
  one->load(x.data(), w, n);
  two->load(x.data(), w, n);
  const std::vector<MixtureParams> starts = {evaluated_at(truth, 0), evaluated_at(truth, 1)};
  auto waves = detail::make_cpu_backend(2, /*partial_bytes=*/1);
  waves->load(x.data(), w, n);
  const detail::PassStats a = run_pass(*one, starts), b = run_pass(*two, starts);
  const detail::PassStats c = run_pass(*waves, starts);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.s, b.s);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.ll, b.ll);
  EXPECT_EQ(c.n, b.n);
  EXPECT_EQ(c.s, b.s);
  EXPECT_EQ(c.t, b.t);
  EXPECT_EQ(c.ll, b.ll);
}

INSTANTIATE_TEST_SUITE_P(KAndWeights, PassTest,
                         ::testing::Combine(::testing::Values(1, 2, 5, 16, 17, 250),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return "K" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "Weighted" : "Unweighted");
                         });

}  // namespace
}  // namespace betamix
