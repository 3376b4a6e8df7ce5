#pragma once
// A test fixture with a fresh directory for each test's files, removed after the test.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace betamix::test {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + std::to_string(::getpid()) +
                       "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';  // parameterised tests: "Suite/Test/0"
    }
    dir_ = std::filesystem::temp_directory_path() / ("betamix_" + name);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// `name` inside the test's directory.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace betamix::test
