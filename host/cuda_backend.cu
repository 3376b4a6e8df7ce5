// The CUDA backend (host side): the Backend implementation over the kernels in kernels/, the
// GPU sampler's host entry point, and the device probe.
//
//   load(): picks the layout (float32 x, or float32 log x and log1p(-x) where x is too close
//           to 1; kernels/data_layout.cuh), then uploads the double input once, in chunks,
//           converting it on the device. Data that do not fit on the device (checked before
//           the input is read) are converted the same way but kept in host memory ("streamed"):
//           every pass then copies them in chunk by chunk, alternating two chunk buffers and
//           two streams so that one chunk's copy overlaps the other's kernels, and adds the
//           chunks' totals in chunk order on the host.
//   pass(): constants (float) -> pinned -> device, launch_pass (pass + fixed-order combine),
//           totals (double) -> pinned host, one stream synchronisation. The three steps are
//           a CUDA graph, captured at the second pass of each shape (the first loads the
//           kernels) and replayed while the shapes and buffers stay (BETAMIX_CUDA_GRAPHS=0
//           turns that off).
//   moment_pass(), posteriors(): once per fit or per chunk of `predict`, in double
//           (kernels/moment_pass.cu, kernels/posteriors.cu).
//
// The grid of the pass is chosen once per (load, k) from the device's SM count (and the chunk
// size) and kept, so repeated passes over the same data give bit-identical statistics.

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/error.hpp"
#include "betamix/math/moments.hpp"
#include "cuda_check.cuh"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "moment_pass.cuh"
#include "pass.cuh"
#include "posteriors.cuh"
#include "sampler.cuh"

static_assert(betamix::detail::kPassMaxK == betamix::detail::kCudaPassMaxK &&
                  betamix::detail::kMomentMaxK == betamix::detail::kCudaPassMaxK,
              "make_backend() sends Device::Auto to the CPU above kCudaPassMaxK components");

namespace betamix::detail {
namespace {

// Samples converted per chunk in load(): bounds the double staging buffer to 128 MB.
constexpr std::size_t kLoadChunk = std::size_t{1} << 24;
// Samples per chunk of data streamed from host memory, by default (64 MB per float32 array).
constexpr std::size_t kStreamChunk = std::size_t{1} << 24;
// Most doubles of output per launch of the posteriors (64 MB; two such buffers when streamed).
constexpr std::size_t kPosteriorValues = std::size_t{1} << 23;
// Samples drawn per chunk in sample_cuda(): bounds the device output buffer (512 MB of double).
constexpr std::size_t kSampleChunk = std::size_t{1} << 26;
// Upper bound of pass_grid_size(): 256-thread blocks, at most 2048 resident threads per SM.
constexpr int kMaxPassBlocksPerSm = 8;

void require_visible_device() {
  if (!cuda_device_visible()) {
    throw DeviceError(
        "device cuda: no CUDA device is visible (check the driver and CUDA_VISIBLE_DEVICES), "
        "or run on the CPU");
  }
}

std::size_t round_up4(std::size_t n) { return (n + 3) / 4 * 4; }

// Most samples one load takes: 2^58, so that no byte count of the data (at most 16 bytes a
// sample with its padding) wraps.
constexpr std::size_t kMaxSamples = std::size_t{1} << 58;

// Grows `buffer` to at least `count` elements (contents are not kept).
template <class Buffer>
void ensure_size(Buffer& buffer, std::size_t count) {
  if (buffer.size() >= count) return;
  buffer = Buffer();
  buffer = Buffer(count);
}

// The shapes and buffers a captured pass graph was made for.
struct PassGraphKey {
  std::array<std::size_t, 4> sizes{};    // n, starts, k, grid
  std::array<const void*, 8> buffers{};  // every pointer the graph's nodes read or write
  bool operator==(const PassGraphKey& o) const { return sizes == o.sizes && buffers == o.buffers; }
};

// BETAMIX_CUDA_GRAPHS=0 in the environment runs each pass as separate calls (for comparison
// and debugging); anything else, or nothing, replays a captured graph.
bool graphs_enabled() {
  const char* value = std::getenv("BETAMIX_CUDA_GRAPHS");
  return !(value && std::string(value) == "0");
}

// BETAMIX_CUDA_STREAM_CHUNK=N: stream the data from host memory in chunks of N samples.
CudaDataOptions options_from_environment() {
  CudaDataOptions options;
  const char* value = std::getenv("BETAMIX_CUDA_STREAM_CHUNK");
  if (!value) return options;
  const std::string text(value);
  const bool digits = !text.empty() && text.size() <= 15 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  const unsigned long long chunk = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (chunk == 0) {
    throw DeviceError(
        "device cuda: BETAMIX_CUDA_STREAM_CHUNK must be a positive whole number of samples per "
        "chunk (at most 15 digits), got '" +
        text + "'");
  }
  options.force_stream = true;
  options.stream_chunk = static_cast<std::size_t>(chunk);
  return options;
}

// One chunk of the data as a kernel reads it (the layout of launch_pass(), pass.cuh).
struct Chunk {
  std::size_t index = 0;   // 0, 1, ... in the order of the data
  std::size_t offset = 0;  // of its first sample
  std::size_t size = 0;    // samples
  const float* a = nullptr;
  const float* b = nullptr;  // nullptr for DataLayout::X
  const float* v = nullptr;  // nullptr without case weights
  cudaStream_t stream = nullptr;
  int slot = 0;  // 0 or 1: which of two sets of per-chunk scratch buffers to use
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaDataOptions& options)
      : options_(options),
        use_graphs_(graphs_enabled()),
        ordering_{CudaEvent(cudaEventDisableTiming), CudaEvent(cudaEventDisableTiming)} {
    BETAMIX_CUDA_CHECK(cudaGetDevice(&device_));
    device_name_ = current_device_name();
    kernel_local_ = pass_local_memory_bytes();
  }

