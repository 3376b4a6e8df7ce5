// Whole fits on the GPU pass's float32 arithmetic, emulated on the host (support/
// float_emulation.hpp): the fitting loop of fit.cpp, its optimisers and its stopping rules run
// on a backend whose pass is the kernel's math and whose roundoff is float's, as they do on the
// CUDA backend. It runs without a GPU, and checks beforehand what `betamix crosscheck` and
// tests/cuda check on a device: the same fit from the same start on both arithmetics agrees
// to the crosscheck's tolerances (mean NLL per iteration within 1e-6 relative, final
// parameters within 1e-4), and a fit run to its stopping rule on float arithmetic stops, where
// the same fit in double stops, near the same maximum.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "fit_compare.hpp"
#include "fit_loop.hpp"
#include "support/float_emulation.hpp"

namespace betamix {
namespace {

// The CUDA backend's pass, run on the host: float32 x (DataLayout::X) or the float32 pair
// (log x, log1p(-x)) (DataLayout::LogPair), case weights scaled by a power of two into float
// range and rounded to float, their total as the pass sees them.
class FloatEmulationBackend final : public detail::Backend {
 public:
  explicit FloatEmulationBackend(bool float_x) : float_x_(float_x) {}
  const char* name() const override { return "float-emulation"; }
  std::string device_name() const override { return "the float32 pass on the host"; }
  void load(const double* x, const double* case_weights, std::size_t n) override {
    data_ = test::to_device_layout(std::vector<double>(x, x + n), float_x_);
    weights_.clear();
    total_ = static_cast<double>(n);
    if (case_weights) {
      weights_.assign(case_weights, case_weights + n);
      const double scale = detail::float_weight_scale(case_weights, n);
      total_ = 0.0;
      for (std::size_t i = 0; i < n; ++i) total_ += static_cast<float>(case_weights[i] * scale);
      total_ /= scale;
    }
    n_ = n;
  }
  std::size_t size() const override { return n_; }
  double total_weight() const override { return total_; }
  double roundoff() const override { return 0x1p-24; }
  void pass(const detail::PassConstants& constants, detail::PassStats& out) override {
    out = test::emulate_pass(data_, weights_.empty() ? nullptr : weights_.data(), constants);
  }
  void moment_pass(const detail::PassConstants&, detail::MomentStats&) override {
    throw std::logic_error("the moment pass is not emulated");
  }
  void posteriors(const detail::PassConstants&, double*, int*) override {
    throw std::logic_error("the posteriors are not emulated");
  }

