// Out of device memory is a DeviceError that says how much was needed and how much is free,
// raised before anything is allocated or the input is read (data that do not fit on the GPU
// are streamed from host memory, cuda_stream_test.cu; this is for data that fit in neither).
// The message format is checked on any machine (a pure function); the real device check needs
// a GPU.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "device_memory.cuh"

namespace betamix {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Host-only: runs without a GPU.
TEST(CudaAllocMessage, NamesNeededFreeAndTotal) {
  try {
    detail::check_device_memory("the data", 4'000'000'000, 1'200'000'000, 80'000'000'000,
                                "NVIDIA H100");
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_STREQ(e.what(),
                 "device cuda: the data need 4.0 GB on the GPU, but only 1.2 GB of 80.0 GB are "
                 "free (NVIDIA H100)");
  }
  EXPECT_NO_THROW(detail::check_device_memory("the data", 100, 100, 200, "gpu"));
}

// Host-only: a byte count that would wrap is an error, not a small allocation.
TEST(CudaAllocMessage, ByteCountsThatWouldWrapAreErrors) {
  EXPECT_EQ(detail::array_bytes<double>(1000), 8000u);
  const std::size_t most = static_cast<std::size_t>(-1) / sizeof(double);
  EXPECT_EQ(detail::array_bytes<double>(most), most * sizeof(double));
  try {
    static_cast<void>(detail::array_bytes<double>(most + 1));
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), std::to_string(most + 1) + " elements of 8 bytes")) << e.what();
  }
  EXPECT_THROW(detail::DeviceBuffer<double>(most + 1), DeviceError);
  EXPECT_THROW(detail::PinnedBuffer<float>(static_cast<std::size_t>(-1)), DeviceError);
  EXPECT_THROW(detail::HostArray<float>(static_cast<std::size_t>(-1)), DeviceError);
}

TEST(CudaAlloc, ImpossibleLoadIsADeviceErrorNamingTheSizes) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // 10^12 samples need 4 TB as float32: more than the GPU holds, and more than host memory
  // holds for streaming them from there. The checks come before the input is read, so a
  // one-element buffer stands in for the data.
  const std::vector<double> one{0.5};
  auto gpu = detail::make_cuda_backend();
  try {
    gpu->load(one.data(), nullptr, 1'000'000'000'000);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "1000000000000 samples")) << what;
    EXPECT_TRUE(contains(what, "need 4000.")) << what;  // 4 TB of data plus scratch
    EXPECT_TRUE(contains(what, " GB on the GPU, but only ")) << what;
    EXPECT_TRUE(contains(what, "are free (")) << what;
    EXPECT_TRUE(contains(what, "and streaming them from host memory needs 4000.")) << what;
    EXPECT_TRUE(contains(what, " GB are available")) << what;
  }
  // A count whose byte counts would wrap is refused before anything else.
  try {
    gpu->load(one.data(), nullptr, static_cast<std::size_t>(-1) / 2);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "more than the GPU backend can address")) << e.what();
  }
  // The backend is still usable afterwards.
  const std::vector<double> x{0.2, 0.4, 0.6};
  gpu->load(x.data(), nullptr, x.size());
  EXPECT_EQ(gpu->size(), 3u);
}

TEST(CudaAlloc, RequireDeviceMemoryAgainstTheRealDevice) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  EXPECT_NO_THROW(detail::require_device_memory("a little", 1024));
  EXPECT_THROW(detail::require_device_memory("a petabyte", std::size_t{1} << 50), DeviceError);
}

}  // namespace
}  // namespace betamix
