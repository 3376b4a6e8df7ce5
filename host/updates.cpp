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
  // Below 1e-150 trigamma overflows (1/a^2): the search starts there instead, which the
  // maximum of a concave function does not depend on, and keeps the old shapes only if it
  // ends lower than they were.
  constexpr double kTiny = 1e-150;
  if (a < kTiny || b < kTiny) {
    const double a0 = a, b0 = b, f0 = shape_objective(a, b, sbar, tbar);
    a = std::max(a, kTiny);
    b = std::max(b, kTiny);
    newton_shapes(a, b, sbar, tbar, runaway);
    if (!(shape_objective(a, b, sbar, tbar) >= f0)) {
      a = a0;
      b = b0;
    }
    return;
  }
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
      // Scaled by the largest entry: at tiny shapes trigamma(a) ~ 1/a^2, and the determinant
      // of the unscaled Hessian overflows (a = 1e-100: 1e400), which made the step 0.
      const double h = std::max({std::abs(haa), std::abs(hbb), std::abs(hab)});
      const double saa = haa / h, sbb = hbb / h, sab = hab / h;
      const double det = saa * sbb - sab * sab;
      const double da = -(sbb * (ga / h) - sab * (gb / h)) / det;
      const double db = -(saa * (gb / h) - sab * (ga / h)) / det;
      du = std::log1p(std::max(da / a, -0.5));
      dv = std::log1p(std::max(db / b, -0.5));
    }
    // Moves (a, b) along (du, dv) in log space, at most a factor e^3, halving the step until f
    // does not decrease; the step taken (0 when none was).
    const auto search = [&](double su, double sv) {
      if (!std::isfinite(su) || !std::isfinite(sv) || (su == 0.0 && sv == 0.0)) return 0.0;
      double step = std::min(1.0, 3.0 / std::max(std::abs(su), std::abs(sv)));
      for (int bt = 0; bt < 60; ++bt, step *= 0.5) {
        const double na = a * std::exp(step * su), nb = b * std::exp(step * sv);
        const double nf = shape_objective(na, nb, sbar, tbar);
        if (nf >= f) {
          const bool gained = nf > f;
          a = na;
          b = nb;
          f = nf;
          return gained ? step * std::max(std::abs(su), std::abs(sv)) : 0.0;
        }
      }
      return 0.0;
    };
    double moved = search(du, dv);
    if (moved == 0.0) {
      // No gain along the Newton step: a Hessian singular or ill-conditioned in double (as
      // a -> 0 f is nearly linear in log a and flat in b) gives none or a poor direction. The
      // signs of the log-space gradient are an ascent direction.
      moved = search(static_cast<double>((gu > 0.0) - (gu < 0.0)),
                     static_cast<double>((gv > 0.0) - (gv < 0.0)));
    }
    if (moved < 1e-13) return;
    if (a > runaway || b > runaway) return;
  }
}

}  // namespace

bool is_dead(double nk, double total) { return !(nk > 1e-9 * total) || !(nk > 0.0); }

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

double em_gain(const MixtureParams& from, const MixtureParams& to, const StartStats& st) {
  double gain = 0.0;
  for (std::size_t j = 0; j < from.k(); ++j) {
    const double nk = st.n[j];
    if (!(nk > 0.0)) continue;
    const double sbar = st.s[j] / nk, tbar = st.t[j] / nk;
    const double shapes = shape_objective(to.alpha[j], to.beta[j], sbar, tbar) -
                          shape_objective(from.alpha[j], from.beta[j], sbar, tbar);
    gain += nk * (std::log(to.weights[j] / from.weights[j]) + shapes);
  }
  return gain / st.total;
}

int dead_component(const StartStats& st, int k, std::string& reason) {
  for (int j = 0; j < k; ++j) {
    const double nk = st.n[j];
    if (is_dead(nk, st.total)) {
      reason = "its responsibilities sum to " + format_value(nk / st.total) +
               " of the data: no sample is left to it";
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
