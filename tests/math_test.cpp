// The special functions, the shared per-sample mixture math and the Philox generator against
// independent values: mpmath at 50 digits (tests/data/make_fixtures.py) and the Random123
// known-answer vectors.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "betamix/math/beta_math.hpp"
#include "betamix/math/beta_sampler.hpp"
#include "betamix/math/philox.hpp"
#include "special.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kEpsF = std::numeric_limits<float>::epsilon();

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string at(double a, double b, double x) {
  return "a=" + num(a) + " b=" + num(b) + " x=" + num(x);
}

// log B(a, b) is lgamma(a) + lgamma(b) - lgamma(a + b). Each lgamma is good to a
// couple of ulps, so the difference carries an absolute error of a few eps times the sum of
// the three magnitudes (log_beta_scale, from mpmath; ~3e5 at a = b = 1e4): allow 8 eps of it,
// plus 4 eps relative for the final rounding.
TEST(MathTest, LogBetaMatchesMpmath) {
  const test::Table t("special_functions.csv");
  test::ToleranceCheck lib(0.0, 4 * kEps), ref(0.0, 4 * kEps);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    const double a = t.at(i, "a"), b = t.at(i, "b"), want = t.at(i, "log_beta");
    const double atol = 8 * kEps * t.at(i, "log_beta_scale");
    lib.add(at(a, b, 0), detail::log_beta(a, b), want, atol, 4 * kEps);
    ref.add(at(a, b, 0), std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b), want, atol,
            4 * kEps);
  }
  EXPECT_TRUE(lib.result()) << "detail::log_beta";
  EXPECT_TRUE(ref.result()) << "the tests' std::lgamma reference";
}

// At large shapes the three lgammas cancel: lgamma(1.94e14) ~ 6e15 carries an error of ~1,
// while log B(1.94e14, 0.163) = -3.62 (the lgamma sum gives -3.0, a wrong LL by 3e3 nats on
// 5e3 samples). The library's Stirling form has terms of the size of `scale` (the result, lgamma
// of the smaller shape, and p log(p + q), from mpmath at 400 digits), each good to an ulp or
// two: allow 8 eps of that scale, plus 4 eps relative. The lgamma sum misses this bound (first
// check), so the fixture reaches where the cancellation is.
TEST(MathTest, LogBetaAtLargeShapesMatchesMpmath) {
  const test::Table t("log_beta_large.csv");
  test::ToleranceCheck lib(0.0, 4 * kEps), naive(0.0, 4 * kEps);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    const double a = t.at(i, "a"), b = t.at(i, "b"), want = t.at(i, "log_beta");
    const double atol = 8 * kEps * t.at(i, "scale");
    lib.add(at(a, b, 0), detail::log_beta(a, b), want, atol, 4 * kEps);
    naive.add(at(a, b, 0), std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b), want, atol,
              4 * kEps);
  }
  EXPECT_FALSE(naive.result()) << "the lgamma sum should miss this bound somewhere";
  EXPECT_TRUE(lib.result()) << "detail::log_beta";
}

// A NaN shape gives NaN whichever argument holds it (min/max of a NaN pair depend on the order,
// and had turned log B(5, NaN) into log B(5, 5)); a zero or infinite shape keeps lgamma's value.
TEST(MathTest, LogBetaOfNaNShapeIsNaNInEitherArgument) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(detail::log_beta(nan, 5.0)));
  EXPECT_TRUE(std::isnan(detail::log_beta(5.0, nan)));
  EXPECT_TRUE(std::isnan(detail::log_beta(nan, 50.0)));
  EXPECT_TRUE(std::isnan(detail::log_beta(50.0, nan)));
  EXPECT_TRUE(std::isnan(detail::log_beta(nan, nan)));
  EXPECT_TRUE(std::isnan(detail::beta_log_pdf(0.5, 2.0, nan)));
}

