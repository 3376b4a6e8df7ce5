// The CUDA backend (host side): the Backend implementation over the kernels in kernels/, the
// GPU sampler's host entry point, and the device probe.
//
//   load(): checks that the data fit (before reading them), picks the layout (float32 x, or
//           float32 log x and log1p(-x) where x is too close to 1; kernels/data_layout.cuh),
//           then uploads the double input once, in chunks, converting it on the device.
//   pass(): constants (float) -> pinned -> device, launch_pass (pass + fixed-order combine),
//           totals (double) -> pinned host, one stream synchronisation. The three steps are
//           a CUDA graph, captured at the second pass of each shape (the first loads the
//           kernels) and replayed while the shapes and buffers stay (BETAMIX_CUDA_GRAPHS=0
//           turns that off).
//   moment_pass(), posteriors(): once per fit or per chunk of `predict`, in double
//           (kernels/moment_pass.cu, kernels/posteriors.cu).
//
// The grid of the pass is chosen once per (load, k) from the device's SM count and kept, so
// repeated passes over the same data give bit-identical statistics.

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

namespace betamix::detail {
namespace {

// Samples converted per chunk in load(): bounds the double staging buffer to 128 MB.
constexpr std::size_t kLoadChunk = std::size_t{1} << 24;
// Samples drawn per chunk in sample_cuda(): bounds the device output buffer (512 MB of double).
constexpr std::size_t kSampleChunk = std::size_t{1} << 26;
// Upper bound of pass_grid_size(): 256-thread blocks, at most 2048 resident threads per SM.
constexpr int kMaxPassBlocksPerSm = 8;

void require_visible_device() {
  if (!cuda_device_visible()) {
    throw DeviceError(
        "device cuda: no CUDA device is visible (check the driver and CUDA_VISIBLE_DEVICES), "
        "or use --device cpu");
  }
}

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

class CudaBackend final : public Backend {
 public:
  CudaBackend() : use_graphs_(graphs_enabled()) {
    BETAMIX_CUDA_CHECK(cudaGetDevice(&device_));
    device_name_ = current_device_name();
  }

  const char* name() const override { return "cuda"; }
  std::string device_name() const override { return device_name_; }
  std::size_t size() const override { return n_; }
  double total_weight() const override { return total_weight_; }
  /// The per-sample math of the pass is float32.
  double roundoff() const override { return 0x1p-24; }

  void load(const double* x, const double* case_weights, std::size_t n) override {
    BETAMIX_CUDA_CHECK(cudaSetDevice(device_));
    release_data();
    const std::size_t padded = (n + 3) / 4 * 4;  // whole float4 groups
    const std::size_t chunk = std::min(n, kLoadChunk);
    const std::size_t weight_bytes = case_weights ? padded * sizeof(float) : 0;
    const std::size_t scratch_bytes =
        chunk * sizeof(double) +
        pass_partials_size(1, kPassMaxFixedK, current_device_sm_count() * kMaxPassBlocksPerSm) *
            sizeof(double);
    const std::string what =
        std::to_string(n) + " samples" + (case_weights ? " with case weights" : "");
    // Checked before the input is read: even the smaller layout must fit.
    require_device_memory(what + " (float32)", padded * layout_bytes_per_sample(DataLayout::X) +
                                                   weight_bytes + scratch_bytes);
    layout_ = choose_data_layout(x, n);
    if (layout_ == DataLayout::LogPair) {
      require_device_memory(
          what + " (float32 log x and log(1-x), as some lie close to 1)",
          padded * layout_bytes_per_sample(layout_) + weight_bytes + scratch_bytes);
    }

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

    if (case_weights) {
      // The sum of the weights as the pass sees them (float32), so that sum_k N_k = total.
      total_weight_ = 0.0;
      for (std::size_t i = 0; i < n; ++i) total_weight_ += static_cast<float>(case_weights[i]);
    } else {
      total_weight_ = static_cast<double>(n);
    }
    n_ = n;
  }

  void pass(const PassConstants& constants, PassStats& out) override {
    const int starts = constants.starts, k = constants.k;
    out.resize(starts, k);
    if (starts < 1 || k < 1 || n_ == 0) return;
    BETAMIX_CUDA_CHECK(cudaSetDevice(device_));
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
      graph_ = CudaGraph::capture(stream, enqueue);
      graph_key_ = key;
      graph_.launch(stream);
    } else {
      enqueue();
      warm_key_ = key;
    }
    // Also keeps h_constants_ from being rewritten while the copy above may still read it.
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));

