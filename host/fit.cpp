// The fitting loop, written once for every backend and both optimisers:
//
//   constants of every active start -> backend.pass -> statistics -> stopping rule
//   -> Adam step on theta = [log a, log b, softmax logits]   or   EM M-step
//
// R starts share each pass; a start that meets its stopping rule leaves the pass.
// Non-convergence and numerical failure are statuses in the result, not exceptions.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "fit_loop.hpp"
#include "information.hpp"
#include "init.hpp"
#include "samples.hpp"
#include "updates.hpp"

namespace betamix {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// Adam: iterations over which the relative change of the mean NLL must stay below the
// tolerance (its steps oscillate, so one small change proves little).
constexpr int kAdamStopWindow = 10;
// Starts whose final LL lies within this relative distance of the best count as reaching it.
constexpr double kSameOptimum = 1e-6;

// How many of the final log-likelihoods `lls` reach `best`.
int count_at_best(const std::vector<double>& lls, double best) {
  int at = 0;
  for (const double ll : lls) at += std::abs(ll - best) <= kSameOptimum * std::abs(best);
  return at;
}

// An enumerator outside its enumeration (a cast from a bad integer): an InputError.
template <class E>
void check_enum(E value, E last, const char* what) {
  const int v = static_cast<int>(value);
  if (v < 0 || v > static_cast<int>(last)) {
    throw InputError(std::string(what) + " " + std::to_string(v) + " is not one of its values");
  }
}

void check_options(const FitOptions& o, std::size_t n) {
  check_enum(o.method, Method::Squarem, "method");
  check_enum(o.init, InitMethod::KMeans, "init method");
  check_enum(o.device, Device::Cuda, "device");
  check_enum(o.on_boundary, BoundaryPolicy::Clamp, "boundary policy");
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
  if (o.restarts > kMaxRestarts) {
    throw InputError("restarts must be at most " + std::to_string(kMaxRestarts) + ", got " +
                     std::to_string(o.restarts));
  }
  detail::check_threads(o.threads);
  if (o.start) {
    o.start->validate();
    if (static_cast<int>(o.start->k()) != o.k) {
      throw InputError("the starting parameters have " + std::to_string(o.start->k()) +
                       " components, but k = " + std::to_string(o.k));
    }
  }
}

// Finite weights and shapes in (0, kMaxShape] (beyond it log B(alpha, beta) overflows).
bool all_in_domain(const MixtureParams& p) {
  for (std::size_t j = 0; j < p.k(); ++j) {
    if (!std::isfinite(p.weights[j]) || !(p.alpha[j] > 0.0 && p.alpha[j] <= kMaxShape) ||
        !(p.beta[j] > 0.0 && p.beta[j] <= kMaxShape)) {
      return false;
    }
  }
  return true;
}

// SQUAREM (scheme S3) in theta = to_unconstrained(params): from theta0, two EM steps give
// theta1 and theta2; with r = theta1 - theta0, v = theta2 - theta1 - r and the step length
// alpha = |r| / |v| (clamped to [1, step_max]) the extrapolated point is
// theta' = theta0 + 2 alpha r + alpha^2 v (alpha = 1 gives theta2). theta' is kept only when
// its likelihood is at least theta1's; then one EM step from it starts the next cycle, else the
// cycle goes on from theta2. Each kept point is at least as likely as the one before, and a
// cycle costs three passes (at theta0, theta1, theta'). step_max grows by kSquaremStepFactor
// after a kept step at the limit and shrinks by it after a rejected one (the defaults of the
// SQUAREM package).
constexpr double kSquaremStepFactor = 4.0;

struct SquaremState {
  enum class Phase { AtTheta0, AtTheta1, AtExtrapolated } phase = Phase::AtTheta0;
  std::vector<double> theta0;
  MixtureParams theta2;  // the plain EM double step, the fall-back for a rejected theta'
  double alpha = 1.0, step_max = 1.0;
  // Mean NLL at each cycle's theta0. The stopping rule reads these: within a cycle, the gain of
  // one EM step says little (it is small exactly where EM is slow).
  std::vector<double> cycle_history;
  double h0 = 0.0;  // mean NLL at this cycle's theta0
  // What plain EM would still gain from the last cycle's theta0: its first step's gain d over
  // 1 - rho^2, rho = |theta2 - theta1| / |theta1 - theta0| the rate of EM's steps (gains fall as
  // rho^2). Where kept extrapolations make the cycles' gains come in bursts, their own ratios
  // say little about what is left; this does not depend on them.
  double em_remaining = std::numeric_limits<double>::infinity();
};

// One start's optimiser state.
struct Start {
  MixtureParams params;     // parameters of the next pass
  MixtureParams evaluated;  // parameters of the last pass with a finite likelihood (or the start)
  double ll = -std::numeric_limits<double>::infinity();
  double sum_r_log_r = 0.0;  // sum_i sum_k v_i r_ik log r_ik at the last pass
  std::vector<double> history;
  bool done = false;
  FitStatus status = FitStatus::MaxIterations;
  std::string detail;
  int iterations = 0;
  double noise = 0.0;  // rounding noise of the last mean NLL, relative to max(1, |h|)
  // Adam
  std::vector<double> theta, m, v;
  int t = 0;
  // The best point Adam passed: its constant step keeps moving around the maximum, and a long
  // run can end below a point it passed.
  MixtureParams best;
  double best_ll = -std::numeric_limits<double>::infinity();
  double best_sum_r_log_r = 0.0;
  int best_iteration = 0;
  SquaremState squarem;
};

bool same_params(const MixtureParams& a, const MixtureParams& b) {
  return a.weights == b.weights && a.alpha == b.alpha && a.beta == b.beta;
}

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
  // The second start is the other data-driven start: quantile groups and k-means clusters
  // split unequal or concentrated components differently, and each reaches maxima the other
  // misses (0.7 Beta(5000, 5000) + 0.3 Beta(1000, 4000): quantile groups put a fifth of the
  // larger component with the smaller, and Adam empties one of them; k-means does not).
  if (r == 1 && !o.start && o.init != InitMethod::Random) {
    return o.init == InitMethod::KMeans ? quantile_init(x, w, n, o.k) : kmeans_init(x, w, n, o.k);
  }
  // Random starts draw from their own Philox streams, apart from the sampler's.
  return random_init(o.k, o.seed, (std::uint64_t{1} << 63) | static_cast<std::uint64_t>(r));
}

