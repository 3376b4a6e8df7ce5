// Whole fits on the GPU against the same fits on the CPU (the Gpufit-style consistency test):
// same data, same start, same iteration count, parameters within a stated tolerance.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"

namespace betamix {
namespace {

std::vector<double> fit_data() {
  const MixtureParams truth{{0.35, 0.65}, {2.0, 6.0}, {7.0, 2.5}};
  return sample(truth, 1000000, 7, Device::Cpu);
}

FitOptions fit_options(Method method, int iterations) {
  FitOptions o;
  o.k = 2;
  o.method = method;
  o.tolerance = 0.0;  // run exactly `iterations` iterations on both devices
  o.max_iterations = iterations;
  o.start = MixtureParams{{0.5, 0.5}, {1.5, 4.0}, {4.0, 1.5}};
  return o;
}

// Parameters within 1e-4 relative; log-likelihoods within 1e-6 nats per sample (kLlPerSample
// times n), the float32 evaluation error of one sample's log-density. The passes differ by
// ~1e-7 relative (cuda_pass_test.cu); a float32 emulation of the GPU pass on the CPU ends
// these fits within 2e-7 relative (parameters) and 1.4e-7 nats per sample (LL) of the CPU,
// leaving a factor of 7 (LL) to 500 (parameters) for differences of device math.
constexpr double kLlPerSample = 1e-6;
void expect_same_fit(const FitResult& gpu, const FitResult& cpu) {
  EXPECT_EQ(gpu.device, "cuda");
  EXPECT_EQ(cpu.device, "cpu");
  EXPECT_EQ(gpu.status, cpu.status);
  EXPECT_EQ(gpu.iterations, cpu.iterations);
  ASSERT_EQ(gpu.params.k(), cpu.params.k());
  constexpr double kRtol = 1e-4;
  for (std::size_t j = 0; j < cpu.params.k(); ++j) {
    SCOPED_TRACE("component " + std::to_string(j));
    EXPECT_NEAR(gpu.params.weights[j], cpu.params.weights[j], kRtol * cpu.params.weights[j]);
    EXPECT_NEAR(gpu.params.alpha[j], cpu.params.alpha[j], kRtol * cpu.params.alpha[j]);
    EXPECT_NEAR(gpu.params.beta[j], cpu.params.beta[j], kRtol * cpu.params.beta[j]);
  }
  EXPECT_NEAR(gpu.log_likelihood, cpu.log_likelihood, kLlPerSample * cpu.n);
  ASSERT_EQ(gpu.history.size(), cpu.history.size());
}

TEST(CudaFit, AdamMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = fit_data();
  FitOptions o = fit_options(Method::Adam, 200);
  o.device = Device::Cpu;
  const FitResult cpu = fit(x, o);
  o.device = Device::Cuda;
  const FitResult gpu = fit(x, o);
  expect_same_fit(gpu, cpu);
}

TEST(CudaFit, EmMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = fit_data();
  FitOptions o = fit_options(Method::EM, 50);
  o.device = Device::Cpu;
  const FitResult cpu = fit(x, o);
  o.device = Device::Cuda;
  const FitResult gpu = fit(x, o);
  expect_same_fit(gpu, cpu);
}

TEST(CudaFit, RestartsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = fit_data();
  FitOptions o = fit_options(Method::EM, 30);
  o.start.reset();
  o.init = InitMethod::Random;
  o.restarts = 6;  // six starts share each pass
  o.seed = 11;
  o.device = Device::Cpu;
  const FitResult cpu = fit(x, o);
  o.device = Device::Cuda;
  const FitResult gpu = fit(x, o);
  expect_same_fit(gpu, cpu);
  ASSERT_EQ(gpu.start_log_likelihoods.size(), cpu.start_log_likelihoods.size());
  // Starts that reach the same optimum tie within the float32 error of the GPU pass, and then
  // either may win: the GPU's winner must be a start whose CPU log-likelihood ties the best.
  const double tie = kLlPerSample * cpu.n;
  const double best = cpu.start_log_likelihoods[cpu.best_start];
  EXPECT_NEAR(cpu.start_log_likelihoods[gpu.best_start], best, 2 * tie)
      << "GPU best start " << gpu.best_start << ", CPU best start " << cpu.best_start;
  for (std::size_t r = 0; r < cpu.start_log_likelihoods.size(); ++r) {
    EXPECT_NEAR(gpu.start_log_likelihoods[r], cpu.start_log_likelihoods[r], kLlPerSample * cpu.n)
        << "start " << r;
  }
}

TEST(CudaFit, AutoChoosesTheGpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = fit_data();
  FitOptions o = fit_options(Method::Adam, 5);
  o.device = Device::Auto;
  const FitResult res = fit(x, o);
  EXPECT_EQ(res.device, "cuda");
  EXPECT_FALSE(res.device_name.empty());
  EXPECT_TRUE(res.note.empty()) << res.note;
}

// Above the GPU passes' 64 components auto fits on the CPU and says why, where the same
// request on a machine without a GPU works too; at 64 it stays on the GPU.
TEST(CudaFit, AutoTakesTheCpuAboveTheGpusComponents) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = sample(MixtureParams{{1.0}, {2.0}, {5.0}}, 5000, 3, Device::Cpu);
  FitOptions o;
  o.device = Device::Auto;
  o.max_iterations = 2;
  o.standard_errors = false;
  o.k = 65;
  const FitResult above = fit(x, o);
  EXPECT_EQ(above.device, "cpu");
  EXPECT_NE(above.note.find("k = 65 is above the 64 components"), std::string::npos) << above.note;
  o.k = 64;
  const FitResult at = fit(x, o);
  EXPECT_EQ(at.device, "cuda");
  EXPECT_TRUE(at.note.empty()) << at.note;
  const ModelSelection sel = select_k(x.data(), x.size(), {2, 65}, Criterion::BIC, o);
  for (const FitResult& r : sel.fits) EXPECT_EQ(r.device, "cpu") << "k = " << r.params.k();
  const std::vector<double> post =
      responsibilities(MixtureParams{std::vector<double>(65, 1.0 / 65),
                                     std::vector<double>(65, 2.0), std::vector<double>(65, 5.0)},
                       x, Device::Auto);
  EXPECT_NEAR(post[0], 1.0 / 65, 1e-12);
}

}  // namespace
}  // namespace betamix