 private:
  bool float_x_;
  test::FloatData data_;
  std::vector<double> weights_;
  double total_ = 0.0;
  std::size_t n_ = 0;
};

struct Runs {
  FitResult cpu, gpu;
};

// The same fit on the CPU backend (double) and on the emulated float32 pass.
Runs fit_both(const std::vector<double>& x, const std::vector<double>* w, const FitOptions& o,
              bool float_x = true) {
  const double* v = w ? w->data() : nullptr;
  auto cpu = detail::make_cpu_backend(1);
  cpu->load(x.data(), v, x.size());
  FloatEmulationBackend gpu(float_x);
  gpu.load(x.data(), v, x.size());
  return {detail::fit_loaded(*cpu, o, x.data(), v, x.size()),
          detail::fit_loaded(gpu, o, x.data(), v, x.size())};
}

// The crosscheck's measures (fit_compare.hpp): the mean NLL per iteration relative to
// max(1, |h|), the final parameters relative.
double worst_history_diff(const Runs& r) { return detail::compare_fits(r.cpu, r.gpu).mean_nll; }
double worst_param_diff(const Runs& r) { return detail::compare_fits(r.cpu, r.gpu).params; }

struct Case {
  const char* name;
  MixtureParams truth;
};

const Case kCases[] = {
    {"Demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
    {"Overlap3", {{0.3, 0.4, 0.3}, {2.0, 7.0, 12.0}, {12.0, 7.0, 2.0}}},
    {"NearZero", {{0.4, 0.6}, {0.5, 4.0}, {8.0, 4.0}}},
};

const Method kMethods[] = {Method::Adam, Method::EM, Method::Squarem};

// The crosscheck's options: 200 iterations, no early stop, from the quantile start made
// explicit (both runs start from the same parameters).
FitOptions crosscheck_options(const std::vector<double>& x, int k) {
  FitOptions o;
  o.k = k;
  o.tolerance = 0.0;
  o.max_iterations = 0;
  o.device = Device::Cpu;
  o.start = fit(x, o).params;
  o.max_iterations = 200;
  return o;
}

// `betamix crosscheck`'s run: 200 iterations from the same start (the quantile start, made
// explicit), n = 10^5. Float32 rounds each sample's log-density by ~1e-7 relative, which
// averages out over n to ~1e-7 / sqrt(n) in the mean NLL; the optimisers' paths then differ by
// what that moves each step. Both must stay inside the crosscheck's defaults.
TEST(FloatFitTest, CrosscheckRunAgreesWithTheCpu) {
  for (const Case& c : kCases) {
    const std::vector<double> x = sample(c.truth, 100000, 21);
    FitOptions o = crosscheck_options(x, static_cast<int>(c.truth.k()));
    for (const Method method : kMethods) {
      o.method = method;
      const Runs r = fit_both(x, nullptr, o);
      const std::string what = std::string(c.name) + " " + to_string(method);
      ASSERT_EQ(r.cpu.iterations, 200) << what << ": " << r.cpu.status_detail;
      EXPECT_EQ(r.gpu.iterations, r.cpu.iterations) << what << ": " << r.gpu.status_detail;
      EXPECT_EQ(r.gpu.status, r.cpu.status) << what;
      EXPECT_LE(worst_history_diff(r), 1e-6) << what;
      EXPECT_LE(worst_param_diff(r), 1e-4) << what;
      std::printf("%-9s %-8s mean NLL per iteration %.2e, parameters %.2e\n", c.name,
                  to_string(method), worst_history_diff(r), worst_param_diff(r));
    }
  }
}

// The same with case weights and on the other device layout, float32 (log x, log(1 - x)), which
// the CUDA backend takes where x's own rounding to float would move its logs: the same
// tolerances. The weights (0.5 to 3 times 1e-25, with digits float32 does not hold) go through
// the device's handling: scaled by a power of two into float range (1e-25 is below 2^-64),
// rounded to float, the sums scaled back.
TEST(FloatFitTest, CrosscheckRunWithWeightsAndTheLogPairLayout) {
  const Case& c = kCases[2];
  const std::vector<double> x = sample(c.truth, 100000, 22);
  std::vector<double> w(x.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = (0.5 + 0.25 * static_cast<double>(i % 11)) * (1.0 + static_cast<double>(i % 7) / 7e3) *
           1e-25;
  }
  ASSERT_NE(detail::float_weight_scale(w.data(), w.size()), 1.0);
  FitOptions o = crosscheck_options(x, static_cast<int>(c.truth.k()));
  for (const bool float_x : {true, false}) {
    for (const Method method : kMethods) {
      o.method = method;
      const Runs r = fit_both(x, &w, o, float_x);
      const std::string what =
          std::string(to_string(method)) + (float_x ? ", float32 x" : ", float32 logs");
      ASSERT_EQ(r.cpu.iterations, 200) << what << ": " << r.cpu.status_detail;
      EXPECT_EQ(r.gpu.iterations, r.cpu.iterations) << what << ": " << r.gpu.status_detail;
      EXPECT_LE(worst_history_diff(r), 1e-6) << what;
      EXPECT_LE(worst_param_diff(r), 1e-4) << what;
      std::printf("weighted %-8s %-15s mean NLL per iteration %.2e, parameters %.2e\n",
                  to_string(method), float_x ? "float32 x" : "float32 logs", worst_history_diff(r),
                  worst_param_diff(r));
    }
  }
}

// Each method run to its own stopping rule, from its default start, n = 2 * 10^4: on float
// arithmetic the rule's floor is four times the rounding noise of the mean NLL, about 2e-8 here
// (fit.cpp, mean_nll_noise), so the float fit stops earlier, but it stops (Converged where the
// double fit is; Adam, whose steps never stop, had chased the noise to the iteration limit on
// NearZero) and at the same maximum: the mean NLL within 1e-6 as the crosscheck measures it
// (the floor is 50 times smaller; the passes differ by ~3e-8).
TEST(FloatFitTest, StoppingRulesStopOnFloatArithmetic) {
  for (const Case& c : kCases) {
    const std::vector<double> x = sample(c.truth, 20000, 8);
    FitOptions o;
    o.k = static_cast<int>(c.truth.k());
    for (const Method method : kMethods) {
      o.method = method;
      const Runs r = fit_both(x, nullptr, o);
      const std::string what = std::string(c.name) + " " + to_string(method);
      ASSERT_EQ(r.cpu.status, FitStatus::Converged) << what << ": " << r.cpu.status_detail;
      EXPECT_EQ(r.gpu.status, FitStatus::Converged)
          << what << ": " << r.gpu.iterations << " iterations, " << r.gpu.status_detail;
      EXPECT_LE(detail::mean_nll_difference(r.gpu.mean_nll, r.cpu.mean_nll), 1e-6) << what;
      std::printf("%-9s %-8s iterations %5d (double %5d), mean NLL %.2e apart\n", c.name,
                  to_string(method), r.gpu.iterations, r.cpu.iterations,
                  detail::mean_nll_difference(r.gpu.mean_nll, r.cpu.mean_nll));
    }
  }
}

}  // namespace
}  // namespace betamix
