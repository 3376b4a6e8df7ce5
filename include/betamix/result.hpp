#pragma once
/// \file
/// The outcome of a fit.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "betamix/options.hpp"
#include "betamix/params.hpp"

namespace betamix {

/// How a fit ended. Only Converged means the stopping rule was met.
enum class FitStatus {
  Converged,           ///< the relative change of mean NLL fell below the tolerance
  MaxIterations,       ///< the iteration limit was reached first
  NonFinite,           ///< the log-likelihood or a parameter became non-finite
  ComponentCollapsed,  ///< a component's weight went to 0 or its shapes ran away
  Stopped,             ///< FitOptions::stop asked for it: the point reached so far
};

/// Information criterion used to choose the number of components.
enum class Criterion { BIC, AIC, ICL };

/// Name of a status as used in JSON and on the command line ("converged", ...).
const char* to_string(FitStatus status);
/// Name of a method ("adam", "em", "squarem").
const char* to_string(Method method);

/// One value per component for each kind of parameter, in the order of MixtureParams.
struct ComponentValues {
  std::vector<double> weights, alpha, beta;
};

/// Most components whose standard errors are computed: the information matrix of K components
/// has (3K - 1)^2 entries and its inversion takes O(K^3) time (72 MB and seconds at K = 1000).
/// Above it, and where the host memory for them runs out, StandardErrors::reason says so.
inline constexpr int kMaxStandardErrorK = 1000;

/// Standard errors from the observed information: the exact Hessian of the (case-weighted)
/// log-likelihood at the estimate, over theta = [alpha_1..K, beta_1..K, w_1..w_(K-1)] with
/// w_K = 1 - sum of the others, inverted to the covariance. The last weight's standard error
/// follows by the delta method (exact here: w_K is linear in theta).
struct StandardErrors {
  bool available = false;  ///< false when the observed information is not positive definite
  std::string reason;      ///< why they are not available
  std::string device;      ///< where the extra pass ran ("cpu", "cuda")
  ComponentValues se;      ///< standard errors
  /// 95 % intervals, z = 1.959964 (the standard normal 97.5 % quantile): weights w +- z se
  /// clipped to [0, 1]; shapes on the log scale, exp(log a +- z se / a), which stays positive.
  ComponentValues ci95_lower, ci95_upper;
  std::vector<double> covariance;  ///< row-major (3K-1) x (3K-1), in the order of theta
  /// sqrt(g' Cov g), g the score (gradient of LL) at the estimate: the length of the Newton
  /// step from the estimate to the maximum of the local quadratic model, in standard errors.
  /// Near 0 at a maximum (a converged fit: below 1e-3); above kFarFromMaximum the estimate is
  /// not at the maximum and the errors describe a different point.
  double distance_to_maximum = 0.0;
  /// Set where the errors are not those of a maximum: the fit did not converge, or
  /// distance_to_maximum exceeds kFarFromMaximum.
  std::string note;
};

/// The distance_to_maximum above which StandardErrors::note warns: a tenth of a standard
/// error, a tenth of the radius of a 1-sigma region.
inline constexpr double kFarFromMaximum = 0.1;

/// Result of one fit.
struct FitResult {
  /// Components sorted by mean, ascending. EM's and SQUAREM's last point; Adam's, the best
  /// point it passed where that beats its last by more than the tolerance (or the rounding
  /// noise of the mean NLL, where that is larger or the tolerance is 0; status_detail then
  /// names the iteration).
  MixtureParams params;
  std::size_t n = 0;            ///< number of samples
  double log_likelihood = 0.0;  ///< sum_i log p(x_i)
  double mean_nll = 0.0;        ///< -log_likelihood / n
  int iterations = 0;           ///< iterations run (passes over the data minus one)
  bool converged = false;       ///< status == Converged
  FitStatus status = FitStatus::MaxIterations;
  std::string status_detail;  ///< human-readable detail (which component collapsed, ...)
  Method method = Method::Adam;
  std::string device;       ///< "cpu" or "cuda"
  std::string device_name;  ///< e.g. the GPU's name or "2 OpenMP threads"
  std::string note;         ///< e.g. why `auto` chose the CPU
  std::uint64_t seed = 0;
  double seconds = 0.0;         ///< wall time of the fit
  std::size_t n_clamped = 0;    ///< samples moved off 0 or 1 under BoundaryPolicy::Clamp
  double aic = 0.0;             ///< 2 p - 2 LL, p = 3K - 1 (n = sum of case weights)
  double bic = 0.0;             ///< p log n - 2 LL
  double icl = 0.0;             ///< BIC - 2 sum_i sum_k r_ik log r_ik (BIC plus twice the entropy)
  std::vector<double> history;  ///< mean NLL at every iteration of the best start
  int best_start = 0;           ///< index of the start that gave the result
  std::vector<double> start_log_likelihoods;  ///< final LL of every start
  int starts_at_best = 1;                     ///< starts within 1e-6 relative of the best LL
  std::optional<StandardErrors> se;  ///< absent when not computed (FitOptions::standard_errors)

  /// Number of free parameters, 3K - 1.
  int n_parameters() const { return 3 * static_cast<int>(params.k()) - 1; }
};

/// Fits for several numbers of components and the one chosen by an information criterion.
struct ModelSelection {
  std::vector<FitResult> fits;  ///< one per K, in the order asked
  int selected = 0;             ///< index into fits of the selected one (see select_k())
  Criterion criterion = Criterion::BIC;
  /// One sentence for each K whose first fit ended more than 1e-6 relative below the
  /// log-likelihood of a fit with fewer components, which it can always match (its extra
  /// components at weight 0), and so was fitted again from that fit (see select_k()).
  std::vector<std::string> notes;
};

/// Name of a criterion ("bic", "aic", "icl").
const char* to_string(Criterion criterion);

}  // namespace betamix
