#pragma once
/// \file
/// The component tables both samplers draw from (host code), in the working precision Real:
/// math::SampleTables (betamix/math/beta_sampler.hpp), computed once per component in double
/// and then rounded, instead of per draw.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "betamix/error.hpp"
#include "betamix/math/beta_sampler.hpp"
#include "betamix/params.hpp"
#include "samples.hpp"

namespace betamix::detail {

/// Marsaglia-Tsang's d of `shape` (a normal, finite Real), in double.
template <class Real>
double gamma_d(Real shape) {
  const double s = static_cast<double>(shape);
  return (s < 1.0 ? s + 1.0 : s) - 1.0 / 3.0;
}

/// math::kGammaConstants constants of `shape` (a normal, finite Real) into g.
template <class Real>
void gamma_constants(Real shape, Real* g) {
  const double d = gamma_d(shape);
  g[0] = shape;
  g[1] = static_cast<Real>(d);
  g[2] = static_cast<Real>(1.0 / (3.0 * std::sqrt(d)));  // 1/sqrt(9 d), 9 d may overflow
}

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
  std::vector<Real> tables(math::kSampleTableWidth * k);
  const math::SampleTables<Real*> t = math::sample_tables_at(tables.data(), static_cast<int>(k));
  std::size_t last = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (p.weights[j] > 0.0) last = j;
  }
  double acc = 0.0;
  for (std::size_t j = 0; j < k; ++j) {
    acc += p.weights[j];
    t.cum_w[j] = j >= last ? Real(1) : static_cast<Real>(acc);
    const double shapes[2] = {p.alpha[j], p.beta[j]};
    Real rounded[2];
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
      rounded[s] = v;
      gamma_constants(v, (s == 0 ? t.g_alpha : t.g_beta) + math::kGammaConstants * j);
    }
    t.log_d_ratio[j] = static_cast<Real>(std::log(gamma_d(rounded[1]) / gamma_d(rounded[0])));
  }
  return tables;
}

}  // namespace betamix::detail
