// bench_cpu: times the CPU backend and sets it against this machine's memory bandwidth.
//
// For each N and K it reports
//   ms/pass       Backend::pass alone: one sweep over the cached (log x, log1p(-x)) doubles,
//                 16 bytes per sample, giving N_k, S_k, T_k and LL;
//   ms/iteration  one whole Adam iteration of betamix::fit on the CPU: host constants
//                 (log B, in double) + the pass + gradient (digamma) + Adam step + history. It is
//                 (T(M) - T(0)) / M, where T(M) is the wall time of fit() with tolerance 0 and
//                 max_iterations M (M + 1 passes, M Adam steps) and T(0) that of the same call
//                 with max_iterations 0 (input copy and validation, backend load, one pass):
//                 the setup cancels, and what is left is M steady-state iterations;
//   samples/s, GB/s and the fraction of the bandwidth floor, all for the pass; the floor is a
//                 multithreaded streaming read of a large buffer measured in the same run (the
//                 pass only reads); a memcpy figure is printed beside it for reference;
//   ratio         baseline ms/iteration (e.g. PyTorch, from torch_baseline.py --json) divided
//                 by betamix's ms/iteration, when --baseline names such a file;
// and, below that table, the CPU sampler (sample_cpu of the demo mixture into memory, float32
// and float64, --sample-size values): samples/s, the median of 5 draws after one warm-up.
// The table is of wall times (steady clock); the JSON rows add the process CPU time of the
// same regions (cpu_ms_per_pass, cpu_ms_per_iteration), which stays meaningful on a machine
// shared with other work, and the load average before and after.
//
// Before anything is timed, every (N, K) pass is checked against a naive long-double loop
// over the same data, and against a one-thread pass, which must agree bit for bit (the backend
// sums fixed chunks in a fixed order). A mismatch aborts the run.

#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"
#include "bench_common.hpp"
#include "betamix/betamix.hpp"

namespace {

using namespace betamix::bench;

using Clock = std::chrono::steady_clock;
using betamix::MixtureParams;
using betamix::detail::Backend;
using betamix::detail::PassConstants;
using betamix::detail::PassStats;
using nlohmann::json;

// The pass reads log x and log1p(-x), one double each, per sample.
constexpr double kBytesPerSample = 16.0;
// Passes run before the timed ones: thread-pool start-up, page faults on the partial sums.
constexpr int kWarmupPasses = 3;
// Seed of the generated data.
constexpr std::uint64_t kDataSeed = 20240611;

struct Args {
  int threads = 0;
  std::vector<std::string> sizes = {"1e5", "1e6", "1e7"};
  std::vector<int> ks = {2, 8};
  int reps = 21;
  int fit_reps = 5;
  int iters = 20;
  double floor_mb = 1024.0;
  std::string json_path;
  std::string data_path;
  std::string baseline_path;
  std::string sample_size = "1e7";
  bool quick = false;
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Wall time on the steady clock, with the CPU time of the whole process beside it. On a
// machine shared with other work the scheduler can take a core away mid-pass: the wall time
// grows, the CPU time (all threads, OpenMP spinning included) does not.
class Stopwatch {
 public:
  Stopwatch() : wall_(Clock::now()), cpu_(cpu_now()) {}
  double wall_ms() const { return ms_since(wall_); }
  double cpu_ms() const { return cpu_now() - cpu_; }

 private:
  static double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
  }
  Clock::time_point wall_;
  double cpu_;
};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

// The 1-minute load average: other work on the machine steals cores from the pass's threads
// (a static schedule waits for the slowest), so it is printed with the figures.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = -1.0;
  in >> one_minute;
  return one_minute;
}

// ---- the bandwidth floor ---------------------------------------------------------------------

struct BandwidthFloor {
  double bytes = 0.0;     // size of the read buffer
  double read_gbs = 0.0;  // streaming read, the floor the pass is measured against
  double copy_gbs = 0.0;  // memcpy of half the size, read + write bytes counted
};

