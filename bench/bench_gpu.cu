// bench_gpu: times the CUDA backend against the device's own copy bandwidth.
//
// Rows (one table, also written as JSON with --json):
//   copy            cudaMemcpyAsync device to device of --copy-mb MB; bytes read + written
//                   count, so GB/s is the bandwidth floor the pass is set against;
//   pass x          launch_pass alone (pass kernel + fixed-order combine) over float32 x,
//                   4 bytes/sample: the layout ordinary data get (kernels/data_layout.cuh);
//   pass logpair    the same over float32 (log x, log1p(-x)), 8 bytes/sample, the layout of
//                   data with values too close to 1 for float32;
//   backend.pass    Backend::pass as the fitting loop calls it: constants to the device, the
//                   kernels, totals back, one stream synchronisation (host clock), replayed
//                   as one CUDA graph; "backend.pass nograph" issues the same calls one by
//                   one (BETAMIX_CUDA_GRAPHS=0);
//                   "backend.pass stream" keeps the data in page-locked host memory and copies
//                   them to the device in chunks in every pass (CudaDataOptions, backend.hpp);
//   h2d copy        cudaMemcpyAsync page-locked host to device of --copy-mb MB, bytes counted
//                   once: the floor of the streamed pass;
//   pass ... warm   launch_pass over the data of the Adam rows in the layout their fit uses,
//                   L2 not flushed: the kernels as the fitting loop runs them;
//   adam iteration  one whole Adam iteration of betamix::fit on the GPU, (T(M) - T(0)) / M,
//                   T(M) the least wall time of fit() with tolerance 0 and max_iterations M,
//                   on --fit-data (the file the PyTorch baseline reads) or sampled data;
//   sample f32/f64  launch_sample into a device buffer: samples/s, and GB/s of output written.
// Kernel rows are timed with CUDA events, the median of --reps after a warm-up, each repetition
// after a write of twice the L2 size so that no data are served from L2. "frac.copy" is the
// row's GB/s over the copy row's GB/s.
//
// Before anything is timed, every (N, K, layout) pass is checked against the CPU backend on the
// same values, and each backend.pass variant against the first; a mismatch is printed and
// recorded (the row's "valid" is false in the JSON) and makes the exit status 1, but the
// remaining rows are still measured. Each row is printed, and the JSON rewritten, as soon as it
// is measured, so an error later in the run (also written into the JSON) keeps the rows before.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"
#include "bench_common.hpp"
#include "betamix/betamix.hpp"
#include "cuda_check.cuh"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "pass.cuh"
#include "sampler.cuh"

namespace {

using namespace betamix::bench;

using betamix::MixtureParams;
using betamix::detail::CudaEvent;
using betamix::detail::CudaStream;
using betamix::detail::DeviceBuffer;
using betamix::detail::PassConstants;
using betamix::detail::PassStats;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::uint64_t kDataSeed = 20240611;
constexpr int kWarmup = 3;

struct Args {
  std::vector<std::string> sizes = {"1e6", "1e7", "1e8"};
  std::vector<int> ks = {2, 8};
  int reps = 51;
  double copy_mb = 1024.0;
  std::string fit_size = "1e7";
  std::string fit_data;
  int iters = 1000;
  int fit_reps = 7;
  std::string sample_size = "1e8";
  std::string json_path;
  bool quick = false;
};

// Times `op` (work enqueued on `stream`) with events: median microseconds over `reps`, each
// after `flush` (outside the timed interval).
template <class Op, class Flush>
double time_us(cudaStream_t stream, int reps, Op&& op, Flush&& flush) {
  CudaEvent start, stop;
  for (int w = 0; w < kWarmup; ++w) op();
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    flush();
    BETAMIX_CUDA_CHECK(cudaEventRecord(start.get(), stream));
    op();
    BETAMIX_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
    BETAMIX_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0.0f;
    BETAMIX_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    us.push_back(1e3 * ms);
  }
  return median(us);
}

