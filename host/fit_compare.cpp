#include "fit_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace betamix::detail {
namespace {

double rel_diff(double a, double b) {
  return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-300});
}

}  // namespace

double mean_nll_difference(double a, double b) {
  return std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)});
}

FitDifference compare_fits(const FitResult& a, const FitResult& b) {
  FitDifference d;
  const std::size_t common = std::min(a.history.size(), b.history.size());
  for (std::size_t i = 0; i < common; ++i) {
    const double v = mean_nll_difference(a.history[i], b.history[i]);
    if (v > d.mean_nll) {
      d.mean_nll = v;
      d.mean_nll_iteration = static_cast<int>(i);
    }
  }
  const std::size_t k = std::min(a.params.k(), b.params.k());
  for (std::size_t j = 0; j < k; ++j) {
    const std::pair<const char*, double> each[] = {
        {"weight", rel_diff(a.params.weights[j], b.params.weights[j])},
        {"alpha", rel_diff(a.params.alpha[j], b.params.alpha[j])},
        {"beta", rel_diff(a.params.beta[j], b.params.beta[j])}};
    for (const auto& [name, v] : each) {
      if (v > d.params) {
        d.params = v;
        d.params_where = std::string(name) + " " + std::to_string(j + 1);
      }
    }
  }
  return d;
}

}  // namespace betamix::detail