// Sums a[0..n) with eight independent accumulators per thread, so that the adds keep up with
// memory and the loop measures bandwidth, not floating-point latency.
double stream_read(const double* a, std::size_t n, int threads) {
  double total = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const std::size_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
    double acc[8] = {};
    std::size_t i = begin;
    for (; i + 8 <= end; i += 8) {
      for (int j = 0; j < 8; ++j) acc[j] += a[i + j];
    }
    for (; i < end; ++i) acc[0] += a[i];
    for (double v : acc) total += v;
  }
  return total;
}

void parallel_copy(double* dst, const double* src, std::size_t n, int threads) {
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
    std::memcpy(dst + begin, src + begin, (end - begin) * sizeof(double));
  }
}

BandwidthFloor measure_floor(double megabytes, int threads, int reps) {
  const std::size_t n = static_cast<std::size_t>(megabytes * 1e6 / sizeof(double));
  std::vector<double> a(n);
  // First touch by the threads that will read it.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) a[i] = 1.0;
  volatile double sink = 0.0;
  std::vector<double> t_read, t_copy;
  for (int r = 0; r < reps + 1; ++r) {
    const auto t0 = Clock::now();
    sink = sink + stream_read(a.data(), n, threads);
    if (r > 0) t_read.push_back(ms_since(t0));
  }
  const std::size_t half = n / 2;
  for (int r = 0; r < reps + 1; ++r) {
    const auto t0 = Clock::now();
    parallel_copy(a.data() + half, a.data(), half, threads);
    if (r > 0) t_copy.push_back(ms_since(t0));
  }
  BandwidthFloor f;
  f.bytes = static_cast<double>(n) * sizeof(double);
  f.read_gbs = f.bytes / (median(t_read) * 1e6);
  f.copy_gbs = 2.0 * static_cast<double>(half) * sizeof(double) / (median(t_copy) * 1e6);
  return f;
}

// ---- data and parameters ---------------------------------------------------------------------

std::vector<double> read_f64(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  const std::streamsize bytes = in.tellg();
  if (bytes <= 0 || bytes % 8 != 0) {
    throw std::runtime_error(path + ": size " + std::to_string(bytes) +
                             " bytes is not a positive multiple of 8 (raw little-endian float64)");
  }
  std::vector<double> x(static_cast<std::size_t>(bytes / 8));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(x.data()), bytes);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] > 0.0 && x[i] < 1.0)) {
      throw std::runtime_error(path + ": value " + std::to_string(x[i]) + " at index " +
                               std::to_string(i) + " is not inside (0,1)");
    }
  }
  return x;
}

// ---- validation ------------------------------------------------------------------------------

// A deliberately naive reference for the pass: log, log1p, lgamma and exp from the standard
// library, the densities written out in full, sums in long double. It shares no code with the
// backend. mag_* hold the sums of absolute terms, the scale of each statistic's rounding error.
struct Reference {
  std::vector<long double> n, s, t, mag_s, mag_t;
  long double ll = 0, mag_ll = 0;
};

Reference naive_pass(const double* x, std::size_t n_samples, const MixtureParams& p) {
  const int k = static_cast<int>(p.k());
  Reference ref;
  ref.n.assign(k, 0);
  ref.s.assign(k, 0);
  ref.t.assign(k, 0);
  ref.mag_s.assign(k, 0);
  ref.mag_t.assign(k, 0);
  std::vector<double> log_norm(k), l(k);
  for (int j = 0; j < k; ++j) {
    log_norm[j] = std::log(p.weights[j]) - (std::lgamma(p.alpha[j]) + std::lgamma(p.beta[j]) -
                                            std::lgamma(p.alpha[j] + p.beta[j]));
  }
  for (std::size_t i = 0; i < n_samples; ++i) {
    const double lx = std::log(x[i]), l1x = std::log1p(-x[i]);
    double m = -HUGE_VAL;
    for (int j = 0; j < k; ++j) {
      l[j] = log_norm[j] + (p.alpha[j] - 1.0) * lx + (p.beta[j] - 1.0) * l1x;
      m = std::max(m, l[j]);
    }
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum += std::exp(l[j] - m);
    const double big_l = m + std::log(sum);
    ref.ll += big_l;
    ref.mag_ll += std::abs(big_l);
    for (int j = 0; j < k; ++j) {
      const double r = std::exp(l[j] - big_l);
      ref.n[j] += r;
      ref.s[j] += r * lx;
      ref.t[j] += r * l1x;
      ref.mag_s[j] += std::abs(r * lx);
      ref.mag_t[j] += std::abs(r * l1x);
    }
  }
  return ref;
}

