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
//   adam iteration  one whole Adam iteration of betamix::fit on the GPU, (T(M) - T(0)) / M,
//                   T(M) the wall time of fit() with tolerance 0 and max_iterations M;
//   sample f32/f64  launch_sample into a device buffer: samples/s, and GB/s of output written.
// Kernel rows are timed with CUDA events, the median of --reps after a warm-up, each repetition
// after a write of twice the L2 size so that no data are served from L2. "frac.copy" is the
// row's GB/s over the copy row's GB/s.
//
// Before anything is timed, every (N, K, layout) pass is checked against the CPU backend on the
// same values, and each backend.pass variant against the first; a mismatch aborts the run.

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
  int iters = 100;
  int fit_reps = 3;
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
// LL, whose terms cancel); tests/cuda/cuda_pass_test.cu checks far tighter bounds.
void validate(const std::vector<double>& totals, const std::vector<float>& rounded,
              const std::vector<double>& x, std::size_t n, const PassConstants& c,
              const char* what) {
  auto cpu = betamix::detail::make_cpu_backend(0);
  cpu->load(x.data(), nullptr, n);
  PassStats ref, got;
  cpu->pass(c, ref);
  got.assign_float_pass(c, rounded.data(), totals.data());  // base 2 back to natural logs
  const int k = c.k;
  auto check = [&](const char* name, int j, double got, double want) {
    const double tol = 1e-5 * std::abs(want) + 1e-6 * static_cast<double>(n);
    if (!(std::abs(got - want) <= tol)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "validation failed (%s, N = %zu, K = %d): %s[%d] gpu %.17g cpu %.17g", what, n,
                    k, name, j, got, want);
      throw std::runtime_error(buf);
    }
  };
  for (int j = 0; j < k; ++j) {
    check("N", j, got.n[j], ref.n[j]);
    check("S", j, got.s[j], ref.s[j]);
    check("T", j, got.t[j], ref.t[j]);
  }
  check("LL", 0, got.ll[0], ref.ll[0]);
}

double time_adam_iteration(const std::vector<double>& x, std::size_t n, int k, int iters,
                           int reps) {
  betamix::FitOptions o;
  o.k = k;
  o.method = betamix::Method::Adam;
  o.device = betamix::Device::Cuda;
  o.tolerance = 0.0;
  o.standard_errors = false;  // an extra pass, the same in T(M) and T(0)
  o.start = params_for_k(k);
  auto run = [&](int m) {
    o.max_iterations = m;
    const auto t0 = Clock::now();
    const betamix::FitResult r = betamix::fit(x.data(), n, o);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (r.iterations != m || r.status != betamix::FitStatus::MaxIterations) {
      throw std::runtime_error("fit stopped after " + std::to_string(r.iterations) + " of " +
                               std::to_string(m) + " iterations: " + r.status_detail);
    }
    return us;
  };
  run(iters);  // warm-up
  std::vector<double> t0s, tms;
  for (int r = 0; r < reps; ++r) {
    t0s.push_back(run(0));
    tms.push_back(run(iters));
  }
  return (median(tms) - median(t0s)) / iters;
}