// Adam: the change of the mean NLL h stays below tol * max(1, |h|) for kAdamStopWindow
// iterations, and an EM step from the statistics of the last point would not gain more than
// that either. A flat history alone proves little: a step size too small to move (--lr 1e-300)
// flattens it anywhere. The EM gain is a lower bound on what is still to be had there.
bool adam_converged(const Start& s, const StartStats& st, double tol, double runaway) {
  const std::vector<double>& h = s.history;
  if (static_cast<int>(h.size()) <= kAdamStopWindow) return false;
  const double scale = std::max(1.0, std::abs(h.back()));
  for (std::size_t i = h.size() - kAdamStopWindow; i < h.size(); ++i) {
    if (std::abs(h[i] - h[i - 1]) > tol * scale) return false;
  }
  const MStep m = em_step(s.params, st, runaway);
  return m.collapsed >= 0 || !(em_gain(s.params, m.params, st) > tol * scale);
}

// EM never decreases the likelihood and converges linearly, d_t ~ rho d_(t-1), so a small
// step can hide a large remaining gain when rho is close to 1 (overlapping components). The
// Aitken estimate of the remaining gain, d_t / (1 - rho), must be below the tolerance, with rho
// the larger of the last two ratios d_t / d_(t-1).
bool em_converged(const std::vector<double>& h, double tol) {
  const std::size_t t = h.size();
  if (t < 2) return false;
  const double scale = std::max(1.0, std::abs(h.back()));
  const double d = h[t - 2] - h[t - 1];  // >= 0 up to rounding
  if (std::abs(d) > tol * scale) return false;
  if (t < 3) return true;  // one step from a warm start that is already at the optimum
  const double d_prev = h[t - 3] - h[t - 2];
  if (!(d_prev > 0.0) || d <= 0.0) return true;
  // The larger of the last two ratios: one large step before (a SQUAREM cycle whose
  // extrapolation was kept, among cycles that creep at EM's rate) makes the last ratio small,
  // and the estimate of what is still to come with it, while the creeping goes on (2000
  // overlapping samples: SQUAREM stopped 9e-7 nats short, 450 times the tolerance).
  double rho = d / d_prev;
  if (t >= 4 && h[t - 4] - h[t - 3] > 0.0) rho = std::max(rho, d_prev / (h[t - 4] - h[t - 3]));
  return rho < 1.0 && d / (1.0 - rho) <= tol * scale;
}

// The stopping rule of the method, after s.history has received the point just evaluated.
// SQUAREM applies EM's rule to its cycles, at each cycle's first point.
bool converged(Start& s, const StartStats& st, double tol, double runaway, Method method) {
  switch (method) {
    case Method::Adam:
      return adam_converged(s, st, tol, runaway);
    case Method::EM:
      return em_converged(s.history, tol);
    case Method::Squarem:
      if (s.squarem.phase != SquaremState::Phase::AtTheta0) return false;
      s.squarem.cycle_history.push_back(s.history.back());
      return em_converged(s.squarem.cycle_history, tol) &&
             s.squarem.em_remaining <= tol * std::max(1.0, std::abs(s.history.back()));
  }
  return false;
}