// Tolerance atol + rtol * magnitude. rtol: the backend reorders the sums (chunks, SIMD lanes)
// and uses vector exp/log accurate to a few ulp, which over 1e7 terms leaves relative errors
// around 1e-13; 1e-10 keeps a wide margin while any wrong formula or lost chunk is off by far
// more. atol: components with almost no mass sum responsibilities that underflow differently
// in the two codes; 1e-9 of one sample's weight is far below anything the optimiser sees.
constexpr double kRtol = 1e-10, kAtol = 1e-9;

// Returns the largest error / tolerance ratio; throws naming the worst statistic when it
// exceeds 1.
double check_against_reference(const PassStats& got, const Reference& ref, std::size_t n, int k) {
  double worst = 0.0;
  std::string worst_name;
  double worst_got = 0.0, worst_ref = 0.0;
  auto check = [&](const std::string& name, double g, long double r, long double mag) {
    const double err = std::abs(static_cast<double>(g - r));
    const double ratio = err / (kAtol + kRtol * static_cast<double>(mag));
    if (!(ratio <= worst)) {  // also catches NaN
      worst = std::isnan(ratio) ? HUGE_VAL : ratio;
      worst_name = name;
      worst_got = g;
      worst_ref = static_cast<double>(r);
    }
  };
  for (int j = 0; j < k; ++j) {
    check("N_" + std::to_string(j), got.n[j], ref.n[j], ref.n[j]);
    check("S_" + std::to_string(j), got.s[j], ref.s[j], ref.mag_s[j]);
    check("T_" + std::to_string(j), got.t[j], ref.t[j], ref.mag_t[j]);
  }
  check("LL", got.ll[0], ref.ll, ref.mag_ll);
  if (worst > 1.0) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "validation failed at N = %zu, K = %d: %s = %.17g, reference %.17g "
                  "(error %.3g x the tolerance)",
                  n, k, worst_name.c_str(), worst_got, worst_ref, worst);
    throw std::runtime_error(buf);
  }
  return worst;
}

void check_bitwise(const PassStats& a, const PassStats& b, int threads, std::size_t n, int k) {
  const bool same = a.n == b.n && a.s == b.s && a.t == b.t &&
                    std::memcmp(a.ll.data(), b.ll.data(), a.ll.size() * sizeof(double)) == 0;
  if (!same) {
    throw std::runtime_error(
        "validation failed at N = " + std::to_string(n) + ", K = " + std::to_string(k) +
        ": the pass on " + std::to_string(threads) + " threads differs from the pass on 1 thread");
  }
}

// ---- timing ----------------------------------------------------------------------------------

struct Times {
  std::vector<double> wall, cpu;  // ms, one per timed run
};

Times time_passes(Backend& backend, const PassConstants& c, int reps) {
  PassStats stats;
  for (int w = 0; w < kWarmupPasses; ++w) backend.pass(c, stats);
  Times t;
  for (int r = 0; r < reps; ++r) {
    const Stopwatch sw;
    backend.pass(c, stats);
    t.wall.push_back(sw.wall_ms());
    t.cpu.push_back(sw.cpu_ms());
  }
  return t;
}

struct FitTiming {
  double setup_ms = 0.0;     // median T(0)
  double total_ms = 0.0;     // median T(M)
  double iter_ms = 0.0;      // (T(M) - T(0)) / M
  double cpu_iter_ms = 0.0;  // the same in process CPU time
  double mean_nll = 0.0;     // after M iterations
};

