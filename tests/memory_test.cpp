// Running out of host memory: the CPU backend's load() says how much it needed and what was
// available, as a DeviceError (exit code 3 from the tool), and leaves the backend usable; and
// the sizes in such messages.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/error.hpp"
#include "host_memory.hpp"

namespace betamix {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(FormatBytes, DecimalUnitsWithOneDecimal) {
  EXPECT_EQ(detail::format_bytes(0), "0 B");
  EXPECT_EQ(detail::format_bytes(512), "512 B");
  EXPECT_EQ(detail::format_bytes(4'500), "4.5 kB");
  EXPECT_EQ(detail::format_bytes(4'000'000), "4.0 MB");
  EXPECT_EQ(detail::format_bytes(1'250'000'000), "1.2 GB");  // %.1f: 1.25 rounds to even
  EXPECT_EQ(detail::format_bytes(4'000'000'000'000), "4000.0 GB");
}

TEST(HostMemory, SomeIsAvailable) {
  const std::size_t available = detail::host_available_memory();
  EXPECT_GT(available, std::size_t{1} << 20);  // a machine that runs these tests has 1 MB free
  EXPECT_LT(available, std::size_t{1} << 52);  // and less than 4 PB
}

// 2^55 samples need 2^59 bytes (2^58 per log array), which no allocator grants (bad_alloc;
// not under AddressSanitizer, which aborts on such a request), and 2^61 samples more than a
// vector can hold (length_error). The check comes before the input is read, so a
// three-element buffer stands in for it.
TEST(CpuBackendMemory, ImpossibleLoadNamesTheSizes) {
  const std::vector<double> x{0.2, 0.4, 0.6}, w{1.0, 2.0, 0.5};
  struct Case {
    std::size_t n;
    const double* v;
    const char* samples;
    const char* size;
  };
  std::vector<Case> cases = {
      {std::size_t{1} << 61, nullptr, "2305843009213693952 samples", "more than 18446744073.7 GB"},
  };
#ifndef __SANITIZE_ADDRESS__
  cases.push_back({std::size_t{1} << 55, nullptr, "36028797018963968 samples", "576460752.3 GB"});
  cases.push_back({std::size_t{1} << 55, w.data(), "36028797018963968 samples", "864691128.5 GB"});
#endif
  auto cpu = detail::make_cpu_backend(1);
  for (const Case& c : cases) {
    try {
      cpu->load(x.data(), c.v, c.n);
      ADD_FAILURE() << "expected a DeviceError for n = " << c.n;
    } catch (const DeviceError& e) {
      const std::string what = e.what();
      EXPECT_TRUE(contains(what, std::string("device cpu: ") + c.samples + " need " + c.size))
          << what;
      EXPECT_TRUE(contains(what, c.v ? "(log x and log(1-x) and the case weights in double)"
                                     : "(log x and log(1-x) in double)"))
          << what;
      EXPECT_TRUE(contains(what, "but allocating it failed (the system reports ")) << what;
      EXPECT_TRUE(contains(what, " available)")) << what;
    }
    EXPECT_EQ(cpu->size(), 0u);
  }
  // Still usable.
  cpu->load(x.data(), w.data(), x.size());
  EXPECT_EQ(cpu->size(), 3u);
  EXPECT_EQ(cpu->total_weight(), 3.5);
  detail::PassConstants c;
  c.resize(1, 1);
  c.set(0, MixtureParams{{1.0}, {1.0}, {1.0}});  // the uniform: log-density 0 everywhere
  detail::PassStats out;
  cpu->pass(c, out);
  EXPECT_DOUBLE_EQ(out.n[0], 3.5);
  EXPECT_NEAR(out.ll[0], 0.0, 1e-15);
}

}  // namespace
}  // namespace betamix
