#include "special.hpp"

#include <cmath>

#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

namespace betamix::detail {

double log_beta(double a, double b) {
  return boost::math::lgamma(a) + boost::math::lgamma(b) - boost::math::lgamma(a + b);
}

double digamma(double x) { return boost::math::digamma(x); }

double trigamma(double x) { return boost::math::trigamma(x); }

double beta_log_pdf(double x, double a, double b) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - log_beta(a, b);
}

}  // namespace betamix::detail