struct Row {
  std::string what;
  std::size_t n = 0;
  int k = 0;
  double us = 0.0;
  double bytes_per_sample = 0.0;
  bool valid = true;  // the row's results matched their reference (see validate)
};

// The table: rows printed as they come, the JSON file rewritten after each, failures counted.
class Report {
 public:
  Report(std::string json_path, int reps) : json_path_(std::move(json_path)), reps_(reps) {}

  void set_device(std::string device, int sms) {
    device_ = std::move(device);
    sms_ = sms;
    std::printf("%-20s %-7s %-28s %11s %3s %12s %12s %9s %9s\n", "what", "backend", "device", "N",
                "K", "us/op", "samples/s", "GB/s", "frac.copy");
  }

  // The copy row sets the bandwidth of frac.copy: it comes first.
  void add(const Row& r, double gb_per_s_override = 0.0) {
    const double gbs =
        gb_per_s_override > 0.0 ? gb_per_s_override : r.bytes_per_sample * r.n / (r.us * 1e3);
    if (r.what == "copy") copy_gbs_ = gbs;
    const double samples_per_s = r.k == 0 ? 0.0 : r.n / (r.us * 1e-6);  // copies: bytes
    const double frac = copy_gbs_ > 0.0 ? gbs / copy_gbs_ : 0.0;
    std::printf("%-20s %-7s %-28s %11zu %3d %12.2f %12.3e %9.1f %9.3f%s\n", r.what.c_str(), "cuda",
                device_.substr(0, 28).c_str(), r.n, r.k, r.us, samples_per_s, gbs, frac,
                r.valid ? "" : "  INVALID");
    std::fflush(stdout);
    rows_.push_back({{"what", r.what},
                     {"backend", "cuda"},
                     {"device", device_},
                     {"n", r.n},
                     {"k", r.k},
                     {"us_per_op", r.us},
                     {"samples_per_s", samples_per_s},
                     {"bytes_per_sample", r.bytes_per_sample},
                     {"gb_per_s", gbs},
                     {"fraction_of_copy", frac},
                     {"valid", r.valid}});
    write();
  }

  // A failed check: printed at once, kept in the JSON, and the exit status becomes 1.
  void fail(const std::string& what) {
    std::printf("# FAILED: %s\n", what.c_str());
    std::fflush(stdout);
    failures_.push_back(what);
    write();
  }

  double copy_gbs() const { return copy_gbs_; }
  bool ok() const { return failures_.empty() && error_.empty(); }

  // An error that ends the run: the rows so far stay in the JSON beside it.
  void abort(const std::string& error) {
    error_ = error;
    write();
  }

 private:
  void write() const {
    if (json_path_.empty()) return;
    // Into a temporary file renamed over the last one, so that the file is always whole JSON,
    // even when the run is killed while writing.
    const std::string tmp = json_path_ + ".tmp";
    std::ofstream out(tmp);
    json j{{"date", now_utc()},          {"device", device_}, {"sms", sms_},
           {"copy_gb_per_s", copy_gbs_}, {"reps", reps_},     {"rows", rows_},
           {"failures", failures_}};
    if (!error_.empty()) j["error"] = error_;
    out << j.dump(2) << "\n";
    out.close();
    if (!out || std::rename(tmp.c_str(), json_path_.c_str()) != 0) {
      std::fprintf(stderr, "bench_gpu: cannot write %s\n", json_path_.c_str());
    }
  }

  std::string json_path_;
  int reps_ = 0;
  std::string device_;
  int sms_ = 0;
  double copy_gbs_ = 0.0;
  json rows_ = json::array();
  std::vector<std::string> failures_;
  std::string error_;
};

// Device-resident data of the pass rows: float32 x and the float32 log pair, padded to whole
// float4 groups, and the same values on the host as the CPU backend sees them.
struct Data {
  std::size_t n = 0;
  DeviceBuffer<float> x, log_x, log1m_x;
  std::vector<double> host_exact;  // the float32 x values, as doubles
  std::vector<double> host;        // the double samples the log pair comes from
};

