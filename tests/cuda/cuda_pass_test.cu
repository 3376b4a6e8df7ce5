// The GPU pass against the CPU pass: the same data and constants on both backends give the
// same statistics within the float32 error budget below, for awkward sizes, K = 1..16 (and the
// runtime-k kernel above 16), both device layouts, case weights and several starts per pass;
// and repeated GPU passes are bit-identical.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "data_layout.cuh"
#include "support/pass_cases.hpp"

namespace betamix {
namespace {

using test::constants_for;
using test::moved;
using test::test_data;
using test::test_params;
using test::test_weights;

// Tolerance of one statistic, atol + rtol * M:
//  - M = sum_i |term_i|: |reference| for N, S and T (terms of one sign), sum_i v_i |L_i| for LL
//    (whose terms cancel). rtol = 1e-6 covers the systematic float32 error: the constants
//    c_k, a_k - 1, b_k - 1 rounded to float32 shift every sample's log-density the same way,
//    by up to ~|c_k| 2^-24 ~ 6e-7 for these shapes.
//  - atol = 1e-6 sqrt(sum_i (v_i s_i)^2), s_i = 1 for N and LL, |log x_i| for S, |log(1-x_i)|
//    for T: each sample's float32 log-density is off by up to ~1e-6 (sums of terms of
//    magnitude ~10 at 2^-24), independently across samples, so the error of a sum grows like
//    the root of the sum of squares. It dominates for small n and for components with N_k ~ 0.
// A float32 emulation of the kernel on the CPU stays below 0.13 of these tolerances for every
// case in this file.
struct Scales {
  double ll_magnitude = 0.0, q1 = 0.0, qs = 0.0, qt = 0.0;
};

Scales scales(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
              int start) {
  const int k = c.k;
  const std::size_t off = static_cast<std::size_t>(start) * k;
  const math::ComponentView<double> comp{c.am1.data() + off, c.bm1.data() + off, c.c.data() + off};
  std::vector<double> r(k);
  Scales s;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]), l1x = std::log1p(-x[i]), w = v ? v[i] : 1.0;
    s.ll_magnitude += w * std::abs(math::mixture_responsibilities(lx, l1x, comp, k, r.data()));
    s.q1 += w * w;
    s.qs += w * w * lx * lx;
    s.qt += w * w * l1x * l1x;
  }
  return s;
}

void expect_close(const std::vector<double>& x, const double* v, const detail::PassConstants& c,
                  const detail::PassStats& gpu, const detail::PassStats& cpu) {
  constexpr double kRtol = 1e-6, kAtol = 1e-6;
  ASSERT_EQ(gpu.starts, cpu.starts);
  ASSERT_EQ(gpu.k, cpu.k);
  const int k = cpu.k;
  double worst = 0.0;
  std::string where;
  auto check = [&](const char* name, int r, int j, double got, double ref, double magnitude,
                   double q) {
    const double tol = kAtol * std::sqrt(q) + kRtol * magnitude;
    const double ratio = std::abs(got - ref) / tol;
    if (!(ratio <= worst)) {
      worst = ratio;
      where = std::string(name) + "[start " + std::to_string(r) + "][" + std::to_string(j) +
              "]: gpu " + std::to_string(got) + " cpu " + std::to_string(ref) + " tol " +
              std::to_string(tol);
    }
  };
  for (int r = 0; r < cpu.starts; ++r) {
    const Scales s = scales(x, v, c, r);
    check("LL", r, 0, gpu.ll[r], cpu.ll[r], s.ll_magnitude, s.q1);
    for (int j = 0; j < k; ++j) {
      const std::size_t i = static_cast<std::size_t>(r) * k + j;
      check("N", r, j, gpu.n[i], cpu.n[i], std::abs(cpu.n[i]), s.q1);
      check("S", r, j, gpu.s[i], cpu.s[i], std::abs(cpu.s[i]), s.qs);
      check("T", r, j, gpu.t[i], cpu.t[i], std::abs(cpu.t[i]), s.qt);
    }
  }
  EXPECT_LE(worst, 1.0) << "worst (error / tolerance) at " << where;
}

