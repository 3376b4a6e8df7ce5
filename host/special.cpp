#include "special.hpp"

#include <cmath>

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

double log_beta(double a, double b) {
  return boost::math::lgamma(a, Quiet()) + boost::math::lgamma(b, Quiet()) -
         boost::math::lgamma(a + b, Quiet());
}

double digamma(double x) { return boost::math::digamma(x, Quiet()); }

double trigamma(double x) { return boost::math::trigamma(x, Quiet()); }

double beta_log_pdf(double x, double a, double b) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - log_beta(a, b);
}

}  // namespace betamix::detail
