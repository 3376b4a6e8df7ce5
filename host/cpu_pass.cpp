// The CPU pass: for each sample of a chunk, the K weighted component log-densities, their
// log-sum-exp and the responsibilities (betamix/math/beta_math.hpp), accumulated in double
// into N_k, S_k, T_k and LL. The loops over samples are `omp simd` loops, with an inline exp
// and glibc's vector log (libmvec). That needs -ffast-math, which this file alone is compiled
// with (CMakeLists.txt): it never sees a NaN, because the data were validated and the
// constants are finite, and the fitting loop checks the totals outside fast-math code.

#include "cpu_pass.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <utility>
#include <vector>

#include "betamix/math/beta_math.hpp"
#include "betamix/math/moments.hpp"

namespace betamix::detail {
namespace {

// exp(x) for x <= 0 in double, inline so that the sample loop vectorises without calls
// (a call to a vector exp forces every accumulator of the loop out of registers; bench_cpu,
// 1 thread, N = 1e6, K = 2: 2.97 against 4.73 ms with libmvec's exp).
// x = k ln 2 + r with |r| <= ln(2)/2, e^r by its Taylor polynomial to degree 13 (truncation
// below 2e-16 relative), 2^k put into the exponent bits. Arguments below -708 are taken as
// -708 (so even exp(-inf) is e^-708 = 3.3e-308, not 0): that can no longer change a sum that
// includes exp(0) = 1, though a component of weight 0 then gets responsibilities of 3.3e-308.
struct InlineExp {
  double operator()(double x) const {
    x = x < -708.0 ? -708.0 : x;
    const double k = std::floor(x * 1.4426950408889634 + 0.5);
    const double r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // k is integral in [-1022, 0]; in t = k + 1023 + 2^52 the ulp is 1, so the low mantissa
    // bits of t hold k + 1023, which shifted into the exponent field make 2^k.
    const double t = k + (1023.0 + 4503599627370496.0);
    std::uint64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    bits <<= 52;
    double scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
  }
};

// The loop over samples with a compile-time K <= 4, so that the per-sample loops over
// components unroll and the sample loop vectorises.
template <int K, bool Weighted>
void chunk_fixed_k(const double* __restrict log_x, const double* __restrict log1m_x,
                   const double* __restrict v, std::size_t n, const double* am1, const double* bm1,
                   const double* c, double* acc) {
  // Without case weights, sum_i log s_i is taken as the log of the product of the s_i over
  // blocks: one log per block instead of one per sample. Each s_i lies in [1, K], so a block of
  // B samples keeps the product below K^B <= 2^512 (B = 512 for K = 2, 256 for K = 3, 4);
  // longer blocks also spend less on the vector reductions at their ends.
  static_assert(K <= 4, "chunk_staged() takes larger K");
  constexpr std::size_t kLogBlock = K <= 2 ? 512 : 256;
  double sn[K] = {}, ss[K] = {}, st[K] = {};
  double ll = 0.0;
  const math::ComponentView<double> comp{am1, bm1, c};
  for (std::size_t b = 0; b < n; b += kLogBlock) {
    const std::size_t len = std::min(kLogBlock, n - b);
    double shift = 0.0, prod = 1.0;
#pragma omp simd reduction(+ : sn[:K], ss[:K], st[:K], shift) reduction(* : prod)
    for (std::size_t i = b; i < b + len; ++i) {
      double r[K], m, s;
      const double lx = log_x[i], l1x = log1m_x[i];
      math::mixture_responsibilities_split(lx, l1x, comp, K, r, m, s, InlineExp{});
      double w = 1.0;
      if constexpr (Weighted) {
        w = v[i];
        shift += w * (m + std::log(s));
      } else {
        shift += m;
        prod *= s;
      }
      for (int j = 0; j < K; ++j) {
        const double wr = w * r[j];
        sn[j] += wr;
        ss[j] += wr * lx;
        st[j] += wr * l1x;
      }
    }
    ll += shift + std::log(prod);
  }
  for (int j = 0; j < K; ++j) {
    acc[j] = sn[j];
    acc[K + j] = ss[j];
    acc[2 * K + j] = st[j];
  }
  acc[3 * K] = ll;
}

// Any K, in stages over blocks of kStage samples, each stage a short loop over one component's
// row that vectorises on its own: the K log-densities and their maximum, then the exps (inline)
// and their sum, then the responsibilities' sums. Holding a block's K x kStage values in L1
// costs loads and stores, but the loops need few registers and no calls, where the per-sample
// loop of chunk_fixed_k spills its K-wide state above K = 4.
template <bool Weighted>
void chunk_staged(const double* __restrict log_x, const double* __restrict log1m_x,
                  const double* __restrict v, std::size_t n, int k, const double* am1,
                  const double* bm1, const double* c, double* acc) {
  constexpr std::size_t kStage = 128;
  const std::size_t ks = static_cast<std::size_t>(k);
  // Per thread and reused from call to call: no allocation per chunk once it has grown.
  thread_local std::vector<double> scratch;
  scratch.assign(ks * kStage + 3 * ks, 0.0);
  double* const e = scratch.data();
  double* const sums = e + ks * kStage;
  alignas(64) double m[kStage], s[kStage];
  // Each s_i lies in [1, k]: a product of `group` of them stays below k^group <= 2^1000, so
  // sum_i log s_i is taken as one log per group (per block up to k = 2^7).
  const std::size_t group = std::clamp<std::size_t>(
      static_cast<std::size_t>(1000.0 / std::log2(static_cast<double>(k))), 1, kStage);
  double ll = 0.0;
  for (std::size_t b = 0; b < n; b += kStage) {
    const std::size_t len = std::min(kStage, n - b);
    const double* __restrict lx = log_x + b;
    const double* __restrict l1x = log1m_x + b;
    for (std::size_t j = 0; j < ks; ++j) {
      double* __restrict row = e + j * kStage;
      const double aj = am1[j], bj = bm1[j], cj = c[j];
      if (j == 0) {
#pragma omp simd
        for (std::size_t i = 0; i < len; ++i) {
          row[i] = m[i] = math::component_log_density(lx[i], l1x[i], aj, bj, cj);
        }
      } else {
#pragma omp simd
        for (std::size_t i = 0; i < len; ++i) {
          const double l = math::component_log_density(lx[i], l1x[i], aj, bj, cj);
          row[i] = l;
          m[i] = l > m[i] ? l : m[i];
        }
      }
    }
    for (std::size_t i = 0; i < len; ++i) s[i] = 0.0;
    for (std::size_t j = 0; j < ks; ++j) {
      double* __restrict row = e + j * kStage;
#pragma omp simd
      for (std::size_t i = 0; i < len; ++i) {
        const double x = InlineExp{}(row[i] - m[i]);
        row[i] = x;
        s[i] += x;
      }
    }
    double shift = 0.0;
    if constexpr (Weighted) {
#pragma omp simd reduction(+ : shift)
      for (std::size_t i = 0; i < len; ++i) shift += v[b + i] * (m[i] + std::log(s[i]));
    } else {
#pragma omp simd reduction(+ : shift)
      for (std::size_t i = 0; i < len; ++i) shift += m[i];
      for (std::size_t g = 0; g < len; g += group) {
        double prod = 1.0;
        const std::size_t end = std::min(len, g + group);
#pragma omp simd reduction(* : prod)
        for (std::size_t i = g; i < end; ++i) prod *= s[i];
        shift += std::log(prod);
      }
    }
    ll += shift;
#pragma omp simd
    for (std::size_t i = 0; i < len; ++i) s[i] = (Weighted ? v[b + i] : 1.0) / s[i];
    for (std::size_t j = 0; j < ks; ++j) {
      const double* __restrict row = e + j * kStage;
      double sn = 0.0, ss = 0.0, st = 0.0;
#pragma omp simd reduction(+ : sn, ss, st)
      for (std::size_t i = 0; i < len; ++i) {
        const double r = row[i] * s[i];
        sn += r;
        ss += r * lx[i];
        st += r * l1x[i];
      }
      sums[j] += sn;
      sums[ks + j] += ss;
      sums[2 * ks + j] += st;
    }
  }
  std::copy(sums, sums + 3 * ks, acc);
  acc[3 * ks] = ll;
}

using ChunkFn = void (*)(const double*, const double*, const double*, std::size_t, const double*,
                         const double*, const double*, double*);

template <int... Ks>
ChunkFn pick(int k, bool weighted, std::integer_sequence<int, Ks...>) {
  ChunkFn fn = nullptr;
  ((k == Ks + 1 ? (fn = weighted ? &chunk_fixed_k<Ks + 1, true> : &chunk_fixed_k<Ks + 1, false>)
                : fn),
   ...);
  return fn;
}

// K from which chunk_staged() is faster than chunk_fixed_k() (bench_cpu, 1 thread, N = 1e6,
// ms/pass fixed against staged: K = 4 2.52 / 3.11, K = 5 4.60 / 3.86, K = 6 5.90 / 4.43).
constexpr int kStagedFrom = 5;

}  // namespace

void cpu_pass_chunk(const double* log_x, const double* log1m_x, const double* v, std::size_t n,
                    int starts, int k, const double* am1, const double* bm1, const double* c,
                    double* acc) {
  const ChunkFn fn = pick(k, v != nullptr, std::make_integer_sequence<int, kStagedFrom - 1>{});
  for (int r = 0; r < starts; ++r) {
    const std::size_t off = static_cast<std::size_t>(r) * k;
    double* out = acc + static_cast<std::size_t>(r) * (3 * k + 1);
    if (k >= kStagedFrom) {
      (v ? &chunk_staged<true> : &chunk_staged<false>)(log_x, log1m_x, v, n, k, am1 + off,
                                                       bm1 + off, c + off, out);
    } else {
      fn(log_x, log1m_x, v, n, am1 + off, bm1 + off, c + off, out);
    }
  }
}

void cpu_moment_chunk(const double* log_x, const double* log1m_x, const double* v, std::size_t n,
                      int k, const double* am1, const double* bm1, const double* c, double* acc) {
  // Runs once per fit (for the standard errors): a plain loop over the sums is enough.
  const int width = math::moment_sum_count(k);
  std::vector<math::MomentSlot> slots(width);
  for (int i = 0; i < width; ++i) {
    slots[i] = math::moment_slot(k, i);
    acc[i] = 0.0;
  }
  std::vector<double> r(k);
  double m[math::kMoments];
  const math::ComponentView<double> comp{am1, bm1, c};
  for (std::size_t i = 0; i < n; ++i) {
    const double w = v ? v[i] : 1.0;
    const double vlp = w * math::mixture_responsibilities(log_x[i], log1m_x[i], comp, k, r.data());
    math::sample_moments(w, log_x[i], log1m_x[i], m);
    for (int s = 0; s < width; ++s) acc[s] += math::moment_term(slots[s], r.data(), m, vlp);
  }
}

}  // namespace betamix::detail