Data make_data(std::size_t n, cudaStream_t stream) {
  const MixtureParams p = params_for_k(2);
  const std::vector<double> tables = betamix::detail::make_sample_tables<double>(p);
  const std::size_t padded = (n + 3) / 4 * 4;
  Data d;
  d.n = n;
  d.x = DeviceBuffer<float>(padded);
  d.log_x = DeviceBuffer<float>(padded);
  d.log1m_x = DeviceBuffer<float>(padded);
  for (const DeviceBuffer<float>* b : {&d.x, &d.log_x, &d.log1m_x}) {
    BETAMIX_CUDA_CHECK(cudaMemsetAsync(b->data(), 0, b->bytes(), stream));
  }
  {
    DeviceBuffer<double> d_tables(tables.size()), samples(n);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_tables.data(), tables.data(),
                                       tables.size() * sizeof(double), cudaMemcpyHostToDevice,
                                       stream));
    betamix::detail::launch_sample<double>(n, static_cast<int>(p.k()), kDataSeed, 0,
                                           d_tables.data(), samples.data(), stream);
    betamix::detail::launch_to_log_pair(n, samples.data(), d.log_x.data(), d.log1m_x.data(),
                                        stream);
    d.host.resize(n);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d.host.data(), samples.data(), n * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
    BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  // The float32 x row takes each value rounded to float and kept inside
  // [FLT_MIN, 1 - 2^-24], the normal floats of (0, 1) that the pass's logarithms take (a fit
  // whose data round outside them gets the log pair instead).
  std::vector<float> xf(n);
  for (std::size_t i = 0; i < n; ++i) {
    xf[i] = std::clamp(static_cast<float>(d.host[i]), std::numeric_limits<float>::min(),
                       1.0f - 0x1.0p-24f);
  }
  BETAMIX_CUDA_CHECK(
      cudaMemcpyAsync(d.x.data(), xf.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream));
  BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  d.host_exact.assign(xf.begin(), xf.end());
  return d;
}

// Device buffers of one launch_pass configuration.
struct PassBuffers {
  int grid = 0;
  std::vector<float> rounded;  // float_pass_constants(): the constants as the kernel takes them
  DeviceBuffer<float> constants;
  DeviceBuffer<double> partials, totals;
};

PassBuffers pass_buffers(const PassConstants& c, std::size_t n, cudaStream_t stream) {
  PassBuffers b;
  b.grid = betamix::detail::pass_grid_size(n, c.k);
  b.rounded.resize(3 * static_cast<std::size_t>(c.starts) * c.k);
  betamix::detail::float_pass_constants(c, b.rounded.data());
  const std::vector<float>& h = b.rounded;
  b.constants = DeviceBuffer<float>(h.size());
  b.partials = DeviceBuffer<double>(betamix::detail::pass_partials_size(c.starts, c.k, b.grid));
  b.totals = DeviceBuffer<double>(static_cast<std::size_t>(c.starts) * (3 * c.k + 1));
  BETAMIX_CUDA_CHECK(cudaMemcpyAsync(b.constants.data(), h.data(), h.size() * sizeof(float),
                                     cudaMemcpyHostToDevice, stream));
  BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  return b;
}

// GPU totals against the CPU backend on the same values: |gpu - cpu| <= 1e-5 |cpu| + 1e-6 n.
// The GPU evaluates each sample in float32 (~1e-7 relative, up to ~1e-6 nats per sample for
// LL, whose terms cancel); tests/cuda/cuda_pass_test.cu checks far tighter bounds. Returns
// the first statistic outside the bound, or "" when all are inside.
std::string validate(const std::vector<double>& totals, const std::vector<float>& rounded,
                     const std::vector<double>& x, std::size_t n, const PassConstants& c,
                     const char* what) {
  auto cpu = betamix::detail::make_cpu_backend(0);
  cpu->load(x.data(), nullptr, n);
  PassStats ref, got;
  cpu->pass(c, ref);
  got.assign_float_pass(c, rounded.data(), totals.data());  // base 2 back to natural logs
  const int k = c.k;
  std::string failure;
  auto check = [&](const char* name, int j, double got, double want) {
    const double tol = 1e-5 * std::abs(want) + 1e-6 * static_cast<double>(n);
    if (failure.empty() && !(std::abs(got - want) <= tol)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "validation of pass %s at N = %zu, K = %d: %s[%d] gpu %.17g cpu %.17g", what, n,
                    k, name, j, got, want);
      failure = buf;
    }
  };
  for (int j = 0; j < k; ++j) {
    check("N", j, got.n[j], ref.n[j]);
    check("S", j, got.s[j], ref.s[j]);
    check("T", j, got.t[j], ref.t[j]);
  }
  check("LL", 0, got.ll[0], ref.ll[0]);
  return failure;
}

