// Host helpers for device memory: the size check before any allocation, and the few device
// properties the backend reports (name) or sizes its grids by (SM count). No kernels here.

#include <cstdio>

#include "device_memory.cuh"

namespace betamix::detail {

std::string format_bytes(std::size_t bytes) {
  const double b = static_cast<double>(bytes);
  char text[32];
  if (b >= 1e9) {
    std::snprintf(text, sizeof(text), "%.1f GB", b / 1e9);
  } else if (b >= 1e6) {
    std::snprintf(text, sizeof(text), "%.1f MB", b / 1e6);
  } else if (b >= 1e3) {
    std::snprintf(text, sizeof(text), "%.1f kB", b / 1e3);
  } else {
    std::snprintf(text, sizeof(text), "%zu B", bytes);
  }
  return text;
}

void check_device_memory(const std::string& what, std::size_t needed, std::size_t free,
                         std::size_t total, const std::string& gpu_name) {
  if (needed <= free) return;
  throw DeviceError("device cuda: " + what + " need " + format_bytes(needed) +
                    " on the GPU, but only " + format_bytes(free) + " of " + format_bytes(total) +
                    " are free (" + gpu_name + ")");
}

void require_device_memory(const std::string& what, std::size_t needed) {
  std::size_t free = 0, total = 0;
  BETAMIX_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  if (needed > free) check_device_memory(what, needed, free, total, current_device_name());
}

void device_malloc(void** ptr, std::size_t bytes) {
  const cudaError_t status = cudaMalloc(ptr, bytes);
  if (status == cudaErrorMemoryAllocation) {
    static_cast<void>(cudaGetLastError());  // not sticky: clear it
    std::size_t free = 0, total = 0;
    BETAMIX_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    throw DeviceError("device cuda: allocating " + format_bytes(bytes) +
                      " on the GPU failed: out of memory, " + format_bytes(free) + " of " +
                      format_bytes(total) + " free (" + current_device_name() + ")");
  }
  cuda_check(status, "cudaMalloc(ptr, bytes)", __FILE__, __LINE__);
}

std::string current_device_name() {
  int device = 0;
  BETAMIX_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  BETAMIX_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

int current_device_sm_count() {
  int device = 0, sms = 0;
  BETAMIX_CUDA_CHECK(cudaGetDevice(&device));
  BETAMIX_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

}  // namespace betamix::detail
