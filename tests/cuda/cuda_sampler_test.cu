// The GPU sampler: the distribution (moments against the exact mixture moments, a one-sample
// Kolmogorov-Smirnov test against Boost's incomplete beta) at ordinary, tiny and large shapes;
// every value strictly inside (0,1); the same seed gives the same bytes; and the GPU draws the
// CPU's values for a seed (the same Philox words through the same math, so they agree up to
// the rounding of device vs host math and a rare accept/reject decision that flips with it).
//
// Cases and seeds are those of sampler_test.cpp (the CPU sampler): since the GPU reproduces
// the CPU's values, each fixed-seed statistic here is close to the CPU's.

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "support/reference.hpp"
#include "support/sampler_cases.hpp"

namespace betamix {
namespace {

using Case = test::SamplerCase;
using test::check_open_interval;
using test::kSamplerCases;
constexpr std::size_t kN = test::kSamplerN;

template <class Real>
std::vector<Real> draw(const MixtureParams& p, std::size_t n, std::uint64_t seed, Device device) {
  std::vector<Real> x(n);
  sample(p, n, seed, x.data(), device);
  return x;
}

// GPU and CPU values of one seed: at least 99.9% agree to `rtol` (device and host math
// differ by a few ulps per operation; log-space tiny shapes amplify that to ~1e-5 relative in
// float), and the two samples are indistinguishable by a two-sample KS test.
template <class Real>
void check_same_as_cpu(const std::vector<Real>& gpu, const std::vector<Real>& cpu, double rtol) {
  ASSERT_EQ(gpu.size(), cpu.size());
  std::size_t close = 0;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    close += std::abs(static_cast<double>(gpu[i]) - cpu[i]) <= rtol * std::abs(cpu[i]);
  }
  EXPECT_GE(static_cast<double>(close), 0.999 * gpu.size())
      << close << " of " << gpu.size() << " within " << rtol;
  const double d = test::ks_two_sample(std::vector<double>(gpu.begin(), gpu.end()),
                                       std::vector<double>(cpu.begin(), cpu.end()));
  const double n = static_cast<double>(gpu.size());
  EXPECT_GT(test::ks_p_value(d, n * n / (n + n)), 1e-4) << "two-sample KS D = " << d;
}

class CudaSampler : public ::testing::TestWithParam<Case> {};

TEST_P(CudaSampler, DoubleOutputMatchesDistributionAndCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Case& c = GetParam();
  const std::vector<double> x = draw<double>(c.p, kN, 2024, Device::Cuda);
  check_open_interval(x);
  test::check_moments(c.p, x);
  // Above 1 - 2^-30 the double grid is too coarse for tiny shapes (see sampler_test.cpp).
  const double d = test::ks_statistic_within(c.p, x, 0.0, 1.0 - 0x1.0p-30);
  EXPECT_GT(test::ks_p_value(d, static_cast<double>(kN)), 1e-4) << "KS D = " << d;
  check_same_as_cpu(x, draw<double>(c.p, kN, 2024, Device::Cpu), 1e-9);
}

TEST_P(CudaSampler, FloatOutputMatchesDistributionAndCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Case& c = GetParam();
  const std::vector<float> xf = draw<float>(c.p, kN, 2025, Device::Cuda);
  check_open_interval(xf);
  test::check_moments(c.p, xf);
  // float clamps below FLT_MIN and cannot resolve within ~2^-24 of 1 (see sampler_test.cpp).
  const std::vector<double> x(xf.begin(), xf.end());
  const double d = test::ks_statistic_within(c.p, x, 1e-37, 1.0 - 0x1.0p-20);
  EXPECT_GT(test::ks_p_value(d, static_cast<double>(kN)), 1e-4) << "KS D = " << d;
  check_same_as_cpu(xf, draw<float>(c.p, kN, 2025, Device::Cpu), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaSampler, ::testing::ValuesIn(kSamplerCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CudaSamplerBoundary, ExtremeShapesStayInside) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams p{{0.5, 0.5}, {1e-3, 5.0}, {5.0, 1e-3}};
  check_open_interval(draw<double>(p, 100003, 7, Device::Cuda));
  check_open_interval(draw<float>(p, 100003, 7, Device::Cuda));
}

TEST(CudaSamplerBoundary, LargeShapesKeepTheirSpread) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::check_large_shapes(Device::Cuda);
}

TEST(CudaSamplerBoundary, ValuesNearOneUseEveryNumber) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::check_values_near_one(Device::Cuda);
}

TEST(CudaSamplerBoundary, VanishingShapesGiveZeroOrOneNeverNaN) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::check_vanishing_shapes<float>(2e-38, 6e-38, Device::Cuda);
  test::check_vanishing_shapes<double>(3e-308, 9e-308, Device::Cuda);
}

