// The API on arguments it must refuse: MixtureParams' helpers on parameters that validate()
// would refuse throw InputError, never read out of bounds or return NaN weights (NaN means
// sort last); shapes so small that trigamma overflows give standard errors that are
// unavailable with a reason, not a Boost exception; null data pointers are InputErrors.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"

namespace betamix {
namespace {

TEST(MixtureParamsHelpers, MismatchedLengthsAreInputErrors) {
  const MixtureParams p{{0.5, 0.5}, {1.0}, {1.0, 2.0}};
  EXPECT_THROW(static_cast<void>(p.sorted_by_mean()), InputError);
  EXPECT_THROW(static_cast<void>(p.normalized()), InputError);
  EXPECT_THROW(static_cast<void>(MixtureParams{}.normalized()), InputError);
}

TEST(MixtureParamsHelpers, WeightsThatCannotBeNormalisedAreInputErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& w :
       {std::vector<double>{0.0, 0.0}, {nan, 1.0}, {inf, 1.0}, {1.0, -inf}}) {
    const MixtureParams p{w, {1.0, 2.0}, {1.0, 2.0}};
    try {
      static_cast<void>(p.normalized());
      ADD_FAILURE() << "normalised weights " << w[0] << ", " << w[1];
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cannot be normalised"), std::string::npos) << what;
      if (std::isinf(w[0]) || std::isinf(w[1])) {  // names the weight, not a NaN sum
        EXPECT_EQ(what.find("nan"), std::string::npos) << what;
      }
    }
  }
}

TEST(MixtureParamsHelpers, SortedByMeanPutsNaNMeansLast) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const MixtureParams p{{0.1, 0.2, 0.3, 0.4}, {nan, 9.0, 1.0, 5.0}, {1.0, 1.0, 9.0, 5.0}};
  const MixtureParams s = p.sorted_by_mean();
  EXPECT_EQ(s.weights, (std::vector<double>{0.3, 0.4, 0.2, 0.1}));
  EXPECT_TRUE(std::isnan(s.alpha[3]));
}

TEST(MixtureParamsHelpers, TinyShapesGiveUnavailableStandardErrors) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {3.0}}, 1000, 1);
  StandardErrors se;
  ASSERT_NO_THROW(se = standard_errors(MixtureParams{{1.0}, {1e-200}, {1.0}}, x.data(), x.size()));
  EXPECT_FALSE(se.available);
  EXPECT_FALSE(se.reason.empty());
  FitOptions o;
  o.k = 2;
  o.max_iterations = 20;
  o.start = MixtureParams{{0.5, 0.5}, {1e-300, 2.0}, {1e-300, 2.0}};
  FitResult r;
  ASSERT_NO_THROW(r = fit(x, o));
  ASSERT_TRUE(r.se.has_value());
  if (!r.se->available) {
    EXPECT_FALSE(r.se->reason.empty());
  }
}

TEST(ApiArguments, EnumeratorsOutsideTheirEnumerationAreInputErrors) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {3.0}}, 100, 1);
  FitOptions o;
  o.k = 1;
  FitOptions bad = o;
  bad.method = static_cast<Method>(7);
  EXPECT_THROW(static_cast<void>(fit(x, bad)), InputError);
  bad = o;
  bad.init = static_cast<InitMethod>(-1);
  EXPECT_THROW(static_cast<void>(fit(x, bad)), InputError);
  bad = o;
  bad.device = static_cast<Device>(9);
  EXPECT_THROW(static_cast<void>(fit(x, bad)), InputError);
  bad = o;
  bad.on_boundary = static_cast<BoundaryPolicy>(2);
  EXPECT_THROW(static_cast<void>(fit(x, bad)), InputError);
  EXPECT_STREQ(to_string(static_cast<Criterion>(9)), "unknown");
  EXPECT_STREQ(to_string(Criterion::ICL), "icl");
  EXPECT_THROW(
      static_cast<void>(select_k(x.data(), x.size(), {1, 2}, static_cast<Criterion>(9), o)),
      InputError);
}

// Every call that takes a Device refuses one outside the enumeration, rather than running on
// some device.
TEST(ApiArguments, DevicesOutsideTheEnumerationAreInputErrors) {
  const MixtureParams p{{1.0}, {2.0}, {3.0}};
  const std::vector<double> x = sample(p, 100, 1);
  for (const int v : {-1, 3, 9}) {
    const Device bad = static_cast<Device>(v);
    EXPECT_THROW(static_cast<void>(sample(p, 10, 1, bad)), InputError) << v;
    EXPECT_THROW(static_cast<void>(sample_device(p, bad)), InputError) << v;
    EXPECT_THROW(static_cast<void>(responsibilities(p, x, bad)), InputError) << v;
    EXPECT_THROW(static_cast<void>(predict(p, x, bad)), InputError) << v;
    EXPECT_THROW(static_cast<void>(standard_errors(p, x.data(), x.size(), nullptr, bad)),
                 InputError)
        << v;
  }
}

TEST(ApiArguments, TooManyRestartsAreAnInputError) {
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {3.0}}, 100, 1);
  FitOptions o;
  o.k = 1;
  o.restarts = kMaxRestarts + 1;
  EXPECT_THROW(static_cast<void>(fit(x, o)), InputError);
}

TEST(ApiArguments, NullPointersWithSamplesAreInputErrors) {
  const MixtureParams p{{1.0}, {2.0}, {3.0}};
  FitOptions o;
  o.k = 1;
  EXPECT_THROW(static_cast<void>(fit(nullptr, 5, o)), InputError);
  EXPECT_THROW(static_cast<void>(select_k(nullptr, 10, {1, 2}, Criterion::BIC, o)), InputError);
  EXPECT_THROW(static_cast<void>(standard_errors(p, nullptr, 10)), InputError);
  EXPECT_THROW(sample(p, 10, 1, static_cast<double*>(nullptr)), InputError);
  EXPECT_THROW(sample_range(p, 0, 10, 1, static_cast<float*>(nullptr)), InputError);
  EXPECT_NO_THROW(sample(p, 0, 1, static_cast<double*>(nullptr)));  // nothing to write
  const std::vector<double> x = sample(p, 10, 1);
  try {
    static_cast<void>(fit(x.data(), x.size(), o, nullptr));  // no case weights: fine
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

}  // namespace
}  // namespace betamix
