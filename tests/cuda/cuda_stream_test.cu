// Data streamed from host memory (CudaDataOptions, backend.hpp), the CUDA backend's way with
// data that do not fit on the GPU, forced here with small chunks: the pass matches the CPU
// within the float32 budget of cuda_pass_test.cu and is bit-identical run to run; the moment
// pass matches the resident data's to the order of double additions; the posteriors equal the
// resident data's bit for bit (the same floats, the same per-sample math); a whole fit matches
// the resident fit; and the sizes in the out-of-memory message are checked on any machine.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "data_layout.cuh"
#include "device_memory.cuh"
#include "pass.cuh"
#include "support/pass_cases.hpp"
#include "support/pass_tolerance.hpp"
#include "support/scoped_env.hpp"
#include "support/worst.hpp"

namespace betamix {
namespace {

using test::constants_for;
using test::expect_close;
using test::same_bits;
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

// The posteriors (n x k) and most likely components of a backend's loaded samples.
struct Posteriors {
  std::vector<double> post;
  std::vector<int> best;
};

Posteriors posteriors_of(detail::Backend& backend, const detail::PassConstants& c) {
  const std::size_t n = backend.size();
  Posteriors p{std::vector<double>(n * c.k, -1.0), std::vector<int>(n, -1)};
  backend.posteriors(c, p.post.data(), p.best.data());
  // Every sample written: no -1 of the fill is left (which would compare equal between two
  // backends that both skipped it).
  std::size_t unwritten = 0;
  for (const int b : p.best) unwritten += b < 0 || b >= c.k;
  EXPECT_EQ(unwritten, 0u);
  return p;
}

void expect_same_bits(const Posteriors& got, const Posteriors& want) {
  EXPECT_TRUE(same_bits(got.post, want.post));
  EXPECT_EQ(got.best, want.best);
}

using test::ScopedEnv;

constexpr const char* kChunkVariable = "BETAMIX_CUDA_STREAM_CHUNK";

// Host-only: runs without a GPU. A device of 80 GB keeps 1.25 GB (1/64) in reserve.
TEST(CudaDataPlacement, DeviceHostOrAnErrorNamingEverySize) {
  using detail::Placement;
  detail::MemoryInfo m;
  m.device_total = 80'000'000'000;
  m.device_free = 10'000'000'000;
  m.host_available = 50'000'000'000;
  m.gpu_name = "NVIDIA H100";
  const auto place = [&](std::size_t device, std::size_t host, bool forced) {
    return detail::place_data("the data", device, host, m, forced);
  };
  EXPECT_EQ(place(8'000'000'000, 8'000'000'000, false), Placement::Device);
  // Into the reserve: streamed while host memory holds them ...
  EXPECT_EQ(place(9'500'000'000, 9'000'000'000, false), Placement::Host);
  // ... and on the device after all when it does not.
  EXPECT_EQ(place(9'500'000'000, 60'000'000'000, false), Placement::Device);
  EXPECT_EQ(place(20'000'000'000, 19'000'000'000, false), Placement::Host);
  EXPECT_EQ(place(1'000, 1'000, true), Placement::Host);
  try {
    place(60'000'000'000, 59'000'000'000, false);
    ADD_FAILURE() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_STREQ(e.what(),
                 "device cuda: the data need 60.0 GB on the GPU, but only 10.0 GB of 80.0 GB are "
                 "free (NVIDIA H100), and streaming them from host memory needs 59.0 GB of it, "
                 "but only 50.0 GB are available");
  }
  try {
    place(1'000, 59'000'000'000, true);
    ADD_FAILURE() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_STREQ(e.what(),
                 "device cuda: streaming the data from host memory (as asked) needs 59.0 GB of "
                 "it, but only 50.0 GB are available");
  }
  EXPECT_EQ(detail::device_reserve(80'000'000'000), std::size_t{1'250'000'000});
  EXPECT_EQ(detail::device_reserve(1'000'000'000), std::size_t{256} << 20);
  EXPECT_GT(detail::host_available_memory(), std::size_t{0});
}

// Host-only. The reserve covers the local memory of the kernel with the largest stack: on a
// 24 GB device with 128 SMs of 1536 threads, 2608 bytes a thread are 513 MB, more than 1/64 of
// the device (375 MB), so data that would fill the device down to 1/64 are streamed instead.
TEST(CudaDataPlacement, ReserveCoversTheKernelsLocalMemory) {
  const std::size_t local = std::size_t{2608} * 1536 * 128;
  EXPECT_EQ(detail::device_reserve(24'000'000'000, local), local + (std::size_t{128} << 20));
  EXPECT_EQ(detail::device_reserve(80'000'000'000, local), std::size_t{1'250'000'000});
  detail::MemoryInfo m;
  m.device_total = 24'000'000'000;
  m.device_free = 23'000'000'000;
  m.host_available = 50'000'000'000;
  m.kernel_local = local;
  const std::size_t data = 22'500'000'000;  // leaves 500 MB: enough for 1/64, not for the stack
  EXPECT_EQ(detail::place_data("the data", data, data, m, false), detail::Placement::Host);
  m.kernel_local = 0;
  EXPECT_EQ(detail::place_data("the data", data, data, m, false), detail::Placement::Device);
}

// With a GPU: the driver reports the runtime-k kernel's stack (2608 bytes a thread for sm_90 in
// cuobjdump -res-usage), the figure pass_local_memory_bytes() reserves for every resident
// thread.
TEST(CudaDataPlacement, KernelLocalMemoryOfThisDevice) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  EXPECT_GE(detail::pass_local_bytes_per_thread(), std::size_t{2048})
      << "cudaFuncGetAttributes' localSizeBytes of the runtime-k pass kernel";
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
    EXPECT_TRUE(same_bits(first, again)) << "pass " << rep + 2;
  }
  auto other = streamed(65536);
  other->load(x.data(), w.data(), x.size());
  detail::PassStats fresh;
  other->pass(c, fresh);
  EXPECT_TRUE(same_bits(first, fresh));
}

// The moment pass runs in double over the same floats as on resident data; only the order of
// the additions differs (per chunk, then over chunks), so 1e-12 of the terms' magnitude.
TEST(CudaStream, MomentsMatchResidentData) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
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
    double weight = 0.0;  // sum_i v_i = sum_j single[0][j]
    for (int j = 0; j < k; ++j) weight += rm.single[j];
    EXPECT_NEAR(sm.ll, rm.ll, 1e-12 * 30.0 * weight);
  }
}

TEST(CudaStream, PosteriorsEqualResidentData) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
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
    expect_same_bits(posteriors_of(*gpu, c), posteriors_of(*resident, c));
  }
}

