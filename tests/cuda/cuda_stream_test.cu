// Data streamed from host memory (CudaDataOptions, backend.hpp), the CUDA backend's way with
// data that do not fit on the GPU, forced here with small chunks: the pass matches the CPU
// within the float32 budget of cuda_pass_test.cu and is bit-identical run to run; the moment
// pass matches the resident data's to the order of double additions; the posteriors equal the
// resident data's bit for bit (the same floats, the same per-sample math); a whole fit matches
// the resident fit; and the sizes in the out-of-memory message are checked on any machine.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "support/pass_cases.hpp"
#include "support/pass_tolerance.hpp"

namespace betamix {
namespace {

using test::constants_for;
using test::expect_close;
using test::test_data;
using test::test_weights;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<detail::Backend> streamed(std::size_t chunk) {
  detail::CudaDataOptions options;
  options.force_stream = true;
  options.stream_chunk = chunk;
  return detail::make_cuda_backend(options);
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Host-only: runs without a GPU.
TEST(CudaStreamMessage, NamesDeviceAndHostSizes) {
  try {
    detail::check_stream_memory("the data", 4'000'000'000, 1'200'000'000, 80'000'000'000,
                                "NVIDIA H100", 4'100'000'000, 2'000'000'000);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_STREQ(e.what(),
                 "device cuda: the data need 4.0 GB on the GPU, but only 1.2 GB of 80.0 GB are "
                 "free (NVIDIA H100), and streaming them from host memory needs 4.1 GB of it, "
                 "but only 2.0 GB are available");
  }
  EXPECT_NO_THROW(detail::check_stream_memory("the data", 10, 1, 2, "gpu", 100, 100));
  EXPECT_GT(detail::host_available_memory(), std::size_t{0});
}

// Chunks of 1000 samples (a multiple of 4) and of 1001 (rounded up to 1004: the chunks then
// start at offsets that are not multiples of 1000), sizes below one chunk, of exactly four
// chunks and with a short last chunk; both layouts; one and three starts; case weights.
TEST(CudaStream, PassMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const std::size_t chunk : {std::size_t{1000}, std::size_t{1001}}) {
    for (const std::size_t n : {std::size_t{7}, std::size_t{4000}, std::size_t{100003}}) {
      for (const int k : {1, 2, 5, 16}) {
        for (const bool float_exact : {true, false}) {
          for (const bool weighted : {false, true}) {
            SCOPED_TRACE("chunk " + std::to_string(chunk) + ", n = " + std::to_string(n) +
                         ", k = " + std::to_string(k) + (float_exact ? ", x" : ", log pair") +
                         (weighted ? ", weights" : ""));
            const std::vector<double> x = test_data(k, n, float_exact);
            const std::vector<double> w = test_weights(n);
            const double* v = weighted ? w.data() : nullptr;
            const detail::PassConstants c = constants_for(k, k <= 5 ? 3 : 1);
            auto cpu = detail::make_cpu_backend(0);
            auto gpu = streamed(chunk);
            cpu->load(x.data(), v, n);
            gpu->load(x.data(), v, n);
            EXPECT_EQ(gpu->size(), n);
            EXPECT_EQ(gpu->total_weight(), cpu->total_weight());
            detail::PassStats cs, gs;
            cpu->pass(c, cs);
            gpu->pass(c, gs);
            expect_close(x, v, c, gs, cs);
          }
        }
      }
    }
  }
}

TEST(CudaStream, RepeatedPassesAreBitIdentical) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = test_data(5, 1000003, false);
  const std::vector<double> w = test_weights(x.size());
  const detail::PassConstants c = constants_for(5, 2);
  auto gpu = streamed(65536);
  gpu->load(x.data(), w.data(), x.size());
  detail::PassStats first;
  gpu->pass(c, first);
  for (int rep = 0; rep < 3; ++rep) {
    detail::PassStats again;
    gpu->pass(c, again);
    EXPECT_TRUE(same_bits(first.n, again.n) && same_bits(first.s, again.s) &&
                same_bits(first.t, again.t) && same_bits(first.ll, again.ll))
        << "pass " << rep + 2;
  }
  auto other = streamed(65536);
  other->load(x.data(), w.data(), x.size());
  detail::PassStats fresh;
  other->pass(c, fresh);
  EXPECT_TRUE(same_bits(first.ll, fresh.ll) && same_bits(first.n, fresh.n));
}

// The moment pass runs in double over the same floats as on resident data; only the order of
// the additions differs (per chunk, then over chunks), so 1e-12 of the terms' magnitude.
TEST(CudaStream, MomentsMatchResidentData) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const bool float_exact : {true, false}) {
    SCOPED_TRACE(float_exact ? "x" : "log pair");
    const int k = 3;
    const std::vector<double> x = test_data(k, 100003, float_exact);
    const std::vector<double> w = test_weights(x.size());
    const detail::PassConstants c = constants_for(k, 1);
    auto resident = detail::make_cuda_backend();
    auto gpu = streamed(4096);
    resident->load(x.data(), w.data(), x.size());
    gpu->load(x.data(), w.data(), x.size());
    detail::MomentStats rm, sm;
    resident->moment_pass(c, rm);
    gpu->moment_pass(c, sm);
    ASSERT_EQ(sm.single.size(), rm.single.size());
    ASSERT_EQ(sm.pair.size(), rm.pair.size());
    // Every sum but LL has terms of one sign: |sum| is their magnitude. LL's terms are
    // log-densities of either sign, each below 30 in magnitude here.
    for (std::size_t i = 0; i < rm.single.size(); ++i) {
      EXPECT_NEAR(sm.single[i], rm.single[i], 1e-12 * std::abs(rm.single[i])) << "single " << i;
    }
    for (std::size_t i = 0; i < rm.pair.size(); ++i) {
      EXPECT_NEAR(sm.pair[i], rm.pair[i], 1e-12 * std::abs(rm.pair[i])) << "pair " << i;
    }
    EXPECT_NEAR(sm.ll, rm.ll, 1e-12 * 30.0 * rm.single[0]);
  }
}

