#pragma once
/// \file
/// Exceptions thrown by betamix. Numerical outcomes of a fit (non-convergence, a collapsed
/// component) are reported in FitResult::status, never thrown.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace betamix {

/// Base class of every exception betamix throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: a file that cannot be read or parsed, a value outside (0,1), a bad option.
/// The message names the source, the position and the problem.
class InputError : public Error {
 public:
  using Error::Error;
};

/// A requested compute device is unavailable or failed (no CUDA in this build, no GPU
/// visible, out of device memory, a failed CUDA call).
class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace betamix
