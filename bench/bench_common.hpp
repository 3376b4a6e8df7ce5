#pragma once
// Helpers shared by the CPU and GPU benchmarks: the parameters they time, sizes from the
// command line, medians and timestamps.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "betamix/params.hpp"

namespace betamix::bench {

/// The two-peak demo mixture, 0.5 Beta(10, 1.5) + 0.5 Beta(1.5, 10).
inline MixtureParams demo_params() { return {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}; }

/// The demo mixture for K = 2; otherwise K equal-weight components with means (j + 1/2) / K
/// and concentration alpha + beta = 20.
inline MixtureParams params_for_k(int k) {
  if (k == 2) return demo_params();
  MixtureParams p;
  for (int j = 0; j < k; ++j) {
    const double mean = (j + 0.5) / k;
    p.weights.push_back(1.0 / k);
    p.alpha.push_back(20.0 * mean);
    p.beta.push_back(20.0 * (1.0 - mean));
  }
  return p;
}

/// Median of the values (the mean of the middle two for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/// A sample count written as a whole number or in exponent form ("1e7").
inline std::size_t parse_size(const std::string& s) {
  std::size_t used = 0;
  const double d = std::stod(s, &used);
  if (used != s.size() || !(d >= 1.0) || d != std::floor(d) || d > 1e12) {
    throw std::invalid_argument("--sizes: '" + s + "' is not a positive whole number");
  }
  return static_cast<std::size_t>(d);
}

/// The current time as 2026-11-24T06:38:09Z.
inline std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace betamix::bench