TEST(CudaStream, PosteriorsEqualResidentData) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const bool float_exact : {true, false}) {
    SCOPED_TRACE(float_exact ? "x" : "log pair");
    const int k = 4;
    const std::size_t n = 10007;
    const std::vector<double> x = test_data(k, n, float_exact);
    const detail::PassConstants c = constants_for(k, 1);
    auto resident = detail::make_cuda_backend();
    auto gpu = streamed(1000);
    resident->load(x.data(), nullptr, n);
    gpu->load(x.data(), nullptr, n);
    std::vector<double> rp(n * k), sp(n * k, -1.0);
    std::vector<int> rb(n), sb(n, -1);
    resident->posteriors(c, rp.data(), rb.data());
    gpu->posteriors(c, sp.data(), sb.data());
    EXPECT_TRUE(same_bits(sp, rp));
    EXPECT_EQ(sb, rb);
  }
}

TEST(CudaStream, DeviceNameSaysSo) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = test_data(2, 5000, true);
  auto gpu = streamed(1024);
  EXPECT_FALSE(contains(gpu->device_name(), "streamed"));
  gpu->load(x.data(), nullptr, x.size());
  EXPECT_TRUE(contains(gpu->device_name(), "host memory in chunks of 1024")) << gpu->device_name();
  auto resident = detail::make_cuda_backend();
  resident->load(x.data(), nullptr, x.size());
  EXPECT_FALSE(contains(resident->device_name(), "streamed")) << resident->device_name();
}

TEST(CudaStream, EnvironmentVariable) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<double> x = test_data(2, 5000, true);
  for (const char* bad : {"", "0", "-4", "12x", "chunk"}) {
    ASSERT_EQ(setenv("BETAMIX_CUDA_STREAM_CHUNK", bad, 1), 0);
    try {
      detail::make_cuda_backend();
      ADD_FAILURE() << "expected a DeviceError for '" << bad << "'";
    } catch (const DeviceError& e) {
      EXPECT_TRUE(contains(e.what(), "BETAMIX_CUDA_STREAM_CHUNK")) << e.what();
    }
  }
  ASSERT_EQ(setenv("BETAMIX_CUDA_STREAM_CHUNK", "2048", 1), 0);
  auto gpu = detail::make_cuda_backend();
  ASSERT_EQ(unsetenv("BETAMIX_CUDA_STREAM_CHUNK"), 0);
  gpu->load(x.data(), nullptr, x.size());
  EXPECT_TRUE(contains(gpu->device_name(), "chunks of 2048")) << gpu->device_name();
}

// A whole fit (Adam, standard errors) on streamed data against the same fit on resident data:
// the passes differ only by the float32 rounding of the per-thread sums, ~1e-7 relative.
TEST(CudaStream, FitMatchesResidentFit) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MixtureParams truth{{0.35, 0.65}, {2.0, 6.0}, {7.0, 2.5}};
  const std::vector<double> x = sample(truth, 1000000, 7, Device::Cpu);
  FitOptions o;
  o.k = 2;
  o.device = Device::Cuda;
  o.tolerance = 0.0;
  o.max_iterations = 200;
  o.start = MixtureParams{{0.5, 0.5}, {1.5, 4.0}, {4.0, 1.5}};
  const FitResult resident = fit(x, o);
  ASSERT_EQ(setenv("BETAMIX_CUDA_STREAM_CHUNK", "65536", 1), 0);
  const FitResult streamed_fit = fit(x, o);
  ASSERT_EQ(unsetenv("BETAMIX_CUDA_STREAM_CHUNK"), 0);
  EXPECT_TRUE(contains(streamed_fit.device_name, "streamed")) << streamed_fit.device_name;
  EXPECT_EQ(streamed_fit.iterations, resident.iterations);
  EXPECT_NEAR(streamed_fit.log_likelihood, resident.log_likelihood, 1e-6 * x.size());
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(streamed_fit.params.alpha[j], resident.params.alpha[j],
                1e-4 * resident.params.alpha[j]);
    EXPECT_NEAR(streamed_fit.params.beta[j], resident.params.beta[j],
                1e-4 * resident.params.beta[j]);
    EXPECT_NEAR(streamed_fit.params.weights[j], resident.params.weights[j],
                1e-4 * resident.params.weights[j]);
  }
  // The standard errors' moment pass ran over the streamed chunks too.
  ASSERT_TRUE(streamed_fit.se && resident.se);
  ASSERT_TRUE(streamed_fit.se->available && resident.se->available);
  EXPECT_EQ(streamed_fit.se->device, "cuda");
  for (std::size_t j = 0; j < 2; ++j) {
    const double want = resident.se->se.alpha[j];
    EXPECT_NEAR(streamed_fit.se->se.alpha[j], want, 1e-3 * want);
  }
}

}  // namespace
}  // namespace betamix
