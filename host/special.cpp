#include "special.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

namespace betamix::detail {
namespace {
// Results beyond a double (trigamma of 1e-200 is 1e400) come back as inf, a pole or a domain
// error as NaN, instead of Boost's exceptions: the callers check what they get (the standard
// errors report a matrix they cannot invert), and no exception but betamix's leaves the API.
using Quiet = boost::math::policies::policy<
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;
}  // namespace

namespace {
// The remainder of Stirling's series, lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), for
// x >= 10: sum_k B_2k / (2k (2k - 1) x^(2k - 1)) over k = 1..8 (Bernoulli numbers B_2k). The
// first omitted term, 43867 / (244188 x^17), is below 2e-18 at x = 10, and the series
// alternates with terms decreasing there, so the error is below it.
double stirling_remainder(double x) {
  static constexpr double kCoef[] = {1.0 / 12.0,    -1.0 / 360.0,      1.0 / 1260.0,
                                     -1.0 / 1680.0, 1.0 / 1188.0,      -691.0 / 360360.0,
                                     1.0 / 156.0,   -3617.0 / 122400.0};
  const double inv = 1.0 / x, inv2 = inv * inv;
  double sum = 0.0;
  for (int i = 7; i >= 0; --i) sum = sum * inv2 + kCoef[i];
  return sum * inv;
}
}  // namespace

// lgamma(a) + lgamma(b) - lgamma(a + b) loses the result to cancellation where a shape is
// large: lgamma(1e14) ~ 3e15 carries an error of ~0.5, more than log B(1e14, 0.2) ~ -3.6 can
// afford, and Boost.Math has no log-beta of its own. With p = min(a, b) and q = max(a, b),
// Stirling's formula takes the large terms apart analytically (the method of R's lbeta):
//   p >= 10:  log B = log(2 pi)/2 - log(q)/2 + (p - 1/2) log(p/(p+q)) + q log1p(-p/(p+q))
//                     + R(p) + R(q) - R(p+q)
//   q >= 10:  log B = lgamma(p) + p - p log(p+q) + (q - 1/2) log1p(-p/(p+q)) + R(q) - R(p+q)
// (R = stirling_remainder), whose terms are of the size of the result (or of lgamma(p) and
// p log(p+q)), so its error is a few ulps of those; below 10 the three lgammas are small.
double log_beta(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::numeric_limits<double>::quiet_NaN();  // std::min/max would drop one of them
  }
  const double p = std::min(a, b), q = std::max(a, b);
  if (!(p > 0.0) || std::isinf(q)) {
    return boost::math::lgamma(a, Quiet()) + boost::math::lgamma(b, Quiet()) -
           boost::math::lgamma(a + b, Quiet());
  }
  const double sum = p + q, ratio = p / sum;
  if (p >= 10.0) {
    constexpr double kHalfLog2Pi = 0.91893853320467274178;
    return kHalfLog2Pi - 0.5 * std::log(q) + (p - 0.5) * std::log(ratio) + q * std::log1p(-ratio) +
           (stirling_remainder(p) + stirling_remainder(q) - stirling_remainder(sum));
  }
  if (q >= 10.0) {
    return boost::math::lgamma(p, Quiet()) + p - p * std::log(sum) +
           (q - 0.5) * std::log1p(-ratio) + (stirling_remainder(q) - stirling_remainder(sum));
  }
  return boost::math::lgamma(a, Quiet()) + boost::math::lgamma(b, Quiet()) -
         boost::math::lgamma(sum, Quiet());
}

double digamma(double x) { return boost::math::digamma(x, Quiet()); }

double trigamma(double x) { return boost::math::trigamma(x, Quiet()); }

double beta_log_pdf(double x, double a, double b) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - log_beta(a, b);
}

}  // namespace betamix::detail