  // The CUDA objects are destroyed with the backend's device current (so that none creates a
  // context on another device), and then the caller's device is current again.
  ~CudaBackend() override {
    int current = 0;
    if (cudaGetDevice(&current) == cudaSuccess && current != device_ &&
        cudaSetDevice(device_) == cudaSuccess) {
      restore_.device = current;
    }
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  std::string device_name() const override {
    if (!streamed_) return device_name_;
    const bool pinned =
        h_a_.pinned() && (h_b_.size() == 0 || h_b_.pinned()) && (h_v_.size() == 0 || h_v_.pinned());
    return device_name_ + ", data streamed from " + (pinned ? "page-locked " : "") +
           "host memory in chunks of " + std::to_string(chunk_);
  }
  std::size_t size() const override { return n_; }
  double total_weight() const override { return total_weight_; }
  /// The per-sample math of the pass is float32.
  double roundoff() const override { return 0x1p-24; }

  void load(const double* x, const double* case_weights, std::size_t n) override {
    // Far above any memory, and low enough that no byte count below wraps.
    if (n > kMaxSamples) {
      throw DeviceError("device cuda: " + std::to_string(n) +
                        " samples are more than the GPU backend can address (at most " +
                        std::to_string(kMaxSamples) + ")");
    }
    const DeviceScope on_device(device_);
    release_data();
    // Weights far outside float32's comfortable range are scaled by a power of two (exact)
    // before they are rounded to float, and every weighted sum is scaled back.
    std::vector<double> scaled_weights;
    weight_scale_ = case_weights ? float_weight_scale(case_weights, n) : 1.0;
    if (weight_scale_ != 1.0) {
      scaled_weights.assign(case_weights, case_weights + n);
      for (double& v : scaled_weights) v *= weight_scale_;
      case_weights = scaled_weights.data();
    }
    const std::size_t padded = round_up4(n);  // whole float4 groups
    const std::size_t weight_bytes = case_weights ? padded * sizeof(float) : 0;
    const std::size_t partials_bytes =
        pass_partials_size(1, kPassMaxFixedK, current_device_sm_count() * kMaxPassBlocksPerSm) *
        sizeof(double);
    const std::size_t scratch_bytes = std::min(n, kLoadChunk) * sizeof(double) + partials_bytes;
    const auto resident_bytes = [&](DataLayout layout) {
      return padded * layout_bytes_per_sample(layout) + weight_bytes + scratch_bytes;
    };
    const auto host_bytes = [&](DataLayout layout) {
      return padded * layout_bytes_per_sample(layout) + weight_bytes;
    };
    const std::string what =
        std::to_string(n) + " samples" + (case_weights ? " with case weights" : "");
    const std::string what_x = what + " (float32)";
    const std::string what_pair = what + " (float32 log x and log(1-x), as some lie close to 1)";
    MemoryInfo memory;
    BETAMIX_CUDA_CHECK(cudaMemGetInfo(&memory.device_free, &memory.device_total));
    memory.host_available = host_available_memory();
    memory.kernel_local = kernel_local_;
    memory.gpu_name = device_name_;
    const bool forced = options_.force_stream && n > 0;
    // Decided before the input is read: even the smaller layout must fit somewhere.
    Placement place = place_data(what_x, resident_bytes(DataLayout::X), host_bytes(DataLayout::X),
                                 memory, forced);
    layout_ = choose_data_layout(x, n);
    if (layout_ == DataLayout::LogPair) {
      place = place_data(what_pair, resident_bytes(layout_), host_bytes(layout_), memory, forced);
    }
    try {
      if (place == Placement::Host && n > 0) {
        load_streamed(x, case_weights, n, layout_ == DataLayout::X ? what_x : what_pair);
      } else {
        load_resident(x, case_weights, n);
      }
    } catch (...) {
      release_data();  // nothing half-loaded stays (page-locked host memory above all)
      throw;
    }

    if (case_weights) {
      // The sum of the weights as the pass sees them (float32), so that sum_k N_k = total.
      total_weight_ = 0.0;
      for (std::size_t i = 0; i < n; ++i) total_weight_ += static_cast<float>(case_weights[i]);
      total_weight_ /= weight_scale_;
    } else {
      total_weight_ = static_cast<double>(n);
    }
    n_ = n;
  }

  void pass(const PassConstants& constants, PassStats& out) override {
    const int starts = constants.starts, k = constants.k;
    out.resize(starts, k);
    if (starts < 1 || k < 1 || n_ == 0) return;
    const DeviceScope on_device(device_);
    const cudaStream_t stream = stream_.get();
    const int grid = grid_for(k);
    const std::size_t table = static_cast<std::size_t>(starts) * k;
    const std::size_t width = 3 * static_cast<std::size_t>(k) + 1;
    ensure_size(h_constants_, 3 * table);
    ensure_size(d_constants_, 3 * table);
    ensure_size(d_partials_, pass_partials_size(starts, k, grid));
    ensure_size(d_totals_, starts * width);
    ensure_size(h_totals_, starts * width);

    float* h = h_constants_.data();
    float_pass_constants(constants, h);
    if (streamed_) {
      pass_streamed(starts, k, grid, h);
      unscale_weighted_sums(h_totals_.data(), starts * width);
      out.assign_float_pass(constants, h, h_totals_.data());
      return;
    }
    // Constants in, the two kernels, totals out: captured once as a graph and replayed, which
    // costs one API call per iteration instead of four.
    const auto enqueue = [&] {
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants_.data(), h, 3 * table * sizeof(float),
                                         cudaMemcpyHostToDevice, stream));
      launch_pass(n_, starts, k, grid, a_.data(), b_.data(), v_.data(), d_constants_.data(),
                  d_partials_.data(), d_totals_.data(), stream);
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(h_totals_.data(), d_totals_.data(),
                                         starts * width * sizeof(double), cudaMemcpyDeviceToHost,
                                         stream));
    };
    // Everything a graph bakes in: a change of any of it means a new capture. A new shape runs
    // once call by call first, so that its kernels are loaded (CUDA loads modules lazily)
    // before a capture records them; the second pass of that shape is captured.
    const PassGraphKey key{
        {n_, static_cast<std::size_t>(starts), static_cast<std::size_t>(k),
         static_cast<std::size_t>(grid)},
        {a_.data(), b_.data(), v_.data(), d_constants_.data(), d_partials_.data(), d_totals_.data(),
         h_constants_.data(), h_totals_.data()}};
    if (use_graphs_ && graph_ && key == graph_key_) {
      graph_.launch(stream);
    } else if (use_graphs_ && key == warm_key_) {
      graph_ = CudaGraph();
      try {
        graph_ = CudaGraph::capture(stream, enqueue);
      } catch (const DeviceError&) {
        // A capture that fails (the stream is left usable) costs the saving, not the pass:
        // from here on this backend issues its passes call by call. A real fault shows in
        // the plain pass below.
        use_graphs_ = false;
      }
      if (graph_) {
        graph_key_ = key;
        graph_.launch(stream);
      } else {
        enqueue();
      }
    } else {
      enqueue();
      warm_key_ = key;
    }
    // Also keeps h_constants_ from being rewritten while the copy above may still read it.
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));

    unscale_weighted_sums(h_totals_.data(), starts * width);
    out.assign_float_pass(constants, h, h_totals_.data());
  }

  void moment_pass(const PassConstants& constants, MomentStats& out) override {
    const int k = constants.k;
    if (k > kMomentMaxK) {
      throw DeviceError("device cuda: the GPU moment pass supports at most " +
                        std::to_string(kMomentMaxK) + " components, got k = " + std::to_string(k));
    }
    const DeviceScope on_device(device_);
    const cudaStream_t stream = stream_.get();
    const int grid = moment_grid_size(chunk_span());
    const std::size_t width = math::moment_sum_count(k);
    const std::size_t chunks = chunk_count();
    const std::vector<double> h_constants = first_start_constants(constants);
    const int slots = streamed_ ? 2 : 1;
    require_device_memory(
        "the moment pass of the standard errors",
        (h_constants.size() + slots * moment_partials_size(k, grid) + chunks * width) *
            sizeof(double));
    DeviceBuffer<double> d_constants(h_constants.size()), d_chunk_totals(chunks * width);
    std::array<DeviceBuffer<double>, 2> d_partials;
    for (int slot = 0; slot < slots; ++slot) {
      d_partials[slot] = DeviceBuffer<double>(moment_partials_size(k, grid));
    }
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants.data(), h_constants.data(),
                                       h_constants.size() * sizeof(double), cudaMemcpyHostToDevice,
                                       stream));
    for_each_chunk(/*with_weights=*/true, [&](const Chunk& c) {
      launch_moment_pass(c.size, k, grid, c.a, c.b, c.v, d_constants.data(),
                         d_partials[c.slot].data(), d_chunk_totals.data() + c.index * width,
                         c.stream);
    });
    std::vector<double> chunk_totals(chunks * width);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(chunk_totals.data(), d_chunk_totals.data(),
                                       chunk_totals.size() * sizeof(double), cudaMemcpyDeviceToHost,
                                       stream));
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<double> totals(width, 0.0);
    sum_chunks(chunk_totals.data(), chunks, width, totals.data());
    unscale_weighted_sums(totals.data(), width);
    out.assign(k, totals.data());
  }

  void posteriors(const PassConstants& constants, double* post, int* best) override {
    const int k = constants.k;
    if (n_ == 0) return;
    check_posteriors_k(k);  // before allocating for nothing
    const DeviceScope on_device(device_);
    const cudaStream_t stream = stream_.get();
    const std::size_t kk = static_cast<std::size_t>(k);
    // Samples per launch: a chunk, but at most kPosteriorValues doubles of output.
    const std::size_t span =
        std::min(chunk_span(), std::max(kPosteriorValues / kk, std::size_t{1}));
    const int slots = streamed_ ? 2 : 1;
    const std::vector<double> h_constants = first_start_constants(constants);
    bool enough = true;
    for (int slot = 0; slot < slots; ++slot) {
      enough = enough && d_post_[slot].size() >= span * kk && d_best_[slot].size() >= span;
    }
    if (!enough) {
      for (int slot = 0; slot < 2; ++slot) {
        d_post_[slot] = DeviceBuffer<double>();
        d_best_[slot] = DeviceBuffer<int>();
      }
      require_device_memory("the posteriors of " + std::to_string(n_) + " samples",
                            slots * (span * kk * sizeof(double) + span * sizeof(int)) +
                                h_constants.size() * sizeof(double));
      // Into the members only once every slot's buffers exist.
      std::array<DeviceBuffer<double>, 2> post_buffers;
      std::array<DeviceBuffer<int>, 2> best_buffers;
      for (int slot = 0; slot < slots; ++slot) {
        post_buffers[slot] = DeviceBuffer<double>(span * kk);
        best_buffers[slot] = DeviceBuffer<int>(span);
      }
      d_post_ = std::move(post_buffers);
      d_best_ = std::move(best_buffers);
    }
    DeviceBuffer<double> d_constants(h_constants.size());
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants.data(), h_constants.data(),
                                       h_constants.size() * sizeof(double), cudaMemcpyHostToDevice,
                                       stream));
    for_each_chunk(/*with_weights=*/false, [&](const Chunk& c) {
      // The output buffers of a slot are reused in stream order: each launch after the copies
      // of the one before.
      for (std::size_t at = 0; at < c.size; at += span) {
        const std::size_t len = std::min(span, c.size - at), first = c.offset + at;
        launch_posteriors(len, k, c.a + at, c.b ? c.b + at : nullptr, d_constants.data(),
                          d_post_[c.slot].data(), d_best_[c.slot].data(), c.stream);
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(post + first * kk, d_post_[c.slot].data(),
                                           len * kk * sizeof(double), cudaMemcpyDeviceToHost,
                                           c.stream));
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(best + first, d_best_[c.slot].data(), len * sizeof(int),
                                           cudaMemcpyDeviceToHost, c.stream));
      }
    });
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

 private:
  // Undoes weight_scale_ on sums that are linear in the case weights (every sum of the pass
  // and of the moment pass): a division by a power of two, exact.
  void unscale_weighted_sums(double* sums, std::size_t count) const {
    if (weight_scale_ == 1.0) return;
    for (std::size_t i = 0; i < count; ++i) sums[i] /= weight_scale_;
  }

  // [am1 | bm1 | c] of the first start, in double: the layout of the double-precision kernels.
  static std::vector<double> first_start_constants(const PassConstants& constants) {
    const std::size_t k = static_cast<std::size_t>(constants.k);
    std::vector<double> packed(3 * k);
    std::copy(constants.am1.begin(), constants.am1.begin() + k, packed.begin());
    std::copy(constants.bm1.begin(), constants.bm1.begin() + k, packed.begin() + k);
    std::copy(constants.c.begin(), constants.c.begin() + k, packed.begin() + 2 * k);
    return packed;
  }

  // totals[j] = sum over chunks c = 0, 1, ... of chunk_totals[c * width + j], in that order.
  static void sum_chunks(const double* chunk_totals, std::size_t chunks, std::size_t width,
                         double* totals) {
    for (std::size_t j = 0; j < width; ++j) totals[j] = 0.0;
    for (std::size_t c = 0; c < chunks; ++c) {
      for (std::size_t j = 0; j < width; ++j) totals[j] += chunk_totals[c * width + j];
    }
  }

  // The data into device memory, converted to the layout on the device in chunks.
  void load_resident(const double* x, const double* case_weights, std::size_t n) {
    const std::size_t padded = round_up4(n);
    const std::size_t chunk = std::min(n, kLoadChunk);
    const cudaStream_t stream = stream_.get();
    a_ = DeviceBuffer<float>(padded);
    if (layout_ == DataLayout::LogPair) b_ = DeviceBuffer<float>(padded);
    if (case_weights) v_ = DeviceBuffer<float>(padded);
    // The padding lanes are never used (the pass gives them weight 0), but keep them defined.
    for (const DeviceBuffer<float>* buf : {&a_, &b_, &v_}) {
      if (buf->size() > 0) {
        BETAMIX_CUDA_CHECK(cudaMemsetAsync(buf->data(), 0, buf->bytes(), stream));
      }
    }
    DeviceBuffer<double> staging(chunk);
    for (std::size_t off = 0; off < n; off += chunk) {
      const std::size_t len = std::min(chunk, n - off);
      // Stream order keeps each copy into `staging` behind the kernel reading the last one.
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(staging.data(), x + off, len * sizeof(double),
                                         cudaMemcpyHostToDevice, stream));
      if (layout_ == DataLayout::X) {
        launch_to_float(len, staging.data(), a_.data() + off, stream);
      } else {
        launch_to_log_pair(len, staging.data(), a_.data() + off, b_.data() + off, stream);
      }
      if (case_weights) {
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(staging.data(), case_weights + off, len * sizeof(double),
                                           cudaMemcpyHostToDevice, stream));
        launch_to_float(len, staging.data(), v_.data() + off, stream);
      }
    }
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  // The data into host memory in the device layout (converted on the device, chunk by chunk,
  // so that the floats are those of load_resident()), and two chunk buffers on the device.
  void load_streamed(const double* x, const double* case_weights, std::size_t n,
                     const std::string& what) {
    const std::size_t padded = round_up4(n);
    // At most n rounded up to whole float4 groups: a multiple of 4 that cannot overflow.
    chunk_ = round_up4(std::min(options_.stream_chunk ? options_.stream_chunk : kStreamChunk, n));
    const bool pair = layout_ == DataLayout::LogPair;
    const std::size_t chunk_bytes =
        chunk_ * (layout_bytes_per_sample(layout_) + (case_weights ? sizeof(float) : 0));
    require_device_memory(
        what + ", streamed from host memory in chunks of " + std::to_string(chunk_) + ",",
        2 * chunk_bytes + chunk_ * sizeof(double));
    h_a_ = HostArray<float>(padded);
    if (pair) h_b_ = HostArray<float>(padded);
    if (case_weights) h_v_ = HostArray<float>(padded);
    for (int slot = 0; slot < 2; ++slot) {
      s_a_[slot] = DeviceBuffer<float>(chunk_);
      if (pair) s_b_[slot] = DeviceBuffer<float>(chunk_);
      if (case_weights) s_v_[slot] = DeviceBuffer<float>(chunk_);
    }
    const cudaStream_t stream = stream_.get();
    DeviceBuffer<double> staging(chunk_);
    for (std::size_t off = 0; off < n; off += chunk_) {
      const std::size_t len = std::min(chunk_, n - off);
      const std::size_t bytes = len * sizeof(float);
      // One stream: each copy and conversion waits for the one before it.
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(staging.data(), x + off, len * sizeof(double),
                                         cudaMemcpyHostToDevice, stream));
      if (pair) {
        launch_to_log_pair(len, staging.data(), s_a_[0].data(), s_b_[0].data(), stream);
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(h_b_.data() + off, s_b_[0].data(), bytes,
                                           cudaMemcpyDeviceToHost, stream));
      } else {
        launch_to_float(len, staging.data(), s_a_[0].data(), stream);
      }
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(h_a_.data() + off, s_a_[0].data(), bytes,
                                         cudaMemcpyDeviceToHost, stream));
      if (case_weights) {
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(staging.data(), case_weights + off, len * sizeof(double),
                                           cudaMemcpyHostToDevice, stream));
        launch_to_float(len, staging.data(), s_v_[0].data(), stream);
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(h_v_.data() + off, s_v_[0].data(), bytes,
                                           cudaMemcpyDeviceToHost, stream));
      }
    }
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
    // The padding lanes, as on the device in load_resident().
    for (HostArray<float>* h : {&h_a_, &h_b_, &h_v_}) {
      if (h->size() > n) std::fill(h->data() + n, h->data() + h->size(), 0.0f);
    }
    streamed_ = true;
  }

  // The pass over streamed data: the chunks' totals, each from launch_pass(), into one device
  // array, copied back once and summed in chunk order on the host (so the result is the same
  // run to run), into h_totals_. d_constants_ is filled from `h` first.
  void pass_streamed(int starts, int k, int grid, const float* h) {
    const cudaStream_t stream = stream_.get();
    const std::size_t rows =
        static_cast<std::size_t>(starts) * (3 * static_cast<std::size_t>(k) + 1);
    const std::size_t chunks = chunk_count();
    ensure_size(d_partials2_, pass_partials_size(starts, k, grid));
    ensure_size(d_chunk_totals_, chunks * rows);
    ensure_size(h_chunk_totals_, chunks * rows);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants_.data(), h,
                                       3 * static_cast<std::size_t>(starts) * k * sizeof(float),
                                       cudaMemcpyHostToDevice, stream));
    for_each_chunk(/*with_weights=*/true, [&](const Chunk& c) {
      launch_pass(c.size, starts, k, grid, c.a, c.b, c.v, d_constants_.data(),
                  (c.slot ? d_partials2_ : d_partials_).data(),
                  d_chunk_totals_.data() + c.index * rows, c.stream);
    });
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(h_chunk_totals_.data(), d_chunk_totals_.data(),
                                       chunks * rows * sizeof(double), cudaMemcpyDeviceToHost,
                                       stream));
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
    sum_chunks(h_chunk_totals_.data(), chunks, rows, h_totals_.data());
  }

  // Calls work(chunk) for each chunk of the data, in order (without the case weights unless
  // `with_weights`). Resident data are one chunk, read
  // in place on stream_. Streamed data: chunk c is first copied into the chunk buffers of slot
  // c % 2, and it and its work go on stream_ (slot 0) or stream2_ (slot 1), so that one
  // chunk's copy overlaps the other's kernels; work queued on a slot's stream must use that
  // slot's scratch. stream2_ first waits for what is queued on stream_ so far, and stream_
  // ends waiting for stream2_: what the caller queues on stream_ afterwards sees every chunk.
  // When a call throws, both streams are drained before the error goes on, so that no copy
  // or kernel queued so far still runs on buffers (the caller's output among them) that the
  // unwinding frees.
  template <class Work>
  void for_each_chunk(bool with_weights, Work&& work) {
    try {
      enqueue_chunks(with_weights, work);
    } catch (...) {
      discard(cudaStreamSynchronize(stream2_.get()));
      discard(cudaStreamSynchronize(stream_.get()));
      throw;
    }
  }

  template <class Work>
  void enqueue_chunks(bool with_weights, Work& work) {
    const cudaStream_t s0 = stream_.get();
    if (!streamed_) {
      work(Chunk{0, 0, n_, a_.data(), b_.data(), with_weights ? v_.data() : nullptr, s0, 0});
      return;
    }
    const cudaStream_t s1 = stream2_.get();
    BETAMIX_CUDA_CHECK(cudaEventRecord(ordering_[0].get(), s0));
    BETAMIX_CUDA_CHECK(cudaStreamWaitEvent(s1, ordering_[0].get(), 0));
    std::size_t index = 0;
    for (std::size_t off = 0; off < n_; off += chunk_, ++index) {
      const int slot = static_cast<int>(index % 2);
      const cudaStream_t s = slot ? s1 : s0;
      const std::size_t len = std::min(chunk_, n_ - off);
      const std::size_t bytes = round_up4(len) * sizeof(float);  // with the padding lanes
      const auto upload = [&](const HostArray<float>& from, const DeviceBuffer<float>& to) {
        if (from.size() == 0) return static_cast<const float*>(nullptr);
        BETAMIX_CUDA_CHECK(
            cudaMemcpyAsync(to.data(), from.data() + off, bytes, cudaMemcpyHostToDevice, s));
        return static_cast<const float*>(to.data());
      };
      const float* a = upload(h_a_, s_a_[slot]);
      const float* b = upload(h_b_, s_b_[slot]);
      const float* v = with_weights ? upload(h_v_, s_v_[slot]) : nullptr;
      work(Chunk{index, off, len, a, b, v, s, slot});
    }
    BETAMIX_CUDA_CHECK(cudaEventRecord(ordering_[1].get(), s1));
    BETAMIX_CUDA_CHECK(cudaStreamWaitEvent(s0, ordering_[1].get(), 0));
  }

  // Samples one kernel launch covers: all of them, or one streamed chunk.
  std::size_t chunk_span() const { return streamed_ ? std::min(chunk_, n_) : n_; }
  std::size_t chunk_count() const { return streamed_ ? (n_ + chunk_ - 1) / chunk_ : 1; }

  void release_data() {
    graph_ = CudaGraph();
    warm_key_ = PassGraphKey{};
    a_ = DeviceBuffer<float>();
    b_ = DeviceBuffer<float>();
    v_ = DeviceBuffer<float>();
    h_a_ = HostArray<float>();
    h_b_ = HostArray<float>();
    h_v_ = HostArray<float>();
    for (int slot = 0; slot < 2; ++slot) {
      s_a_[slot] = DeviceBuffer<float>();
      s_b_[slot] = DeviceBuffer<float>();
      s_v_[slot] = DeviceBuffer<float>();
      d_post_[slot] = DeviceBuffer<double>();
      d_best_[slot] = DeviceBuffer<int>();
    }
    d_partials_ = DeviceBuffer<double>();
    d_partials2_ = DeviceBuffer<double>();
    d_chunk_totals_ = DeviceBuffer<double>();
    h_chunk_totals_ = PinnedBuffer<double>();
    grid_.fill(0);
    n_ = 0;
    chunk_ = 0;
    streamed_ = false;
    total_weight_ = 0.0;
    weight_scale_ = 1.0;
  }

  // The pass grid for k over the loaded data (or one streamed chunk), computed once per load
  // and k. All k above kPassMaxFixedK share one kernel and so one grid.
  int grid_for(int k) {
    int& grid = grid_[std::min(k, kPassMaxFixedK + 1)];
    if (grid == 0) grid = pass_grid_size(chunk_span(), k);
    return grid;
  }

  // Makes `device` current when destroyed (>= 0): declared first, so destroyed last.
  struct DeviceRestore {
    int device = -1;
    ~DeviceRestore() {
      if (device >= 0) discard(cudaSetDevice(device));
    }
  };
  DeviceRestore restore_;
  CudaDataOptions options_;
  int device_ = 0;
  std::string device_name_;
  std::size_t kernel_local_ = 0;  // pass_local_memory_bytes() of device_, for place_data()
  CudaStream stream_;             // created on the current device, as is device_
  CudaStream stream2_;            // streamed data: the second of the two chunk slots
  std::size_t n_ = 0;
  double total_weight_ = 0.0;
  double weight_scale_ = 1.0;  // float_weight_scale() of the loaded case weights
  DataLayout layout_ = DataLayout::X;
  DeviceBuffer<float> a_, b_, v_;  // resident: the samples (DataLayout) and the case weights
  bool streamed_ = false;
  std::size_t chunk_ = 0;                               // streamed: samples per chunk
  HostArray<float> h_a_, h_b_, h_v_;                    // streamed: a_, b_, v_ on the host
  std::array<DeviceBuffer<float>, 2> s_a_, s_b_, s_v_;  // streamed: the chunk buffers
  DeviceBuffer<double> d_partials2_;                    // streamed: slot 1's partials
  DeviceBuffer<double> d_chunk_totals_;                 // streamed: [chunk][totals]
  PinnedBuffer<double> h_chunk_totals_;
  DeviceBuffer<float> d_constants_;
  DeviceBuffer<double> d_partials_, d_totals_;
  std::array<DeviceBuffer<double>, 2> d_post_;  // posteriors(): kept for the next call
  std::array<DeviceBuffer<int>, 2> d_best_;
  PinnedBuffer<float> h_constants_;
  PinnedBuffer<double> h_totals_;
  std::array<int, kPassMaxFixedK + 2> grid_{};
  bool use_graphs_ = true;
  std::array<CudaEvent, 2> ordering_;  // streamed: orders stream_ and stream2_
  CudaGraph graph_;  // the last pass, replayed while graph_key_ still describes it
  PassGraphKey graph_key_;
  PassGraphKey warm_key_;  // the shape of the last pass issued call by call
};

}  // namespace

