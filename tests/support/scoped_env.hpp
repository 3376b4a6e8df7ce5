#pragma once
// An environment variable set (or unset) for a test's scope, then put back as it was, also
// when an assertion returns early.

#include <cstdlib>
#include <string>

namespace betamix::test {

class ScopedEnv {
 public:
  /// Sets `name` to `value`, or unsets it where `value` is null.
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    set(value);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() { set(had_ ? old_.c_str() : nullptr); }

  /// Sets it again (null: unsets it) within the same scope.
  void set(const char* value) const {
    if (value) {
      ::setenv(name_, value, 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace betamix::test
