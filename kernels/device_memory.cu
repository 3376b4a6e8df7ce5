// Host helpers for device memory: the size checks before any allocation (device memory, and
// host memory for data streamed from there), and the few device properties the backend reports
// (name) or sizes its grids by (SM count). No kernels here.

#include <unistd.h>

#include <algorithm>
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

std::size_t device_reserve(std::size_t device_total) {
  return std::max(std::size_t{256} << 20, device_total / 64);
}

Placement place_data(const std::string& what, std::size_t device_needed, std::size_t host_needed,
                     const MemoryInfo& memory, bool forced) {
  const std::size_t reserve = device_reserve(memory.device_total);
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

namespace {
#ifdef __linux__
// The first number in the file at `path` ("max" and unreadable files: false).
bool read_number(const char* path, unsigned long long& value) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  const bool ok = std::fscanf(f, "%llu", &value) == 1;
  std::fclose(f);
  return ok;
}
#endif
}  // namespace

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
    if (found) {
      unsigned long long available = kb * 1024, limit = 0, used = 0;
      if (read_number("/sys/fs/cgroup/memory.max", limit) &&
          read_number("/sys/fs/cgroup/memory.current", used)) {
        available = std::min(available, limit > used ? limit - used : 0);
      }
      return static_cast<std::size_t>(available);
    }
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
