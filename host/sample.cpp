// The CPU sampler: every sample i draws from its own Philox4x32-10 stream (seed, i), so the
// values do not depend on the number of threads or on how the range is split.

#include <omp.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_sampler.hpp"
#include "betamix/math/philox.hpp"
#include "host_memory.hpp"
#include "sample_tables.hpp"

namespace betamix {
namespace detail {

template <class Real>
void sample_cpu(const MixtureParams& params, std::size_t n, std::uint64_t seed, Real* out,
                int threads, std::uint64_t first) {
  check_threads(threads);
  const int k = static_cast<int>(params.k());
  const std::vector<Real> tables = detail::sample_tables<Real>(params);
  const math::SampleTables<const Real*> t = math::sample_tables_at(tables.data(), k);
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for num_threads(nt) schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    math::PhiloxStream rng(seed, first + i);
    out[i] = math::sample_mixture<Real>(t, rng);
  }
}

template void sample_cpu<float>(const MixtureParams&, std::size_t, std::uint64_t, float*, int,
                                std::uint64_t);
template void sample_cpu<double>(const MixtureParams&, std::size_t, std::uint64_t, double*, int,
                                 std::uint64_t);

namespace {
template <class Real>
void sample_on(const MixtureParams& params, std::uint64_t first, std::size_t n, std::uint64_t seed,
               Real* out, Device device) {
  params.validate();
  check_device(device);
  if (n > 0 && !out) {
    throw InputError("sample: a null output pointer for " + std::to_string(n) + " samples");
  }
  if (n > 0 && first > std::numeric_limits<std::uint64_t>::max() - (n - 1)) {
    throw InputError("sample_range: samples " + std::to_string(first) + " and " +
                     std::to_string(n) + " more run past the 2^64 indices of a seed's sequence");
  }
  if (device == Device::Cuda) {
    sample_cuda(params, n, seed, out, first);
    return;
  }
  // Auto falls back to the CPU when the GPU cannot draw after all (a DeviceError: out of
  // device memory, a failed launch); the CPU then writes every value.
  if (sample_device(params, device) == Device::Cuda) {
    try {
      sample_cuda(params, n, seed, out, first);
      return;
    } catch (const DeviceError&) {
    }
  }
  sample_cpu(params, n, seed, out, 0, first);
}
}  // namespace
}  // namespace detail

Device sample_device(const MixtureParams& params, Device device) {
  detail::check_device(device);
  if (device != Device::Auto) return device;
  return detail::cuda_device_visible() && static_cast<int>(params.k()) <= detail::kCudaSampleMaxK
             ? Device::Cuda
             : Device::Cpu;
}

void sample(const MixtureParams& params, std::size_t n, std::uint64_t seed, float* out,
            Device device) {
  detail::sample_on(params, 0, n, seed, out, device);
}

void sample(const MixtureParams& params, std::size_t n, std::uint64_t seed, double* out,
            Device device) {
  detail::sample_on(params, 0, n, seed, out, device);
}

void sample_range(const MixtureParams& params, std::uint64_t first, std::size_t n,
                  std::uint64_t seed, float* out, Device device) {
  detail::sample_on(params, first, n, seed, out, device);
}

void sample_range(const MixtureParams& params, std::uint64_t first, std::size_t n,
                  std::uint64_t seed, double* out, Device device) {
  detail::sample_on(params, first, n, seed, out, device);
}

void sample_on_device(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                      float* d_out) {
  params.validate();
  detail::sample_cuda_device(params, n, seed, d_out);
}

void sample_on_device(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                      double* d_out) {
  params.validate();
  detail::sample_cuda_device(params, n, seed, d_out);
}

std::vector<double> sample(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                           Device device) {
  std::vector<double> out;
  try {
    out.resize(n);
  } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
    throw DeviceError("sample: " + std::to_string(n) + " samples need " +
                      detail::host_allocation_failure(8.0 * static_cast<double>(n)));
  }
  sample(params, n, seed, out.data(), device);
  return out;
}

}  // namespace betamix
