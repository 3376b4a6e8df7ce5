#pragma once
// BETAMIX_CUDA_CHECK(call): every CUDA runtime call of the backend goes through it. A failure
// throws betamix::DeviceError carrying the call's text, the error string, file and line, e.g.
//
//   device cuda: cudaMalloc(&ptr, bytes) failed: out of memory (kernels/device_memory.cu:40)
//
// BETAMIX_CUDA_CHECK_LAUNCH() follows every kernel launch (launch errors are reported by
// cudaGetLastError, not by the launch itself).

#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#include "betamix/error.hpp"

namespace betamix::detail {

/// Throws DeviceError naming `call`, `file` and `line` unless `status` is cudaSuccess.
inline void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  // Clear a non-sticky error (e.g. a failed allocation) so that the next launch check does
  // not report it a second time.
  static_cast<void>(cudaGetLastError());
  throw DeviceError(std::string("device cuda: ") + call + " failed: " + cudaGetErrorString(status) +
                    " (" + file + ":" + std::to_string(line) + ")");
}

/// Takes the result of a call whose failure must not throw (destructors, clean-up after an
/// error) and drops it, clearing the error it may leave, so that the next launch check does
/// not blame an innocent kernel for it. A sticky error (the context is lost) stays and shows
/// in the next checked call.
inline void discard(cudaError_t) noexcept { static_cast<void>(cudaGetLastError()); }

/// count * sizeof(T) in bytes; a count so large that the product wraps is a DeviceError.
template <class T>
std::size_t array_bytes(std::size_t count) {
  if (count > static_cast<std::size_t>(-1) / sizeof(T)) {
    throw DeviceError("device cuda: an array of " + std::to_string(count) + " elements of " +
                      std::to_string(sizeof(T)) + " bytes is larger than memory can address");
  }
  return count * sizeof(T);
}

}  // namespace betamix::detail

#define BETAMIX_CUDA_CHECK(call) ::betamix::detail::cuda_check((call), #call, __FILE__, __LINE__)
#define BETAMIX_CUDA_CHECK_LAUNCH() BETAMIX_CUDA_CHECK(cudaGetLastError())
