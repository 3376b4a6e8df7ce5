#include "updates.hpp"

#include <algorithm>
#include <cmath>

#include "samples.hpp"
#include "special.hpp"

namespace betamix::detail {

ShapeScore shape_score(const MixtureParams& p, const StartStats& st) {
  const std::size_t k = p.k();
  ShapeScore d{std::vector<double>(k), std::vector<double>(k)};
  for (std::size_t j = 0; j < k; ++j) {
    const double psi_ab = digamma(p.alpha[j] + p.beta[j]);
    d.a[j] = st.s[j] - st.n[j] * (digamma(p.alpha[j]) - psi_ab);
    d.b[j] = st.t[j] - st.n[j] * (digamma(p.beta[j]) - psi_ab);
  }
  return d;
}

std::vector<double> mean_nll_gradient(const MixtureParams& p, const StartStats& st) {
  const int k = static_cast<int>(p.k());
  const ShapeScore d = shape_score(p, st);
  std::vector<double> g(3 * k);
  for (int j = 0; j < k; ++j) {
    g[j] = -p.alpha[j] * d.a[j] / st.total;
    g[k + j] = -p.beta[j] * d.b[j] / st.total;
    g[2 * k + j] = -(st.n[j] - st.total * p.weights[j]) / st.total;
  }
  return g;
}

std::vector<double> to_unconstrained(const MixtureParams& p) {
  const int k = static_cast<int>(p.k());
  std::vector<double> theta(3 * k);
  for (int j = 0; j < k; ++j) {
    theta[j] = std::log(p.alpha[j]);
    theta[k + j] = std::log(p.beta[j]);
    theta[2 * k + j] = std::log(p.weights[j]);
  }
  return theta;
}

MixtureParams from_unconstrained(const std::vector<double>& theta) {
  const int k = static_cast<int>(theta.size() / 3);
  MixtureParams p;
  p.alpha.resize(k);
  p.beta.resize(k);
  p.weights.resize(k);
  const double m = *std::max_element(theta.begin() + 2 * k, theta.end());
  double sum = 0.0;
  for (int j = 0; j < k; ++j) {
    p.alpha[j] = std::exp(theta[j]);
    p.beta[j] = std::exp(theta[k + j]);
    p.weights[j] = std::exp(theta[2 * k + j] - m);
    sum += p.weights[j];
  }
  for (double& w : p.weights) w /= sum;
  return p;
}

namespace {

// Per unit weight: f(a, b) = -log B(a, b) + (a - 1) sbar + (b - 1) tbar, concave in (a, b).
double shape_objective(double a, double b, double sbar, double tbar) {
  return -log_beta(a, b) + (a - 1.0) * sbar + (b - 1.0) * tbar;
}

// Maximises shape_objective from (a, b) by Newton steps in (log a, log b) with backtracking.
// Where the log-space Hessian is not negative definite (far from the optimum), the step is the
// (a, b)-space Newton step, which is an ascent direction because f is concave in (a, b).
void newton_shapes(double& a, double& b, double sbar, double tbar, double runaway) {
  double f = shape_objective(a, b, sbar, tbar);
  for (int iter = 0; iter < 100; ++iter) {
    const double psi_ab = digamma(a + b), tri_ab = trigamma(a + b);
    const double ga = sbar - digamma(a) + psi_ab;  // df/da
    const double gb = tbar - digamma(b) + psi_ab;  // df/db
    const double haa = tri_ab - trigamma(a), hbb = tri_ab - trigamma(b), hab = tri_ab;
    // Log space: g_u = a ga, H_uu = a^2 haa + a ga, H_uv = a b hab.
    const double gu = a * ga, gv = b * gb;
    const double huu = a * a * haa + gu, hvv = b * b * hbb + gv, huv = a * b * hab;
    double du, dv;
    const double det_log = huu * hvv - huv * huv;
    if (huu < 0.0 && det_log > 0.0) {
      du = -(hvv * gu - huv * gv) / det_log;
      dv = -(huu * gv - huv * gu) / det_log;
    } else {
      const double det = haa * hbb - hab * hab;
      const double da = -(hbb * ga - hab * gb) / det;
      const double db = -(haa * gb - hab * ga) / det;
      du = std::log1p(std::max(da / a, -0.5));
      dv = std::log1p(std::max(db / b, -0.5));
    }
    // Keep a single step within a factor e^3 of the current shapes.
    const double scale = std::min(1.0, 3.0 / std::max(std::abs(du), std::abs(dv)));
    double step = scale;
    bool accepted = false;
    for (int bt = 0; bt < 60 && !accepted; ++bt, step *= 0.5) {
      const double na = a * std::exp(step * du), nb = b * std::exp(step * dv);
      const double nf = shape_objective(na, nb, sbar, tbar);
      if (nf >= f) {
        a = na;
        b = nb;
        f = nf;
        accepted = true;
      }
    }
    if (!accepted || std::max(std::abs(du), std::abs(dv)) * step < 1e-13) return;
    if (a > runaway || b > runaway) return;
  }
}

}  // namespace

namespace {
// A component whose responsibilities sum to (almost) nothing: no data left to fit.
bool is_dead(double nk, double total) { return !(nk > 1e-9 * total) || !(nk > 0.0); }
}  // namespace

MStep em_step(const MixtureParams& p, const StartStats& st, double runaway) {
  MStep out;
  out.params = p;
  const int k = static_cast<int>(p.k());
  out.collapsed = dead_component(st, k, out.reason);
  for (int j = 0; j < k; ++j) {
    const double nk = st.n[j];
    out.params.weights[j] = nk / st.total;
    if (is_dead(nk, st.total)) continue;
    double a = p.alpha[j], b = p.beta[j];
    newton_shapes(a, b, st.s[j] / nk, st.t[j] / nk, runaway);
    out.params.alpha[j] = a;
    out.params.beta[j] = b;
  }
  if (out.collapsed < 0) out.collapsed = runaway_component(out.params, runaway, out.reason);
  return out;
}

int dead_component(const StartStats& st, int k, std::string& reason) {
  for (int j = 0; j < k; ++j) {
    const double nk = st.n[j];
    if (is_dead(nk, st.total)) {
      reason = "its responsibilities sum to " + format_value(nk / st.total) +
               " of the data: its weight went to 0";
      return j;
    }
  }
  return -1;
}

double runaway_shape(double roundoff) {
  return roundoff > 0x1p-53 ? kRunawayShapeFloat : kRunawayShape;
}

int runaway_component(const MixtureParams& p, double limit, std::string& reason) {
  for (std::size_t j = 0; j < p.k(); ++j) {
    const double a = p.alpha[j], b = p.beta[j];
    // NaN is not a runaway: all_in_domain() in fit.cpp reports it.
    if (a >= limit || b >= limit) {
      reason = "its shapes ran away (the next update takes them to alpha " + format_value(a) +
               ", beta " + format_value(b) + ", past " + format_value(limit) +
               "; the result is the point before it): its samples sit on one value, or nearly, "
               "where the likelihood has no maximum";
      return static_cast<int>(j);
    }
  }
  return -1;
}

}  // namespace betamix::detail
