#pragma once
// Validation of samples and case weights, shared by fit() and the file readers so that every
// entry point gives the same errors: "<source>: <position>: <problem>".

#include <cstddef>
#include <functional>
#include <string>

#include "betamix/error.hpp"
#include "betamix/options.hpp"

namespace betamix::detail {

/// Describes where value i came from, e.g. "line 17" or "index 3".
using PositionFn = std::function<std::string(std::size_t)>;

/// "index i" (0-based), for data handed over in memory or read from binary files.
std::string index_position(std::size_t i);

/// A number as error messages show it: the fewest significant digits (15 to 17) that give it
/// back exactly, so that what was wrong is visible (1e-300 is not "0.000000").
std::string format_value(double v);

/// Checks samples without changing them: NaN, infinities and values outside [0,1] throw
/// InputError naming the source and position; exact 0 or 1 throw under Reject (with the count
/// and the first position). Returns the number of exact 0 or 1 (which Clamp would move).
std::size_t validate_samples(const double* x, std::size_t n, BoundaryPolicy policy, double eps,
                             const std::string& source, const PositionFn& position);

/// As validate_samples(), in place: exact 0 and 1 are moved to [eps, 1-eps] under Clamp.
/// Returns the number clamped.
std::size_t check_samples(double* x, std::size_t n, BoundaryPolicy policy, double eps,
                          const std::string& source, const PositionFn& position);

/// Throws InputError unless every case weight is finite and >= 0 and their sum is > 0.
void check_case_weights(const double* w, std::size_t n, const std::string& source,
                        const PositionFn& position);

/// Throws InputError when every sample (every one with a positive case weight, given `w`)
/// has the same value: a Beta mixture has no maximum-likelihood fit to a single value (its
/// shapes would grow without bound).
void check_not_one_value(const double* x, const double* w, std::size_t n,
                         const std::string& source);

// The pieces of the checks above, for input that arrives in chunks (io::ChunkReader).

/// Throws InputError under Clamp unless eps lies in (0, 0.5).
void check_boundary_eps(BoundaryPolicy policy, double eps);

/// Throws InputError at the first NaN, infinity or value outside [0,1]; returns the number of
/// exact 0 or 1 and sets `first` to the index of the first of them (when there is one).
std::size_t scan_samples(const double* x, std::size_t n, const std::string& source,
                         const PositionFn& position, std::size_t& first);

/// The error for `count` samples of exactly 0 or 1 under Reject, the first at `first_position`.
InputError boundary_error(const std::string& source, std::size_t count,
                          const std::string& first_position);

/// Moves exact 0 to eps and exact 1 to 1 - eps.
void clamp_boundary(double* x, std::size_t n, double eps);

/// Throws InputError at the first NaN, infinite or negative weight; returns the sum.
double scan_case_weights(const double* w, std::size_t n, const std::string& source,
                         const PositionFn& position);

/// Largest sum of case weights: the log-likelihood and the observed information are sums over
/// the weights of per-sample terms that can reach ~1e8 in size, and must stay finite doubles.
inline constexpr double kMaxWeightSum = 1e300;

/// Throws InputError unless the case weights' sum is > 0 and at most kMaxWeightSum.
void check_weight_sum(double sum, const std::string& source);

}  // namespace betamix::detail
