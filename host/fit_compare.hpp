#pragma once
// How far apart two fits of the same data from the same start are: what `betamix crosscheck`
// reports, and what the tests that run the GPU's arithmetic hold to its tolerances.

#include <string>

#include "betamix/result.hpp"

namespace betamix::detail {

struct FitDifference {
  /// Largest difference of the mean NLL over the iterations both ran, relative to
  /// max(1, |mean NLL|): a mean NLL near 0 sums per-sample terms of size ~1 that cancel, and
  /// the float32 pass's error is that of the terms (~1e-7 nats per sample), not a fraction of
  /// their small sum. The scale of the stopping rule.
  double mean_nll = 0.0;
  int mean_nll_iteration = 0;  ///< where it is largest
  /// Largest relative difference of the final weights, alphas and betas.
  double params = 0.0;
  std::string params_where = "-";  ///< e.g. "alpha 2" (components numbered from 1)
};

/// |a - b| / max(1, |a|, |b|) for two mean NLLs (see FitDifference::mean_nll).
double mean_nll_difference(double a, double b);

/// The differences between fits `a` and `b` (the same K).
FitDifference compare_fits(const FitResult& a, const FitResult& b);

}  // namespace betamix::detail