FitTiming time_fit(const std::vector<double>& x, std::size_t n, const MixtureParams& start,
                   int threads, int iters, int reps) {
  betamix::FitOptions o;
  o.k = static_cast<int>(start.k());
  o.method = betamix::Method::Adam;
  o.device = betamix::Device::Cpu;
  o.threads = threads;
  o.tolerance = 0.0;
  o.start = start;
  auto run = [&](int m, Times& t, betamix::FitResult* out) {
    o.max_iterations = m;
    const Stopwatch sw;
    betamix::FitResult r = betamix::fit(x.data(), n, o);
    t.wall.push_back(sw.wall_ms());
    t.cpu.push_back(sw.cpu_ms());
    if (r.iterations != m || r.status != betamix::FitStatus::MaxIterations) {
      throw std::runtime_error("fit stopped after " + std::to_string(r.iterations) + " of " +
                               std::to_string(m) + " iterations with status " +
                               betamix::to_string(r.status) + ": " + r.status_detail);
    }
    if (out) *out = std::move(r);
  };
  betamix::FitResult last;
  Times warmup, t0s, tms;
  run(iters, warmup, &last);  // warm-up, and the check that all M iterations run
  for (int r = 0; r < reps; ++r) {
    run(0, t0s, nullptr);
    run(iters, tms, nullptr);
  }
  FitTiming f;
  f.setup_ms = median(t0s.wall);
  f.total_ms = median(tms.wall);
  f.iter_ms = (f.total_ms - f.setup_ms) / iters;
  f.cpu_iter_ms = (median(tms.cpu) - median(t0s.cpu)) / iters;
  f.mean_nll = last.mean_nll;
  return f;
}

// Baseline ms/iteration for (n, k) from torch_baseline.py --json: one row or a list of rows
// with fields n, k and ms_per_iteration.
std::optional<double> baseline_ms(const json& baseline, std::size_t n, int k) {
  if (baseline.is_null()) return std::nullopt;
  const json rows = baseline.is_array() ? baseline : json::array({baseline});
  for (const json& row : rows) {
    if (row.value("n", std::size_t{0}) == n && row.value("k", 0) == k &&
        row.contains("ms_per_iteration")) {
      return row["ms_per_iteration"].get<double>();
    }
  }
  return std::nullopt;
}