template <class Real>
bool same_bytes(const std::vector<Real>& a, const std::vector<Real>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0;
}

TEST(CudaSamplerDeterminism, SameSeedSameBytes) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams& p = kSamplerCases[0].p;
  EXPECT_TRUE(same_bytes(draw<double>(p, 100003, 5, Device::Cuda),
                         draw<double>(p, 100003, 5, Device::Cuda)));
  EXPECT_TRUE(
      same_bytes(draw<float>(p, 100003, 5, Device::Cuda), draw<float>(p, 100003, 5, Device::Cuda)));
}

// Each sample's stream is keyed by its index, not by the thread or the chunk that draws it: a
// prefix of a longer draw is the shorter draw, and sample_cuda's chunking (2^26 values) cannot
// show.
TEST(CudaSamplerDeterminism, PrefixOfALongerDrawIsTheShorterDraw) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams& p = kSamplerCases[0].p;
  const std::vector<float> longer = draw<float>(p, (std::size_t{1} << 26) + 1000, 9, Device::Cuda);
  const std::vector<float> shorter = draw<float>(p, 1001, 9, Device::Cuda);
  EXPECT_EQ(std::memcmp(longer.data(), shorter.data(), shorter.size() * sizeof(float)), 0);
  // The values just past the first chunk come from indices 2^26..: drawn on the CPU too.
  const std::size_t chunk = std::size_t{1} << 26;
  std::vector<float> tail_cpu(1000);
  detail::sample_cpu(p, tail_cpu.size(), 9, tail_cpu.data(), 0, chunk);
  std::size_t close = 0;
  for (std::size_t i = 0; i < tail_cpu.size(); ++i) {
    close += std::abs(longer[chunk + i] - tail_cpu[i]) <= 1e-3f * tail_cpu[i];
  }
  EXPECT_GE(close, 995u);
}

// sample_range on the GPU: the slices of one GPU draw, also across sample_cuda's chunks.
TEST(CudaSamplerDeterminism, RangesAreSlicesOfOneDraw) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams& p = kSamplerCases[0].p;
  const std::size_t n = (std::size_t{1} << 26) + 4099;
  const std::vector<float> whole = draw<float>(p, n, 21, Device::Cuda);
  for (const std::size_t first : {std::size_t{0}, std::size_t{12345}, (std::size_t{1} << 26) - 7}) {
    const std::size_t len = std::min<std::size_t>(5000, n - first);
    std::vector<float> part(len);
    sample_range(p, first, len, 21, part.data(), Device::Cuda);
    EXPECT_EQ(std::memcmp(part.data(), whole.data() + first, len * sizeof(float)), 0)
        << "first " << first;
  }
  // The last values of a seed's 2^64 indices can be drawn; one past them cannot.
  std::vector<float> end(3);
  EXPECT_NO_THROW(sample_range(p, ~std::uint64_t{0} - 1, 2, 21, end.data(), Device::Cuda));
  check_open_interval(std::vector<float>(end.begin(), end.begin() + 2));
  EXPECT_THROW(sample_range(p, ~std::uint64_t{0} - 1, 3, 21, end.data(), Device::Cuda), InputError);
}

TEST(CudaSamplerErrors, TooManyComponentsIsADeviceError) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  MixtureParams p;
  for (int j = 0; j < 3000; ++j) {
    p.weights.push_back(1.0);
    p.alpha.push_back(2.0);
    p.beta.push_back(3.0);
  }
  std::vector<float> x(10);
  EXPECT_THROW(sample(p, x.size(), 1, x.data(), Device::Cuda), DeviceError);
}

// sample_on_device() writes into device memory exactly what sample(..., Device::Cuda) copies
// to the host, in both precisions, and refuses a host pointer.
template <class Real>
void expect_device_draw_matches_host_draw(const MixtureParams& p, std::size_t n) {
  std::vector<Real> host(n), back(n);
  sample(p, n, 77, host.data(), Device::Cuda);
  Real* d_out = nullptr;
  ASSERT_EQ(cudaMalloc(&d_out, n * sizeof(Real)), cudaSuccess);
  sample_on_device(p, n, 77, d_out);
  ASSERT_EQ(cudaMemcpy(back.data(), d_out, n * sizeof(Real), cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaFree(d_out), cudaSuccess);
  EXPECT_EQ(std::memcmp(host.data(), back.data(), n * sizeof(Real)), 0);
}

TEST(CudaSamplerOnDevice, SameValuesAsTheHostDraw) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams p{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  expect_device_draw_matches_host_draw<float>(p, 100003);
  expect_device_draw_matches_host_draw<double>(p, 100003);
  std::vector<float> host(16);
  EXPECT_THROW(sample_on_device(p, host.size(), 1, host.data()), InputError);
}

}  // namespace
}  // namespace betamix
