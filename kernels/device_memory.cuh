#pragma once
// Owners of device memory, host memory (page-locked where granted), streams, events, graphs
// and the current device; the checks that turn "not enough memory" into a DeviceError naming
// the sizes before anything is allocated; and the rule that places data on the device or in
// host memory. Destructors release their resource and never throw.

#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda_check.cuh"
#include "host_memory.hpp"  // format_bytes, host_available_memory

namespace betamix::detail {

/// cudaMalloc of `bytes` into *ptr; out of memory is a DeviceError that says how much was asked
/// for and how much is free (other failures as BETAMIX_CUDA_CHECK).
void device_malloc(void** ptr, std::size_t bytes);

/// cudaMallocHost() that throws DeviceError naming the size (and the CUDA error) on failure.
void pinned_malloc(void** ptr, std::size_t bytes);

/// malloc() that throws DeviceError naming the size instead of returning nullptr; host_free()
/// releases it.
void* host_malloc(std::size_t bytes);
void host_free(void* p) noexcept;

/// `count` elements of T in device memory (uninitialised), freed by the destructor.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : size_(count) {
    if (count > 0) {
      void* p = nullptr;
      device_malloc(&p, array_bytes<T>(count));
      data_ = static_cast<T*>(p);
    }
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  void release() noexcept {
    if (data_) discard(cudaFree(data_));
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// `count` elements of T in page-locked host memory, so that async copies are truly async.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t count) : size_(count) {
    if (count > 0) {
      void* p = nullptr;
      pinned_malloc(&p, array_bytes<T>(count));
      data_ = static_cast<T*>(p);
    }
  }
  PinnedBuffer(PinnedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept {
    if (data_) discard(cudaFreeHost(data_));
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// `count` elements of T in host memory, page-locked when the system grants it (so that copies
/// to the device run at full speed and overlap with kernels), else ordinary memory (copies then
/// go through the driver's staging buffer: correct, slower). Out of host memory is a
/// DeviceError naming the size. Uninitialised; freed by the destructor.
template <class T>
class HostArray {
 public:
  HostArray() = default;
  explicit HostArray(std::size_t count) : size_(count) {
    if (count == 0) return;
    void* p = nullptr;
    const std::size_t bytes = array_bytes<T>(count);
    if (cudaMallocHost(&p, bytes) == cudaSuccess) {
      pinned_ = true;
    } else {
      static_cast<void>(cudaGetLastError());  // an allocation failure is not sticky
      p = host_malloc(bytes);
    }
    data_ = static_cast<T*>(p);
  }
  HostArray(HostArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        pinned_(std::exchange(other.pinned_, false)) {}
  HostArray& operator=(HostArray&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      pinned_ = std::exchange(other.pinned_, false);
    }
    return *this;
  }
  HostArray(const HostArray&) = delete;
  HostArray& operator=(const HostArray&) = delete;
  ~HostArray() { release(); }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool pinned() const { return pinned_; }

 private:
  void release() noexcept {
    if (data_) {
      if (pinned_) {
        discard(cudaFreeHost(data_));
      } else {
        host_free(data_);
      }
    }
    data_ = nullptr;
    size_ = 0;
    pinned_ = false;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  bool pinned_ = false;
};

/// Makes `device` the current device for its lifetime, then gives the caller's back.
class DeviceScope {
 public:
  explicit DeviceScope(int device) : device_(device) {
    BETAMIX_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device_) BETAMIX_CUDA_CHECK(cudaSetDevice(device_));
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  ~DeviceScope() {
    if (previous_ != device_) discard(cudaSetDevice(previous_));
  }

 private:
  int device_ = 0;
  int previous_ = 0;
};

/// A non-blocking CUDA stream.
class CudaStream {
 public:
  CudaStream() { BETAMIX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  ~CudaStream() { discard(cudaStreamDestroy(stream_)); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// A CUDA event: for timing (the default), or with cudaEventDisableTiming for ordering work
/// between streams.
class CudaEvent {
 public:
  explicit CudaEvent(unsigned flags = cudaEventDefault) {
    BETAMIX_CUDA_CHECK(cudaEventCreateWithFlags(&event_, flags));
  }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent() { discard(cudaEventDestroy(event_)); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

/// An instantiated CUDA graph: the work that one call of `enqueue` puts on a stream, captured
/// once and replayed by launch() with one API call (the kernels' arguments, the buffers and the
/// copy sizes are fixed at capture). Move-only; the destructor frees it.
class CudaGraph {
 public:
  CudaGraph() = default;
  CudaGraph(CudaGraph&& other) noexcept
      : graph_(std::exchange(other.graph_, nullptr)), exec_(std::exchange(other.exec_, nullptr)) {}
  CudaGraph& operator=(CudaGraph&& other) noexcept {
    if (this != &other) {
      release();
      graph_ = std::exchange(other.graph_, nullptr);
      exec_ = std::exchange(other.exec_, nullptr);
    }
    return *this;
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;
  ~CudaGraph() { release(); }

  /// Captures what `enqueue()` puts on `stream` (which must not be capturing already). The
  /// work must use only device and pinned host memory, and allocate nothing.
  template <class Enqueue>
  static CudaGraph capture(cudaStream_t stream, Enqueue&& enqueue) {
    BETAMIX_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    CudaGraph out;
    try {
      enqueue();
    } catch (...) {
      // Leave the stream usable: end the capture and drop what it recorded.
      cudaGraph_t partial = nullptr;
      static_cast<void>(cudaStreamEndCapture(stream, &partial));
      if (partial) static_cast<void>(cudaGraphDestroy(partial));
      static_cast<void>(cudaGetLastError());
      throw;
    }
    BETAMIX_CUDA_CHECK(cudaStreamEndCapture(stream, &out.graph_));
    BETAMIX_CUDA_CHECK(cudaGraphInstantiate(&out.exec_, out.graph_, 0));
    return out;
  }

  explicit operator bool() const { return exec_ != nullptr; }

  /// Runs the captured work on `stream`.
  void launch(cudaStream_t stream) const {
    BETAMIX_CUDA_CHECK(cudaGraphLaunch(exec_, stream));
    launches_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Graph launches in this process so far: lets a test see that replays happen at all (a
  /// capture that fails falls back to plain calls, which give the same bits).
  static std::uint64_t launch_count() { return launches_.load(std::memory_order_relaxed); }

 private:
  void release() noexcept {
    if (exec_) discard(cudaGraphExecDestroy(exec_));
    if (graph_) discard(cudaGraphDestroy(graph_));
    exec_ = nullptr;
    graph_ = nullptr;
  }
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  static inline std::atomic<std::uint64_t> launches_{0};
};

/// Throws DeviceError unless `needed` bytes fit into `free`:
///   "device cuda: <what> need 4.0 GB on the GPU, but only 1.2 GB of 80.0 GB are free (<gpu>)"
/// Pure function of its arguments, so it is testable without a GPU.
void check_device_memory(const std::string& what, std::size_t needed, std::size_t free,
                         std::size_t total, const std::string& gpu_name);

/// What place_data() decides by.
struct MemoryInfo {
  std::size_t device_free = 0, device_total = 0;  // cudaMemGetInfo
  std::size_t host_available = 0;                 // host_available_memory()
  std::size_t kernel_local = 0;                   // pass_local_memory_bytes() (pass.cuh)
  std::string gpu_name;
};

/// Device memory that data leave free for everything else (the kernels' local memory, the
/// passes' scratch, other processes): 1/64 of the device, at least 256 MiB, and at least
/// `kernel_local` (the local memory the driver sets aside when the kernel with the largest
/// per-thread stack first runs) plus 128 MiB.
std::size_t device_reserve(std::size_t device_total, std::size_t kernel_local = 0);

/// Where the CUDA backend keeps data: on the device, or in host memory, streamed to the device
/// in chunks by every pass.
enum class Placement { Device, Host };

/// The device when `device_needed` bytes fit into the free device memory less device_reserve()
/// (of memory.device_total and memory.kernel_local), and streaming is not `forced`; else host
/// memory when `host_needed` fits there; else the device still when they fit into its free
/// memory at all (eating into the reserve); else a DeviceError naming every size:
///   "device cuda: <what> need 4.0 GB on the GPU, but only 1.2 GB of 80.0 GB are free (<gpu>),
///    and streaming them from host memory needs 4.1 GB of it, but only 2.0 GB are available"
/// Forced streaming that does not fit into host memory is an error too. A pure function, so
/// that it is testable without a GPU.
Placement place_data(const std::string& what, std::size_t device_needed, std::size_t host_needed,
                     const MemoryInfo& memory, bool forced);

/// check_device_memory() against cudaMemGetInfo on the current device.
void require_device_memory(const std::string& what, std::size_t needed);

/// Name of the current device ("NVIDIA H100 80GB HBM3").
std::string current_device_name();

/// Number of streaming multiprocessors of the current device.
int current_device_sm_count();

}  // namespace betamix::detail