int run(const Args& a) {
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
  std::printf("# kernel rows: CUDA events, median of %d after %d warm-up, L2 flushed before each\n",
              a.reps, kWarmup);
  std::vector<Row> rows;

  // The floor: a device-to-device copy.
  const std::size_t copy_bytes = static_cast<std::size_t>(a.copy_mb * 1e6);
  double copy_gbs = 0.0;
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
    copy_gbs = 2.0 * copy_bytes / (us * 1e3);
    rows.push_back({"copy", copy_bytes, 0, us, 0.0});
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
    rows.push_back({"h2d copy", copy_bytes, 0, us, 1.0});
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
        validate(totals, b.rounded, pair ? d.host : d.host_exact, n, c, pair ? "log pair" : "x");
        rows.push_back({pair ? "pass logpair" : "pass x", n, k,
                        time_us(stream, a.reps, launch, flush), pair ? 8.0 : 4.0});
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
        if (reference.size() <= ki) {
          reference.push_back(out);
        } else {
          const PassStats& ref = reference[ki];
          const double rtol = std::string(what) == "backend.pass stream" ? 1e-12 : 0.0;
          const auto off = [&](double got, double want) {
            return std::abs(got - want) > rtol * std::abs(want);
          };
          bool bad = off(out.ll[0], ref.ll[0]);
          for (int j = 0; j < k; ++j) {
            bad = bad || off(out.n[j], ref.n[j]) || off(out.s[j], ref.s[j]) ||
                  off(out.t[j], ref.t[j]);
          }
          if (bad) {
            throw std::runtime_error(std::string(what) + " at N = " + std::to_string(n) +
                                     ", K = " + std::to_string(k) +
                                     " differs from backend.pass: LL " + std::to_string(out.ll[0]) +
                                     " vs " + std::to_string(ref.ll[0]));
          }
        }
        std::vector<double> us;
        for (int r = 0; r < a.reps; ++r) {
          const auto t0 = Clock::now();
          backend.pass(c, out);
          us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
        rows.push_back({what, n, k, median(us), 4.0});
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

  // Whole Adam iterations.
  {
    const std::size_t n = parse_size(a.fit_size);
    const Data d = make_data(n, stream);
    for (const int k : a.ks) {
      rows.push_back({"adam iteration", n, k,
                      time_adam_iteration(d.host_exact, n, k, a.iters, a.fit_reps), 4.0});
    }
  }

  // The sampler, into device memory.
  {
    const std::size_t n = parse_size(a.sample_size);
    const MixtureParams p = params_for_k(2);
    const std::vector<float> tf = betamix::detail::make_sample_tables<float>(p);
    const std::vector<double> td = betamix::detail::make_sample_tables<double>(p);
    DeviceBuffer<float> d_tf(tf.size());
    DeviceBuffer<double> d_td(td.size());
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_tf.data(), tf.data(), tf.size() * sizeof(float),
                                       cudaMemcpyHostToDevice, stream));
    BETAMIX_CUDA_CHECK(cudaMemcpyAsync(d_td.data(), td.data(), td.size() * sizeof(double),
                                       cudaMemcpyHostToDevice, stream));
    {
      DeviceBuffer<float> out(n);
      rows.push_back({"sample f32", n, 2,
                      time_us(
                          stream, a.reps,
                          [&] {
                            betamix::detail::launch_sample<float>(n, 2, kDataSeed, 0, d_tf.data(),
                                                                  out.data(), stream);
                          },
                          flush),
                      4.0});
    }
    {
      DeviceBuffer<double> out(n);
      rows.push_back({"sample f64", n, 2,
                      time_us(
                          stream, a.reps,
                          [&] {
                            betamix::detail::launch_sample<double>(n, 2, kDataSeed, 0, d_td.data(),
                                                                   out.data(), stream);
                          },
                          flush),
                      8.0});
    }
  }

  std::printf("%-20s %-7s %-28s %11s %3s %12s %12s %9s %9s\n", "what", "backend", "device", "N",
              "K", "us/op", "samples/s", "GB/s", "frac.copy");
  json out_rows = json::array();
  for (const Row& r : rows) {
    const bool is_copy = r.what == "copy";
    const double gbs = is_copy ? copy_gbs : r.bytes_per_sample * r.n / (r.us * 1e3);
    const double samples_per_s = r.k == 0 ? 0.0 : r.n / (r.us * 1e-6);  // copies: bytes
    std::printf("%-20s %-7s %-28s %11zu %3d %12.2f %12.3e %9.1f %9.3f\n", r.what.c_str(), "cuda",
                device.substr(0, 28).c_str(), r.n, r.k, r.us, samples_per_s, gbs, gbs / copy_gbs);
    out_rows.push_back({{"what", r.what},
                        {"backend", "cuda"},
                        {"device", device},
                        {"n", r.n},
                        {"k", r.k},
                        {"us_per_op", r.us},
                        {"samples_per_s", samples_per_s},
                        {"bytes_per_sample", r.bytes_per_sample},
                        {"gb_per_s", gbs},
                        {"fraction_of_copy", gbs / copy_gbs}});
  }
  std::printf("# copy: %.0f MB device to device, read + write bytes counted: %.1f GB/s\n",
              copy_bytes / 1e6, copy_gbs);
  if (!a.json_path.empty()) {
    std::ofstream out(a.json_path);
    out << json{{"date", now_utc()},         {"device", device}, {"sms", sms},
                {"copy_gb_per_s", copy_gbs}, {"reps", a.reps},   {"rows", out_rows}}
               .dump(2)
        << "\n";
    if (!out) throw std::runtime_error("cannot write " + a.json_path);
  }
  return 0;
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
  app.add_option("--fit-size", a.fit_size, "N of the Adam-iteration rows")->capture_default_str();
  app.add_option("--iters", a.iters, "Adam iterations M of the timed fits")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fit-reps", a.fit_reps, "timed fits of each length")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sample-size", a.sample_size, "N of the sampler rows")->capture_default_str();
  app.add_option("--json", a.json_path, "also write the rows as JSON to this file");
  app.add_flag("--quick", a.quick,
               "smaller defaults: N = 1e6, 1e7, 11 repetitions, 20 Adam iterations, 1e7 samples");
  CLI11_PARSE(app, argc, argv);
  if (a.quick) {
    if (!app.count("--sizes")) a.sizes = {"1e6", "1e7"};
    if (!app.count("--reps")) a.reps = 11;
    if (!app.count("--iters")) a.iters = 20;
    if (!app.count("--sample-size")) a.sample_size = "1e7";
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu: error: %s\n", e.what());
    return 1;
  }
}
