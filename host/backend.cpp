#include "backend.hpp"

#include <cmath>

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

std::unique_ptr<Backend> make_backend(Device device, int threads, std::string* note) {
  switch (device) {
    case Device::Cpu:
      return make_cpu_backend(threads);
    case Device::Cuda:
      return make_cuda_backend();
    case Device::Auto:
      break;
  }
  if (cuda_device_visible()) return make_cuda_backend();
  if (note) {
#ifdef BETAMIX_WITH_CUDA
    *note = "device auto: no CUDA device visible, running on the CPU";
#else
    *note = "device auto: this build has no CUDA support, running on the CPU";
#endif
  }
  return make_cpu_backend(threads);
}

}  // namespace betamix::detail