bool cuda_device_visible() {
  // A missing or too old driver is an error code here, not an exception: no device.
  static const bool visible = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      static_cast<void>(cudaGetLastError());
      return false;
    }
    return count > 0;
  }();
  return visible;
}

std::unique_ptr<Backend> make_cuda_backend(const CudaDataOptions& options) {
  require_visible_device();
  const bool by_default = !options.force_stream && options.stream_chunk == 0;
  return std::make_unique<CudaBackend>(by_default ? options_from_environment() : options);
}

namespace {

// The sampler's component tables on the device, with the stream the draws run on.
template <class Real>
struct SampleSetup {
  explicit SampleSetup(const std::vector<Real>& tables) : d_tables(tables.size()) {
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_tables.data(), tables.data(), tables.size() * sizeof(Real),
                                       cudaMemcpyHostToDevice, stream.get()));
  }
  CudaStream stream;
  DeviceBuffer<Real> d_tables;
};

}  // namespace

template <class Real>
void sample_cuda(const MixtureParams& params, std::size_t n, std::uint64_t seed, Real* out,
                 std::uint64_t first) {
  require_visible_device();
  const std::vector<Real> tables = make_sample_tables<Real>(params);
  if (n == 0) return;
  const int k = static_cast<int>(params.k());
  const std::size_t chunk = std::min(n, kSampleChunk);
  require_device_memory("sampling " + std::to_string(n) + " values",
                        (chunk + tables.size()) * sizeof(Real));
  SampleSetup<Real> setup(tables);
  DeviceBuffer<Real> d_out(chunk);
  for (std::size_t off = 0; off < n; off += chunk) {
    const std::size_t len = std::min(chunk, n - off);
    launch_sample<Real>(len, k, seed, first + off, setup.d_tables.data(), d_out.data(),
                        setup.stream.get());
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(out + off, d_out.data(), len * sizeof(Real),
                                       cudaMemcpyDeviceToHost, setup.stream.get()));
  }
  BETAMIX_CUDA_CHECK(cudaStreamSynchronize(setup.stream.get()));
}