// The rounding noise of a start's mean NLL h, relative to max(1, |h|). The pass rounds each
// sample's terms c_k + (a_k - 1) log x + (b_k - 1) log(1 - x), whose size is about
// m = sum_k (|c_k| N_k + |a_k - 1| |S_k| + |b_k - 1| |T_k|) / total (weighted by the
// responsibilities), by a few units u of its roundoff, independently across samples: the mean
// is off by about 2 u max(1, m) / sqrt(n) (5e-9 on 20000 samples in float32 at m = 6.7, the
// jitter of Adam's mean NLL on the float32 pass), and its double value by a few ulps besides.
double mean_nll_noise(const PassConstants& c, int a, const StartStats& st, double roundoff,
                      std::size_t n, double h) {
  double m = 0.0;
  for (int j = 0; j < c.k; ++j) {
    const std::size_t i = static_cast<std::size_t>(a) * c.k + j;
    m += std::abs(c.c[i]) * st.n[j] + std::abs(c.am1[i] * st.s[j]) + std::abs(c.bm1[i] * st.t[j]);
  }
  m = std::isfinite(m) ? m / st.total : 1.0;
  const double scale = std::max(1.0, std::abs(h));
  return (2.0 * roundoff * std::max(1.0, m) / std::sqrt(static_cast<double>(n))) / scale +
         16.0 * 0x1p-53;  // the double value's own rounding, as in fit_loaded's unit_noise
}

// sum_i sum_k v_i r_ik log r_ik from the statistics alone: log r_ik = l_ik - L_i with
// l_ik = c_k + am1_k log x_i + bm1_k log(1 - x_i), so the sum is
// sum_k (c_k N_k + am1_k S_k + bm1_k T_k) - LL.
double sum_r_log_r(const PassConstants& c, int a, const StartStats& st, double ll) {
  double sum = -ll;
  for (int j = 0; j < c.k; ++j) {
    const std::size_t i = static_cast<std::size_t>(a) * c.k + j;
    sum += c.c[i] * st.n[j] + c.am1[i] * st.s[j] + c.bm1[i] * st.t[j];
  }
  return sum;
}

// "component j is dying: ...", j numbered as in the result (FitResult::params, sorted by mean).
std::string dying(const MixtureParams& p, int j, const std::string& reason) {
  const auto mean = [&](std::size_t i) { return p.alpha[i] / (p.alpha[i] + p.beta[i]); };
  const std::size_t at = static_cast<std::size_t>(j);
  int rank = 0;
  for (std::size_t i = 0; i < p.k(); ++i) {
    if (mean(i) < mean(at) || (i < at && mean(i) == mean(at))) ++rank;
  }
  return "component " + std::to_string(rank + 1) + " is dying: " + reason;
}

// How dead component j of p got there: before any step, the start did it.
std::string dead_cause(const MixtureParams& p, int j, int iteration) {
  if (iteration > 0) return " (its weight went to 0, or a step moved it off its samples)";
  return p.weights[static_cast<std::size_t>(j)] == 0.0
             ? " (the start gives it weight 0, before any step)"
             : " (the start puts it where the data are not, before any step)";
}