// One whole Adam iteration of fit() on the GPU: (T(M) - T(0)) / M, the fastest of `reps` fits
// of each length (T(0) holds the checks of the data, the upload and the set-up, milliseconds
// that vary by more than the iterations would between fits; the minimum is their floor). A fit that
// stops before M iterations (a collapsed component) is timed over the iterations it ran; fewer than
// 10 are an error.
double time_adam_iteration(const std::vector<double>& x, int k, int iters, int reps) {
  betamix::FitOptions o;
  o.k = k;
  o.method = betamix::Method::Adam;
  o.device = betamix::Device::Cuda;
  o.tolerance = 0.0;
  o.standard_errors = false;  // an extra pass, the same in T(M) and T(0)
  o.start = params_for_k(k);
  int ran = iters;
  auto run = [&](int m) {
    o.max_iterations = m;
    const auto t0 = Clock::now();
    const betamix::FitResult r = betamix::fit(x.data(), x.size(), o);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (m > 0) {
      if (r.iterations < 10) {
        throw std::runtime_error("the timed fit at K = " + std::to_string(k) + " stopped after " +
                                 std::to_string(r.iterations) + " iterations: " + r.status_detail);
      }
      if (r.iterations != m) {
        std::printf("# adam iteration K = %d: the fit stopped after %d of %d iterations (%s)\n", k,
                    r.iterations, m, r.status_detail.c_str());
      }
      ran = r.iterations;
    }
    return us;
  };
  run(iters);  // warm-up
  std::vector<double> t0s, tms;
  for (int r = 0; r < reps; ++r) {
    t0s.push_back(run(0));
    tms.push_back(run(iters));
  }
  return (*std::min_element(tms.begin(), tms.end()) - *std::min_element(t0s.begin(), t0s.end())) /
         ran;
}

// A raw little-endian float64 file (what `betamix sample -o data.f64` writes).
std::vector<double> read_f64(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("--fit-data: cannot open " + path);
  const std::streamoff bytes = in.tellg();
  if (bytes <= 0 || bytes % 8 != 0) {
    throw std::runtime_error("--fit-data: " + path + " is not a non-empty raw float64 file");
  }
  std::vector<double> x(static_cast<std::size_t>(bytes) / 8);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(x.data()), bytes);
  if (!in) throw std::runtime_error("--fit-data: cannot read " + path);
  return x;
}

