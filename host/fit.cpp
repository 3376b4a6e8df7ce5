// The fitting loop, written once for every backend and both optimisers:
//
//   constants of every active start -> backend.pass -> statistics -> stopping rule
//   -> Adam step on theta = [log a, log b, softmax logits]   or   EM M-step
//
// R starts share each pass (DESIGN.md, "Restarts in one pass"); a start that meets its
// stopping rule leaves the pass. Non-convergence and numerical failure are statuses in the
// result, not exceptions.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "init.hpp"
#include "samples.hpp"
#include "updates.hpp"

namespace betamix {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// Iterations over which the relative change of the mean NLL must stay below the tolerance.
constexpr int kStopWindow = 10;
// Starts whose final LL lies within this relative distance of the best count as reaching it.
constexpr double kSameOptimum = 1e-6;

void check_options(const FitOptions& o, std::size_t n) {
  if (o.k < 1) throw InputError("k must be at least 1, got " + std::to_string(o.k));
  if (static_cast<std::size_t>(o.k) > n) {
    throw InputError("k = " + std::to_string(o.k) + " exceeds the number of samples (" +
                     std::to_string(n) + ")");
  }
  if (!(o.learning_rate > 0.0) || !std::isfinite(o.learning_rate)) {
    throw InputError("learning rate must be finite and > 0");
  }
  if (o.max_iterations < 0) throw InputError("max iterations must be >= 0");
  if (!(o.tolerance >= 0.0)) throw InputError("tolerance must be >= 0");
  if (o.restarts < 1) throw InputError("restarts must be at least 1");
  if (o.start) {
    o.start->validate();
    if (static_cast<int>(o.start->k()) != o.k) {
      throw InputError("the starting parameters have " + std::to_string(o.start->k()) +
                       " components, but k = " + std::to_string(o.k));
    }
  }
}

bool all_finite(const MixtureParams& p) {
  for (std::size_t j = 0; j < p.k(); ++j) {
    if (!std::isfinite(p.weights[j]) || !std::isfinite(p.alpha[j]) || !std::isfinite(p.beta[j]) ||
        !(p.alpha[j] > 0.0) || !(p.beta[j] > 0.0)) {
      return false;
    }
  }
  return true;
}

// One start's optimiser state.
struct Start {
  MixtureParams params;       // parameters of the last pass
  double ll = -std::numeric_limits<double>::infinity();
  std::vector<double> history;
  bool done = false;
  FitStatus status = FitStatus::MaxIterations;
  std::string detail;
  int iterations = 0;
  // Adam
  std::vector<double> theta, m, v;
  int t = 0;
};

MixtureParams first_params(const FitOptions& o, int r, const double* x, const double* w,
                           std::size_t n) {
  if (r == 0) {
    if (o.start) return o.start->normalized();
    switch (o.init) {
      case InitMethod::Quantile:
        return quantile_init(x, w, n, o.k);
      case InitMethod::KMeans:
        return kmeans_init(x, w, n, o.k);
      case InitMethod::Random:
        break;
    }
  }
  // Random starts draw from their own Philox streams, apart from the sampler's.
  return random_init(o.k, o.seed, (std::uint64_t{1} << 63) | static_cast<std::uint64_t>(r));
}

bool stop_rule(const std::vector<double>& h, double tol) {
  if (tol <= 0.0 || static_cast<int>(h.size()) <= kStopWindow) return false;
  const double scale = std::max(1.0, std::abs(h.back()));
  for (std::size_t i = h.size() - kStopWindow; i < h.size(); ++i) {
    if (std::abs(h[i] - h[i - 1]) > tol * scale) return false;
  }
  return true;
}

void adam_step(Start& s, const StartStats& st, double lr) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  const std::vector<double> g = mean_nll_gradient(s.params, st);
  if (s.theta.empty()) {
    s.theta = to_unconstrained(s.params);
    s.m.assign(g.size(), 0.0);
    s.v.assign(g.size(), 0.0);
  }
  ++s.t;
  const double c1 = 1.0 - std::pow(kBeta1, s.t), c2 = 1.0 - std::pow(kBeta2, s.t);
  for (std::size_t i = 0; i < g.size(); ++i) {
    s.m[i] = kBeta1 * s.m[i] + (1.0 - kBeta1) * g[i];
    s.v[i] = kBeta2 * s.v[i] + (1.0 - kBeta2) * g[i] * g[i];
    s.theta[i] -= lr * (s.m[i] / c1) / (std::sqrt(s.v[i] / c2) + kEps);
  }
  s.params = from_unconstrained(s.theta);
}

}  // namespace