// At k = 64 one launch of the posteriors takes at most 2^23 / 64 = 131072 samples: n = 131075
// takes two on resident data, and as many within one streamed chunk of 131076. The CPU's
// posteriors and most likely components agree (float-exact data: both compute in double from
// the same x, cuda_moment_test.cu), and every GPU variant gives the resident bits.
TEST(CudaStream, PosteriorsInSeveralLaunchesMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
  const int k = 64;
  const std::size_t n = 131075;
  const std::vector<double> x = test_data(k, n, true);
  const detail::PassConstants c = constants_for(k, 1);
  auto cpu = detail::make_cpu_backend(0);
  auto resident = detail::make_cuda_backend();
  cpu->load(x.data(), nullptr, n);
  resident->load(x.data(), nullptr, n);
  const Posteriors want = posteriors_of(*cpu, c), got = posteriors_of(*resident, c);
  double worst = 0.0;
  for (std::size_t i = 0; i < want.post.size(); ++i) {
    const double err = std::abs(got.post[i] - want.post[i]);
    if (test::is_worse(err, worst)) worst = err;
  }
  EXPECT_LE(worst, 1e-12);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* row = &want.post[i * k];
    const int top = want.best[i];
    bool tie = false;
    for (int j = 0; j < k; ++j) tie = tie || (j != top && row[top] - row[j] <= 2e-12);
    if (!tie && got.best[i] != top) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
  for (const std::size_t chunk : {std::size_t{50000}, std::size_t{200000}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    auto gpu = streamed(chunk);
    gpu->load(x.data(), nullptr, n);
    expect_same_bits(posteriors_of(*gpu, c), got);
  }
}

// Chunks split into several launches on both slots (n = 262155 in chunks of 131076: one
// full chunk per slot, two launches each at k = 64, then 3 samples), then k = 2 on the same
// backend (a larger span: new buffers), then other data (log pair, a short last chunk): each
// result equals the bits of a resident backend over the same data.
TEST(CudaStream, PosteriorsAcrossSlotsComponentCountsAndReloads) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
  auto gpu = streamed(131076);
  const std::vector<std::vector<double>> data = {test_data(64, 262155, true),
                                                 test_data(3, 150001, false)};
  for (const std::vector<double>& x : data) {
    const std::size_t n = x.size();
    gpu->load(x.data(), nullptr, n);
    auto resident = detail::make_cuda_backend();
    resident->load(x.data(), nullptr, n);
    for (const int k : {64, 2, 64}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", k = " + std::to_string(k));
      const detail::PassConstants c = constants_for(k, 1);
      expect_same_bits(posteriors_of(*gpu, c), posteriors_of(*resident, c));
    }
  }
}