void run(const Args& a, Report& report) {
  if (!betamix::cuda_available()) throw std::runtime_error("no CUDA device is visible");
  const std::string device = betamix::detail::current_device_name();
  const int sms = betamix::detail::current_device_sm_count();
  int dev = 0, l2_bytes = 0;
  BETAMIX_CUDA_CHECK(cudaGetDevice(&dev));
  BETAMIX_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, dev));
  CudaStream stream_owner;
  const cudaStream_t stream = stream_owner.get();
  DeviceBuffer<unsigned char> l2_flush(std::max<std::size_t>(2 * l2_bytes, 1 << 20));
  const auto flush = [&] {
    BETAMIX_CUDA_CHECK(cudaMemsetAsync(l2_flush.data(), 0, l2_flush.size(), stream));
  };
  const auto no_flush = [] {};

  std::printf("# bench_gpu  %s  %s (%d SMs, L2 %.0f MB)\n", now_utc().c_str(), device.c_str(), sms,
              l2_bytes / 1e6);
  std::printf(
      "# kernel rows: CUDA events, median of %d after %d warm-up, L2 flushed before each"
      " unless the row says warm\n",
      a.reps, kWarmup);
  report.set_device(device, sms);

  // The floor: a device-to-device copy, bytes read + written counted.
  const std::size_t copy_bytes = static_cast<std::size_t>(a.copy_mb * 1e6);
  {
    DeviceBuffer<unsigned char> src(copy_bytes), dst(copy_bytes);
    BETAMIX_CUDA_CHECK(cudaMemsetAsync(src.data(), 1, copy_bytes, stream));
    const double us = time_us(
        stream, a.reps,
        [&] {
          BETAMIX_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), copy_bytes,
                                             cudaMemcpyDeviceToDevice, stream));
        },
        no_flush);
    report.add({"copy", copy_bytes, 0, us, 0.0}, 2.0 * copy_bytes / (us * 1e3));
  }
  // The floor of streamed data: page-locked host memory to the device (bytes counted once).
  {
    betamix::detail::PinnedBuffer<unsigned char> src(copy_bytes);
    std::fill(src.data(), src.data() + copy_bytes, static_cast<unsigned char>(1));
    DeviceBuffer<unsigned char> dst(copy_bytes);
    const double us = time_us(
        stream, a.reps,
        [&] {
          BETAMIX_CUDA_CHECK(
              cudaMemcpyAsync(dst.data(), src.data(), copy_bytes, cudaMemcpyHostToDevice, stream));
        },
        no_flush);
    report.add({"h2d copy", copy_bytes, 0, us, 1.0});
  }

  // The pass, validated first.
  std::vector<std::size_t> sizes;
  for (const std::string& s : a.sizes) sizes.push_back(parse_size(s));
  for (const std::size_t n : sizes) {
    const Data d = make_data(n, stream);
    for (const int k : a.ks) {
      PassConstants c;
      c.resize(1, k);
      c.set(0, params_for_k(k));
      PassBuffers b = pass_buffers(c, n, stream);
      for (const bool pair : {false, true}) {
        const float* d_a = pair ? d.log_x.data() : d.x.data();
        const float* d_b = pair ? d.log1m_x.data() : nullptr;
        const auto launch = [&] {
          betamix::detail::launch_pass(n, 1, k, b.grid, d_a, d_b, nullptr, b.constants.data(),
                                       b.partials.data(), b.totals.data(), stream);
        };
        launch();
        std::vector<double> totals(3 * k + 1);
        BETAMIX_CUDA_CHECK(cudaMemcpyAsync(totals.data(), b.totals.data(),
                                           totals.size() * sizeof(double), cudaMemcpyDeviceToHost,
                                           stream));
        BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
        const std::string failure = validate(totals, b.rounded, pair ? d.host : d.host_exact, n, c,
                                             pair ? "log pair" : "x");
        if (!failure.empty()) report.fail(failure);
        Row row{pair ? "pass logpair" : "pass x", n, k, time_us(stream, a.reps, launch, flush),
                pair ? 8.0 : 4.0};
        row.valid = failure.empty();
        report.add(row);
      }
    }
    // The whole Backend::pass, as the fitting loop sees it (host clock). The first backend's
    // statistics are the reference of the others: the same bits issued call by call, within
    // 1e-12 relative when streamed (the double sums group the samples by chunk).
    std::vector<PassStats> reference;
    const auto time_backend = [&](betamix::detail::Backend& backend, const char* what) {
      backend.load(d.host_exact.data(), nullptr, n);
      for (std::size_t ki = 0; ki < a.ks.size(); ++ki) {
        const int k = a.ks[ki];
        PassConstants c;
        c.resize(1, k);
        c.set(0, params_for_k(k));
        PassStats out;
        for (int w = 0; w < kWarmup; ++w) backend.pass(c, out);
        bool valid = true;
        if (reference.size() <= ki) {
          reference.push_back(out);
        } else {
          const PassStats& ref = reference[ki];
          const double rtol = std::string(what) == "backend.pass stream" ? 1e-12 : 0.0;
          const auto off = [&](double got, double want) {
            return !(std::abs(got - want) <= rtol * std::abs(want));
          };
          bool bad = off(out.ll[0], ref.ll[0]);
          for (int j = 0; j < k; ++j) {
            bad = bad || off(out.n[j], ref.n[j]) || off(out.s[j], ref.s[j]) ||
                  off(out.t[j], ref.t[j]);
          }
          if (bad) {
            char buf[256];
            std::snprintf(buf, sizeof buf,
                          "%s at N = %zu, K = %d differs from backend.pass: LL %.17g vs %.17g",
                          what, n, k, out.ll[0], ref.ll[0]);
            report.fail(buf);
            valid = false;
          }
        }
        std::vector<double> us;
        for (int r = 0; r < a.reps; ++r) {
          const auto t0 = Clock::now();
          backend.pass(c, out);
          us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
        Row row{what, n, k, median(us), 4.0};
        row.valid = valid;
        report.add(row);
      }
    };
    // Replayed as a CUDA graph (the default), and issued call by call (BETAMIX_CUDA_GRAPHS=0).
    for (const bool graphs : {true, false}) {
      if (graphs) {
        unsetenv("BETAMIX_CUDA_GRAPHS");
      } else {
        setenv("BETAMIX_CUDA_GRAPHS", "0", 1);
      }
      auto backend = betamix::detail::make_cuda_backend();
      unsetenv("BETAMIX_CUDA_GRAPHS");
      time_backend(*backend, graphs ? "backend.pass" : "backend.pass nograph");
    }
    // The data kept in host memory and copied to the GPU chunk by chunk in every pass, the
    // backend's way with data larger than the GPU: bound by the "h2d copy" row.
    {
      betamix::detail::CudaDataOptions streaming;
      streaming.force_stream = true;
      auto backend = betamix::detail::make_cuda_backend(streaming);
      time_backend(*backend, "backend.pass stream");
    }
  }

  // Whole Adam iterations, and beside them the kernels alone on the same data, in the layout
  // that fit() chooses for them (kernels/data_layout.cuh), L2 as the loop leaves it.
  {
    std::vector<double> x;
    if (!a.fit_data.empty()) {
      x = read_f64(a.fit_data);
    } else {
      x = make_data(parse_size(a.fit_size), stream).host_exact;
    }
    const std::size_t n = x.size();
    const bool pair =
        betamix::detail::choose_data_layout(x.data(), n) == betamix::detail::DataLayout::LogPair;
    std::printf("# adam rows: %zu samples from %s, stored on the GPU as %s\n", n,
                a.fit_data.empty() ? "the sampler" : a.fit_data.c_str(),
                pair ? "float32 (log x, log(1-x))" : "float32 x");
    const std::size_t padded = (n + 3) / 4 * 4;
    DeviceBuffer<float> d_a(padded), d_b(pair ? padded : 0);
    BETAMIX_CUDA_CHECK(cudaMemsetAsync(d_a.data(), 0, d_a.bytes(), stream));
    if (pair) BETAMIX_CUDA_CHECK(cudaMemsetAsync(d_b.data(), 0, d_b.bytes(), stream));
    {
      DeviceBuffer<double> d_x(n);
      BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_x.data(), x.data(), n * sizeof(double),
                                         cudaMemcpyHostToDevice, stream));
      if (pair) {
        betamix::detail::launch_to_log_pair(n, d_x.data(), d_a.data(), d_b.data(), stream);
      } else {
        betamix::detail::launch_to_float(n, d_x.data(), d_a.data(), stream);
      }
      BETAMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    for (const int k : a.ks) {
      PassConstants c;
      c.resize(1, k);
      c.set(0, params_for_k(k));
      PassBuffers b = pass_buffers(c, n, stream);
      const double kernels_us = time_us(
          stream, a.reps,
          [&] {
            betamix::detail::launch_pass(n, 1, k, b.grid, d_a.data(), pair ? d_b.data() : nullptr,
                                         nullptr, b.constants.data(), b.partials.data(),
                                         b.totals.data(), stream);
          },
          no_flush);
      const double bytes = pair ? 8.0 : 4.0;
      report.add({pair ? "pass logpair warm" : "pass x warm", n, k, kernels_us, bytes});
      try {
        report.add({"adam iteration", n, k, time_adam_iteration(x, k, a.iters, a.fit_reps), bytes});
      } catch (const std::exception& e) {
        report.fail(std::string("adam iteration at K = ") + std::to_string(k) + ": " + e.what());
      }
    }
  }

  // The sampler, into device memory, in each output precision.
  const std::size_t n_sample = parse_size(a.sample_size);
  const auto time_sampler = [&](auto zero, const char* what) {
    using Real = decltype(zero);
    const std::vector<Real> tables = betamix::detail::make_sample_tables<Real>(params_for_k(2));
    DeviceBuffer<Real> d_tables(tables.size()), out(n_sample);
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_tables.data(), tables.data(), tables.size() * sizeof(Real),
                                       cudaMemcpyHostToDevice, stream));
    const auto launch = [&] {
      betamix::detail::launch_sample<Real>(n_sample, 2, kDataSeed, 0, d_tables.data(), out.data(),
                                           stream);
    };
    report.add({what, n_sample, 2, time_us(stream, a.reps, launch, flush), double(sizeof(Real))});
  };
  time_sampler(0.0f, "sample f32");
  time_sampler(0.0, "sample f64");
  std::printf("# copy: %.0f MB device to device, read + write bytes counted: %.1f GB/s\n",
              copy_bytes / 1e6, report.copy_gbs());
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app(
      "bench_gpu: times the betamix CUDA pass, whole Adam iterations and the sampler,"
      "\nvalidated first, against the device-to-device copy bandwidth measured in the same run.",
      "bench_gpu");
  app.add_option("--sizes", a.sizes, "numbers of samples N of the pass rows (1e6 accepted)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--k", a.ks, "numbers of components (at most 64)")
      ->delimiter(',')
      ->check(CLI::Range(1, betamix::detail::kPassMaxK))
      ->capture_default_str();
  app.add_option("--reps", a.reps, "timed repetitions per row; the median is reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--copy-mb", a.copy_mb, "size of the device-to-device copy in MB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fit-size", a.fit_size, "N of the Adam-iteration rows (sampled data)")
      ->capture_default_str();
  app.add_option("--fit-data", a.fit_data,
                 "raw float64 file (betamix sample -o FILE.f64) for the Adam-iteration rows in "
                 "place of --fit-size sampled values: the data the PyTorch baseline reads");
  app.add_option("--iters", a.iters, "Adam iterations M of the timed fits")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fit-reps", a.fit_reps, "timed fits of each length")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sample-size", a.sample_size, "N of the sampler rows")->capture_default_str();
  app.add_option("--json", a.json_path, "also write the rows as JSON to this file");
  app.add_flag("--quick", a.quick,
               "smaller defaults: N = 1e6, 1e7, 11 repetitions, 200 Adam iterations, 1e7 samples");
  CLI11_PARSE(app, argc, argv);
  if (a.quick) {
    if (!app.count("--sizes")) a.sizes = {"1e6", "1e7"};
    if (!app.count("--reps")) a.reps = 11;
    if (!app.count("--iters")) a.iters = 200;
    if (!app.count("--sample-size")) a.sample_size = "1e7";
  }
  Report report(a.json_path, a.reps);
  try {
    run(a, report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu: error: %s\n", e.what());
    report.abort(e.what());
    return 1;
  }
  if (!report.ok()) std::fprintf(stderr, "bench_gpu: some results failed their check (above)\n");
  return report.ok() ? 0 : 1;
}
