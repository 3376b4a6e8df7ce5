// betamix::sample on the CPU: the distribution (moments against the exact mixture moments,
// a one-sample Kolmogorov-Smirnov test against Boost's incomplete beta) at ordinary, tiny and
// large shapes; every value strictly inside (0,1) in float and double; and determinism (same
// seed, same bytes, whatever the thread count).
//
// Every draw uses a fixed seed, so each statistic below is one fixed number and the tests
// cannot flake; a p-value under 1e-4 means the sampler and the reference disagree (or, with
// probability 1e-4 per case, an unlucky seed, which a change of seed would show).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "sample_tables.hpp"
#include "support/reference.hpp"
#include "support/sampler_cases.hpp"

namespace betamix {
namespace {

using Case = test::SamplerCase;
using test::check_open_interval;
using test::kSamplerCases;
constexpr std::size_t kN = test::kSamplerN;

class SamplerTest : public ::testing::TestWithParam<Case> {};

TEST_P(SamplerTest, DoubleOutputMatchesDistribution) {
  const Case& c = GetParam();
  std::vector<double> x(kN);
  sample(c.p, kN, 2024, x.data(), Device::Cpu);
  check_open_interval(x);
  test::check_moments(c.p, x);
  // Above 1 - 2^-30 the double grid (2^-53) is too coarse for tiny shapes, whose mass there
  // piles onto 1 - 2^-53; the statistic still counts how many samples lie above.
  const double d = test::ks_statistic_within(c.p, x, 0.0, 1.0 - 0x1.0p-30);
  const double pv = test::ks_p_value(d, static_cast<double>(kN));
  EXPECT_GT(pv, 1e-4) << "KS D = " << d;
}

TEST_P(SamplerTest, FloatOutputMatchesDistribution) {
  const Case& c = GetParam();
  std::vector<float> xf(kN);
  sample(c.p, kN, 2025, xf.data(), Device::Cpu);
  check_open_interval(xf);
  test::check_moments(c.p, xf);
  // float clamps below FLT_MIN (1.2e-38) and cannot resolve within ~2^-24 of 1: compare on
  // [1e-37, 1 - 2^-20], where rounding to float moves the CDF by < 1e-3 at the worst (tiny
  // shapes near 1), well under the KS threshold ~5e-3 at n = 2e5.
  const std::vector<double> x(xf.begin(), xf.end());
  const double d = test::ks_statistic_within(c.p, x, 1e-37, 1.0 - 0x1.0p-20);
  const double pv = test::ks_p_value(d, static_cast<double>(kN));
  EXPECT_GT(pv, 1e-4) << "KS D = " << d;
}

INSTANTIATE_TEST_SUITE_P(Shapes, SamplerTest, ::testing::ValuesIn(kSamplerCases),
                         [](const auto& info) { return std::string(info.param.name); });

// Shapes far below 0.05 push nearly every draw onto the clamps: still strictly inside (0,1).
TEST(SamplerBoundaryTest, ExtremeShapesStayInside) {
  const MixtureParams p{{0.5, 0.5}, {1e-3, 5.0}, {5.0, 1e-3}};
  std::vector<double> x(20000);
  std::vector<float> xf(20000);
  sample(p, x.size(), 7, x.data(), Device::Cpu);
  sample(p, xf.size(), 7, xf.data(), Device::Cpu);
  check_open_interval(x);
  check_open_interval(xf);
}

// Shapes in the millions and beyond keep their spread (sampler_cases.hpp).
TEST(SamplerBoundaryTest, LargeShapesKeepTheirSpread) { test::check_large_shapes(Device::Cpu); }

// Draws near 1 land on every representable number, not every other (sampler_cases.hpp).
TEST(SamplerBoundaryTest, ValuesNearOneUseEveryNumber) { test::check_values_near_one(Device::Cpu); }

// Shapes so small that log U / shape overflows: 0 or 1, never NaN (sampler_cases.hpp).
TEST(SamplerBoundaryTest, VanishingShapesGiveZeroOrOneNeverNaN) {
  test::check_vanishing_shapes<float>(2e-38, 6e-38, Device::Cpu);
  test::check_vanishing_shapes<double>(3e-308, 9e-308, Device::Cpu);
}

// Shapes a precision cannot hold (float: above 3.4e38, below 1.2e-38) are an InputError that
// points to float64, not a hang or a wrong draw.
TEST(SamplerBoundaryTest, ShapesOutsideTheOutputPrecisionAreAnInputError) {
  std::vector<float> xf(10);
  std::vector<double> x(10);
  const MixtureParams huge{{0.5, 0.5}, {2.0, 1e39}, {3.0, 4.0}};
  EXPECT_THROW(sample(huge, xf.size(), 1, xf.data(), Device::Cpu), InputError);
  sample(huge, x.size(), 1, x.data(), Device::Cpu);  // fine in double
  check_open_interval(x);
  const MixtureParams tiny{{1.0}, {2.0}, {1e-39}};
  try {
    sample(tiny, xf.size(), 1, xf.data(), Device::Cpu);
    ADD_FAILURE() << "no error for beta = 1e-39 in float32";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("component 1 has beta = 1e-39"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("float64"), std::string::npos) << e.what();
  }
}

// Shapes above kMaxShape (1e300), where log B(alpha, beta) would overflow, are an InputError
// naming the component; 1e300 itself draws in double.
TEST(SamplerBoundaryTest, ShapesAboveTheLimitAreAnInputError) {
  std::vector<double> x(10);
  try {
    sample(MixtureParams{{0.5, 0.5}, {2.0, 3.0}, {3.0, 1e301}}, x.size(), 1, x.data(), Device::Cpu);
    ADD_FAILURE() << "no error for beta = 1e301";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("beta of component 2 must be > 0 and at most 1e+300"),
              std::string::npos)
        << e.what();
  }
  sample(MixtureParams{{1.0}, {kMaxShape}, {kMaxShape}}, x.size(), 1, x.data(), Device::Cpu);
  check_open_interval(x);
  for (const double v : x) EXPECT_NEAR(v, 0.5, 1e-140);
}

// A component of weight 0 is never drawn, even where the cumulative weights before it round
// below 1 (ten weights of 0.1 sum to 0.9999999999999999 in double).
TEST(SamplerBoundaryTest, ZeroWeightComponentIsNeverDrawn) {
  MixtureParams p;
  for (int j = 0; j < 10; ++j) {
    p.weights.push_back(0.1);
    p.alpha.push_back(2.0);
    p.beta.push_back(1e6);  // values near 2e-6
  }
  p.weights.push_back(0.0);
  p.alpha.push_back(1e6);  // values near 1 - 2e-6, if it were ever drawn
  p.beta.push_back(2.0);
  const std::vector<float> tf = detail::sample_tables<float>(p);
  const std::vector<double> td = detail::sample_tables<double>(p);
  EXPECT_EQ(tf[9], 1.0f);
  EXPECT_EQ(td[9], 1.0);
  EXPECT_EQ(td[10], 1.0);
  std::vector<double> x(50000);
  sample(p, x.size(), 3, x.data(), Device::Cpu);
  EXPECT_LT(*std::max_element(x.begin(), x.end()), 0.5);
}

// Weights are relative: finite ones whose sum overflows a double draw what their ratios say.
TEST(SamplerBoundaryTest, WeightsWhoseSumOverflowsAreRelative) {
  const MixtureParams huge{{1.5e308, 1.5e308}, {2.0, 9.0}, {9.0, 2.0}};
  const MixtureParams p = huge.normalized();
  EXPECT_EQ(p.weights, (std::vector<double>{0.5, 0.5}));
  std::vector<double> a(1000), b(1000);
  sample(huge, a.size(), 5, a.data(), Device::Cpu);
  sample(MixtureParams{{1.0, 1.0}, {2.0, 9.0}, {9.0, 2.0}}, b.size(), 5, b.data(), Device::Cpu);
  EXPECT_EQ(a, b);
}

const MixtureParams kDemo{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};

template <class Real>
std::vector<Real> draw(std::size_t n, std::uint64_t seed) {
  std::vector<Real> x(n);
  sample(kDemo, n, seed, x.data(), Device::Cpu);
  return x;
}

template <class Real>
bool same_bytes(const std::vector<Real>& a, const std::vector<Real>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0;
}

template <class Real>
std::size_t equal_count(const std::vector<Real>& a, const std::vector<Real>& b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return same;
}

TEST(SamplerDeterminismTest, SameSeedSameBytes) {
  EXPECT_TRUE(same_bytes(draw<double>(10007, 5), draw<double>(10007, 5)));
  EXPECT_TRUE(same_bytes(draw<float>(10007, 5), draw<float>(10007, 5)));
  EXPECT_TRUE(same_bytes(sample(kDemo, 10007, 5, Device::Cpu), draw<double>(10007, 5)));
}

// Different seeds give different streams: no double coincides, and float values (24-bit) only
// rarely (well under 1%).
TEST(SamplerDeterminismTest, DifferentSeedsDiffer) {
  EXPECT_EQ(equal_count(draw<double>(10007, 5), draw<double>(10007, 6)), 0u);
  EXPECT_LT(equal_count(draw<float>(10007, 5), draw<float>(10007, 6)), 100u);
  // Seeds that differ only in the high 32 bits (the second key word) differ too.
  EXPECT_EQ(equal_count(draw<double>(10007, 5), draw<double>(10007, 5 + (1ULL << 32))), 0u);
}

// Each sample draws from its own Philox stream (seed, i): the split across threads cannot
// change a bit.
template <class Real>
void check_thread_independence() {
  const std::size_t n = 100003;
  std::vector<Real> one(n), two(n), three(n);
  detail::sample_cpu(kDemo, n, 11, one.data(), 1);
  detail::sample_cpu(kDemo, n, 11, two.data(), 2);
  detail::sample_cpu(kDemo, n, 11, three.data(), 3);
  EXPECT_TRUE(same_bytes(one, two));
  EXPECT_TRUE(same_bytes(one, three));
}

TEST(SamplerDeterminismTest, ThreadCountDoesNotChangeABitDouble) {
  check_thread_independence<double>();
}

TEST(SamplerDeterminismTest, ThreadCountDoesNotChangeABitFloat) {
  check_thread_independence<float>();
}

// sample_range(first, n) is the slice [first, first + n) of one longer draw, whatever the
// pieces: a draw made piece by piece (`betamix sample` does) has the bytes of one draw.
template <class Real>
void check_ranges() {
  const std::size_t n = 20011;
  const std::vector<Real> whole = draw<Real>(n, 13);
  std::vector<Real> pieces(n);
  for (std::size_t first = 0, len = 1; first < n; first += len, len = len * 3 + 1) {
    len = std::min(len, n - first);
    sample_range(kDemo, first, len, 13, pieces.data() + first, Device::Cpu);
  }
  EXPECT_TRUE(same_bytes(pieces, whole));
  // The last values of a seed's 2^64 indices can be drawn; one past them cannot.
  std::vector<Real> end(3);
  EXPECT_NO_THROW(sample_range(kDemo, ~std::uint64_t{0} - 1, 2, 13, end.data(), Device::Cpu));
  EXPECT_GT(end[0], Real(0));
  EXPECT_LT(end[1], Real(1));
  EXPECT_THROW(sample_range(kDemo, ~std::uint64_t{0} - 1, 3, 13, end.data(), Device::Cpu),
               InputError);
}

TEST(SamplerDeterminismTest, RangesAreSlicesOfOneDrawDouble) { check_ranges<double>(); }

TEST(SamplerDeterminismTest, RangesAreSlicesOfOneDrawFloat) { check_ranges<float>(); }

// Device::Auto draws where it says: on the GPU when one is visible and takes K, else on the
// CPU, with that device's values bit for bit.
TEST(SamplerDeterminismTest, AutoDrawsOnTheDeviceItPicks) {
  const Device picked = cuda_available() ? Device::Cuda : Device::Cpu;
  std::vector<float> a(10007), b(10007);
  sample(kDemo, a.size(), 17, a.data(), Device::Auto);
  sample(kDemo, b.size(), 17, b.data(), picked);
  EXPECT_TRUE(same_bytes(a, b));
  // K above the GPU sampler's limit: the CPU.
  MixtureParams many;
  for (int j = 0; j < detail::kCudaSampleMaxK + 1; ++j) {
    many.weights.push_back(1.0);
    many.alpha.push_back(2.0 + j % 7);
    many.beta.push_back(3.0 + j % 5);
  }
  sample(many, a.size(), 17, a.data(), Device::Auto);
  sample(many, b.size(), 17, b.data(), Device::Cpu);
  EXPECT_TRUE(same_bytes(a, b));
}

// Without a visible GPU (always so in a build without CUDA), drawing into device memory is a
// DeviceError that says why, not a crash on the pointer.
TEST(SamplerOnDevice, WithoutAGpuIsADeviceError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is visible (tests/cuda covers it)";
  const MixtureParams p{{1.0}, {2.0}, {3.0}};
  std::vector<float> x(4);
  try {
    sample_on_device(p, x.size(), 1, x.data());
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("device cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace betamix
