#pragma once
// Starting parameters of a fit.

#include <cstddef>
#include <cstdint>

#include "betamix/options.hpp"
#include "betamix/params.hpp"

namespace betamix::detail {

/// Moment-matched Beta for a group with mean m and variance v, shapes kept in [0.05, 1e4]: a
/// group narrower than that allows (or of one value) gets the largest concentration that
/// keeps its mean.
void moment_match(double m, double v, double& a, double& b);

/// K quantile groups of x (equal counts), a moment-matched Beta for each (case weights `w`,
/// nullable, weight the moments).
MixtureParams quantile_init(const double* x, const double* w, std::size_t n, int k);

/// 1-D k-means (Lloyd, from the quantile groups' means), then moments of each cluster.
MixtureParams kmeans_init(const double* x, const double* w, std::size_t n, int k);

/// Seeded random start: weights ~ Dirichlet(1), shapes log-uniform on [e^-1, e^2].
/// `stream` distinguishes the starts of one fit.
MixtureParams random_init(int k, std::uint64_t seed, std::uint64_t stream);

}  // namespace betamix::detail