    out.assign_float_pass(constants, h, h_totals_.data());
  }

  void moment_pass(const PassConstants& constants, MomentStats& out) override {
    const int k = constants.k;
    if (k > kMomentMaxK) {
      throw DeviceError("device cuda: the GPU moment pass supports at most " +
                        std::to_string(kMomentMaxK) + " components, got k = " + std::to_string(k));
    }
    BETAMIX_CUDA_CHECK(cudaSetDevice(device_));
    const cudaStream_t stream = stream_.get();
    const int grid = moment_grid_size(n_);
    const std::size_t width = math::moment_sum_count(k);
    const std::vector<double> h_constants = first_start_constants(constants);
    require_device_memory(
        "the moment pass of the standard errors",
        (h_constants.size() + moment_partials_size(k, grid) + width) * sizeof(double));
    DeviceBuffer<double> d_constants(h_constants.size()), d_partials(moment_partials_size(k, grid)),
        d_totals(width);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants.data(), h_constants.data(),
                                       h_constants.size() * sizeof(double), cudaMemcpyHostToDevice,
                                       stream));
    launch_moment_pass(n_, k, grid, a_.data(), b_.data(), v_.data(), d_constants.data(),
                       d_partials.data(), d_totals.data(), stream);
    std::vector<double> totals(width);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(totals.data(), d_totals.data(), width * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
    out.assign(k, totals.data());
  }

  void posteriors(const PassConstants& constants, double* post, int* best) override {
    const int k = constants.k;
    if (n_ == 0) return;
    check_posteriors_k(k);  // before allocating n * k doubles for nothing
    BETAMIX_CUDA_CHECK(cudaSetDevice(device_));
    const cudaStream_t stream = stream_.get();
    const std::size_t values = n_ * static_cast<std::size_t>(k);
    const std::vector<double> h_constants = first_start_constants(constants);
    if (d_post_.size() < values || d_best_.size() < n_) {
      d_post_ = DeviceBuffer<double>();
      d_best_ = DeviceBuffer<int>();
      require_device_memory(
          "the posteriors of " + std::to_string(n_) + " samples",
          values * sizeof(double) + n_ * sizeof(int) + h_constants.size() * sizeof(double));
      d_post_ = DeviceBuffer<double>(values);
      d_best_ = DeviceBuffer<int>(n_);
    }
    DeviceBuffer<double> d_constants(h_constants.size());
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_constants.data(), h_constants.data(),
                                       h_constants.size() * sizeof(double), cudaMemcpyHostToDevice,
                                       stream));
    launch_posteriors(n_, k, a_.data(), b_.data(), d_constants.data(), d_post_.data(),
                      d_best_.data(), stream);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(post, d_post_.data(), values * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
    BETAMIX_CUDA_CHECK(
        cudaMemcpyAsync(best, d_best_.data(), n_ * sizeof(int), cudaMemcpyDeviceToHost, stream));
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

 private:
  // [am1 | bm1 | c] of the first start, in double: the layout of the double-precision kernels.
  static std::vector<double> first_start_constants(const PassConstants& constants) {
    const std::size_t k = static_cast<std::size_t>(constants.k);
    std::vector<double> packed(3 * k);
    std::copy(constants.am1.begin(), constants.am1.begin() + k, packed.begin());
    std::copy(constants.bm1.begin(), constants.bm1.begin() + k, packed.begin() + k);
    std::copy(constants.c.begin(), constants.c.begin() + k, packed.begin() + 2 * k);
    return packed;
  }

  void release_data() {
    graph_ = CudaGraph();
    a_ = DeviceBuffer<float>();
    b_ = DeviceBuffer<float>();
    v_ = DeviceBuffer<float>();
    d_partials_ = DeviceBuffer<double>();
    d_post_ = DeviceBuffer<double>();
    d_best_ = DeviceBuffer<int>();
    grid_.fill(0);
    n_ = 0;
    total_weight_ = 0.0;
  }

  // The pass grid for k over the loaded data, computed once per load and k. All k above
  // kPassMaxFixedK share one kernel and so one grid.
  int grid_for(int k) {
    int& grid = grid_[std::min(k, kPassMaxFixedK + 1)];
    if (grid == 0) grid = pass_grid_size(n_, k);
    return grid;
  }

  int device_ = 0;
  std::string device_name_;
  CudaStream stream_;  // created on the current device, as is device_
  std::size_t n_ = 0;
  double total_weight_ = 0.0;
  DataLayout layout_ = DataLayout::X;
  DeviceBuffer<float> a_, b_, v_;  // the samples (DataLayout) and the case weights
  DeviceBuffer<float> d_constants_;
  DeviceBuffer<double> d_partials_, d_totals_;
  DeviceBuffer<double> d_post_;  // posteriors(): kept for the next chunk of the same size
  DeviceBuffer<int> d_best_;
  PinnedBuffer<float> h_constants_;
  PinnedBuffer<double> h_totals_;
  std::array<int, kPassMaxFixedK + 2> grid_{};
  bool use_graphs_ = true;
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

std::unique_ptr<Backend> make_cuda_backend() {
  require_visible_device();
  return std::make_unique<CudaBackend>();
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
void sample_cuda(const MixtureParams& params, std::size_t n, std::uint64_t seed, Real* out) {
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
    launch_sample<Real>(len, k, seed, off, setup.d_tables.data(), d_out.data(), setup.stream.get());
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
template void sample_cuda<float>(const MixtureParams&, std::size_t, std::uint64_t, float*);
template void sample_cuda<double>(const MixtureParams&, std::size_t, std::uint64_t, double*);

}  // namespace betamix::detail
