#include "backend.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "betamix/error.hpp"
#include "betamix/math/moments.hpp"
#include "special.hpp"

namespace betamix::detail {

void PassConstants::resize(int n_starts, int n_components) {
  starts = n_starts;
  k = n_components;
  const std::size_t size = static_cast<std::size_t>(n_starts) * n_components;
  am1.assign(size, 0.0);
  bm1.assign(size, 0.0);
  c.assign(size, 0.0);
}

void PassConstants::set(int r, const MixtureParams& p) {
  for (int j = 0; j < k; ++j) {
    const std::size_t i = static_cast<std::size_t>(r) * k + j;
    am1[i] = p.alpha[j] - 1.0;
    bm1[i] = p.beta[j] - 1.0;
    c[i] = std::log(p.weights[j]) - log_beta(p.alpha[j], p.beta[j]);
  }
}

void PassStats::resize(int n_starts, int n_components) {
  starts = n_starts;
  k = n_components;
  const std::size_t size = static_cast<std::size_t>(n_starts) * n_components;
  n.assign(size, 0.0);
  s.assign(size, 0.0);
  t.assign(size, 0.0);
  ll.assign(n_starts, 0.0);
}

namespace {
// value - float(value), or 0 where the float is not finite (the -inf c of a component of
// weight 0, whose N, S and T are 0: inf - inf would make LL NaN).
double rounding(double value, float rounded) {
  return std::isfinite(rounded) ? value - static_cast<double>(rounded) : 0.0;
}

constexpr double kLog2e = 1.4426950408889634074;  // 1 / log 2
constexpr double kLn2 = 0.69314718055994530942;
}  // namespace

void float_pass_constants(const PassConstants& constants, float* out) {
  const std::size_t table = constants.am1.size();
  for (std::size_t i = 0; i < table; ++i) {
    out[i] = static_cast<float>(constants.am1[i]);
    out[table + i] = static_cast<float>(constants.bm1[i]);
    out[2 * table + i] = static_cast<float>(constants.c[i] * kLog2e);
  }
}

void PassStats::assign_float_pass(const PassConstants& constants, const float* rounded,
                                  const double* totals) {
  resize(constants.starts, constants.k);
  const std::size_t table = static_cast<std::size_t>(starts) * k;
  const std::size_t width = 3 * static_cast<std::size_t>(k) + 1;
  const double* p = totals;
  for (int r = 0; r < starts; ++r, p += width) {
    double ll2 = p[3 * k];
    for (int j = 0; j < k; ++j) {
      const std::size_t i = static_cast<std::size_t>(r) * k + j;
      const double s2 = p[k + j], t2 = p[2 * k + j];
      n[i] = p[j];
      s[i] = s2 * kLn2;
      t[i] = t2 * kLn2;
      // The pass evaluated l2' = float(c2) + float(am1) log2 x + float(bm1) log2(1-x). With
      // d = c2 - float(c2) + (am1 - float(am1)) log2 x + (bm1 - float(bm1)) log2(1-x),
      // ~1e-7 |l2|, log2-sum-exp2(l2' + d) = L2' + sum_k r'_k d_k + O(d^2), so summed over the
      // samples LL2 = LL2' + sum_k (dc2_k N_k + dam1_k S2_k + dbm1_k T2_k) to first order. This
      // removes the rounding of the constants, the same for every sample, from LL, leaving the
      // per-sample rounding that averages out (and the N, S, T of the rounded constants).
      ll2 += rounding(constants.c[i] * kLog2e, rounded[2 * table + i]) * n[i] +
             rounding(constants.am1[i], rounded[i]) * s2 +
             rounding(constants.bm1[i], rounded[table + i]) * t2;
    }
    ll[r] = ll2 * kLn2;
  }
}

void MomentStats::assign(int n_components, const double* sums) {
  k = n_components;
  const std::size_t kk = static_cast<std::size_t>(k);
  single.assign(sums, sums + kMoments * kk);
  pair.assign(kMoments * kk * kk, 0.0);
  const int width = math::moment_sum_count(k);
  for (int i = kMoments * k; i + 1 < width; ++i) {
    const math::MomentSlot slot = math::moment_slot(k, i);
    pair[(slot.q * kk + slot.j) * kk + slot.l] = sums[i];
    pair[(slot.q * kk + slot.l) * kk + slot.j] = sums[i];
  }
  ll = sums[width - 1];
}

double float_weight_scale(const double* case_weights, std::size_t n) {
  double largest = 0.0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, case_weights[i]);
  if (!(largest > 0.0) || (largest >= 0x1p-64 && largest <= 0x1p64)) return 1.0;
  int e = 0;
  std::frexp(largest, &e);  // largest = m 2^e, m in [1/2, 1)
  // A subnormal largest (e < -1022) needs more than 2^1023, the largest power of two a double
  // holds: 2^1023 brings it to at least 2^-51, still well inside float32's range.
  return std::ldexp(1.0, std::min(-e, 1023));
}

void check_device(Device device) {
  const int v = static_cast<int>(device);
  if (v < static_cast<int>(Device::Auto) || v > static_cast<int>(Device::Cuda)) {
    throw InputError("device " + std::to_string(v) + " is not one of its values");
  }
}

std::unique_ptr<Backend> make_backend(Device device, int threads, std::string* note, int max_k) {
  check_device(device);
  switch (device) {
    case Device::Cpu:
      return make_cpu_backend(threads);
    case Device::Cuda:
      return make_cuda_backend();
    case Device::Auto:
      break;
  }
  std::string why;
  if (!cuda_device_visible()) {
#ifdef BETAMIX_WITH_CUDA
    why = "no CUDA device visible";
#else
    why = "this build has no CUDA support";
#endif
  } else if (max_k > kCudaPassMaxK) {
    why = "k = " + std::to_string(max_k) + " is above the " + std::to_string(kCudaPassMaxK) +
          " components the GPU passes take";
  } else {
    try {
      return make_cuda_backend();
    } catch (const DeviceError& e) {
      why = std::string("the GPU is visible but cannot be used (") + e.what() + ")";
    }
  }
  if (note) *note = "device auto: " + why + ", running on the CPU";
  return make_cpu_backend(threads);
}

void load_or_fall_back(std::unique_ptr<Backend>& backend, Device device, int threads,
                       std::string* note, const double* x, const double* case_weights,
                       std::size_t n) {
  try {
    backend->load(x, case_weights, n);
    return;
  } catch (const DeviceError& e) {
    if (device != Device::Auto || std::string(backend->name()) == "cpu") throw;
    backend.reset();  // its device memory back before the CPU takes over
    if (note) {
      *note = std::string("device auto: the GPU could not take the data (") + e.what() +
              "), running on the CPU";
    }
  }
  backend = make_cpu_backend(threads);
  backend->load(x, case_weights, n);
}

std::unique_ptr<Backend> load_backend(Device device, int threads, std::string* note, int max_k,
                                      const double* x, const double* case_weights, std::size_t n) {
  std::unique_ptr<Backend> backend = make_backend(device, threads, note, max_k);
  load_or_fall_back(backend, device, threads, note, x, case_weights, n);
  return backend;
}

}  // namespace betamix::detail