// Two components with the same shapes (to 1e-3) make a stationary point where K - 1
// components fit as well: the likelihood does not care how the weight is split between them,
// and such a point is a saddle rather than a maximum (EM keeps a start with equal components
// equal; Adam can converge there too). Empty when there is no such pair, else what to say.
std::string coinciding_components(const MixtureParams& p) {
  // 1e-3, not closer: near such a point the components escape each other slowly, and a rule
  // that stops on small gains can stop there (SQUAREM at shapes 5e7, 4e-4 apart, 3 nats short).
  const auto close = [](double u, double v) { return std::abs(u - v) <= 1e-3 * std::max(u, v); };
  for (std::size_t i = 0; i < p.k(); ++i) {
    for (std::size_t j = i + 1; j < p.k(); ++j) {
      if (close(p.alpha[i], p.alpha[j]) && close(p.beta[i], p.beta[j])) {
        char text[320];
        std::snprintf(text, sizeof text,
                      "components %zu and %zu coincide (alpha %.6g, beta %.6g): a stationary "
                      "point that K - 1 components fit as well, usually not a maximum; more "
                      "starts (--restarts 8) or --method em can find separate ones",
                      i + 1, j + 1, p.alpha[i], p.beta[i]);
        return text;
      }
    }
  }
  return {};
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

// SQUAREM: the parameters of the next pass, from `em`, the EM step at the point just evaluated
// (s.params).
void squarem_step(Start& s, MixtureParams em, double runaway) {
  SquaremState& q = s.squarem;
  switch (q.phase) {
    case SquaremState::Phase::AtTheta0:
      q.h0 = s.history.back();
      q.theta0 = to_unconstrained(s.params);
      s.params = std::move(em);
      q.phase = SquaremState::Phase::AtTheta1;
      return;
    case SquaremState::Phase::AtTheta1: {
      const std::vector<double> t1 = to_unconstrained(s.params), t2 = to_unconstrained(em);
      std::vector<double> r(t1.size()), v(t1.size());
      double rr = 0.0, vv = 0.0, rv = 0.0;
      for (std::size_t i = 0; i < t1.size(); ++i) {
        r[i] = t1[i] - q.theta0[i];
        v[i] = t2[i] - t1[i] - r[i];
        rr += r[i] * r[i];
        vv += v[i] * v[i];
        rv += (r[i] + v[i]) * (r[i] + v[i]);
      }
      // Rates above 1 - 1e-4 (EM needing over 10^4 steps per e-fold) are taken as that: at the
      // maximum the steps are rounding noise, and so is their ratio.
      // The gain counts beyond the rounding of the mean NLL only: at the maximum it is rounding
      // noise (4e-16 at double), which 1 / (1 - rho^2) would blow up past any tolerance.
      const double rho2 = rr > 0.0 ? std::min(rv / rr, 1.0 - 2e-4) : 0.0;
      const double noise_h = s.noise * std::max(1.0, std::abs(q.h0));
      q.em_remaining = std::max(q.h0 - s.history.back() - noise_h, 0.0) / (1.0 - rho2);
      q.alpha = vv > 0.0 ? std::clamp(std::sqrt(rr / vv), 1.0, q.step_max) : 1.0;
      std::vector<double> t(t1.size());
      for (std::size_t i = 0; i < t.size(); ++i) {
        t[i] = q.theta0[i] + 2.0 * q.alpha * r[i] + q.alpha * q.alpha * v[i];
      }
      MixtureParams extrapolated = from_unconstrained(t);
      std::string unused;
      // An extrapolation to shapes beyond the runaway limit is not tried: there the M-step
      // would report a collapse that EM itself never reached, at shapes whose log-density
      // the pass no longer evaluates well.
      if (!all_in_domain(extrapolated) || runaway_component(extrapolated, runaway, unused) >= 0) {
        s.params = std::move(em);  // nothing to try: theta2 starts the next cycle
        q.phase = SquaremState::Phase::AtTheta0;
        return;
      }
      q.theta2 = std::move(em);
      s.params = std::move(extrapolated);
      q.phase = SquaremState::Phase::AtExtrapolated;
      return;
    }
    case SquaremState::Phase::AtExtrapolated:  // kept (a rejected one never gets here)
      if (q.alpha >= q.step_max) q.step_max *= kSquaremStepFactor;
      s.params = std::move(em);
      q.phase = SquaremState::Phase::AtTheta0;
      return;
  }
}

// SQUAREM: true when the point just evaluated is an extrapolation no more likely than theta1
// (or not finite); the next pass then goes to theta2.
bool squarem_rejects(Start& s, double ll) {
  SquaremState& q = s.squarem;
  if (q.phase != SquaremState::Phase::AtExtrapolated || (std::isfinite(ll) && ll >= s.ll)) {
    return false;
  }
  if (q.alpha >= q.step_max) q.step_max = std::max(1.0, q.step_max / kSquaremStepFactor);
  s.params = q.theta2;
  q.phase = SquaremState::Phase::AtTheta0;
  return true;
}

// Adam's result is the best point it passed where that is better than its last by more than
// the stopping tolerance, or by more than four times the rounding noise of the mean NLL where
// that is larger (as in the stopping rule) or the tolerance is 0. Within it, the two are one
// point to the fit (a converged run's last steps differ by less), and the last is kept, as
// EM's is. Not for a collapsed start: its detail names the dying component at the last point.
void adopt_best_point(Start& s, double total, double tolerance) {
  if (s.status == FitStatus::ComponentCollapsed || !(s.best_ll > s.ll)) return;
  const double h_best = -s.best_ll / total, h_last = -s.ll / total;
  const double floor = std::max(std::max(tolerance, 0.0), 4.0 * s.noise);
  if (h_last - h_best <= floor * std::max(1.0, std::abs(h_best))) return;
  char line[200];
  std::snprintf(line, sizeof line,
                "the result is the point of iteration %d, the best the run passed (the last, at "
                "iteration %d, is %.3g higher in mean NLL)",
                s.best_iteration, s.iterations, h_last - h_best);
  s.detail += s.detail.empty() ? line : std::string("; ") + line;
  s.evaluated = s.best;
  s.ll = s.best_ll;
  s.sum_r_log_r = s.best_sum_r_log_r;
}

}  // namespace

