// Choosing a backend: under --device auto a GPU that cannot take the data gives way to the CPU
// (with a note saying why), chunk after chunk; an explicit device, and every error that is not
// the device's, propagate. A stand-in backend plays the GPU, so this runs on any machine.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/error.hpp"

namespace betamix {
namespace {

// Claims to be `name` and refuses every load with `error`.
template <class E>
class RefusingBackend : public detail::Backend {
 public:
  explicit RefusingBackend(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  std::string device_name() const override { return "stand-in"; }
  void load(const double*, const double*, std::size_t) override { throw E("no room for it"); }
  std::size_t size() const override { return 0; }
  double total_weight() const override { return 0.0; }
  void pass(const detail::PassConstants&, detail::PassStats&) override {}
  void moment_pass(const detail::PassConstants&, detail::MomentStats&) override {}
  void posteriors(const detail::PassConstants&, double*, int*) override {}

 private:
  const char* name_;
};

const std::vector<double> kX = {0.1, 0.5, 0.9};
const std::vector<double> kW = {1.0, 2.0, 0.5};

TEST(LoadOrFallBack, AutoReplacesAGpuThatCannotTakeTheData) {
  std::unique_ptr<detail::Backend> backend = std::make_unique<RefusingBackend<DeviceError>>("cuda");
  std::string note;
  detail::load_or_fall_back(backend, Device::Auto, 1, &note, kX.data(), kW.data(), kX.size());
  ASSERT_NE(backend, nullptr);
  EXPECT_STREQ(backend->name(), "cpu");
  EXPECT_EQ(backend->size(), kX.size());
  EXPECT_DOUBLE_EQ(backend->total_weight(), 3.5);
  EXPECT_NE(note.find("device auto: the GPU could not take the data (no room for it)"),
            std::string::npos)
      << note;
  EXPECT_NE(note.find("running on the CPU"), std::string::npos) << note;

  // The next chunk goes to the CPU backend now in place, and the note stays.
  detail::load_or_fall_back(backend, Device::Auto, 1, &note, kX.data(), nullptr, 2);
  EXPECT_STREQ(backend->name(), "cpu");
  EXPECT_EQ(backend->size(), 2u);
  EXPECT_DOUBLE_EQ(backend->total_weight(), 2.0);
  EXPECT_NE(note.find("could not take the data"), std::string::npos) << note;
}

TEST(LoadOrFallBack, AnExplicitDeviceKeepsItsError) {
  std::unique_ptr<detail::Backend> backend = std::make_unique<RefusingBackend<DeviceError>>("cuda");
  std::string note;
  EXPECT_THROW(
      detail::load_or_fall_back(backend, Device::Cuda, 1, &note, kX.data(), nullptr, kX.size()),
      DeviceError);
  ASSERT_NE(backend, nullptr);
  EXPECT_STREQ(backend->name(), "cuda");
  EXPECT_TRUE(note.empty()) << note;
}

TEST(LoadOrFallBack, OnlyDeviceErrorsOfTheGpuFallBack) {
  std::string note;
  // The CPU itself failing has nowhere to fall back to.
  std::unique_ptr<detail::Backend> cpu = std::make_unique<RefusingBackend<DeviceError>>("cpu");
  EXPECT_THROW(
      detail::load_or_fall_back(cpu, Device::Auto, 1, &note, kX.data(), nullptr, kX.size()),
      DeviceError);
  // Bad data are bad on every device.
  std::unique_ptr<detail::Backend> gpu = std::make_unique<RefusingBackend<InputError>>("cuda");
  EXPECT_THROW(
      detail::load_or_fall_back(gpu, Device::Auto, 1, &note, kX.data(), nullptr, kX.size()),
      InputError);
  EXPECT_STREQ(gpu->name(), "cuda");
  EXPECT_TRUE(note.empty()) << note;
}

TEST(LoadOrFallBack, LoadBackendOnTheCpuLoadsTheData) {
  std::string note;
  const std::unique_ptr<detail::Backend> backend =
      detail::load_backend(Device::Cpu, 1, &note, 2, kX.data(), kW.data(), kX.size());
  EXPECT_STREQ(backend->name(), "cpu");
  EXPECT_EQ(backend->size(), kX.size());
  EXPECT_DOUBLE_EQ(backend->total_weight(), 3.5);
  EXPECT_TRUE(note.empty()) << note;
}

// On a machine that is meant to have a GPU (scripts/gpu_check.sh sets BETAMIX_EXPECT_GPU=1),
// a GPU that is not visible (no CUDA in the build, a driver older than the runtime, a bad
// CUDA_VISIBLE_DEVICES) fails here, rather than letting every GPU test skip and the suite pass.
TEST(GpuExpected, IsVisibleWhereTheEnvironmentSaysSo) {
  const char* expect = std::getenv("BETAMIX_EXPECT_GPU");
  if (!expect || std::string(expect) != "1") GTEST_SKIP() << "BETAMIX_EXPECT_GPU is not 1";
  EXPECT_TRUE(cuda_available())
      << "BETAMIX_EXPECT_GPU=1, but no CUDA device is visible (or the build has no CUDA)";
}

}  // namespace
}  // namespace betamix
