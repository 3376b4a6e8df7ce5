#pragma once
// Validation of samples and case weights, shared by fit() and the file readers so that every
// entry point gives the same errors: "<source>: <position>: <problem>".

#include <cstddef>
#include <functional>
#include <string>

#include "betamix/options.hpp"

namespace betamix::detail {

/// Describes where value i came from, e.g. "line 17" or "index 3".
using PositionFn = std::function<std::string(std::size_t)>;

/// "index i" (0-based), for data handed over in memory or read from binary files.
std::string index_position(std::size_t i);

/// Checks samples without changing them: NaN, infinities and values outside [0,1] throw
/// InputError naming the source and position; exact 0 or 1 throw under Reject (with the count
/// and the first position). Returns the number of exact 0 or 1 (which Clamp would move).
std::size_t validate_samples(const double* x, std::size_t n, BoundaryPolicy policy, double eps,
                             const std::string& source, const PositionFn& position);

/// As validate_samples(), in place: NaN, infinities and values outside [0,1] throw InputError naming
/// the source and position; exact 0 or 1 throw under Reject (with the count and the first
/// position) and are moved to [eps, 1-eps] under Clamp. Returns the number clamped.
std::size_t check_samples(double* x, std::size_t n, BoundaryPolicy policy, double eps,
                          const std::string& source, const PositionFn& position);

/// Throws InputError unless every case weight is finite and >= 0 and their sum is > 0.
void check_case_weights(const double* w, std::size_t n, const std::string& source,
                        const PositionFn& position);

}  // namespace betamix::detail
