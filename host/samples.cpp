#include "samples.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "betamix/error.hpp"

namespace betamix::detail {

std::string format_value(double v) {
  // The shortest of 15, 16 or 17 significant digits that reads back as v: 1e-39, not
  // 9.9999999999999993e-40, and still exact.
  std::string text;
  for (int digits = 15; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    text = os.str();
    if (std::strtod(text.c_str(), nullptr) == v) break;
  }
  return text;
}

std::string index_position(std::size_t i) { return "index " + std::to_string(i); }

void check_boundary_eps(BoundaryPolicy policy, double eps) {
  // Below 2^-53, 1 - eps rounds to 1 in double: a clamped 1 would stay 1.
  if (policy == BoundaryPolicy::Clamp && !(eps >= 0x1p-53 && eps < 0.5)) {
    throw InputError(
        "boundary eps must lie in [2^-53, 0.5) (about 1.1e-16 or more, so that 1 - "
        "eps is below 1 in double), got " +
        format_value(eps));
  }
}

std::size_t scan_samples(const double* x, std::size_t n, const std::string& source,
                         const PositionFn& position, std::size_t& first) {
  std::size_t boundary = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i];
    if (v > 0.0 && v < 1.0) continue;
    if (std::isnan(v)) throw InputError(source + ": " + position(i) + ": value is NaN");
    if (std::isinf(v)) {
      throw InputError(source + ": " + position(i) + ": value is " + (v > 0 ? "+inf" : "-inf"));
    }
    if (v < 0.0 || v > 1.0) {
      throw InputError(source + ": " + position(i) + ": value " + format_value(v) +
                       " is outside [0, 1]");
    }
    if (boundary++ == 0) first = i;
  }
  return boundary;
}

InputError boundary_error(const std::string& source, std::size_t count,
                          const std::string& first_position) {
  return InputError(
      source + ": " + std::to_string(count) + (count == 1 ? " value is" : " values are") +
      " exactly 0 or 1, where the Beta log-density is infinite (first at " + first_position +
      "); use --on-boundary clamp (BoundaryPolicy::Clamp in the API) to move them " +
      "to [eps, 1-eps]");
}

void clamp_boundary(double* x, std::size_t n, double eps) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] == 0.0) x[i] = eps;
    if (x[i] == 1.0) x[i] = 1.0 - eps;
  }
}

std::size_t validate_samples(const double* x, std::size_t n, BoundaryPolicy policy, double eps,
                             const std::string& source, const PositionFn& position) {
  if (n == 0) throw InputError(source + ": no samples");
  if (!x) throw InputError(source + ": a null pointer for " + std::to_string(n) + " samples");
  check_boundary_eps(policy, eps);
  std::size_t first = 0;
  const std::size_t boundary = scan_samples(x, n, source, position, first);
  if (boundary > 0 && policy == BoundaryPolicy::Reject) {
    throw boundary_error(source, boundary, position(first));
  }
  return boundary;
}

std::size_t check_samples(double* x, std::size_t n, BoundaryPolicy policy, double eps,
                          const std::string& source, const PositionFn& position) {
  const std::size_t boundary = validate_samples(x, n, policy, eps, source, position);
  if (boundary > 0) clamp_boundary(x, n, eps);
  return boundary;
}

double scan_case_weights(const double* w, std::size_t n, const std::string& source,
                         const PositionFn& position) {
  if (!w && n > 0) {
    throw InputError(source + ": a null pointer for " + std::to_string(n) + " weights");
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(w[i])) throw InputError(source + ": " + position(i) + ": weight is NaN");
    if (!std::isfinite(w[i]))
      throw InputError(source + ": " + position(i) + ": weight is infinite");
    if (w[i] < 0.0) {
      throw InputError(source + ": " + position(i) + ": weight " + format_value(w[i]) +
                       " is negative");
    }
    sum += w[i];
  }
  return sum;
}

void check_weight_sum(double sum, const std::string& source) {
  if (!(sum > 0.0)) throw InputError(source + ": the case weights sum to 0");
  if (!(sum <= kMaxWeightSum)) {
    throw InputError(source + ": the case weights sum to " +
                     (std::isinf(sum) ? std::string("more than 1.8e308, the largest double")
                                      : format_value(sum)) +
                     ", above the 1e300 that the log-likelihood and its information, which grow "
                     "with it, can take; divide them by a common factor");
  }
}

void check_case_weights(const double* w, std::size_t n, const std::string& source,
                        const PositionFn& position) {
  check_weight_sum(scan_case_weights(w, n, source, position), source);
}

void check_not_one_value(const double* x, const double* w, std::size_t n,
                         const std::string& source) {
  std::size_t first = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (w && !(w[i] > 0.0)) continue;
    if (first == n) {
      first = i;
    } else if (x[i] != x[first]) {
      return;
    }
  }
  if (first == n) return;  // no positive weight: check_case_weights() says so
  throw InputError(source + ": every sample" + (w ? " with a positive case weight" : "") +
                   " equals " + format_value(x[first]) +
                   "; a Beta mixture has no maximum-likelihood fit to a single value");
}

}  // namespace betamix::detail
