#pragma once
// Sizes of memory in messages, and how much host memory a new allocation can take: used by the
// backends to say how much they needed when memory runs out (CPU), and to decide whether data
// too large for the GPU can be streamed from host memory (CUDA).

#include <cstddef>
#include <string>

namespace betamix::detail {

/// "512 B", "4.5 kB", "4.0 MB", "4.0 GB" (decimal units, one decimal).
std::string format_bytes(std::size_t bytes);

/// Bytes of host memory available to a new allocation without swapping: on Linux MemAvailable
/// of /proc/meminfo, capped by a cgroup (v2) memory.max less the cgroup's memory.current net
/// of its reclaimable file cache (inactive_file) where a limit is set, as in containers;
/// elsewhere the free physical pages.
std::size_t host_available_memory();

/// The end of a message for a host allocation that failed: "<bytes> of host memory[ (<what>)],
/// but allocating it failed (the system reports <available> available)". `bytes` is a double
/// so that counts beyond 2^64 bytes read "more than 18446744.1 TB".
std::string host_allocation_failure(double bytes, const std::string& what = "");

}  // namespace betamix::detail
