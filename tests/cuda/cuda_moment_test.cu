// The GPU moment pass (standard errors) and the GPU posteriors (`predict`) against the CPU
// backend: the same data and parameters on both give the same moment sums, standard errors
// and posteriors within the budgets below, for awkward sizes, K = 1..64, both device layouts
// and case weights; and repeated GPU moment passes are bit-identical.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "betamix/math/moments.hpp"
#include "data_layout.cuh"
#include "support/pass_cases.hpp"
#include "support/worst.hpp"

namespace betamix {
namespace {

using test::constants_for;
using test::test_data;
using test::test_params;
using test::test_weights;

// Relative tolerance of a moment sum, of a posterior, by layout. Both backends compute every
// per-sample term in double, so:
//  - X (float32 x, here float-exact data): both start from the same x; the terms differ by a
//    few ulps (exp and log of two libraries, 1e-15) and the sums by their order of addition.
//    1e-12 leaves three orders of magnitude for that.
//  - LogPair: the device holds float32 log x and log(1-x), each within 2^-24 |log| of the
//    host's. That moves a log-density by up to |a-1| |dlx| + |b-1| |dl1x| <= 6 * 6e-8 * 27
//    ~ 1e-5 for the samples within 3e-12 of 1 (log(1-x) ~ -27), and a responsibility by up to
//    twice that, relatively; ~2e-6 for ordinary samples. 2e-5 bounds every term, hence every
//    sum of one-signed terms.
double layout_rtol(bool float_exact) { return float_exact ? 1e-12 : 2e-5; }

// sum_i v_i |log p(x_i)|: the magnitude of the terms of LL, whose signs differ.
double ll_magnitude(const std::vector<double>& x, const double* v, const detail::PassConstants& c) {
  const math::ComponentView<double> comp{c.am1.data(), c.bm1.data(), c.c.data()};
  std::vector<double> r(c.k);
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lp =
        math::mixture_responsibilities(std::log(x[i]), std::log1p(-x[i]), comp, c.k, r.data());
    sum += (v ? v[i] : 1.0) * std::abs(lp);
  }
  return sum;
}

// Moment sums of both backends; every sum but LL has terms of one sign (r >= 0, v >= 0,
// log x < 0, log(1-x) < 0), so |reference| is the magnitude of its terms.
void compare_moments(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
                     bool float_exact) {
  auto cpu = detail::make_cpu_backend(0);
  auto gpu = detail::make_cuda_backend();
  cpu->load(x.data(), v, x.size());
  gpu->load(x.data(), v, x.size());
  detail::MomentStats cm, gm;
  cpu->moment_pass(c, cm);
  gpu->moment_pass(c, gm);
  ASSERT_EQ(gm.k, c.k);
  const double rtol = layout_rtol(float_exact);
  double worst = 0.0;
  std::string where;
  auto check = [&](const std::string& name, double got, double ref, double magnitude) {
    // The floor of 1e-300 keeps sums that are exactly 0 on both sides (empty tails) exact.
    const double ratio = std::abs(got - ref) / (rtol * magnitude + 1e-300);
    if (test::is_worse(ratio, worst)) {
      worst = ratio;
      where = name + ": gpu " + std::to_string(got) + " cpu " + std::to_string(ref);
    }
  };
  check("LL", gm.ll, cm.ll, ll_magnitude(x, v, c));
  for (std::size_t i = 0; i < cm.single.size(); ++i) {
    check("single[" + std::to_string(i) + "]", gm.single[i], cm.single[i], std::abs(cm.single[i]));
  }
  for (std::size_t i = 0; i < cm.pair.size(); ++i) {
    check("pair[" + std::to_string(i) + "]", gm.pair[i], cm.pair[i], std::abs(cm.pair[i]));
  }
  EXPECT_LE(worst, 1.0) << "worst (error / tolerance) at " << where;
}

class CudaMoments : public ::testing::TestWithParam<test::PassCase> {};

TEST_P(CudaMoments, MatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const auto [n, k, float_exact] = GetParam();
  const std::vector<double> x = test_data(k, n, float_exact);
  compare_moments(x, nullptr, constants_for(k, 1), float_exact);
}

// Awkward sizes, K from 1 to the GPU limit of 64, both device layouts.
const auto kCases = ::testing::Combine(
    ::testing::Values(std::size_t{1}, std::size_t{7}, std::size_t{257}, std::size_t{100003}),
    ::testing::Values(1, 2, 5, 16, 64), ::testing::Bool());

INSTANTIATE_TEST_SUITE_P(Sizes, CudaMoments, kCases,
                         [](const auto& info) { return test::case_name(info.param); });

TEST(CudaMomentWeights, MatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const bool float_exact : {true, false}) {
    SCOPED_TRACE(float_exact ? "x" : "log pair");
    const std::vector<double> x = test_data(3, 100003, float_exact);
    const std::vector<double> w = test_weights(x.size());
    compare_moments(x, w.data(), constants_for(3, 1), float_exact);
  }
}

