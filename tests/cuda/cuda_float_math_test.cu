// The float32 functions of the GPU pass that use no hardware approximation
// (betamix/math/float_math.hpp: exp2_nonpositive, log2_normal) give the same bits on the device
// as on the host, where tests/float_math_test.cpp measures their accuracy; so the CPU emulation
// of the pass (tests/float_pass_test.cpp) computes those values exactly as the GPU does. Over a
// stride of every float of each domain.

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "betamix/betamix.hpp"
#include "betamix/math/float_math.hpp"
#include "cuda_check.cuh"
#include "device_memory.cuh"

namespace betamix {
namespace {

constexpr std::uint32_t kStride = 61;

enum class Fn { Exp2NonPositive, Log2Normal };

__global__ void evaluate(Fn fn, std::uint32_t first, std::size_t count, std::uint32_t* out) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  const float x = __uint_as_float(first + static_cast<std::uint32_t>(i) * kStride);
  const float y = fn == Fn::Exp2NonPositive ? math::exp2_nonpositive(x) : math::log2_normal(x);
  out[i] = __float_as_uint(y);
}

float host_value(Fn fn, float x) {
  return fn == Fn::Exp2NonPositive ? math::exp2_nonpositive(x) : math::log2_normal(x);
}

// Bits of fn at first, first + kStride, ... up to last, on the device and on the host.
void expect_same_bits(Fn fn, std::uint32_t first, std::uint32_t last) {
  const std::size_t count = (last - first) / kStride + 1;
  detail::DeviceBuffer<std::uint32_t> d_out(count);
  const unsigned blocks = static_cast<unsigned>((count + 255) / 256);
  evaluate<<<blocks, 256>>>(fn, first, count, d_out.data());
  BETAMIX_CUDA_CHECK(cudaGetLastError());
  std::vector<std::uint32_t> got(count);
  BETAMIX_CUDA_CHECK(
      cudaMemcpy(got.data(), d_out.data(), count * sizeof(std::uint32_t), cudaMemcpyDeviceToHost));
  std::size_t differ = 0;
  std::uint32_t first_differ = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t u = first + static_cast<std::uint32_t>(i) * kStride;
    float x;
    std::memcpy(&x, &u, sizeof x);
    const float y = host_value(fn, x);
    std::uint32_t want;
    std::memcpy(&want, &y, sizeof want);
    if (got[i] != want && differ++ == 0) first_differ = u;
  }
  float at;
  std::memcpy(&at, &first_differ, sizeof at);
  EXPECT_EQ(differ, 0u) << "of " << count << " values; the first at x = " << at;
}

TEST(CudaFloatMath, Exp2NonPositiveHasTheHostsBits) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  expect_same_bits(Fn::Exp2NonPositive, 0x80000000u, 0xc2fc0000u);  // -0 down to -126
}

TEST(CudaFloatMath, Log2NormalHasTheHostsBits) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  expect_same_bits(Fn::Log2Normal, 0x00800000u, 0x4f800000u);  // 2^-126 up to 2^32
  expect_same_bits(Fn::Log2Normal, 0x7f800000u, 0x7fffffffu);  // +inf and NaNs pass through
}

}  // namespace
}  // namespace betamix
