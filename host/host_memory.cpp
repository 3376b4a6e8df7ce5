// Sizes of memory in messages, and the host memory a new allocation can take (host_memory.hpp).

#include "host_memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace betamix::detail {

std::string host_allocation_failure(double bytes, const std::string& what) {
  const std::string size = bytes < 0x1p64 ? format_bytes(static_cast<std::size_t>(bytes))
                                          : "more than " + format_bytes(SIZE_MAX);
  return size + " of host memory" + (what.empty() ? "" : " (" + what + ")") +
         ", but allocating it failed (the system reports " + format_bytes(host_available_memory()) +
         " available)";
}

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

namespace {

#ifdef __linux__
// The number after `key` on the first line of `path` that starts with it ("" : the file's
// first number). False when the file or the key is missing, or the value is not a number
// (cgroup's "max").
bool read_value(const char* path, const char* key, unsigned long long& value) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  bool found = false;
  char line[256];
  const std::size_t key_length = std::strlen(key);
  while (!found && std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, key_length) == 0) {
      found = std::sscanf(line + key_length, " %llu", &value) == 1;
      if (key_length == 0) break;
    }
  }
  std::fclose(f);
  return found;
}
#endif

}  // namespace

std::size_t host_available_memory() {
#ifdef __linux__
  unsigned long long kb = 0;
  if (read_value("/proc/meminfo", "MemAvailable:", kb)) {
    unsigned long long available = kb * 1024, limit = 0, used = 0, cache = 0;
    if (read_value("/sys/fs/cgroup/memory.max", "", limit) &&
        read_value("/sys/fs/cgroup/memory.current", "", used)) {
      if (read_value("/sys/fs/cgroup/memory.stat", "inactive_file", cache)) {
        used -= std::min(used, cache);
      }
      available = std::min(available, limit > used ? limit - used : 0ULL);
    }
    return static_cast<std::size_t>(available);
  }
#endif
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                               : 0;
}

}  // namespace betamix::detail