int run(const Args& a) {
  const int threads = a.threads > 0 ? a.threads : omp_get_max_threads();
  const std::string cpu = cpu_model();
  const std::string device = cpu + ", " + std::to_string(threads) + " threads";
  json baseline;
  if (!a.baseline_path.empty()) {
    std::ifstream in(a.baseline_path);
    if (!in) throw std::runtime_error("cannot open " + a.baseline_path);
    baseline = json::parse(in);
  }

  // Data: the file as given, or the demo mixture sampled once at the largest N (each N uses
  // a prefix).
  std::vector<double> x;
  std::vector<std::size_t> sizes;
  std::string data_desc;
  if (!a.data_path.empty()) {
    x = read_f64(a.data_path);
    sizes = {x.size()};
    data_desc = a.data_path;
  } else {
    for (const std::string& s : a.sizes) sizes.push_back(parse_size(s));
    const std::size_t n_max = *std::max_element(sizes.begin(), sizes.end());
    x = betamix::sample(demo_params(), n_max, kDataSeed);
    data_desc = "betamix::sample(0.5 Beta(10,1.5) + 0.5 Beta(1.5,10), seed " +
                std::to_string(kDataSeed) + ")";
  }

  const std::size_t n_min = *std::min_element(sizes.begin(), sizes.end());
  const int k_max = *std::max_element(a.ks.begin(), a.ks.end());
  if (static_cast<std::size_t>(k_max) > n_min) {
    throw std::invalid_argument("K = " + std::to_string(k_max) + " exceeds N = " +
                                std::to_string(n_min) + ": a fit needs at least K samples");
  }

  const double load_before = load_average();
  std::printf("# bench_cpu  %s  %s  (load average %.2f)\n", now_utc().c_str(), device.c_str(),
              load_before);
  std::printf("# data: %s\n", data_desc.c_str());
  const BandwidthFloor floor = measure_floor(a.floor_mb, threads, a.quick ? 3 : 7);
  std::printf(
      "# bandwidth floor: streaming read of %.0f MB: %.2f GB/s; memcpy %.0f MB -> %.0f MB:"
      " %.2f GB/s (read + write bytes)\n",
      floor.bytes / 1e6, floor.read_gbs, floor.bytes / 2e6, floor.bytes / 2e6, floor.copy_gbs);
  std::printf(
      "# ms/pass: Backend::pass, median of %d after %d warm-up; ms/iteration: (T(%d) -"
      " T(0)) / %d over betamix::fit, medians of %d\n",
      a.reps, kWarmupPasses, a.iters, a.iters, a.fit_reps);
  std::printf("%-8s %-30s %10s %3s %10s %12s %12s %8s %10s %10s\n", "backend", "device", "N", "K",
              "ms/pass", "ms/iteration", "samples/s", "GB/s", "frac.floor", "vs.base");

  json rows = json::array();
  for (const std::size_t n : sizes) {
    std::unique_ptr<Backend> backend = betamix::detail::make_cpu_backend(threads);
    backend->load(x.data(), nullptr, n);
    std::unique_ptr<Backend> single;
    if (threads > 1) {
      single = betamix::detail::make_cpu_backend(1);
      single->load(x.data(), nullptr, n);
    }
    for (const int k : a.ks) {
      const MixtureParams p = params_for_k(k);
      PassConstants c;
      c.resize(1, k);
      c.set(0, p);
      PassStats got;
      backend->pass(c, got);
      const double tol_ratio = check_against_reference(got, naive_pass(x.data(), n, p), n, k);
      if (single) {
        PassStats one;
        single->pass(c, one);
        check_bitwise(got, one, threads, n, k);
      }

      const Times pass_times = time_passes(*backend, c, a.reps);
      const double pass_ms = median(pass_times.wall);
      const FitTiming fit = time_fit(x, n, p, threads, a.iters, a.fit_reps);
      const double samples_per_s = n / (pass_ms * 1e-3);
      const double gbs = kBytesPerSample * n / (pass_ms * 1e6);
      const std::optional<double> base = baseline_ms(baseline, n, k);

      char ratio[32] = "-";
      if (base) std::snprintf(ratio, sizeof ratio, "%.1fx", *base / fit.iter_ms);
      std::printf("%-8s %-30s %10zu %3d %10.3f %12.3f %12.3e %8.2f %10.3f %10s\n", "cpu",
                  device.substr(0, 30).c_str(), n, k, pass_ms, fit.iter_ms, samples_per_s, gbs,
                  gbs / floor.read_gbs, ratio);
      std::fflush(stdout);

      json row = {
          {"backend", "cpu"},
          {"device", device},
          {"threads", threads},
          {"n", n},
          {"k", k},
          {"ms_per_pass", pass_ms},
          {"ms_per_pass_min", *std::min_element(pass_times.wall.begin(), pass_times.wall.end())},
          {"cpu_ms_per_pass", median(pass_times.cpu)},
          {"cpu_ms_per_iteration", fit.cpu_iter_ms},
          {"ms_per_iteration", fit.iter_ms},
          {"samples_per_s", samples_per_s},
          {"gb_per_s", gbs},
          {"floor_read_gb_per_s", floor.read_gbs},
          {"floor_copy_gb_per_s", floor.copy_gbs},
          {"fraction_of_floor", gbs / floor.read_gbs},
          {"fit_iterations", a.iters},
          {"fit_setup_ms", fit.setup_ms},
          {"fit_total_ms", fit.total_ms},
          {"fit_mean_nll", fit.mean_nll},
          {"pass_reps", a.reps},
          {"fit_reps", a.fit_reps},
          {"validation_error_over_tolerance", tol_ratio},
          {"data", data_desc}};
      row["baseline_ms_per_iteration"] = base ? json(*base) : json(nullptr);
      row["ratio_to_baseline"] = base ? json(*base / fit.iter_ms) : json(nullptr);
      rows.push_back(row);
    }
  }

  // The sampler.
  json sampler_rows = json::array();
  {
    const std::size_t n = parse_size(a.sample_size);
    std::printf("# sampler: sample_cpu of the demo mixture, %zu values into memory, median of 5\n",
                n);
    std::printf("%-8s %-30s %10s %8s %12s %12s\n", "backend", "device", "N", "dtype", "ms/draw",
                "samples/s");
    const auto time_sampler = [&](auto zero, const char* dtype) {
      using Real = decltype(zero);
      std::vector<Real> out(n);
      std::vector<double> ms;
      for (int r = 0; r < 6; ++r) {
        const auto t0 = Clock::now();
        betamix::detail::sample_cpu(demo_params(), n, kDataSeed, out.data(), threads);
        if (r > 0) ms.push_back(ms_since(t0));  // the first is the warm-up
      }
      const double med = median(ms);
      std::printf("%-8s %-30s %10zu %8s %12.3f %12.3e\n", "cpu", device.substr(0, 30).c_str(), n,
                  dtype, med, n / (med * 1e-3));
      std::fflush(stdout);
      sampler_rows.push_back({{"backend", "cpu"},
                              {"device", device},
                              {"threads", threads},
                              {"n", n},
                              {"dtype", dtype},
                              {"ms_per_draw", med},
                              {"samples_per_s", n / (med * 1e-3)}});
    };
    time_sampler(0.0f, "float32");
    time_sampler(0.0, "float64");
  }

  const double load_after = load_average();
  std::printf("# load average at the end: %.2f\n", load_after);
  if (!a.json_path.empty()) {
    std::ofstream out(a.json_path);
    out << json{{"date", now_utc()},
                {"cpu", cpu},
                {"threads", threads},
                {"load_average_before", load_before},
                {"load_average_after", load_after},
                {"rows", rows},
                {"sampler", sampler_rows}}
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
      "bench_cpu: times the betamix CPU pass and whole Adam iterations, validated first,"
      "\nagainst a memory-bandwidth floor measured in the same run.",
      "bench_cpu");
  app.add_option("--threads", a.threads, "CPU threads; 0 = OpenMP's default")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--sizes", a.sizes, "numbers of samples N (1e6 accepted)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--k", a.ks, "numbers of components")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--reps", a.reps, "timed passes per (N, K); the median is reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fit-reps", a.fit_reps, "timed fits of each length per (N, K)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--iters", a.iters, "Adam iterations M of the timed fits")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--floor-mb", a.floor_mb, "size of the bandwidth-floor read buffer in MB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--data", a.data_path,
                 "raw little-endian float64 file: benchmark on these samples (N = size / 8) "
                 "instead of generated data");
  app.add_option("--baseline", a.baseline_path,
                 "JSON of torch_baseline.py --json: adds the ratio baseline / betamix");
  app.add_option("--sample-size", a.sample_size, "values per timed draw of the sampler rows")
      ->capture_default_str();
  app.add_option("--json", a.json_path, "also write the rows as JSON to this file");
  app.add_flag("--quick", a.quick,
               "smaller defaults: N = 1e5, 1e6, 5 passes, 3 fits of 5 iterations, 256 MB floor, "
               "10^6 sampler values");
  CLI11_PARSE(app, argc, argv);
  if (a.quick) {
    if (!app.count("--sizes")) a.sizes = {"1e5", "1e6"};
    if (!app.count("--reps")) a.reps = 5;
    if (!app.count("--fit-reps")) a.fit_reps = 3;
    if (!app.count("--iters")) a.iters = 5;
    if (!app.count("--floor-mb")) a.floor_mb = 256.0;
    if (!app.count("--sample-size")) a.sample_size = "1e6";
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cpu: error: %s\n", e.what());
    return 1;
  }
}
