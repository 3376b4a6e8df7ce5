// The observed information of a fitted mixture and the standard errors it implies; the
// derivation is at the top of information.hpp.

#include "information.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "host_memory.hpp"
#include "samples.hpp"
#include "special.hpp"
#include "updates.hpp"

namespace betamix {
namespace detail {
namespace {

// A pivot of the equilibrated (unit-diagonal) information below this means a condition number
// above ~1e12: the covariance would be mostly rounding noise.
constexpr double kMinPivot = 1e-12;
constexpr double kZ95 = 1.959963984540054;  // standard normal 97.5 % quantile

// Moments q of MomentStats: 1, lx, l1x, lx^2, lx l1x, l1x^2.
enum Moment { kOne = 0, kLx, kL1x, kLx2, kLxL1x, kL1x2 };

// Returns the inverse of the symmetric positive definite `a` (n x n, row-major), or an empty
// vector with `reason` set when it is not positive definite. Equilibrated first (unit diagonal)
// so that shapes and weights of very different scales do not mask a singular direction.
std::vector<double> spd_inverse(const std::vector<double>& a, int n, std::string& reason) {
  std::vector<double> d(n);
  for (int i = 0; i < n; ++i) {
    const double aii = a[static_cast<std::size_t>(i) * n + i];
    if (std::isinf(aii)) {
      reason = "the observed information overflows a double (diagonal element " +
               std::to_string(i + 1) + " is infinite)";
      return {};
    }
    if (!(aii > 0.0)) {
      reason = "the observed information is not positive definite (diagonal element " +
               std::to_string(i + 1) + " is not positive)";
      return {};
    }
    d[i] = std::sqrt(aii);
  }
  std::vector<double> l(static_cast<std::size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) {
    for (int i = j; i < n; ++i) {
      double s = a[static_cast<std::size_t>(i) * n + j] / (d[i] * d[j]);
      for (int m = 0; m < j; ++m) s -= l[i * n + m] * l[j * n + m];
      if (i == j) {
        if (!(s > kMinPivot)) {
          reason = s > 0.0 ? "the observed information is numerically singular (condition "
                             "number above 1e12): a parameter is not identified"
                           : "the observed information is not positive definite: the estimate "
                             "is not a local maximum of the likelihood";
          return {};
        }
        l[j * n + j] = std::sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  // Column by column: solve L L^T x = e_c, then undo the equilibration.
  std::vector<double> inv(static_cast<std::size_t>(n) * n), y(n);
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < n; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (int m = 0; m < i; ++m) s -= l[i * n + m] * y[m];
      y[i] = s / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; --i) {
      double s = y[i];
      for (int m = i + 1; m < n; ++m) s -= l[m * n + i] * y[m];
      y[i] = s / l[i * n + i];
    }
    for (int i = 0; i < n; ++i) inv[static_cast<std::size_t>(i) * n + c] = y[i] / (d[i] * d[c]);
  }
  return inv;
}

}  // namespace

std::vector<double> observed_information(const MixtureParams& p, const MomentStats& m) {
  const int k = static_cast<int>(p.k());
  const int dim = 3 * k - 1;
  const auto ia = [](int j) { return j; };
  const auto ib = [k](int j) { return k + j; };
  const auto iw = [k](int j) { return 2 * k + j; };
  // e_j[f] = d log w_j / d w_f over the K-1 free weights f.
  const auto e = [&](int j, int f) {
    if (j < k - 1) return j == f ? 1.0 / p.weights[j] : 0.0;
    return -1.0 / p.weights[k - 1];
  };
  std::vector<double> A(k), B(k);
  for (int j = 0; j < k; ++j) {
    const double dab = digamma(p.alpha[j] + p.beta[j]);
    A[j] = digamma(p.alpha[j]) - dab;
    B[j] = digamma(p.beta[j]) - dab;
  }
  // h accumulates the Hessian of LL; the information is -h.
  std::vector<double> h(static_cast<std::size_t>(dim) * dim, 0.0);
  const auto at = [&](int r, int c) -> double& { return h[static_cast<std::size_t>(r) * dim + c]; };
  for (int j = 0; j < k; ++j) {
    const double n = m.single_at(kOne, j), s = m.single_at(kLx, j), t = m.single_at(kL1x, j);
    const double tab = trigamma(p.alpha[j] + p.beta[j]);
    // sum_i r_ij H_ij, shapes (the weights' part cancels against g g^T, see the header).
    at(ia(j), ia(j)) -= n * (trigamma(p.alpha[j]) - tab);
    at(ib(j), ib(j)) -= n * (trigamma(p.beta[j]) - tab);
    at(ia(j), ib(j)) += n * tab;
    // sum_i r_ij g_ij g_ij^T.
    at(ia(j), ia(j)) += m.single_at(kLx2, j) - 2.0 * A[j] * s + A[j] * A[j] * n;
    at(ib(j), ib(j)) += m.single_at(kL1x2, j) - 2.0 * B[j] * t + B[j] * B[j] * n;
    at(ia(j), ib(j)) += m.single_at(kLxL1x, j) - B[j] * s - A[j] * t + A[j] * B[j] * n;
    for (int f = 0; f < k - 1; ++f) {
      at(ia(j), iw(f)) += (s - A[j] * n) * e(j, f);
      at(ib(j), iw(f)) += (t - B[j] * n) * e(j, f);
    }
  }
  // - sum_i G_i G_i^T, G_i = sum_j r_ij g_ij.
  for (int j = 0; j < k; ++j) {
    for (int l = 0; l < k; ++l) {
      const auto q = [&](Moment mm) { return m.pair_at(mm, j, l); };
      at(ia(j), ia(l)) -= q(kLx2) - (A[j] + A[l]) * q(kLx) + A[j] * A[l] * q(kOne);
      at(ib(j), ib(l)) -= q(kL1x2) - (B[j] + B[l]) * q(kL1x) + B[j] * B[l] * q(kOne);
      // The (a_j, b_l) block is not symmetric in j, l: fill it whole, mirror it below.
      at(ia(j), ib(l)) -= q(kLxL1x) - B[l] * q(kLx) - A[j] * q(kL1x) + A[j] * B[l] * q(kOne);
    }
  }
  // The weight blocks take sums over l of e(l, f) X_l and over j, l of e(j, f) e(l, g) Q_jl.
  // e(l, f) is 1 / w_f at l = f, -1 / w_last at the last l and 0 elsewhere, so each sum has
  // two (four) terms: O(K^2) work in all where the plain sums cost O(K^4).
  const int last = k - 1;
  const double w_last = p.weights[last];
  for (int j = 0; j < k; ++j) {
    const auto xa = [&](int l) { return m.pair_at(kLx, j, l) - A[j] * m.pair_at(kOne, j, l); };
    const auto xb = [&](int l) { return m.pair_at(kL1x, j, l) - B[j] * m.pair_at(kOne, j, l); };
    for (int f = 0; f < last; ++f) {
      at(ia(j), iw(f)) -= xa(f) / p.weights[f] - xa(last) / w_last;
      at(ib(j), iw(f)) -= xb(f) / p.weights[f] - xb(last) / w_last;
    }
  }
  for (int f = 0; f < last; ++f) {
    for (int g = 0; g < last; ++g) {
      const double q_fg = m.pair_at(kOne, f, g), q_fl = m.pair_at(kOne, f, last);
      const double q_lg = m.pair_at(kOne, last, g), q_ll = m.pair_at(kOne, last, last);
      at(iw(f), iw(g)) -= q_fg / (p.weights[f] * p.weights[g]) - q_fl / (p.weights[f] * w_last) -
                          q_lg / (w_last * p.weights[g]) + q_ll / (w_last * w_last);
    }
  }
  // Only the blocks (a, a), (b, b), (a, b), (a, w), (b, w), (w, w) were written, each whole;
  // the (a, b) block is above the diagonal, so copy the upper triangle down.
  for (int r = 0; r < dim; ++r) {
    for (int c = 0; c < r; ++c) at(r, c) = at(c, r);
  }
  for (double& v : h) v = -v;
  return h;
}

StandardErrors standard_errors_from_information(const MixtureParams& p,
                                                const std::vector<double>& info) {
  const int k = static_cast<int>(p.k()), dim = 3 * k - 1;
  StandardErrors out;
  out.covariance = spd_inverse(info, dim, out.reason);
  if (out.covariance.empty()) return out;
  const auto cov = [&](int r, int c) {
    return out.covariance[static_cast<std::size_t>(r) * dim + c];
  };
  out.available = true;
  double last_var = 0.0;  // w_K = 1 - sum_f w_f: var = 1^T Cov_ww 1
  for (int f = 0; f < k - 1; ++f) {
    for (int g = 0; g < k - 1; ++g) last_var += cov(2 * k + f, 2 * k + g);
  }
  for (int j = 0; j < k; ++j) {
    const double sw = j < k - 1 ? std::sqrt(cov(2 * k + j, 2 * k + j)) : std::sqrt(last_var);
    const double sa = std::sqrt(cov(j, j)), sb = std::sqrt(cov(k + j, k + j));
    const double w = p.weights[j], a = p.alpha[j], b = p.beta[j];
    out.se.weights.push_back(sw);
    out.se.alpha.push_back(sa);
    out.se.beta.push_back(sb);
    out.ci95_lower.weights.push_back(std::max(0.0, w - kZ95 * sw));
    out.ci95_upper.weights.push_back(std::min(1.0, w + kZ95 * sw));
    out.ci95_lower.alpha.push_back(a * std::exp(-kZ95 * sa / a));
    out.ci95_upper.alpha.push_back(a * std::exp(kZ95 * sa / a));
    out.ci95_lower.beta.push_back(b * std::exp(-kZ95 * sb / b));
    out.ci95_upper.beta.push_back(b * std::exp(kZ95 * sb / b));
  }
  // An information this small overflows its inverse (case weights near the smallest doubles):
  // no standard error is better than an infinite or NaN one.
  bool finite = true;
  for (const std::vector<double>* values :
       {&out.covariance, &out.se.weights, &out.se.alpha, &out.se.beta}) {
    for (double v : *values) finite = finite && std::isfinite(v);
  }
  if (!finite) {
    StandardErrors none;
    none.reason =
        "the covariance (the inverse of the information) overflows: the information is too "
        "small, as with case weights near the smallest doubles; scale the weights up";
    return none;
  }
  return out;
}

double distance_to_maximum(const MixtureParams& p, const MomentStats& m,
                           const std::vector<double>& covariance) {
  const int k = static_cast<int>(p.k()), dim = 3 * k - 1;
  const double* n = &m.single[static_cast<std::size_t>(kOne) * k];
  const ShapeScore d =
      shape_score(p, StartStats{n, &m.single[static_cast<std::size_t>(kLx) * k],
                                &m.single[static_cast<std::size_t>(kL1x) * k], 0.0});
  std::vector<double> g(static_cast<std::size_t>(dim));
  for (int j = 0; j < k; ++j) {
    g[j] = d.a[j];
    g[k + j] = d.b[j];
    // w_K = 1 - the others: dLL/dw_j = N_j / w_j - N_K / w_K.
    if (j < k - 1) g[2 * k + j] = n[j] / p.weights[j] - n[k - 1] / p.weights[k - 1];
  }
  double q = 0.0;
  for (int r = 0; r < dim; ++r) {
    double row = 0.0;
    for (int c = 0; c < dim; ++c) row += covariance[static_cast<std::size_t>(r) * dim + c] * g[c];
    q += g[r] * row;
  }
  return std::sqrt(std::max(q, 0.0));
}

StandardErrors standard_errors(Backend& backend, const MixtureParams& p) {
  for (std::size_t j = 0; j < p.k(); ++j) {
    if (!(p.weights[j] > 0.0) || !std::isfinite(p.alpha[j]) || !std::isfinite(p.beta[j]) ||
        !(p.alpha[j] > 0.0) || !(p.beta[j] > 0.0)) {
      StandardErrors out;
      out.device = backend.name();
      out.reason = "component " + std::to_string(j + 1) +
                   " has a zero weight or a non-finite shape, so the information is singular";
      return out;
    }
  }
  const double dim = 3.0 * static_cast<double>(p.k()) - 1.0;
  if (p.k() > static_cast<std::size_t>(kMaxStandardErrorK)) {
    StandardErrors out;
    out.device = backend.name();
    out.reason =
        "standard errors are computed for at most K = " + std::to_string(kMaxStandardErrorK) +
        " components; the information matrix of " + std::to_string(p.k()) + " would take " +
        format_bytes(static_cast<std::size_t>(std::min(dim * dim * 8.0, 0x1p63)));
    return out;
  }
  PassConstants constants;
  constants.resize(1, static_cast<int>(p.k()));
  constants.set(0, p);
  MomentStats moments;
  backend.moment_pass(constants, moments);
  StandardErrors out;
  try {
    out = standard_errors_from_information(p, observed_information(p, moments));
    if (out.available) {
      out.distance_to_maximum = distance_to_maximum(p, moments, out.covariance);
      if (!(out.distance_to_maximum <= kFarFromMaximum)) {
        char text[160];
        std::snprintf(text, sizeof text,
                      "the estimate is %.3g standard errors from the maximum of the likelihood "
                      "(a Newton step's length), so these errors describe a different point",
                      out.distance_to_maximum);
        out.note = text;
      }
    }
  } catch (const std::bad_alloc&) {
    out = StandardErrors{};
    out.reason =
        "the information matrix needs " +
        host_allocation_failure(3.0 * dim * dim * 8.0, "the matrix, its factor and the covariance");
  }
  out.device = backend.name();
  return out;
}

}  // namespace detail

StandardErrors standard_errors(const MixtureParams& params, const double* x, std::size_t n,
                               const double* case_weights, Device device) {
  params.validate();
  const MixtureParams p = params.normalized();
  detail::validate_samples(x, n, BoundaryPolicy::Reject, 0.0, "data", detail::index_position);
  if (case_weights) {
    detail::check_case_weights(case_weights, n, "case weights", detail::index_position);
  }
  std::unique_ptr<detail::Backend> backend =
      detail::load_backend(device, 0, nullptr, static_cast<int>(p.k()), x, case_weights, n);
  try {
    return detail::standard_errors(*backend, p);
  } catch (const DeviceError&) {
    // The moment pass failed on this backend (k above the GPU's limit, no device memory): one
    // pass on the CPU gives the same sums. Where it was the CPU's, it would fail again.
    if (std::string(backend->name()) == "cpu") throw;
    backend = detail::make_cpu_backend(0);
    backend->load(x, case_weights, n);
    return detail::standard_errors(*backend, p);
  }
}

}  // namespace betamix