// Runs the same pass on both backends.
void compare(const std::vector<double>& x, const double* v, const detail::PassConstants& c) {
  auto cpu = detail::make_cpu_backend(0);
  auto gpu = detail::make_cuda_backend();
  cpu->load(x.data(), v, x.size());
  gpu->load(x.data(), v, x.size());
  EXPECT_EQ(gpu->size(), x.size());
  EXPECT_EQ(gpu->total_weight(), cpu->total_weight());
  detail::PassStats cs, gs;
  cpu->pass(c, cs);
  gpu->pass(c, gs);
  expect_close(x, v, c, gs, cs);
}

class CudaPass : public ::testing::TestWithParam<test::PassCase> {};

TEST_P(CudaPass, MatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const auto [n, k, float_exact] = GetParam();
  const std::vector<double> x = test_data(k, n, float_exact);
  ASSERT_EQ(detail::choose_data_layout(x.data(), n),
            float_exact ? detail::DataLayout::X : detail::DataLayout::LogPair);
  compare(x, nullptr, constants_for(k, 1));
}

INSTANTIATE_TEST_SUITE_P(Sizes, CudaPass,
                         ::testing::Combine(::testing::Values(std::size_t{1}, std::size_t{7},
                                                              std::size_t{257}, std::size_t{100003},
                                                              std::size_t{10000000}),
                                            ::testing::Values(1, 2, 5, 16), ::testing::Bool()),
                         [](const auto& info) { return test::case_name(info.param); });

TEST(CudaPassWeights, MatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const bool float_exact : {true, false}) {
    for (const std::size_t n : {std::size_t{7}, std::size_t{100003}}) {
      SCOPED_TRACE("n = " + std::to_string(n) + (float_exact ? ", x" : ", log pair"));
      const std::vector<double> x = test_data(5, n, float_exact);
      const std::vector<double> w = test_weights(n);
      compare(x, w.data(), constants_for(5, 1));
    }
  }
}

TEST(CudaPassStarts, SeveralStartsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // Start counts around the per-block start tiles (7, 4, 2 and 1 starts for k = 1, 2, 4, 7).
  for (const int k : {1, 2, 4, 7}) {
    for (const int starts : {2, 3, 9, 64}) {
      SCOPED_TRACE("k = " + std::to_string(k) + ", starts = " + std::to_string(starts));
      const std::vector<double> x = test_data(k, 100003, k % 2 == 0);
      compare(x, nullptr, constants_for(k, starts));
    }
  }
}

TEST(CudaPassStarts, EachStartEqualsItsSingleStartPass) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const int k = 2, starts = 5;
  const std::vector<double> x = test_data(k, 100003, true);
  auto gpu = detail::make_cuda_backend();
  gpu->load(x.data(), nullptr, x.size());
  const detail::PassConstants all = constants_for(k, starts);
  detail::PassStats together;
  gpu->pass(all, together);
  for (int r = 0; r < starts; ++r) {
    detail::PassConstants one;
    one.resize(1, k);
    one.set(0, moved(test_params(k), r));
    detail::PassStats alone;
    gpu->pass(one, alone);
    // Same grid, same per-thread order: equal up to the compiler's choices between the two
    // kernels, which may differ in fused multiply-adds; 1e-12 is far below any float error.
    EXPECT_NEAR(alone.ll[0], together.ll[r], 1e-12 * std::abs(alone.ll[0])) << "start " << r;
    for (int j = 0; j < k; ++j) {
      EXPECT_NEAR(alone.n[j], together.n[r * k + j], 1e-12 * alone.n[j]) << "start " << r;
    }
  }
}

TEST(CudaPassLargeK, RuntimeKernelMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const int k : {17, 40, 64}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const std::vector<double> x = test_data(k, 100003, true);
    compare(x, nullptr, constants_for(k, 2));
  }
}

TEST(CudaPassLargeK, AboveTheLimitIsADeviceError) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = test_data(2, 1000, true);
  auto gpu = detail::make_cuda_backend();
  gpu->load(x.data(), nullptr, x.size());
  detail::PassConstants c;
  c.resize(1, 65);
  c.set(0, test_params(65));
  detail::PassStats out;
  try {
    gpu->pass(c, out);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("k = 65"), std::string::npos) << e.what();
  }
}

