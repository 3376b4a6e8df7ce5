// The GPU pass's float32 math run on the CPU: kernels/pass.cu evaluates each sample with
// math::float_sample_logs and math::accumulate_float_group (betamix/math/float_pass.hpp) over
// groups of 4 samples into double accumulators, and the CUDA backend unpacks the totals with
// PassStats::assign_float_pass. This test runs those same functions on the host, in the
// kernel's grouping (one thread's order; the GPU's split of the groups over threads only
// reorders double additions), and holds the result to the GPU-versus-CPU tolerance of
// tests/cuda/cuda_pass_test.cu at the sizes and K that test uses, both layouts, case weights
// and a component of weight 0. It runs without a GPU. It is not bit for bit the device's
// arithmetic: nvcc contracts a * b + c into fused multiply-adds (the log-density, the
// weighted sums) where the host compiler may round twice, an ulp or so per operation, far
// inside the tolerance; the special functions with explicit fma give the same bits.

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/float_pass.hpp"
#include "support/float_emulation.hpp"
#include "support/pass_cases.hpp"
#include "support/pass_tolerance.hpp"

namespace betamix {
namespace {

using test::emulate_pass;
using test::FloatData;
using test::kCap;
using test::to_device_layout;

template <class Exp2>
void compare(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
             bool float_x, Exp2 exp2) {
  auto cpu = detail::make_cpu_backend(0);
  cpu->load(x.data(), v, x.size());
  detail::PassStats reference;
  cpu->pass(c, reference);
  const detail::PassStats got = emulate_pass(to_device_layout(x, float_x), v, c, exp2);
  test::expect_close(x, v, c, got, reference);
}

void compare(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
             bool float_x) {
  compare(x, v, c, float_x, math::FloatPassExp2::for_k(c.k));
}

class FloatPass : public ::testing::TestWithParam<test::PassCase> {};

TEST_P(FloatPass, MatchesTheDoublePass) {
  const auto [n, k, float_exact] = GetParam();
  compare(test::test_data(k, n, float_exact), nullptr, test::constants_for(k, 1), float_exact);
}

INSTANTIATE_TEST_SUITE_P(Sizes, FloatPass,
                         ::testing::Combine(::testing::Values(std::size_t{1}, std::size_t{7},
                                                              std::size_t{257},
                                                              std::size_t{100003}),
                                            ::testing::Values(1, 2, 5, 16), ::testing::Bool()),
                         [](const auto& info) { return test::case_name(info.param); });

// At the GPU test's largest size, where the tolerance's relative term dominates.
TEST(FloatPassLargeN, MatchesTheDoublePass) {
  for (const int k : {2, 16}) {
    for (const bool float_exact : {true, false}) {
      SCOPED_TRACE("k = " + std::to_string(k) + (float_exact ? ", x" : ", log pair"));
      compare(test::test_data(k, 10000000, float_exact), nullptr, test::constants_for(k, 1),
              float_exact);
    }
  }
}

// The runtime-k variant's math (k = 17 to 64, as tests/cuda/cuda_pass_test.cu's
// CudaPassLargeK), with two starts.
TEST(FloatPassLargeK, MatchesTheDoublePass) {
  for (const int k : {17, 40, 64}) {
    for (const bool float_exact : {true, false}) {
      SCOPED_TRACE("k = " + std::to_string(k) + (float_exact ? ", x" : ", log pair"));
      compare(test::test_data(k, 100003, float_exact), nullptr, test::constants_for(k, 2),
              float_exact);
    }
  }
}

// At k <= 2 the device's exponential is ex2.approx, within 2 ulp, not exact as here, and its
// errors need not average out over the samples. This runs those passes with every
// exponential off by the whole 2 ulp (relative 2^-22) in the same direction, each way, and
// holds them to the same tolerance, at a size where its relative term dominates. (Above
// k = 2 the pass takes the software exp2, whose bits the emulation reproduces; with the
// hardware's bias there the worst error / tolerance at k = 16 was 1.7.)
struct BiasedExp2 {
  float factor;
  float operator()(float d) const { return math::exp2_approx(d) * factor; }
};

TEST(FloatPassHardwareExp2, BiasedByTwoUlpStaysWithinTheTolerance) {
  const float up = 1.0f + std::ldexp(1.0f, -22), down = 1.0f - std::ldexp(1.0f, -22);
  constexpr int k = 2;  // k = 1 takes no exponential
  ASSERT_TRUE(math::FloatPassExp2::for_k(k).hardware);
  for (const bool float_exact : {true, false}) {
    const std::vector<double> x = test::test_data(k, 1000000, float_exact);
    const detail::PassConstants c = test::constants_for(k, 2);
    for (const float factor : {up, down}) {
      SCOPED_TRACE(std::string(float_exact ? "x" : "log pair") +
                   (factor > 1.0f ? ", exp2 high" : ", exp2 low"));
      compare(x, nullptr, c, float_exact, BiasedExp2{factor});
    }
  }
  EXPECT_TRUE(math::FloatPassExp2::for_k(1).hardware);
  EXPECT_FALSE(math::FloatPassExp2::for_k(3).hardware);
}

TEST(FloatPassWeights, MatchTheDoublePass) {
  for (const bool float_exact : {true, false}) {
    const std::vector<double> x = test::test_data(5, 100003, float_exact);
    const std::vector<double> w = test::test_weights(x.size());
    compare(x, w.data(), test::constants_for(5, 3), float_exact);
  }
}

// Weights beyond float32's range (2^1000 times the usual) or below it (2^-1000), scaled by a
// power of two as the CUDA backend does; the tolerance works in the scaled units, so it is
// finite and not 0 at either end: a statistic off by 1e-4 relative still fails it.
TEST(FloatPassWeights, BeyondFloatRangeMatchTheDoublePass) {
  const std::vector<double> x = test::test_data(5, 100003, true);
  const detail::PassConstants c = test::constants_for(5, 2);
  for (const double scale : {0x1p1000, 0x1p-1000}) {
    SCOPED_TRACE("scale 2^" + std::to_string(std::ilogb(scale)));
    std::vector<double> w = test::test_weights(x.size());
    for (double& v : w) v *= scale;
    compare(x, w.data(), c, true);
    auto cpu = detail::make_cpu_backend(0);
    cpu->load(x.data(), w.data(), x.size());
    detail::PassStats reference;
    cpu->pass(c, reference);
    for (const int which : {0, 1, 2, 3}) {
      detail::PassStats bad = reference;
      double& stat = which == 0   ? bad.ll[1]
                     : which == 1 ? bad.n[2]
                     : which == 2 ? bad.s[3]
                                  : bad.t[4];
      stat *= 1.0 + 1e-4;
      EXPECT_NONFATAL_FAILURE(test::expect_close(x, w.data(), c, bad, reference), "worst");
    }
  }
}

// A component of weight 0 has c = -inf: its N, S and T are exactly 0 and LL stays finite.
TEST(FloatPassZeroWeight, ComponentOfWeightZeroContributesNothing) {
  for (const int k : {2, 3}) {
    const std::vector<double> x = test::test_data(k, 10007, true);
    MixtureParams p = test::test_params(k);
    p.weights[0] = 0.0;
    detail::PassConstants c;
    c.resize(1, k);
    c.set(0, p.normalized());
    ASSERT_TRUE(std::isinf(c.c[0]));
    const detail::PassStats got = emulate_pass(to_device_layout(x, true), nullptr, c);
    EXPECT_TRUE(std::isfinite(got.ll[0])) << "k = " << k;
    EXPECT_EQ(got.n[0], 0.0);
    EXPECT_EQ(got.s[0], 0.0);
    EXPECT_EQ(got.t[0], 0.0);
    auto cpu = detail::make_cpu_backend(0);
    cpu->load(x.data(), nullptr, x.size());
    detail::PassStats reference;
    cpu->pass(c, reference);
    test::expect_close(x, nullptr, c, got, reference);
  }
}

// A NaN among the constants (a diverging fit's parameters) makes the group's LL NaN, whichever
// component holds it, with and without case weights: the totals never hide it as a finite LL.
TEST(FloatPassNonFinite, NaNConstantGivesNaNLogLikelihood) {
  const float lx[4] = {-1.5f, -0.2f, -3.0f, -0.7f}, l1x[4] = {-0.4f, -2.5f, -0.1f, -1.1f};
  const float ones[4] = {1.0f, 1.0f, 1.0f, 1.0f}, weights[4] = {0.5f, 2.0f, 1.0f, 3.0f};
  for (const int k : {1, 2, 3, 5}) {
    for (int bad = 0; bad < k; ++bad) {
      for (const bool weighted : {false, true}) {
        std::vector<float> am1(k, 1.0f), bm1(k, 2.0f), c(k, 3.0f);
        c[bad] = std::numeric_limits<float>::quiet_NaN();
        const math::ComponentView<float> comp{am1.data(), bm1.data(), c.data()};
        double acc[3 * kCap + 1] = {};
        if (weighted) {
          math::accumulate_float_group<kCap, false>(k, lx, l1x, weights, comp, acc);
        } else {
          math::accumulate_float_group<kCap, true>(k, lx, l1x, ones, comp, acc);
        }
        EXPECT_TRUE(std::isnan(acc[3 * k]))
            << "k = " << k << ", NaN in component " << bad << (weighted ? ", weighted" : "")
            << ": LL " << acc[3 * k];
      }
    }
  }
}

// The first-order correction of LL for the rounding of the constants to float32
// (PassStats::assign_float_pass). Without it every sample's log-density is shifted the same
// way, by ~|c_k| 2^-24, and at n = 100003, k = 1 or 2 the LL error is ~1e-5 sqrt(n); with it
// only the per-sample rounding is left, which averages out: under 1e-6 sqrt(n) here. The test
// allows 3e-6 sqrt(n), failing without the correction and passing with 4x to spare.
TEST(FloatPassCorrection, RemovesTheRoundingOfTheConstantsFromLL) {
  for (const int k : {1, 2}) {
    for (const bool float_exact : {true, false}) {
      const std::vector<double> x = test::test_data(k, 100003, float_exact);
      const detail::PassConstants c = test::constants_for(k, 1);
      auto cpu = detail::make_cpu_backend(0);
      cpu->load(x.data(), nullptr, x.size());
      detail::PassStats reference;
      cpu->pass(c, reference);
      const detail::PassStats got = emulate_pass(to_device_layout(x, float_exact), nullptr, c);
      EXPECT_NEAR(got.ll[0], reference.ll[0], 3e-6 * std::sqrt(static_cast<double>(x.size())))
          << "k = " << k << (float_exact ? ", x" : ", log pair");
    }
  }
}

// The comparison itself: a NaN statistic fails it wherever it sits, also when statistics
// after it are close (a NaN is the worst error, and no finite error replaces it).
TEST(PassTolerance, ANaNStatisticFailsTheComparison) {
  const std::vector<double> x = test::test_data(2, 1003, true);
  const detail::PassConstants c = test::constants_for(2, 1);
  auto cpu = detail::make_cpu_backend(0);
  cpu->load(x.data(), nullptr, x.size());
  detail::PassStats reference;
  cpu->pass(c, reference);
  test::expect_close(x, nullptr, c, reference, reference);  // itself: passes
  for (const int which : {0, 1, 2}) {
    detail::PassStats bad = reference;
    (which == 0   ? bad.ll[0]
     : which == 1 ? bad.n[0]
                  : bad.t[1]) = std::numeric_limits<double>::quiet_NaN();
    EXPECT_NONFATAL_FAILURE(test::expect_close(x, nullptr, c, bad, reference), "worst");
  }
}

}  // namespace
}  // namespace betamix
