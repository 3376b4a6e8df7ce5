#pragma once
/// \file
/// The outcome of a fit.

#include <cstddef>
#include <cstdint>
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
};

/// Information criterion used to choose the number of components.
enum class Criterion { BIC, AIC, ICL };

/// Name of a status as used in JSON and on the command line ("converged", ...).
const char* to_string(FitStatus status);
/// Name of a method ("adam", "em").
const char* to_string(Method method);

/// Result of one fit.
struct FitResult {
  MixtureParams params;         ///< components sorted by mean, ascending
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

  /// Number of free parameters, 3K - 1.
  int n_parameters() const { return 3 * static_cast<int>(params.k()) - 1; }
};

/// Fits for several numbers of components and the one chosen by an information criterion.
struct ModelSelection {
  std::vector<FitResult> fits;  ///< one per K, in the order asked
  int selected = 0;             ///< index into fits of the lowest criterion value
  Criterion criterion = Criterion::BIC;
};

/// Name of a criterion ("bic", "aic", "icl").
const char* to_string(Criterion criterion);

}  // namespace betamix
