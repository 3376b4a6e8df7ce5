// The moment pass that both backends share (betamix/math/moments.hpp, the CPU moment pass and
// MomentStats): the layout of the sums is the documented one, and every sum equals a naive
// long-double evaluation from lgamma-based responsibilities (tests/support), with and without
// case weights, at awkward sizes and for K up to 17.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/moments.hpp"
#include "support/reference.hpp"

namespace betamix {
namespace {

// The documented order, written out: single (q, j), then per q the pairs j <= l row by row,
// then LL.
std::vector<math::MomentSlot> layout(int k) {
  std::vector<math::MomentSlot> out;
  for (int q = 0; q < math::kMoments; ++q) {
    for (int j = 0; j < k; ++j) out.push_back({q, j, -1});
  }
  for (int q = 0; q < math::kMoments; ++q) {
    for (int j = 0; j < k; ++j) {
      for (int l = j; l < k; ++l) out.push_back({q, j, l});
    }
  }
  out.push_back({-1, 0, -1});
  return out;
}

TEST(MomentLayout, SlotsFollowTheDocumentedOrder) {
  for (const int k : {1, 2, 3, 7, 16, 64}) {
    const std::vector<math::MomentSlot> want = layout(k);
    ASSERT_EQ(math::moment_sum_count(k), static_cast<int>(want.size())) << "k = " << k;
    for (int i = 0; i < math::moment_sum_count(k); ++i) {
      const math::MomentSlot got = math::moment_slot(k, i);
      EXPECT_EQ(got.q, want[i].q) << "k = " << k << ", sum " << i;
      EXPECT_EQ(got.j, want[i].j) << "k = " << k << ", sum " << i;
      EXPECT_EQ(got.l, want[i].l) << "k = " << k << ", sum " << i;
    }
  }
}

// assign() puts every sum where single_at / pair_at look, in both triangles.
TEST(MomentLayout, AssignFillsBothTriangles) {
  const int k = 4;
  const std::vector<math::MomentSlot> slots = layout(k);
  std::vector<double> sums(slots.size());
  for (std::size_t i = 0; i < sums.size(); ++i) sums[i] = static_cast<double>(i) + 0.5;
  detail::MomentStats m;
  m.assign(k, sums.data());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const math::MomentSlot s = slots[i];
    if (s.q < 0) {
      EXPECT_EQ(m.ll, sums[i]);
    } else if (s.l < 0) {
      EXPECT_EQ(m.single_at(s.q, s.j), sums[i]);
    } else {
      EXPECT_EQ(m.pair_at(s.q, s.j, s.l), sums[i]);
      EXPECT_EQ(m.pair_at(s.q, s.l, s.j), sums[i]);
    }
  }
}

// Every sum of the CPU moment pass against long-double sums of lgamma-based responsibilities.
// The shared math evaluates each term to ~1e-15 relative; the terms of every sum but LL have one
// sign, so 1e-12 relative to |reference| leaves a wide margin and still catches any wrong term
// (a missing weight, a wrong moment or pair changes a sum by O(1) relative). LL's terms cancel:
// its scale is sum_i v_i |L_i|.
TEST(MomentPass, CpuMatchesNaiveReference) {
  const MixtureParams p{{0.3, 0.5, 0.2}, {2.0, 6.0, 0.7}, {9.0, 6.0, 0.4}};
  const MixtureParams big = [] {
    MixtureParams q;
    for (int j = 0; j < 17; ++j) {
      q.weights.push_back(1.0 + j % 3);
      q.alpha.push_back(1.0 + 0.5 * j);
      q.beta.push_back(9.0 - 0.4 * j);
    }
    return q.normalized();
  }();
  for (const MixtureParams* params : {&p, &big}) {
    const int k = static_cast<int>(params->k());
    for (const std::size_t n :
         {std::size_t{1}, std::size_t{7}, std::size_t{257}, std::size_t{20011}}) {
      const std::vector<double> x = sample(*params, n, 21);
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) v[i] = 0.25 + 0.5 * static_cast<double>(i % 5);
      for (const double* w :
           {static_cast<const double*>(nullptr), static_cast<const double*>(v.data())}) {
        SCOPED_TRACE("k = " + std::to_string(k) + ", n = " + std::to_string(n) +
                     (w ? ", weighted" : ""));
        auto backend = detail::make_cpu_backend(2);
        backend->load(x.data(), w, n);
        detail::PassConstants c;
        c.resize(1, k);
        c.set(0, *params);
        detail::MomentStats got;
        backend->moment_pass(c, got);

        const std::vector<math::MomentSlot> slots = layout(k);
        std::vector<long double> ref(slots.size(), 0.0L);
        long double ll_abs = 0.0L;
        std::vector<long double> l(k), r(k);
        for (std::size_t i = 0; i < n; ++i) {
          long double m = -INFINITY, s = 0.0L;
          for (int j = 0; j < k; ++j) {
            l[j] = std::log(static_cast<long double>(params->weights[j])) +
                   test::ref_beta_log_pdf(x[i], params->alpha[j], params->beta[j]);
            m = std::max(m, l[j]);
          }
          for (int j = 0; j < k; ++j) s += std::exp(l[j] - m);
          for (int j = 0; j < k; ++j) r[j] = std::exp(l[j] - m) / s;
          const long double vi = w ? w[i] : 1.0, lx = std::log(static_cast<long double>(x[i])),
                            l1x = std::log1p(-static_cast<long double>(x[i]));
          const long double mom[6] = {vi,           vi * lx,       vi * l1x,
                                      vi * lx * lx, vi * lx * l1x, vi * l1x * l1x};
          const long double lp = m + std::log(s);
          ll_abs += vi * std::fabs(lp);
          for (std::size_t t = 0; t < slots.size(); ++t) {
            const math::MomentSlot sl = slots[t];
            ref[t] += sl.q < 0   ? vi * lp
                      : sl.l < 0 ? r[sl.j] * mom[sl.q]
                                 : r[sl.j] * r[sl.l] * mom[sl.q];
          }
        }
        test::ToleranceCheck check(0.0, 1e-12);
        for (std::size_t t = 0; t < slots.size(); ++t) {
          const math::MomentSlot sl = slots[t];
          const double want = static_cast<double>(ref[t]);
          if (sl.q < 0) {
            check.add("LL", got.ll, want, 1e-12 * static_cast<double>(ll_abs), 0.0);
          } else if (sl.l < 0) {
            check.add("single " + std::to_string(t), got.single_at(sl.q, sl.j), want);
          } else {
            check.add("pair " + std::to_string(t), got.pair_at(sl.q, sl.j, sl.l), want);
          }
        }
        EXPECT_TRUE(check.result());
      }
    }
  }
}

}  // namespace
}  // namespace betamix
