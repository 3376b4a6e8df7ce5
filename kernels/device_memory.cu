// Host helpers for device memory: the size checks before any allocation (device memory, and
// host memory for data streamed from there), and the few device properties the backend reports
// (name) or sizes its grids by (SM count). No kernels here.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

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

void check_stream_memory(const std::string& what, std::size_t device_needed,
                         std::size_t device_free, std::size_t device_total,
                         const std::string& gpu_name, std::size_t host_needed,
                         std::size_t host_available) {
  if (host_needed <= host_available) return;
  throw DeviceError("device cuda: " + what + " need " + format_bytes(device_needed) +
                    " on the GPU, but only " + format_bytes(device_free) + " of " +
                    format_bytes(device_total) + " are free (" + gpu_name +
                    "), and streaming them from host memory needs " + format_bytes(host_needed) +
                    " of it, but only " + format_bytes(host_available) + " are available");
}

std::size_t host_available_memory() {
#ifdef __linux__
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f)) {
      found = std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1;
    }
    std::fclose(f);
    if (found) return static_cast<std::size_t>(kb) * 1024;
  }
#endif
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                               : 0;
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
