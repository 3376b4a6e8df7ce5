// The rule that chooses the device layout of the samples (float32 x, or the float32 pair
// log x, log1p(-x)): host code, so these tests run without a GPU. Checked against the
// definition (float(x) a normal float, the domain of the pass's logarithms, and
// |log y(float(x)) - log y(x)| <= 2^-22 max(1, |log y|) for y = x and 1 - x) computed with
// long double logarithms.

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

#include "betamix/betamix.hpp"
#include "data_layout.cuh"

namespace betamix {
namespace {

using detail::choose_data_layout;
using detail::DataLayout;
using detail::float_x_suffices;

// The definition, evaluated directly.
bool definition(double x) {
  const long double xf = static_cast<float>(x);
  if (!(xf >= FLT_MIN && xf < 1.0L)) return false;
  const long double tol = std::ldexp(1.0L, -22);
  const long double lx = std::log(static_cast<long double>(x));
  const long double l1x = std::log1p(-static_cast<long double>(x));
  return std::abs(std::log(xf) - lx) <= tol * std::max(1.0L, std::abs(lx)) &&
         std::abs(std::log1p(-xf) - l1x) <= tol * std::max(1.0L, std::abs(l1x));
}

TEST(CudaDataLayout, FloatValuesAlwaysSuffice) {
  for (const float f :
       {FLT_MIN, 1e-30f, 1e-3f, 0.25f, 0.5f, 0.75f, 0.96f, 0.999f, 1.0f - 0x1.0p-24f}) {
    EXPECT_TRUE(float_x_suffices(f)) << f;
  }
}

TEST(CudaDataLayout, ValuesThatRoundToZeroOneOrSubnormalsDoNot) {
  EXPECT_FALSE(float_x_suffices(1.0 - 1e-9));   // rounds to 1
  EXPECT_FALSE(float_x_suffices(1.0 - 1e-12));  // rounds to 1
  EXPECT_FALSE(float_x_suffices(1e-50));        // rounds to 0
  EXPECT_FALSE(float_x_suffices(1.0e-44));      // rounds to a subnormal, ~0.1 relative error
  // Subnormal floats close enough to x by the log criterion are still refused: the pass's
  // logarithms take normal floats only.
  EXPECT_FALSE(float_x_suffices(1.0e-40));
  EXPECT_FALSE(float_x_suffices(static_cast<double>(FLT_MIN) * (1.0 - 0x1p-20)));  // subnormal
  EXPECT_TRUE(float_x_suffices(static_cast<double>(FLT_MIN)));
}

TEST(CudaDataLayout, AgreesWithTheDefinition) {
  // Dense sweeps where the rule switches: near 1 (rounding error vs 1 - x) and near 0.
  std::size_t checked = 0, disagree = 0;
  for (int i = 1; i < 200000; ++i) {
    const double u = i / 200000.0;
    for (const double x : {u, 1.0 - 0.06 * u, 1.0 - 1e-4 * u, 1e-37 * u, 0.5 + 1e-3 * u}) {
      ++checked;
      disagree += float_x_suffices(x) != definition(x);
    }
  }
  // The rule takes logs to first order: it may differ only within ~1e-5 relative of the
  // switching point.
  EXPECT_LE(disagree, checked / 100000) << disagree << " of " << checked;
}

TEST(CudaDataLayout, OrdinaryValuesKeepFloat32AndValuesNearOneNeedThePair) {
  // Up to ~0.96 every double rounds to a float close enough; ~0.99 and up, most do not.
  std::size_t low_ok = 0, high_ok = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double u = (i + 0.37) / n;
    low_ok += float_x_suffices(0.96 * u);
    high_ok += float_x_suffices(0.99 + 0.01 * u);
  }
  EXPECT_EQ(low_ok, static_cast<std::size_t>(n));
  EXPECT_LT(high_ok, static_cast<std::size_t>(n / 2));
}

TEST(CudaDataLayout, ChooseDataLayout) {
  std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {5.0}}, 10000, 3, Device::Cpu);
  for (double& v : x) v = std::min(static_cast<float>(v), 0.9f);
  EXPECT_EQ(choose_data_layout(x.data(), x.size()), DataLayout::X);
  x[1234] = 1.0 - 1e-9;
  EXPECT_EQ(choose_data_layout(x.data(), x.size()), DataLayout::LogPair);
  x[1234] = 1e-45 * 0.3;
  EXPECT_EQ(choose_data_layout(x.data(), x.size()), DataLayout::LogPair);
  EXPECT_EQ(choose_data_layout(x.data(), 0), DataLayout::X);
}

}  // namespace
}  // namespace betamix