template <class Real>
void sample_cuda_device(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                        Real* d_out) {
  require_visible_device();
  const std::vector<Real> tables = make_sample_tables<Real>(params);
  if (n == 0) return;
  cudaPointerAttributes attributes{};
  BETAMIX_CUDA_CHECK(cudaPointerGetAttributes(&attributes, d_out));
  if (attributes.type != cudaMemoryTypeDevice && attributes.type != cudaMemoryTypeManaged) {
    throw InputError(
        "sample_on_device: the output pointer is not device memory (allocate it with "
        "cudaMalloc or cudaMallocManaged, or call sample() for host memory)");
  }
  int current = 0;
  BETAMIX_CUDA_CHECK(cudaGetDevice(&current));
  if (attributes.type == cudaMemoryTypeDevice && attributes.device != current) {
    throw InputError("sample_on_device: the output pointer is memory of CUDA device " +
                     std::to_string(attributes.device) + ", but device " + std::to_string(current) +
                     " is current (call cudaSetDevice first)");
  }
  // The draws run on a stream of their own: let the caller's work on the device (which may
  // still read or have just allocated d_out) finish first.
  BETAMIX_CUDA_CHECK(cudaDeviceSynchronize());
  SampleSetup<Real> setup(tables);
  launch_sample<Real>(n, static_cast<int>(params.k()), seed, 0, setup.d_tables.data(), d_out,
                      setup.stream.get());
  BETAMIX_CUDA_CHECK(cudaStreamSynchronize(setup.stream.get()));
}

template void sample_cuda_device<float>(const MixtureParams&, std::size_t, std::uint64_t, float*);
template void sample_cuda_device<double>(const MixtureParams&, std::size_t, std::uint64_t, double*);
template void sample_cuda<float>(const MixtureParams&, std::size_t, std::uint64_t, float*,
                                 std::uint64_t);
template void sample_cuda<double>(const MixtureParams&, std::size_t, std::uint64_t, double*,
                                  std::uint64_t);

}  // namespace betamix::detail
