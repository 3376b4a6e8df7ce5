// Stand-ins for the CUDA backend in a build without CUDA: every request for the GPU is a
// clear DeviceError.

#include "backend.hpp"
#include "betamix/error.hpp"

namespace betamix::detail {
namespace {
[[noreturn]] void no_cuda() {
  throw DeviceError(
      "device cuda: this betamix was built without CUDA support "
      "(rebuild where nvcc is available, or run on the CPU)");
}
}  // namespace

bool cuda_device_visible() { return false; }

std::unique_ptr<Backend> make_cuda_backend(const CudaDataOptions&) { no_cuda(); }

template <class Real>
void sample_cuda(const MixtureParams&, std::size_t, std::uint64_t, Real*, std::uint64_t) {
  no_cuda();
}
template void sample_cuda<float>(const MixtureParams&, std::size_t, std::uint64_t, float*,
                                 std::uint64_t);
template void sample_cuda<double>(const MixtureParams&, std::size_t, std::uint64_t, double*,
                                  std::uint64_t);

template <class Real>
void sample_cuda_device(const MixtureParams&, std::size_t, std::uint64_t, Real*) {
  no_cuda();
}
template void sample_cuda_device<float>(const MixtureParams&, std::size_t, std::uint64_t, float*);
template void sample_cuda_device<double>(const MixtureParams&, std::size_t, std::uint64_t, double*);

}  // namespace betamix::detail
