#pragma once
// Data and parameters of the GPU-versus-CPU pass tests (tests/cuda): mixtures of K components
// with moderate shapes, samples in either device layout, case weights, and pass constants
// near (not at) the generating parameters.

#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"

namespace betamix::test {

// K components with shapes in [1, 7] and means spread over (0,1). The tolerances of the tests
// are calibrated for shapes of this size: |c_k| and |(a-1) log x| of order 10.
inline MixtureParams test_params(int k) {
  MixtureParams p;
  for (int j = 0; j < k; ++j) {
    const double u = (j + 0.5) / k;
    const double conc = 4.0 + 2.0 * (j % 3);  // alpha + beta
    p.alpha.push_back(1.0 + u * (conc - 2.0));
    p.beta.push_back(1.0 + (1.0 - u) * (conc - 2.0));
    p.weights.push_back(1.0 + (j % 4));
  }
  return p.normalized();
}

// The parameters whose statistics a pass computes: the data's, moved a little, so that the
// responsibilities are not those of the generating mixture. Every start's are its own (the
// last factor), so that a pass that swapped starts could not pass for a right one.
inline MixtureParams moved(const MixtureParams& q, int start) {
  MixtureParams p = q;
  const int k = static_cast<int>(p.k());
  for (int j = 0; j < k; ++j) {
    p.alpha[j] *= (1.0 + 0.1 * ((j + start) % 3 - 1)) * (1.0 + 0.003 * start);
    p.beta[j] *= 1.0 + 0.07 * ((j + start) % 2 ? 1 : -1);
    p.weights[j] = q.weights[(j + 1 + start) % k];
  }
  return p.normalized();
}

// Samples of test_params(k). `float_exact` rounds them to float32 values (DataLayout::X);
// otherwise two samples within 1e-9 of 1 force DataLayout::LogPair.
inline std::vector<double> test_data(int k, std::size_t n, bool float_exact) {
  std::vector<double> x = sample(test_params(k), n, 1234 + k, Device::Cpu);
  if (float_exact) {
    for (double& v : x) {
      float f = static_cast<float>(v);
      if (f >= 1.0f) f = std::nextafter(1.0f, 0.0f);
      if (f < 1.17549435e-38f) f = 1.17549435e-38f;
      v = f;
    }
  } else {
    x[0] = 1.0 - 1e-9;
    x[n / 2] = 1.0 - 3e-12;
  }
  return x;
}

inline std::vector<double> test_weights(std::size_t n) {
  std::vector<double> w(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = 0.25 + 0.5 * static_cast<double>(i % 7);
  return w;
}

// Constants of `starts` parameter sets, each moved(test_params(k), start).
inline detail::PassConstants constants_for(int k, int starts) {
  detail::PassConstants c;
  c.resize(starts, k);
  for (int r = 0; r < starts; ++r) c.set(r, moved(test_params(k), r));
  return c;
}

/// A pass test case: (n, k, float_exact) as test_data() takes them.
using PassCase = std::tuple<std::size_t, int, bool>;

/// The case's test name: "n257_k5_x" (float-exact data) or "n257_k5_logpair".
inline std::string case_name(const PassCase& c) {
  return "n" + std::to_string(std::get<0>(c)) + "_k" + std::to_string(std::get<1>(c)) +
         (std::get<2>(c) ? "_x" : "_logpair");
}

}  // namespace betamix::test
