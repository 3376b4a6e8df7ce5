// Optimisers and restarts, measured: how many passes over the data and how much wall time Adam
// and EM need to come within 1e-6 (relative) of the best log-likelihood, and what R starts
// evaluated in one pass cost per iteration against one start.
//
//   bench_optimizers [--n N] [--threads T] [--json FILE]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  const char* name;
  betamix::MixtureParams truth;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  std::size_t n = 1000000;
  int threads = 0;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (a == "--json" && i + 1 < argc) json_path = argv[++i];
  }
  const Case cases[] = {
      {"demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
      {"k3-overlap", {{0.3, 0.4, 0.3}, {2.0, 5.0, 8.0}, {8.0, 5.0, 2.0}}},
      {"near-zero", {{0.4, 0.6}, {0.5, 4.0}, {8.0, 4.0}}},
  };
  std::string json = "[\n";
  std::printf("Passes and wall time to reach within 1e-6 relative of the best LL (N = %zu, CPU)\n",
              n);
  std::printf("(seconds: the whole fit() call that stops there, with validating and loading)\n");
  std::printf("%-11s %-8s %8s %10s %12s %s\n", "case", "method", "passes", "seconds", "ms/pass",
              "status");
  for (const Case& c : cases) {
    const std::vector<double> x = betamix::sample(c.truth, n, 1);
    betamix::FitOptions ref;
    ref.k = static_cast<int>(c.truth.k());
    ref.method = betamix::Method::EM;
    ref.tolerance = 1e-15;
    ref.max_iterations = 200000;
    ref.start = c.truth;
    ref.device = betamix::Device::Cpu;
    ref.threads = threads;
    ref.standard_errors = false;
    const double best = betamix::fit(x, ref).log_likelihood;
    for (const auto method :
         {betamix::Method::Adam, betamix::Method::EM, betamix::Method::Squarem}) {
      betamix::FitOptions o;
      o.k = ref.k;
      o.method = method;
      o.tolerance = 0.0;
      o.max_iterations = 5000;
      o.device = betamix::Device::Cpu;
      o.threads = threads;
      o.standard_errors = false;
      // Find the first iteration within reach of the best LL, then time a fit that stops
      // exactly there. Adam and EM: from the history, one entry per pass. SQUAREM's history
      // skips its rejected extrapolations, but its result never gets worse with more
      // iterations: the smallest iteration limit whose result is within reach, by bisection.
      const auto within = [&](double ll) { return std::abs(ll - best) <= 1e-6 * std::abs(best); };
      int reached = -1;
      if (method == betamix::Method::Squarem) {
        int lo = 0, hi = o.max_iterations;
        if (within(betamix::fit(x, o).log_likelihood)) {
          while (lo < hi) {
            const int mid = (lo + hi) / 2;
            betamix::FitOptions m = o;
            m.max_iterations = mid;
            if (within(betamix::fit(x, m).log_likelihood)) {
              hi = mid;
            } else {
              lo = mid + 1;
            }
          }
          reached = lo;
        }
      } else {
        const betamix::FitResult full = betamix::fit(x, o);
        for (std::size_t i = 0; i < full.history.size(); ++i) {
          if (within(-full.history[i] * static_cast<double>(n))) {
            reached = static_cast<int>(i);
            break;
          }
        }
      }
      double secs = NAN;
      if (reached >= 0) {
        o.max_iterations = reached;
        const auto t0 = Clock::now();
        betamix::fit(x, o);
        secs = seconds_since(t0);
      }
      const int passes = reached + 1;
      std::printf("%-11s %-8s %8d %10.3f %12.3f %s\n", c.name, betamix::to_string(method),
                  reached >= 0 ? passes : -1, secs, reached >= 0 ? 1e3 * secs / passes : NAN,
                  reached >= 0 ? "reached" : "not reached in 5000 iterations");
      char row[256];
      std::snprintf(
          row, sizeof row,
          "  {\"table\": \"optimisers\", \"case\": \"%s\", \"method\": \"%s\", \"n\": %zu, "
          "\"passes\": %d, \"seconds\": %.6f},\n",
          c.name, betamix::to_string(method), n, reached >= 0 ? passes : -1,
          reached >= 0 ? secs : -1.0);
      json += row;
    }
  }

  // Restarts: R starts of K = 2 components in one pass, against one start.
  const std::vector<double> x = betamix::sample(cases[0].truth, n, 2);
  auto backend = betamix::detail::make_cpu_backend(threads);
  backend->load(x.data(), nullptr, n);
  std::printf("\nCost of R starts in one pass (N = %zu, K = 2, CPU, %s)\n", n,
              backend->device_name().c_str());
  std::printf("%4s %12s %14s\n", "R", "ms/pass", "vs R = 1");
  double base = 0.0;
  for (int r : {1, 8, 32}) {
    betamix::detail::PassConstants constants;
    constants.resize(r, 2);
    for (int s = 0; s < r; ++s) {
      betamix::MixtureParams p{{0.5, 0.5}, {1.0 + 0.3 * s, 2.0}, {2.0, 1.0 + 0.2 * s}};
      constants.set(s, p);
    }
    betamix::detail::PassStats stats;
    backend->pass(constants, stats);  // warm-up
    std::vector<double> times;
    for (int rep = 0; rep < 15; ++rep) {
      const auto t0 = Clock::now();
      backend->pass(constants, stats);
      times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    const double ms = 1e3 * times[times.size() / 2];
    if (r == 1) base = ms;
    std::printf("%4d %12.3f %13.2fx\n", r, ms, ms / base);
    char row[200];
    std::snprintf(row, sizeof row,
                  "  {\"table\": \"restarts\", \"r\": %d, \"n\": %zu, \"k\": 2, \"ms_per_pass\": "
                  "%.6f, \"ratio\": %.4f},\n",
                  r, n, ms, ms / base);
    json += row;
  }
  if (!json_path.empty()) {
    json.resize(json.size() - 2);
    std::ofstream(json_path) << json << "\n]\n";
  }
  return 0;
}