// log Beta(x; a, b) = (a-1) log x + (b-1) log1p(-x) - log B(a, b): a sum of terms whose
// magnitudes add up to log_pdf_scale (up to ~3e5 at a = 1e4, x = 1e-12), each good to a few
// ulps: allow 8 eps of that scale, plus 4 eps relative. The same bound holds for the shared
// math with c = -log B, and for the float instantiation with float's eps (its inputs are
// rounded to float first).
TEST(MathTest, BetaLogDensityMatchesMpmath) {
  const test::Table t("special_functions.csv");
  test::ToleranceCheck pdf(0.0, 0.0), shared(0.0, 0.0), shared_f(0.0, 0.0), ref(0.0, 0.0);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    const double a = t.at(i, "a"), b = t.at(i, "b"), x = t.at(i, "x");
    const double want = t.at(i, "log_pdf"), scale = t.at(i, "log_pdf_scale");
    const std::string label = at(a, b, x);
    pdf.add(label, detail::beta_log_pdf(x, a, b), want, 8 * kEps * scale, 4 * kEps);
    ref.add(label, test::ref_beta_log_pdf(x, a, b), want, 8 * kEps * scale, 4 * kEps);
    const double c = -detail::log_beta(a, b);
    shared.add(label, math::component_log_density(std::log(x), std::log1p(-x), a - 1.0, b - 1.0, c),
               want, 8 * kEps * scale, 4 * kEps);
    const float lf = math::component_log_density(
        static_cast<float>(std::log(x)), static_cast<float>(std::log1p(-x)),
        static_cast<float>(a - 1.0), static_cast<float>(b - 1.0), static_cast<float>(c));
    shared_f.add(label, lf, want, 8 * kEpsF * scale, 4 * kEpsF);
  }
  EXPECT_TRUE(pdf.result()) << "detail::beta_log_pdf";
  EXPECT_TRUE(shared.result()) << "math::component_log_density<double>";
  EXPECT_TRUE(shared_f.result()) << "math::component_log_density<float>";
  EXPECT_TRUE(ref.result()) << "the tests' reference test::ref_beta_log_pdf";
}

// Boost's digamma and trigamma are accurate to a few ulps: 8 eps relative. Near digamma's root
// 1.4616... the value itself is ~1e-17 and a relative bound means nothing; there the rounding
// of x alone (1/2 ulp of 1.46, times psi' ~ 1) gives ~1e-16 absolute: atol 4 eps.
TEST(MathTest, DigammaTrigammaMatchMpmath) {
  const test::Table t("polygamma.csv");
  test::ToleranceCheck psi(4 * kEps, 8 * kEps), psi1(0.0, 8 * kEps);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    const double x = t.at(i, "x");
    psi.add("x=" + num(x), detail::digamma(x), t.at(i, "digamma"));
    psi1.add("x=" + num(x), detail::trigamma(x), t.at(i, "trigamma"));
  }
  EXPECT_TRUE(psi.result()) << "detail::digamma";
  EXPECT_TRUE(psi1.result()) << "detail::trigamma";
}

// The mixture of make_fixtures.py: w = (.2, .5, .3), Beta(0.5, 3), Beta(4, 4), Beta(30, 2).
MixtureParams fixture_mixture() { return {{0.2, 0.5, 0.3}, {0.5, 4.0, 30.0}, {3.0, 4.0, 2.0}}; }

