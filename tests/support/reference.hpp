#pragma once
// Deliberately naive double-precision references for the tests. They do not include the
// shared math (betamix/math/...): log densities come from std::lgamma, the log-sum-exp is
// written out here, and the mixture CDF uses Boost.Math's regularised incomplete beta.

#include <cstddef>
#include <vector>

#include "betamix/params.hpp"

namespace betamix::test {

/// Statistics of one parameter set, computed sample by sample in long double.
struct RefStats {
  std::vector<double> n, s, t;
  double ll = 0.0;
};

/// log Beta(x; a, b) from std::lgamma and std::log/log1p.
double ref_beta_log_pdf(double x, double a, double b);

/// N_k, S_k, T_k and LL of `x` under `p` (case weights `w`, nullable).
RefStats ref_stats(const MixtureParams& p, const std::vector<double>& x, const double* w = nullptr);

/// Mixture CDF at x (Boost.Math ibeta).
double ref_mixture_cdf(const MixtureParams& p, double x);

/// One-sample Kolmogorov-Smirnov statistic D of `x` against the mixture CDF (x is copied and
/// sorted).
double ks_statistic(const MixtureParams& p, std::vector<double> x);

/// Two-sample Kolmogorov-Smirnov statistic.
double ks_two_sample(std::vector<double> a, std::vector<double> b);

/// Asymptotic p-value of the Kolmogorov distribution for statistic D and effective size n_eff.
double ks_p_value(double d, double n_eff);

}  // namespace betamix::test