TEST(CudaStream, DeviceNameSaysSo) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
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
  for (const char* bad : {"", "0", "-4", " 8", "+8", "12x", "chunk", "99999999999999999999",
                          "18446744073709551615"}) {
    const ScopedEnv set(kChunkVariable, bad);
    try {
      detail::make_cuda_backend();
      ADD_FAILURE() << "expected a DeviceError for '" << bad << "'";
    } catch (const DeviceError& e) {
      EXPECT_TRUE(contains(e.what(), kChunkVariable)) << e.what();
    }
  }
  std::unique_ptr<detail::Backend> gpu;
  {
    const ScopedEnv set(kChunkVariable, "2048");
    gpu = detail::make_cuda_backend();
  }
  gpu->load(x.data(), nullptr, x.size());
  EXPECT_TRUE(contains(gpu->device_name(), "chunks of 2048")) << gpu->device_name();
  // A chunk larger than the data: one chunk of the data rounded up to whole float4 groups.
  {
    const ScopedEnv set(kChunkVariable, "999999999999999");
    gpu = detail::make_cuda_backend();
  }
  gpu->load(x.data(), nullptr, 4999);
  EXPECT_TRUE(contains(gpu->device_name(), "chunks of 5000")) << gpu->device_name();
}

// A whole fit (Adam, standard errors) on streamed data against the same fit on resident data.
// The per-sample float32 math is the same; the passes' double sums group the samples
// differently (per chunk, and each chunk's grid), ~1e-15 relative. Adam's 200 steps carry that
// over smoothly, so 1e-7 relative in the parameters, their standard errors and LL leaves
// orders of magnitude for it, and fails on a chunk counted twice or dropped (1e-2 or more).
TEST(CudaStream, FitMatchesResidentFit) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const ScopedEnv resident_by_default(kChunkVariable, nullptr);
  const MixtureParams truth{{0.35, 0.65}, {2.0, 6.0}, {7.0, 2.5}};
  const std::vector<double> x = sample(truth, 1000000, 7, Device::Cpu);
  FitOptions o;
  o.k = 2;
  o.device = Device::Cuda;
  o.tolerance = 0.0;
  o.max_iterations = 200;
  o.start = MixtureParams{{0.5, 0.5}, {1.5, 4.0}, {4.0, 1.5}};
  const FitResult resident = fit(x, o);
  FitResult streamed_fit;
  {
    const ScopedEnv set(kChunkVariable, "65536");
    streamed_fit = fit(x, o);
  }
  EXPECT_FALSE(contains(resident.device_name, "streamed")) << resident.device_name;
  EXPECT_TRUE(contains(streamed_fit.device_name, "streamed")) << streamed_fit.device_name;
  EXPECT_EQ(streamed_fit.iterations, resident.iterations);
  constexpr double kRtol = 1e-7;
  EXPECT_NEAR(streamed_fit.log_likelihood, resident.log_likelihood,
              kRtol * std::abs(resident.log_likelihood));
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(streamed_fit.params.alpha[j], resident.params.alpha[j],
                kRtol * resident.params.alpha[j]);
    EXPECT_NEAR(streamed_fit.params.beta[j], resident.params.beta[j],
                kRtol * resident.params.beta[j]);
    EXPECT_NEAR(streamed_fit.params.weights[j], resident.params.weights[j],
                kRtol * resident.params.weights[j]);
  }
  // The standard errors' moment pass ran over the streamed chunks too.
  ASSERT_TRUE(streamed_fit.se && resident.se);
  ASSERT_TRUE(streamed_fit.se->available && resident.se->available);
  EXPECT_EQ(streamed_fit.se->device, "cuda");
  for (std::size_t j = 0; j < 2; ++j) {
    const double want = resident.se->se.alpha[j];
    EXPECT_NEAR(streamed_fit.se->se.alpha[j], want, kRtol * want);
  }
}

}  // namespace
}  // namespace betamix