TEST(CudaPassDeterminism, RepeatedPassesAreBitIdentical) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const bool float_exact : {true, false}) {
    const std::vector<double> x = test_data(5, 1000003, float_exact);
    const std::vector<double> w = test_weights(x.size());
    const detail::PassConstants c = constants_for(5, 3);
    auto gpu = detail::make_cuda_backend();
    gpu->load(x.data(), w.data(), x.size());
    detail::PassStats first;
    gpu->pass(c, first);
    for (int rep = 0; rep < 5; ++rep) {
      detail::PassStats again;
      gpu->pass(c, again);
      EXPECT_EQ(std::memcmp(first.n.data(), again.n.data(), first.n.size() * sizeof(double)), 0);
      EXPECT_EQ(std::memcmp(first.s.data(), again.s.data(), first.s.size() * sizeof(double)), 0);
      EXPECT_EQ(std::memcmp(first.t.data(), again.t.data(), first.t.size() * sizeof(double)), 0);
      EXPECT_EQ(std::memcmp(first.ll.data(), again.ll.data(), first.ll.size() * sizeof(double)), 0);
    }
    // A second backend over the same data (a fresh load) gives the same bits as well.
    auto other = detail::make_cuda_backend();
    other->load(x.data(), w.data(), x.size());
    detail::PassStats fresh;
    other->pass(c, fresh);
    EXPECT_EQ(std::memcmp(first.ll.data(), fresh.ll.data(), first.ll.size() * sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(first.n.data(), fresh.n.data(), first.n.size() * sizeof(double)), 0);
  }
}

// The pass replayed from a captured CUDA graph gives the bits of the pass issued call by call
// (BETAMIX_CUDA_GRAPHS=0), through changes of the number of starts and of k (each a new
// capture), a return to an earlier shape, and a reload of other data.
TEST(CudaPassGraph, ReplaysGiveTheBitsOfSeparateCalls) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  ASSERT_EQ(setenv("BETAMIX_CUDA_GRAPHS", "0", 1), 0);
  auto plain = detail::make_cuda_backend();
  ASSERT_EQ(unsetenv("BETAMIX_CUDA_GRAPHS"), 0);
  auto graphed = detail::make_cuda_backend();
  const auto same = [](const detail::PassStats& a, const detail::PassStats& b) {
    return a.ll.size() == b.ll.size() && a.n.size() == b.n.size() &&
           std::memcmp(a.n.data(), b.n.data(), a.n.size() * sizeof(double)) == 0 &&
           std::memcmp(a.s.data(), b.s.data(), a.s.size() * sizeof(double)) == 0 &&
           std::memcmp(a.t.data(), b.t.data(), a.t.size() * sizeof(double)) == 0 &&
           std::memcmp(a.ll.data(), b.ll.data(), a.ll.size() * sizeof(double)) == 0;
  };
  for (const std::size_t n : {std::size_t{100003}, std::size_t{257}}) {
    const std::vector<double> x = test_data(5, n, true);
    plain->load(x.data(), nullptr, n);
    graphed->load(x.data(), nullptr, n);
    const std::vector<std::pair<int, int>> shapes = {{2, 1}, {2, 1}, {2, 3}, {5, 1}, {2, 1}};
    for (const auto& [k, starts] : shapes) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", k = " + std::to_string(k) +
                   ", starts = " + std::to_string(starts));
      const detail::PassConstants c = constants_for(k, starts);
      detail::PassStats a, b;
      plain->pass(c, a);
      graphed->pass(c, b);
      EXPECT_TRUE(same(a, b));
      // New constants in the same shape: the replay reads the pinned buffer afresh.
      detail::PassConstants moved_c = c;
      for (double& v : moved_c.c) v -= 0.01;
      plain->pass(moved_c, a);
      graphed->pass(moved_c, b);
      EXPECT_TRUE(same(a, b));
    }
  }
}

}  // namespace
}  // namespace betamix
