#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include "betamix/error.hpp"
#include "betamix/params.hpp"
#include "samples.hpp"

namespace betamix {

namespace {
void check_lengths(const MixtureParams& p) {
  if (p.weights.empty() || p.weights.size() != p.alpha.size() ||
      p.weights.size() != p.beta.size()) {
    throw InputError(
        "mixture parameters: weights, alpha and beta must have the same, non-zero "
        "length (got " +
        std::to_string(p.weights.size()) + ", " + std::to_string(p.alpha.size()) + ", " +
        std::to_string(p.beta.size()) + ")");
  }
}
}  // namespace

void MixtureParams::validate() const {
  check_lengths(*this);
  double sum = 0.0;
  for (std::size_t j = 0; j < k(); ++j) {
    const std::string at = " of component " + std::to_string(j + 1);
    if (!std::isfinite(weights[j]) || weights[j] < 0.0) {
      throw InputError("mixture parameters: weight" + at + " must be finite and >= 0, got " +
                       detail::format_value(weights[j]));
    }
    for (const auto& [name, shape] : {std::pair{"alpha", alpha[j]}, std::pair{"beta", beta[j]}}) {
      if (!(shape > 0.0 && shape <= kMaxShape)) {
        throw InputError(std::string("mixture parameters: ") + name + at +
                         " must be > 0 and at most " + detail::format_value(kMaxShape) + ", got " +
                         detail::format_value(shape));
      }
    }
    sum += weights[j];
  }
  if (!(sum > 0.0)) throw InputError("mixture parameters: the weights sum to 0");
}

MixtureParams MixtureParams::normalized() const {
  check_lengths(*this);
  MixtureParams p = *this;
  for (std::size_t j = 0; j < k(); ++j) {
    if (!std::isfinite(weights[j])) {
      throw InputError("mixture parameters: weight " + std::to_string(j + 1) + " is " +
                       detail::format_value(weights[j]) + ", so the weights cannot be normalised");
    }
  }
  double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (std::isinf(sum)) {
    // Finite weights whose sum overflows (1e308, 1e308): relative to the largest first.
    const double largest = *std::max_element(weights.begin(), weights.end());
    for (double& w : p.weights) w /= largest;
    sum = std::accumulate(p.weights.begin(), p.weights.end(), 0.0);
  }
  if (!(sum > 0.0)) {  // 0, or NaN: no weights to normalise
    throw InputError("mixture parameters: the weights sum to " + detail::format_value(sum) +
                     ", so they cannot be normalised");
  }
  for (double& w : p.weights) w /= sum;
  return p;
}

MixtureParams MixtureParams::sorted_by_mean() const {
  check_lengths(*this);
  // A mean that is NaN (NaN or infinite shapes) sorts last, so that the order stays a strict
  // weak ordering, as std::stable_sort needs.
  std::vector<double> mean(k());
  for (std::size_t j = 0; j < k(); ++j) {
    const double m = alpha[j] / (alpha[j] + beta[j]);
    mean[j] = std::isnan(m) ? INFINITY : m;
  }
  std::vector<std::size_t> order(k());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return mean[i] < mean[j]; });
  MixtureParams p;
  for (std::size_t i : order) {
    p.weights.push_back(weights[i]);
    p.alpha.push_back(alpha[i]);
    p.beta.push_back(beta[i]);
  }
  return p;
}

}  // namespace betamix
