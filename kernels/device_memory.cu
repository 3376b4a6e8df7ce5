// Host helpers for device memory: the size checks before any allocation (device memory, and
// host memory for data streamed from there), and the few device properties the backend reports
// (name) or sizes its grids by (SM count). No kernels here.

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "device_memory.cuh"

namespace betamix::detail {

void check_device_memory(const std::string& what, std::size_t needed, std::size_t free,
                         std::size_t total, const std::string& gpu_name) {
  if (needed <= free) return;
  throw DeviceError("device cuda: " + what + " need " + format_bytes(needed) +
                    " on the GPU, but only " + format_bytes(free) + " of " + format_bytes(total) +
                    " are free (" + gpu_name + ")");
}

std::size_t device_reserve(std::size_t device_total, std::size_t kernel_local) {
  return std::max(
      {std::size_t{256} << 20, device_total / 64, kernel_local + (std::size_t{128} << 20)});
}

Placement place_data(const std::string& what, std::size_t device_needed, std::size_t host_needed,
                     const MemoryInfo& memory, bool forced) {
  const std::size_t reserve = device_reserve(memory.device_total, memory.kernel_local);
  const std::size_t room = memory.device_free > reserve ? memory.device_free - reserve : 0;
  if (!forced && device_needed <= room) return Placement::Device;
  if (host_needed <= memory.host_available) return Placement::Host;
  const std::string host = format_bytes(host_needed) + " of it, but only " +
                           format_bytes(memory.host_available) + " are available";
  if (forced) {
    throw DeviceError("device cuda: streaming " + what + " from host memory (as asked) needs " +
                      host);
  }
  if (device_needed <= memory.device_free) return Placement::Device;
  throw DeviceError("device cuda: " + what + " need " + format_bytes(device_needed) +
                    " on the GPU, but only " + format_bytes(memory.device_free) + " of " +
                    format_bytes(memory.device_total) + " are free (" + memory.gpu_name +
                    "), and streaming them from host memory needs " + host);
}

void* host_malloc(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (!p && bytes > 0) {
    throw DeviceError("device cuda: allocating " + format_bytes(bytes) +
                      " of host memory failed: out of memory");
  }
  return p;
}

void host_free(void* p) noexcept { std::free(p); }

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

void pinned_malloc(void** ptr, std::size_t bytes) {
  const cudaError_t status = cudaMallocHost(ptr, bytes);
  if (status != cudaSuccess) {
    static_cast<void>(cudaGetLastError());  // an allocation failure is not sticky: clear it
    throw DeviceError("device cuda: allocating " + format_bytes(bytes) +
                      " of page-locked host memory failed: " + cudaGetErrorString(status));
  }
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
