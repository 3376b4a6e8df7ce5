// The GPU pass against the CPU pass: the same data and constants on both backends give the
// same statistics within the float32 error budget below, for awkward sizes, K = 1..16 (and the
// runtime-k kernel above 16), both device layouts, case weights and several starts per pass;
// and repeated GPU passes are bit-identical.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "support/pass_cases.hpp"
#include "support/pass_tolerance.hpp"
#include "support/scoped_env.hpp"

namespace betamix {
namespace {

using test::constants_for;
using test::expect_close;
using test::moved;
using test::test_data;
using test::test_params;
using test::test_weights;

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

// Weights that float32 could not hold (2^1000 times the usual: above its 3.4e38) or would
// flush to 0 (2^-1000 times) match the CPU's double pass: the backend scales them by a power
// of two before rounding (detail::float_weight_scale) and the sums back. Powers of two keep
// the weights float-exact after scaling, so the total weights agree exactly too.
TEST(CudaPassWeights, WeightsBeyondFloatRangeMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const double scale : {0x1p1000, 0x1p-1000}) {
    for (const bool float_exact : {true, false}) {
      SCOPED_TRACE("scale 2^" + std::to_string(std::ilogb(scale)) +
                   (float_exact ? ", x" : ", log pair"));
      const std::vector<double> x = test_data(5, 100003, float_exact);
      std::vector<double> w = test_weights(x.size());
      for (double& v : w) v *= scale;
      compare(x, w.data(), constants_for(5, 2));
    }
  }
}

// Several passes of each thread's grid-stride loop (n = 3e6 is a few waves of the grid on an
// H100 or H200) with case weights, several starts per block and the runtime-k kernel, both
// layouts: the configurations the n = 10^7 cases above run without weights and with one start.
TEST(CudaPassGridStride, WeightedStartsAndLargeKMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::size_t n = 3000017;
  for (const auto& [k, starts, float_exact] :
       {std::tuple{2, 3, true}, std::tuple{4, 2, false}, std::tuple{7, 1, false},
        std::tuple{20, 2, false}, std::tuple{20, 1, true}}) {
    SCOPED_TRACE("k = " + std::to_string(k) + ", starts = " + std::to_string(starts) +
                 (float_exact ? ", x" : ", log pair"));
    const std::vector<double> x = test_data(k, n, float_exact);
    const std::vector<double> w = test_weights(n);
    compare(x, w.data(), constants_for(k, starts));
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
    // Same grid, same per-thread order: equal where both kernels compile the per-start code
    // alike. Where the compiler fuses multiply-adds differently, a sample's terms move by about
    // a float32 ulp (6e-8 relative), so the totals by at most ~1e-7 of the sum of their
    // magnitudes (for LL, whose terms cancel, sum_i |L_i| as in expect_close): ten times
    // tighter than the CPU comparison, and far looser than any real indexing mistake.
    const double ll_scale = test::scales(x, nullptr, one, 0).ll_magnitude;
    EXPECT_NEAR(alone.ll[0], together.ll[r], 1e-7 * ll_scale) << "start " << r;
    for (int j = 0; j < k; ++j) {
      EXPECT_NEAR(alone.n[j], together.n[r * k + j], 1e-7 * alone.n[j]) << "start " << r;
      EXPECT_NEAR(alone.s[j], together.s[r * k + j], 1e-7 * std::abs(alone.s[j])) << "start " << r;
      EXPECT_NEAR(alone.t[j], together.t[r * k + j], 1e-7 * std::abs(alone.t[j])) << "start " << r;
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
      EXPECT_TRUE(test::same_bits(first, again)) << "pass " << rep + 2;
    }
    // A second backend over the same data (a fresh load) gives the same bits as well.
    auto other = detail::make_cuda_backend();
    other->load(x.data(), w.data(), x.size());
    detail::PassStats fresh;
    other->pass(c, fresh);
    EXPECT_TRUE(test::same_bits(first, fresh));
  }
}

// The pass replayed from a captured CUDA graph gives the bits of the pass issued call by call
// (BETAMIX_CUDA_GRAPHS=0), through changes of the number of starts and of k (each a new
// capture), a return to an earlier shape, and a reload of other data. And graphs do run: a new
// shape runs call by call once, is captured and launched on its second pass and replayed after;
// the ten passes of the five shapes below are per data set 6 graph launches (shape 1: 1, its
// repeat: 2, the next three: 1 each), 12 in all. A capture that failed on this device would
// give the same bits call by call and show here as fewer launches.
TEST(CudaPassGraph, ReplaysGiveTheBitsOfSeparateCalls) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const test::ScopedEnv graphs("BETAMIX_CUDA_GRAPHS", "0");
  auto plain = detail::make_cuda_backend();
  graphs.set(nullptr);
  auto graphed = detail::make_cuda_backend();
  const std::uint64_t launches_before = detail::CudaGraph::launch_count();
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
      EXPECT_TRUE(test::same_bits(a, b));
      // New constants in the same shape: the replay reads the pinned buffer afresh.
      detail::PassConstants moved_c = c;
      for (double& v : moved_c.c) v -= 0.01;
      plain->pass(moved_c, a);
      graphed->pass(moved_c, b);
      EXPECT_TRUE(test::same_bits(a, b));
    }
  }
  EXPECT_EQ(detail::CudaGraph::launch_count() - launches_before, std::uint64_t{12})
      << "graph launches of the pass";
}

}  // namespace
}  // namespace betamix