// log p(x) and the responsibilities of a K = 3 mixture through the shared math, from x = 1e-12
// to 1 - 1e-12. Each l_k is a sum of terms (log B counted as its three lgammas) whose
// magnitudes add up to at most `scale` (mpmath), each good to a few ulps: 8 eps of the scale
// plus 4 eps relative for log p. r_k = exp(l_k - L) then carries a
// relative error of at most twice that: rtol 16 eps * scale; atol 1e-300 lets true values
// below the double range (r_3 = 1.5e-351 at x = 1e-12) underflow to 0.
TEST(MathTest, MixtureResponsibilitiesMatchMpmath) {
  const test::Table t("mixture_density.csv");
  const MixtureParams p = fixture_mixture();
  std::vector<double> am1, bm1, c;
  for (int j = 0; j < 3; ++j) {
    am1.push_back(p.alpha[j] - 1.0);
    bm1.push_back(p.beta[j] - 1.0);
    c.push_back(std::log(p.weights[j]) - detail::log_beta(p.alpha[j], p.beta[j]));
  }
  const math::ComponentView<double> comp{am1.data(), bm1.data(), c.data()};
  test::ToleranceCheck lib(0.0, 0.0), ref(0.0, 0.0);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    const double x = t.at(i, "x"), scale = t.at(i, "scale");
    const std::string label = "x=" + num(x);
    double r[3];
    const double lp = math::mixture_responsibilities(std::log(x), std::log1p(-x), comp, 3, r);
    const test::RefStats naive = test::ref_stats(p, {x});
    lib.add(label + " log p", lp, t.at(i, "log_p"), 8 * kEps * scale, 4 * kEps);
    ref.add(label + " log p", naive.ll, t.at(i, "log_p"), 8 * kEps * scale, 4 * kEps);
    for (int j = 0; j < 3; ++j) {
      const std::string col = "r" + std::to_string(j + 1);
      lib.add(label + " " + col, r[j], t.at(i, col), 1e-300, 16 * kEps * scale);
      ref.add(label + " " + col, naive.n[j], t.at(i, col), 1e-300, 16 * kEps * scale);
    }
  }
  EXPECT_TRUE(lib.result()) << "math::mixture_responsibilities";
  EXPECT_TRUE(ref.result()) << "the tests' reference test::ref_stats";
}

// Random123's kat_vectors for philox4x32 with 10 rounds.
TEST(MathTest, PhiloxKnownAnswers) {
  struct Kat {
    std::uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    std::uint32_t out[4];
    math::philox4x32_10(k.ctr, k.key, out);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(out[i], k.out[i]) << std::hex << "word " << i << " of ctr " << k.ctr[0];
    }
  }
}

// PhiloxStream(seed, index) is cuRAND's curand_init(seed, index, 0) layout: key = seed, counter
// (block, 0, index_lo, index_hi), four words per block, the block counter carried into word 1.
TEST(MathTest, PhiloxStreamLayout) {
  const std::uint64_t seed = 0x0123456789abcdefULL, index = 0xfedcba9876543210ULL;
  math::PhiloxStream s(seed, index);
  const std::uint32_t key[2] = {0x89abcdefu, 0x01234567u};
  for (std::uint32_t block = 0; block < 3; ++block) {
    const std::uint32_t ctr[4] = {block, 0, 0x76543210u, 0xfedcba98u};
    std::uint32_t want[4];
    math::philox4x32_10(ctr, key, want);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(s.next(), want[i]) << "block " << block << " word " << i;
  }
}

// A stream that always returns the same word, to reach the ends of uniform_open's range.
struct ConstantStream {
  std::uint32_t word;
  std::uint32_t next() { return word; }
};

// uniform_open promises a value strictly inside (0,1) for every possible input word, so the
// extreme words 0 and 0xffffffff must give values in (0,1).
TEST(MathTest, UniformOpenStaysInsideUnitInterval) {
  for (const std::uint32_t word : {0u, 1u, 0x80000000u, 0xfffffffeu, 0xffffffffu}) {
    ConstantStream s{word};
    const float f = math::uniform_open<float>(s);
    const double d = math::uniform_open<double>(s);
    EXPECT_GT(f, 0.0f) << std::hex << "word " << word;
    EXPECT_LT(f, 1.0f) << std::hex << "word " << word;
    EXPECT_GT(d, 0.0) << std::hex << "word " << word;
    EXPECT_LT(d, 1.0) << std::hex << "word " << word;
  }
}

// clamp_open_unit maps 0 and 1 to the nearest representable values inside (0,1).
TEST(MathTest, ClampOpenUnit) {
  EXPECT_EQ(math::clamp_open_unit(0.0f), std::numeric_limits<float>::min());
  EXPECT_EQ(math::clamp_open_unit(1.0f), std::nextafter(1.0f, 0.0f));
  EXPECT_EQ(math::clamp_open_unit(0.0), std::numeric_limits<double>::min());
  EXPECT_EQ(math::clamp_open_unit(1.0), std::nextafter(1.0, 0.0));
  EXPECT_EQ(math::clamp_open_unit(0.25), 0.25);
}

}  // namespace
}  // namespace betamix
