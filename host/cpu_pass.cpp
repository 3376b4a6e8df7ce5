// The CPU pass: for each sample of a chunk, the K weighted component log-densities, their
// log-sum-exp and the responsibilities (betamix/math/beta_math.hpp), accumulated in double
// into N_k, S_k, T_k and LL. The loop over samples is an `omp simd` loop so that exp and log
// run through glibc's vector math (libmvec). That needs -ffast-math, which this file alone is
// compiled with (CMakeLists.txt): it never sees a NaN, because the data were validated and
// the constants are finite, and the fitting loop checks the totals outside fast-math code.

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
// (a call to a vector exp forces every accumulator of the loop out of registers). It pays
// for K <= 4; with more components the loop is long enough to hide the calls, and libmvec's
// exp is faster (bench_cpu, 1 thread, N = 1e6: K = 2 2.97 vs 4.73 ms, K = 8 23.9 vs 17.1 ms).
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

// The loop over samples with a compile-time K, so that the per-sample loops over components
// unroll and the sample loop vectorises.
template <int K, bool Weighted>
void chunk_fixed_k(const double* __restrict log_x, const double* __restrict log1m_x,
                   const double* __restrict v, std::size_t n, const double* am1, const double* bm1,
                   const double* c, double* acc) {
  // Without case weights, sum_i log s_i is taken as the log of the product of the s_i over
  // blocks: one log per block instead of one per sample. Each s_i lies in [1, K], so a block of
  // B samples keeps the product below K^B <= 2^512 (B = 512 for K = 2, 128 up to K = 16);
  // longer blocks also spend less on the vector reductions at their ends.
  constexpr std::size_t kLogBlock = K <= 2 ? 512 : K <= 4 ? 256 : 128;
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
      if constexpr (K <= 4) {
        math::mixture_responsibilities_split(lx, l1x, comp, K, r, m, s, InlineExp{});
      } else {
        math::mixture_responsibilities_split(lx, l1x, comp, K, r, m, s);
      }
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

// Any K, scalar: used above the largest compile-time K.
void chunk_any_k(const double* log_x, const double* log1m_x, const double* v, std::size_t n, int k,
                 const double* am1, const double* bm1, const double* c, double* acc) {
  std::vector<double> r(k);
  for (int j = 0; j < 3 * k + 1; ++j) acc[j] = 0.0;
  const math::ComponentView<double> comp{am1, bm1, c};
  for (std::size_t i = 0; i < n; ++i) {
    const double w = v ? v[i] : 1.0;
    acc[3 * k] += w * math::mixture_responsibilities(log_x[i], log1m_x[i], comp, k, r.data());
    for (int j = 0; j < k; ++j) {
      const double wr = w * r[j];
      acc[j] += wr;
      acc[k + j] += wr * log_x[i];
      acc[2 * k + j] += wr * log1m_x[i];
    }
  }
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

constexpr int kMaxFixedK = 16;

}  // namespace

void cpu_pass_chunk(const double* log_x, const double* log1m_x, const double* v, std::size_t n,
                    int starts, int k, const double* am1, const double* bm1, const double* c,
                    double* acc) {
  const ChunkFn fn = pick(k, v != nullptr, std::make_integer_sequence<int, kMaxFixedK>{});
  for (int r = 0; r < starts; ++r) {
    const std::size_t off = static_cast<std::size_t>(r) * k;
    double* out = acc + static_cast<std::size_t>(r) * (3 * k + 1);
    if (fn) {
      fn(log_x, log1m_x, v, n, am1 + off, bm1 + off, c + off, out);
    } else {
      chunk_any_k(log_x, log1m_x, v, n, k, am1 + off, bm1 + off, c + off, out);
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
