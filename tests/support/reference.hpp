#pragma once
// Deliberately naive references for the tests. They do not include the shared math
// (betamix/math/...): log densities come from lgamma, the log-sum-exp is written out here, and
// the mixture CDF uses Boost.Math's regularised incomplete beta. Also: the fixture reader and
// the tolerance check every numeric test reports through.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "betamix/params.hpp"

namespace betamix::test {

/// Statistics of one parameter set, computed sample by sample in long double (80-bit on
/// x86-64, so the reference's own error is ~1e-19 relative and negligible next to double).
struct RefStats {
  std::vector<double> n, s, t;
  double ll = 0.0;
  /// sum_i v_i |L_i|: the scale of the rounding error of LL, whose terms may cancel.
  double ll_abs = 0.0;
};

/// log Beta(x; a, b) from std::lgamma and std::log/log1p.
double ref_beta_log_pdf(double x, double a, double b);

/// N_k, S_k, T_k and LL of `x` under `p` (case weights `w`, nullable).
RefStats ref_stats(const MixtureParams& p, const std::vector<double>& x, const double* w = nullptr);

/// Mixture CDF at x (Boost.Math ibeta).
double ref_mixture_cdf(const MixtureParams& p, double x);

/// E[X^m] of the mixture: sum_k w_k prod_{r<m} (a_k + r) / (a_k + b_k + r).
double ref_mixture_raw_moment(const MixtureParams& p, int m);

/// One-sample Kolmogorov-Smirnov statistic D of `x` against the mixture CDF (x is copied and
/// sorted).
double ks_statistic(const MixtureParams& p, std::vector<double> x);

/// As ks_statistic, with the supremum of |F_n(v) - F(v)| taken over lower <= v <= upper only
/// (both ends included, where the empirical CDF F_n counts every sample <= v; samples outside
/// still count in n). For outputs whose precision cannot resolve the distribution near 0 or 1:
/// a Beta with a tiny shape puts ~8% of its mass within 2^-53 of 1, where no double lies, and
/// float output clamps everything below FLT_MIN onto FLT_MIN.
double ks_statistic_within(const MixtureParams& p, std::vector<double> x, double lower,
                           double upper);

/// Two-sample Kolmogorov-Smirnov statistic.
double ks_two_sample(std::vector<double> a, std::vector<double> b);

/// Asymptotic p-value of the Kolmogorov distribution for statistic D and effective size n_eff.
double ks_p_value(double d, double n_eff);

/// A fixture table: a CSV file under tests/data with a header line of column names.
class Table {
 public:
  /// Reads BETAMIX_TEST_DATA_DIR/`name`; throws std::runtime_error if it cannot.
  explicit Table(const std::string& name);
  std::size_t rows() const { return rows_.size(); }
  /// The value in row `i` of the column called `column` (throws if there is none).
  double at(std::size_t i, const std::string& column) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<double>> rows_;
};

/// Reads one number per line from BETAMIX_TEST_DATA_DIR/`name`.
std::vector<double> read_values(const std::string& name);

/// Collects |got - ref| <= atol + rtol |ref| over many elements and reports the worst one
/// (largest error relative to its tolerance) with its label, values, error and tolerance.
class ToleranceCheck {
 public:
  ToleranceCheck(double atol, double rtol) : atol_(atol), rtol_(rtol) {}
  /// Checks one element with the check's atol and rtol.
  void add(const std::string& label, double got, double ref) { add(label, got, ref, atol_, rtol_); }
  /// Checks one element with its own atol and rtol (e.g. scaled by the element's conditioning).
  void add(const std::string& label, double got, double ref, double atol, double rtol);
  /// Success, or a failure naming the worst element and how many failed.
  ::testing::AssertionResult result() const;

 private:
  double atol_, rtol_;
  std::size_t count_ = 0, failed_ = 0;
  double worst_ratio_ = -1.0;
  std::string worst_;
};

}  // namespace betamix::test
