#pragma once
// The one place where sufficient statistics become parameter updates: the gradient that Adam
// follows and the EM M-step. Both read only N_k, S_k, T_k of one start.

#include <string>
#include <vector>

#include "betamix/params.hpp"

namespace betamix::detail {

/// Statistics of one start: pointers to its K values of N, S, T and the total weight.
struct StartStats {
  const double* n;
  const double* s;
  const double* t;
  double total;
};

/// The score of LL in the shapes, K values each: dLL/da_k and dLL/db_k below.
struct ShapeScore {
  std::vector<double> a, b;
};
ShapeScore shape_score(const MixtureParams& p, const StartStats& st);

/// Gradient of the mean negative log-likelihood -LL/total with respect to the unconstrained
/// parameters theta = [log a_1..K, log b_1..K, eta_1..K] (w = softmax(eta)):
///   dLL/da_k   = S_k - N_k (psi(a_k) - psi(a_k + b_k))
///   dLL/db_k   = T_k - N_k (psi(b_k) - psi(a_k + b_k))
///   dLL/deta_k = N_k - total w_k
std::vector<double> mean_nll_gradient(const MixtureParams& p, const StartStats& st);

/// theta = [log a, log b, eta] of p (eta = log w).
std::vector<double> to_unconstrained(const MixtureParams& p);
/// Inverse of to_unconstrained (the softmax is max-shifted).
MixtureParams from_unconstrained(const std::vector<double>& theta);

/// Shapes beyond this are "running away": the component is collapsing onto a point (its
/// samples sit on one value, or nearly, where the likelihood grows without bound). A Beta with
/// alpha + beta = 1e10 has a standard deviation of at most 5e-6, and its log-density in double
/// is still good to ~1e-6 nats (about (alpha + beta) 1e-16), so real data as narrow as that
/// are fitted.
inline constexpr double kRunawayShape = 1e10;
/// The same for a pass in float32 (the GPU's, Backend::roundoff() = 2^-24), whose log-density
/// carries an error of about (alpha + beta) 1e-7 nats: beyond 1e7 that is a nat per sample,
/// and its statistics could no longer steer the fit.
inline constexpr double kRunawayShapeFloat = 1e7;

/// kRunawayShape for a pass in double (unit roundoff 2^-53), else kRunawayShapeFloat.
double runaway_shape(double roundoff);

/// The first component of `p`, the parameters an update proposes, whose alpha or beta is at
/// least `limit` (infinity included, NaN not), and why it is dying (into `reason`, which says
/// that the fit's result is the point before that update); -1 when none is.
int runaway_component(const MixtureParams& p, double limit, std::string& reason);

/// The first component whose responsibilities sum to (almost) nothing, at most 1e-9 of the
/// total (it has no data left to fit: its weight has gone to 0), and why (into `reason`); -1
/// when none has. The same rule for EM and Adam.
int dead_component(const StartStats& st, int k, std::string& reason);

/// The rule of dead_component for one component: its responsibilities nk sum to at most 1e-9
/// of the total (or are not positive). The reason does not say how it got there: the fit,
/// which knows whether a step has been taken, does.
bool is_dead(double nk, double total);

/// Outcome of an M-step.
struct MStep {
  MixtureParams params;
  int collapsed = -1;  ///< index of a dying component, -1 if none
  std::string reason;  ///< why it is dying
};

/// EM M-step: w_k = N_k / total; (a_k, b_k) maximise
///   N_k (-log B(a, b)) + (a - 1) S_k + (b - 1) T_k
/// by Newton steps in (log a, log b) with backtracking, starting from p's shapes, so the
/// objective never decreases. Shapes reaching `runaway` (runaway_shape()) end the Newton
/// steps and report the component as collapsed.
MStep em_step(const MixtureParams& p, const StartStats& st, double runaway);

/// Q(to | from) - Q(from | from), per unit of total weight, where Q is the EM objective at
/// `from`'s statistics:
///   Q(t | f) = sum_k N_k log w_k(t) + N_k (-log B(a_k, b_k) + (a_k - 1) sbar_k + (b_k - 1) tbar_k)
/// with sbar = S_k / N_k, tbar = T_k / N_k. For `to` an M-step from `from`, it is >= 0 and a
/// lower bound on the gain of the mean log-likelihood from `from` to `to`: a certificate that
/// `from` is not yet a maximum when it exceeds the tolerance. Components with no weight left
/// (N_k = 0) add nothing.
double em_gain(const MixtureParams& from, const MixtureParams& to, const StartStats& st);

}  // namespace betamix::detail