TEST(CudaMomentDeterminism, RepeatedPassesAreBitIdentical) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = test_data(4, 1000003, true);
  const detail::PassConstants c = constants_for(4, 1);
  auto gpu = detail::make_cuda_backend();
  gpu->load(x.data(), nullptr, x.size());
  detail::MomentStats first, again;
  gpu->moment_pass(c, first);
  gpu->moment_pass(c, again);
  EXPECT_EQ(
      std::memcmp(first.single.data(), again.single.data(), first.single.size() * sizeof(double)),
      0);
  EXPECT_EQ(std::memcmp(first.pair.data(), again.pair.data(), first.pair.size() * sizeof(double)),
            0);
  EXPECT_EQ(first.ll, again.ll);
}

// The standard errors of one estimate from a GPU and a CPU moment pass. On float-exact data the
// sums agree to ~1e-12 relative; the inverse of the information (condition number below 1e6
// for this well-separated mixture) keeps that below 1e-6.
TEST(CudaStandardErrors, MatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams p = test_params(3);
  const std::vector<double> x = test_data(3, 100003, true);
  const std::vector<double> w = test_weights(x.size());
  for (const double* v : {static_cast<const double*>(nullptr), w.data()}) {
    const StandardErrors cpu = standard_errors(p, x.data(), x.size(), v, Device::Cpu);
    const StandardErrors gpu = standard_errors(p, x.data(), x.size(), v, Device::Cuda);
    ASSERT_TRUE(cpu.available) << cpu.reason;
    ASSERT_TRUE(gpu.available) << gpu.reason;
    EXPECT_EQ(gpu.device, "cuda");
    for (std::size_t j = 0; j < p.k(); ++j) {
      EXPECT_NEAR(gpu.se.alpha[j], cpu.se.alpha[j], 1e-6 * cpu.se.alpha[j]) << j;
      EXPECT_NEAR(gpu.se.beta[j], cpu.se.beta[j], 1e-6 * cpu.se.beta[j]) << j;
      EXPECT_NEAR(gpu.se.weights[j], cpu.se.weights[j], 1e-6 * cpu.se.weights[j]) << j;
    }
    // The score S_k - N_k A_k cancels to ~sqrt(n) of its terms' n: still ~1e-9 relative.
    EXPECT_NEAR(gpu.distance_to_maximum, cpu.distance_to_maximum, 1e-6 * cpu.distance_to_maximum);
    EXPECT_EQ(gpu.note.empty(), cpu.note.empty());
  }
}

// A fit on the GPU computes its standard errors there.
TEST(CudaStandardErrors, FitOnTheGpuUsesTheGpuMomentPass) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = sample(test_params(2), 100003, 3, Device::Cpu);
  FitOptions o;
  o.k = 2;
  o.device = Device::Cuda;
  const FitResult r = fit(x, o);
  ASSERT_TRUE(r.se.has_value());
  EXPECT_TRUE(r.se->available) << r.se->reason;
  EXPECT_EQ(r.se->device, "cuda");
}

// Posteriors on both backends, within the layout's tolerance (absolute on values <= 1: a
// relative error of the log-density moves a posterior by at most that much times it), and the
// same most likely component wherever the top two posteriors are not within it of each other.
class CudaPosteriors : public ::testing::TestWithParam<test::PassCase> {};

TEST_P(CudaPosteriors, MatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const auto [n, k, float_exact] = GetParam();
  const MixtureParams p = test::moved(test_params(k), 0);
  const std::vector<double> x = test_data(k, n, float_exact);
  const std::vector<double> cpu = responsibilities(p, x, Device::Cpu);
  const std::vector<double> gpu = responsibilities(p, x, Device::Cuda);
  const std::vector<int> cpu_best = predict(p, x, Device::Cpu);
  const std::vector<int> gpu_best = predict(p, x, Device::Cuda);
  ASSERT_EQ(gpu.size(), cpu.size());
  ASSERT_EQ(gpu_best.size(), cpu_best.size());
  const double tol = layout_rtol(float_exact);
  double worst = 0.0;
  std::size_t worst_at = 0, mismatches = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const double err = std::abs(gpu[i] - cpu[i]);
    if (test::is_worse(err, worst)) {
      worst = err;
      worst_at = i;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double* row = &cpu[i * k];
    const double top = row[cpu_best[i]];
    bool tie = false;
    for (int j = 0; j < k; ++j) tie = tie || (j != cpu_best[i] && top - row[j] <= 2 * tol);
    if (!tie && gpu_best[i] != cpu_best[i]) ++mismatches;
  }
  EXPECT_LE(worst, tol) << "worst at sample " << worst_at / k << ", component " << worst_at % k
                        << ": gpu " << gpu[worst_at] << " cpu " << cpu[worst_at];
  EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, CudaPosteriors, kCases,
                         [](const auto& info) { return test::case_name(info.param); });

}  // namespace
}  // namespace betamix