FitResult fit_loaded(Backend& backend, const FitOptions& o, const double* x, const double* w,
                     std::size_t n) {
  const auto t0 = Clock::now();
  const int k = o.k, n_starts = o.restarts;
  const double total = backend.total_weight();
  std::vector<Start> starts(n_starts);
  for (int r = 0; r < n_starts; ++r) starts[r].params = first_params(o, r, x, w, n);

  PassConstants constants;
  PassStats stats;
  std::vector<int> active;
  auto last_report = t0;
  int iteration = 0;
  for (;; ++iteration) {
    active.clear();
    for (int r = 0; r < n_starts; ++r) {
      if (!starts[r].done) active.push_back(r);
    }
    if (active.empty()) break;
    constants.resize(static_cast<int>(active.size()), k);
    for (std::size_t a = 0; a < active.size(); ++a) {
      constants.set(static_cast<int>(a), starts[active[a]].params);
    }
    backend.pass(constants, stats);
    for (std::size_t a = 0; a < active.size(); ++a) {
      Start& s = starts[active[a]];
      const StartStats st{&stats.n[a * k], &stats.s[a * k], &stats.t[a * k], total};
      const double ll = stats.ll[a];
      if (!std::isfinite(ll)) {
        // Keep the last finite parameters and likelihood.
        s.done = true;
        s.status = FitStatus::NonFinite;
        s.detail = "the log-likelihood became non-finite at iteration " + std::to_string(iteration);
        continue;
      }
      s.ll = ll;
      s.iterations = iteration;
      s.history.push_back(-ll / total);
      if (stop_rule(s.history, o.tolerance)) {
        s.done = true;
        s.status = FitStatus::Converged;
        continue;
      }
      if (iteration >= o.max_iterations) {
        s.done = true;
        s.status = FitStatus::MaxIterations;
        continue;
      }
      const MixtureParams before = s.params;
      if (o.method == Method::Adam) {
        adam_step(s, st, o.learning_rate);
      } else {
        MStep m = em_step(s.params, st);
        s.params = std::move(m.params);
        if (m.collapsed >= 0) {
          s.done = true;
          s.status = FitStatus::ComponentCollapsed;
          s.detail = "component " + std::to_string(m.collapsed + 1) + " is dying: " + m.reason;
          s.params = before;
          continue;
        }
      }
      if (!all_finite(s.params)) {
        s.done = true;
        s.status = FitStatus::NonFinite;
        s.detail = "a parameter became non-finite at iteration " + std::to_string(iteration);
        s.params = before;
      }
    }
    if (o.progress) {
      const auto now = Clock::now();
      if (now - last_report >= std::chrono::seconds(1)) {
        const double secs = std::chrono::duration<double>(now - t0).count();
        const Start& s0 = starts[active.front()];
        o.progress({iteration, s0.history.empty() ? 0.0 : s0.history.back(), iteration / secs});
        last_report = now;
      }
    }
  }

  FitResult res;
  int best = 0;
  for (int r = 1; r < n_starts; ++r) {
    if (starts[r].ll > starts[best].ll) best = r;
  }
  for (const Start& s : starts) {
    res.start_log_likelihoods.push_back(s.ll);
  }
  res.starts_at_best = 0;
  for (const Start& s : starts) {
    if (std::abs(s.ll - starts[best].ll) <= kSameOptimum * std::abs(starts[best].ll)) {
      ++res.starts_at_best;
    }
  }
  Start& b = starts[best];
  res.best_start = best;
  res.params = b.params.sorted_by_mean();
  res.n = n;
  res.log_likelihood = b.ll;
  res.mean_nll = -b.ll / total;
  res.iterations = b.iterations;
  res.status = b.status;
  res.converged = b.status == FitStatus::Converged;
  res.status_detail = b.detail;
  res.method = o.method;
  res.device = backend.name();
  res.device_name = backend.device_name();
  res.seed = o.seed;
  res.history = std::move(b.history);
  const double p = res.n_parameters();
  res.aic = 2.0 * p - 2.0 * res.log_likelihood;
  res.bic = p * std::log(total) - 2.0 * res.log_likelihood;
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace detail

FitResult fit(const double* x, std::size_t n, const FitOptions& options,
              const double* case_weights) {
  const auto t0 = std::chrono::steady_clock::now();
  if (n == 0) throw InputError("fit: no samples");
  detail::check_options(options, n);
  std::vector<double> data(x, x + n);
  const std::size_t clamped = detail::check_samples(data.data(), n, options.on_boundary,
                                                    options.boundary_eps, "data",
                                                    detail::index_position);
  if (case_weights) {
    detail::check_case_weights(case_weights, n, "case weights", detail::index_position);
  }
  std::string note;
  auto backend = detail::make_backend(options.device, options.threads, &note);
  backend->load(data.data(), case_weights, n);
  FitResult res = detail::fit_loaded(*backend, options, data.data(), case_weights, n);
  res.n_clamped = clamped;
  res.note = note;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

FitResult fit(const std::vector<double>& x, const FitOptions& options) {
  return fit(x.data(), x.size(), options);
}

const char* to_string(FitStatus status) {
  switch (status) {
    case FitStatus::Converged:
      return "converged";
    case FitStatus::MaxIterations:
      return "max_iterations";
    case FitStatus::NonFinite:
      return "non_finite";
    case FitStatus::ComponentCollapsed:
      return "component_collapsed";
  }
  return "unknown";
}

const char* to_string(Method method) { return method == Method::Adam ? "adam" : "em"; }

}  // namespace betamix
