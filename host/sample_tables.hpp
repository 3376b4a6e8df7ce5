#pragma once
/// \file
/// The component tables both samplers draw from (host code): cumulative weights and shapes in
/// the working precision Real, laid out [cum_w | alpha | beta], each k long.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "betamix/error.hpp"
#include "betamix/params.hpp"
#include "samples.hpp"

namespace betamix::detail {

/// Tables of `params` (validated) for math::sample_mixture (betamix/math/beta_sampler.hpp). The
/// cumulative weight is exactly 1 from the last component of positive weight on, so that rounding
/// can never pick a component of weight 0. Shapes must be normal numbers of Real: a shape that
/// overflows Real or falls below its smallest normal number (about 1.2e-38 and 3.4e38 for float) is
/// an InputError, as the draws would not be those of the shape asked for.
template <class Real>
std::vector<Real> sample_tables(const MixtureParams& params) {
  params.validate();
  const MixtureParams p = params.normalized();
  const std::size_t k = p.k();
  std::vector<Real> tables(3 * k);
  std::size_t last = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (p.weights[j] > 0.0) last = j;
  }
  double acc = 0.0;
  for (std::size_t j = 0; j < k; ++j) {
    acc += p.weights[j];
    tables[j] = j >= last ? Real(1) : static_cast<Real>(acc);
    const double shapes[2] = {p.alpha[j], p.beta[j]};
    for (int s = 0; s < 2; ++s) {
      const Real v = static_cast<Real>(shapes[s]);
      if (!(v >= std::numeric_limits<Real>::min()) || std::isinf(v)) {
        const bool f32 = sizeof(Real) == sizeof(float);
        throw InputError("sample: component " + std::to_string(j + 1) + " has " +
                         (s == 0 ? "alpha" : "beta") + " = " + format_value(shapes[s]) +
                         ", outside the shapes " + (f32 ? "float32" : "float64") +
                         " sampling can represent (" +
                         format_value(std::numeric_limits<Real>::min()) + " to " +
                         format_value(std::numeric_limits<Real>::max()) + ")" +
                         (f32 ? "; draw float64 samples" : ""));
      }
      tables[(s + 1) * k + j] = v;
    }
  }
  return tables;
}

}  // namespace betamix::detail
