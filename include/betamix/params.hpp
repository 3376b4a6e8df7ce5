#pragma once
/// \file
/// Parameters of a finite mixture of Beta distributions.

#include <cstddef>
#include <vector>

namespace betamix {

/// The largest shape parameter accepted: up to it log B(alpha, beta) and the log-density of
/// every sample stay within the range of a double. Range is not accuracy: the log-density is a
/// sum of terms of about (alpha + beta) in size that cancel, so it carries an absolute error
/// of roughly (alpha + beta) x 1e-15 nats. Measured against the normal limit at the mode of
/// Beta(a, a): densities are off by 3e-5 relative at a = 1e10, 3e-3 at 1e12, 2 % at 1e13 and
/// a factor 2.5 at 1e14 (a component that narrow is narrower than the spacing of doubles
/// near it, more a spike than a Beta).
inline constexpr double kMaxShape = 1e300;

/// p(x) = sum_k weights[k] * Beta(x; alpha[k], beta[k]) on (0,1).
struct MixtureParams {
  std::vector<double> weights;  ///< mixing weights, positive, summing to 1
  std::vector<double> alpha;    ///< first shape parameter of each component, > 0
  std::vector<double> beta;     ///< second shape parameter of each component, > 0

  /// Number of components.
  std::size_t k() const { return weights.size(); }

  /// Throws InputError unless the three lists have one equal, non-zero length, every shape
  /// is positive and at most kMaxShape and every weight is finite and non-negative with a
  /// positive sum.
  void validate() const;

  /// Returns a copy whose weights are divided by their sum.
  MixtureParams normalized() const;

  /// Returns a copy with the components sorted by mean alpha/(alpha+beta), ascending.
  MixtureParams sorted_by_mean() const;
};

}  // namespace betamix