FitResult fit_loaded(Backend& backend, const FitOptions& o, const double* x, const double* w,
                     std::size_t n) {
  const auto t0 = Clock::now();
  const int k = o.k, n_starts = o.restarts;
  const double total = backend.total_weight();
  const double runaway = runaway_shape(backend.roundoff());
  // The rounding noise of a mean NLL of terms of size 1 (relative to max(1, |h|)): that of the
  // pass, u / sqrt(n), and of the double value, a few ulps.
  const double unit_noise = 16.0 * 0x1p-53 + backend.roundoff() / std::sqrt(static_cast<double>(n));
  std::vector<Start> starts(n_starts);
  for (int r = 0; r < n_starts; ++r) {
    starts[r].params = first_params(o, r, x, w, n);
    // Where the two data-driven starts agree (K = 1, or clusters the quantiles split alike),
    // the second would only repeat the first and count twice as "reached the best".
    if (r == 1 && same_params(starts[1].params, starts[0].params)) {
      starts[1].params = random_init(o.k, o.seed, (std::uint64_t{1} << 63) | 1u);
    }
    starts[r].evaluated = starts[r].params;  // the result of a start whose first pass fails
  }

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
    const bool stop = o.stop && o.stop();  // once per iteration, for every start alike
    for (std::size_t a = 0; a < active.size(); ++a) {
      Start& s = starts[active[a]];
      const StartStats st{&stats.n[a * k], &stats.s[a * k], &stats.t[a * k], total};
      const double ll = stats.ll[a];
      if (o.method == Method::Squarem && squarem_rejects(s, ll)) {
        // Not a point of the fit: neither the result nor the history keeps it.
        s.iterations = iteration;
        if (iteration >= o.max_iterations || stop) {
          s.done = true;
          s.status = stop ? FitStatus::Stopped : FitStatus::MaxIterations;
        }
        continue;
      }
      if (!std::isfinite(ll)) {
        // The result keeps the last parameters with a finite likelihood (s.evaluated).
        s.done = true;
        s.status = FitStatus::NonFinite;
        s.detail = "the log-likelihood became non-finite at iteration " + std::to_string(iteration);
        continue;
      }
      s.ll = ll;
      s.evaluated = s.params;
      s.sum_r_log_r = sum_r_log_r(constants, static_cast<int>(a), st, ll);
      s.iterations = iteration;
      s.history.push_back(-ll / total);
      if (o.method == Method::Adam && ll > s.best_ll) {
        s.best = s.params;
        s.best_ll = ll;
        s.best_sum_r_log_r = s.sum_r_log_r;
        s.best_iteration = iteration;
      }
      // Adam's steps never stop, so its rule must not ask for a change below a few times the
      // rounding noise of the mean NLL (on float32 it had chased the noise to the iteration
      // limit). EM and SQUAREM come to rest (their steps shrink until the pass sees the same
      // point), and a floor as large as the noise would stop them where they creep by less
      // than it per step but far in total (two components at shapes 5e7 escaping each other,
      // 3 nats over 3000 steps): theirs is the noise of terms of size 1, and SQUAREM's
      // estimate of what plain EM would still gain discounts that much.
      s.noise = o.method == Method::Adam ? mean_nll_noise(constants, static_cast<int>(a), st,
                                                          backend.roundoff(), n, s.history.back())
                                         : unit_noise;
      const double tol = o.tolerance <= 0.0 ? 0.0 : std::max(o.tolerance, 4.0 * s.noise);
      if (tol > 0.0 && converged(s, st, tol, runaway, o.method)) {
        s.done = true;
        s.status = FitStatus::Converged;
        continue;
      }
      if (iteration >= o.max_iterations) {
        s.done = true;
        s.status = FitStatus::MaxIterations;
        continue;
      }
      if (stop) {
        s.done = true;
        s.status = FitStatus::Stopped;
        continue;
      }
      const MixtureParams before = s.params;
      int collapsed = -1;  // a dying component: the start ends at the parameters evaluated
      std::string reason;
      if (o.method == Method::Adam) {
        collapsed = dead_component(st, static_cast<int>(s.params.k()), reason);
        if (collapsed < 0) {
          adam_step(s, st, o.learning_rate);
          collapsed = runaway_component(s.params, runaway, reason);
        }
      } else {
        MStep m = em_step(s.params, st, runaway);
        collapsed = m.collapsed;
        reason = std::move(m.reason);
        if (collapsed < 0 && o.method == Method::Squarem) {
          squarem_step(s, std::move(m.params), runaway);
        } else if (collapsed < 0) {
          s.params = std::move(m.params);
        }
      }
      if (collapsed >= 0) {
        s.done = true;
        s.status = FitStatus::ComponentCollapsed;
        s.detail = dying(s.evaluated, collapsed, reason);
        if (is_dead(st.n[collapsed], st.total))
          s.detail += dead_cause(s.evaluated, collapsed, iteration);
        s.params = before;
        continue;
      }
      if (!all_in_domain(s.params)) {
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

  for (Start& s : starts) {
    if (o.method == Method::Adam) adopt_best_point(s, total, o.tolerance);
  }
  FitResult res;
  int best = 0;
  for (int r = 1; r < n_starts; ++r) {
    if (starts[r].ll > starts[best].ll) best = r;
  }
  for (const Start& s : starts) {
    res.start_log_likelihoods.push_back(s.ll);
  }
  res.starts_at_best = count_at_best(res.start_log_likelihoods, starts[best].ll);
  Start& b = starts[best];
  res.best_start = best;
  res.params = b.evaluated.sorted_by_mean();
  res.n = n;
  res.log_likelihood = b.ll;
  res.mean_nll = -b.ll / total;
  res.iterations = b.iterations;
  res.status = b.status;
  res.converged = b.status == FitStatus::Converged;
  res.status_detail = b.detail;
  if (res.converged) {
    const std::string coinciding = coinciding_components(res.params);
    if (!coinciding.empty()) {
      res.status_detail += res.status_detail.empty() ? coinciding : "; " + coinciding;
    }
  }
  res.method = o.method;
  res.device = backend.name();
  res.device_name = backend.device_name();
  res.seed = o.seed;
  res.history = std::move(b.history);
  const double p = res.n_parameters();
  res.aic = 2.0 * p - 2.0 * res.log_likelihood;
  res.bic = p * std::log(total) - 2.0 * res.log_likelihood;
  res.icl = res.bic - 2.0 * b.sum_r_log_r;
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace detail

namespace {

// Validated data on a loaded backend, shared by the fits of one call. The samples stay the
// caller's (no copy of 10^9 samples) unless the boundary policy moved some of them.
struct Loaded {
  const double* x = nullptr;
  std::size_t n = 0;
  std::vector<double> clamped;  // the clamped copy, when there is one
  std::size_t n_clamped = 0;
  std::string note;
  std::unique_ptr<detail::Backend> backend;
};

// `max_k`: the most components of the fits to come (Device::Auto takes the CPU above the GPU's).
Loaded load(const double* x, std::size_t n, const FitOptions& options, const double* w, int max_k) {
  if (n == 0) throw InputError("fit: no samples");
  Loaded l;
  l.x = x;
  l.n = n;
  l.n_clamped = detail::validate_samples(x, n, options.on_boundary, options.boundary_eps, "data",
                                         detail::index_position);
  if (l.n_clamped > 0) {
    l.clamped.assign(x, x + n);
    detail::check_samples(l.clamped.data(), n, options.on_boundary, options.boundary_eps, "data",
                          detail::index_position);
    l.x = l.clamped.data();
  }
  if (w) detail::check_case_weights(w, n, "case weights", detail::index_position);
  detail::check_not_one_value(l.x, w, n, "data");
  l.backend = detail::load_backend(options.device, options.threads, &l.note, max_k, l.x, w, n);
  return l;
}

FitResult fit_one(Loaded& l, const FitOptions& options, const double* w) {
  FitResult res = detail::fit_loaded(*l.backend, options, l.x, w, l.n);
  res.n_clamped = l.n_clamped;
  res.note = l.note;
  return res;
}

// A start for k components from a fit with fewer: its component `first` split in two, then
// the heaviest split in turn until there are k. A split halves the weight, keeps the
// concentration a + b and moves the two means half a standard deviation apart either way
// (at most halfway to 0 or 1).
MixtureParams split_start(const MixtureParams& p, std::size_t first, std::size_t k) {
  MixtureParams s = p;
  std::size_t j = first;
  while (s.k() < k) {
    const double w = s.weights[j] / 2.0, c = s.alpha[j] + s.beta[j], m = s.alpha[j] / c;
    const double sd = std::sqrt(m * (1.0 - m) / (c + 1.0));
    const double m1 = std::max(m - sd / 2.0, m / 2.0), m2 = std::min(m + sd / 2.0, (1.0 + m) / 2.0);
    s.weights[j] = w;
    s.alpha[j] = m1 * c;
    s.beta[j] = (1.0 - m1) * c;
    s.weights.push_back(w);
    s.alpha.push_back(m2 * c);
    s.beta.push_back((1.0 - m2) * c);
    j = static_cast<std::size_t>(std::max_element(s.weights.begin(), s.weights.end()) -
                                 s.weights.begin());
  }
  return s;
}

// A fit that converged or reached the iteration limit. A collapsed or non-finite one stopped
// where a component ran off to a spike: its likelihood, and so its criterion, depends on where
// it was stopped, not on the data alone; and one stopped on request is unfinished.
bool sound(const FitResult& r) {
  return std::isfinite(r.log_likelihood) &&
         (r.status == FitStatus::Converged || r.status == FitStatus::MaxIterations);
}

// More components can always match fewer (the extra ones at weight 0), so a fit that ends more
// than 1e-6 relative (the margin of starts_at_best) below the log-likelihood of a smaller K
// stopped away from its maximum, and its criterion is worse than that K deserves. Such a K is
// fitted again from starts made of the best smaller fit with one of its components split (each
// of its 8 heaviest in turn), as more starts of the same fit (their log-likelihoods join its
// start_log_likelihoods); the best sound one of all its starts is its result. Fits are taken by
// increasing K, so that one mended serves the next. Each gets a sentence in sel.notes.
void start_below_smaller_k_again(Loaded& l, ModelSelection& sel, const FitOptions& options,
                                 const double* w) {
  std::vector<std::size_t> order(sel.fits.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sel.fits[a].params.k() < sel.fits[b].params.k();
  });
  for (const std::size_t i : order) {
    FitResult& r = sel.fits[i];
    if (!sound(r)) continue;
    const FitResult* above = nullptr;
    for (const FitResult& q : sel.fits) {
      if (q.params.k() < r.params.k() && sound(q) &&
          q.log_likelihood - r.log_likelihood > detail::kSameOptimum * std::abs(q.log_likelihood) &&
          (above == nullptr || q.log_likelihood > above->log_likelihood)) {
        above = &q;
      }
    }
    if (above == nullptr) continue;
    const std::size_t k = r.params.k(), k_above = above->params.k();
    const double ll_above = above->log_likelihood;
    std::vector<std::size_t> heaviest(k_above);
    for (std::size_t j = 0; j < k_above; ++j) heaviest[j] = j;
    std::stable_sort(heaviest.begin(), heaviest.end(), [&](std::size_t a, std::size_t b) {
      return above->params.weights[a] > above->params.weights[b];
    });
    heaviest.resize(std::min<std::size_t>(k_above, 8));
    FitOptions o = options;
    o.k = static_cast<int>(k);
    o.restarts = 1;
    // Only a sound fit can take r's place (a collapsed one's likelihood is where it stopped).
    FitResult best;
    bool found = false;
    std::size_t best_split = 0, best_index = 0, higher_unsound = 0;
    std::vector<double> lls;
    double seconds = 0.0;
    bool stopped = false;  // options.stop: the split starts so far count, no more are fitted
    for (const std::size_t j : heaviest) {
      o.start = split_start(above->params, j, k);
      FitResult alt = fit_one(l, o, w);
      if (alt.status == FitStatus::Stopped) {
        stopped = true;
        break;
      }
      lls.push_back(alt.log_likelihood);
      seconds += alt.seconds;
      if (!sound(alt) && alt.log_likelihood > r.log_likelihood) ++higher_unsound;
      if (sound(alt) && (!found || alt.log_likelihood > best.log_likelihood)) {
        best = std::move(alt);
        best_split = j;
        best_index = lls.size() - 1;
        found = true;
      }
    }
    const auto stop_note = [&] {
      sel.notes.push_back("stopped while K = " + std::to_string(k) + " was fitted again, after " +
                          std::to_string(lls.size()) + " of its " +
                          std::to_string(heaviest.size()) +
                          " split starts; no K was fitted again after it");
    };
    if (stopped && lls.empty()) return stop_note();
    const bool better = found && best.log_likelihood > r.log_likelihood;
    char line[640];
    int at = std::snprintf(line, sizeof line,
                           "K = %zu (status %s) ended %.4g below the log-likelihood of K = %zu, "
                           "which %zu components can always match: it had stopped away from its "
                           "maximum; ",
                           k, to_string(r.status), ll_above - r.log_likelihood, k_above, k);
    at = std::min(std::max(at, 0), static_cast<int>(sizeof line) - 1);
    if (better) {
      best.seconds = r.seconds + seconds;
      best.best_start = static_cast<int>(r.start_log_likelihoods.size() + best_index);
      best.start_log_likelihoods = r.start_log_likelihoods;
      best.start_log_likelihoods.insert(best.start_log_likelihoods.end(), lls.begin(), lls.end());
      best.starts_at_best = detail::count_at_best(best.start_log_likelihoods, best.log_likelihood);
      const std::string from = "started from the K = " + std::to_string(k_above) +
                               " fit with its component " + std::to_string(best_split + 1) +
                               " split";
      best.status_detail = best.status_detail.empty() ? from : from + "; " + best.status_detail;
      r = std::move(best);
      std::snprintf(line + at, sizeof line - static_cast<std::size_t>(at),
                    "a start from the K = %zu fit with its component %zu split reached %.4g %s "
                    "it (status %s), and is K = %zu's result",
                    k_above, best_split + 1, std::abs(r.log_likelihood - ll_above),
                    r.log_likelihood >= ll_above ? "above" : "below", to_string(r.status), k);
    } else {
      r.seconds += seconds;
      r.start_log_likelihoods.insert(r.start_log_likelihoods.end(), lls.begin(), lls.end());
      r.starts_at_best = detail::count_at_best(r.start_log_likelihoods, r.log_likelihood);
      char higher[160] = "";
      if (higher_unsound > 0) {
        std::snprintf(higher, sizeof higher,
                      "%zu of them ended higher but collapsed or turned non-finite, where the "
                      "likelihood depends on where a fit stopped; ",
                      higher_unsound);
      }
      std::snprintf(line + at, sizeof line - static_cast<std::size_t>(at),
                    "starts from the K = %zu fit with a component split did no better (%smore "
                    "starts, more iterations or SQUAREM may)",
                    k_above, higher);
    }
    sel.notes.emplace_back(line);
    if (stopped) return stop_note();
  }
}

// Standard errors at the fit's optimum: one more pass on the fit's backend, or on the CPU
// where that pass fails there (k above the GPU moment pass's 64, no device memory left).
void add_standard_errors(Loaded& l, FitResult& res, const double* w) {
  if (!std::isfinite(res.log_likelihood)) {
    res.se = StandardErrors{};
    res.se->reason = "the fit has no finite log-likelihood";
    return;
  }
  // A fit is not lost for want of memory for its standard errors: the reason says what failed.
  const auto failed = [&res](const DeviceError& e) {
    res.se = StandardErrors{};
    res.se->reason = e.what();
  };
  try {
    res.se = detail::standard_errors(*l.backend, res.params);
  } catch (const DeviceError& e) {
    if (std::string(l.backend->name()) == "cpu") return failed(e);
    try {
      res.se = standard_errors(res.params, l.x, l.n, w, Device::Cpu);
    } catch (const DeviceError& cpu_error) {
      failed(cpu_error);
    }
  }
  if (res.se->available && res.status != FitStatus::Converged) {
    const std::string why = "the fit ended with status " + std::string(to_string(res.status)) +
                            ", not at a converged maximum";
    res.se->note = res.se->note.empty() ? why : why + "; " + res.se->note;
  }
}

}  // namespace

FitResult fit(const double* x, std::size_t n, const FitOptions& options,
              const double* case_weights) {
  const auto t0 = std::chrono::steady_clock::now();
  detail::check_options(options, n);
  Loaded l = load(x, n, options, case_weights, options.k);
  FitResult res = fit_one(l, options, case_weights);
  if (options.standard_errors) add_standard_errors(l, res, case_weights);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

ModelSelection select_k(const double* x, std::size_t n, const std::vector<int>& ks,
                        Criterion criterion, const FitOptions& options,
                        const double* case_weights) {
  if (ks.empty()) throw InputError("select_k: no K to fit");
  detail::check_enum(criterion, Criterion::ICL, "criterion");
  for (int k : ks) {
    FitOptions o = options;
    o.k = k;
    detail::check_options(o, n);
  }
  Loaded l = load(x, n, options, case_weights, *std::max_element(ks.begin(), ks.end()));
  ModelSelection sel;
  sel.criterion = criterion;
  const auto value = [&](const FitResult& r) {
    return criterion == Criterion::AIC ? r.aic : criterion == Criterion::ICL ? r.icl : r.bic;
  };
  // Fits that are not sound (collapsed, non-finite or stopped) are chosen only when every fit
  // is one. A stopped fit is the last: the K after it are not fitted, and no K is mended.
  bool stopped = false;
  for (std::size_t i = 0; i < ks.size() && !stopped; ++i) {
    FitOptions o = options;
    o.k = ks[i];
    sel.fits.push_back(fit_one(l, o, case_weights));
    stopped = sel.fits.back().status == FitStatus::Stopped;
    if (stopped && i + 1 < ks.size()) {
      std::string rest;
      for (std::size_t j = i + 1; j < ks.size(); ++j) {
        rest += (rest.empty() ? "" : ", ") + std::to_string(ks[j]);
      }
      sel.notes.push_back("stopped during K = " + std::to_string(ks[i]) + ": K = " + rest +
                          " not fitted");
    }
  }
  if (!stopped) start_below_smaller_k_again(l, sel, options, case_weights);
  for (std::size_t i = 1; i < sel.fits.size(); ++i) {
    const FitResult& now = sel.fits[i];
    const FitResult& best = sel.fits[sel.selected];
    if ((sound(now) && !sound(best)) || (sound(now) == sound(best) && value(now) < value(best))) {
      sel.selected = static_cast<int>(i);
    }
  }
  if (options.standard_errors) add_standard_errors(l, sel.fits[sel.selected], case_weights);
  return sel;
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
    case FitStatus::Stopped:
      return "stopped";
  }
  return "unknown";
}

const char* to_string(Method method) {
  switch (method) {
    case Method::Adam:
      return "adam";
    case Method::EM:
      return "em";
    case Method::Squarem:
      return "squarem";
  }
  return "unknown";
}

const char* to_string(Criterion criterion) {
  switch (criterion) {
    case Criterion::BIC:
      return "bic";
    case Criterion::AIC:
      return "aic";
    case Criterion::ICL:
      return "icl";
  }
  return "unknown";
}

}  // namespace betamix
