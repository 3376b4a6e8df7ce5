#pragma once
// The CPU pass over one chunk of samples (cpu_pass.cpp, compiled with vector math).

#include <cstddef>

namespace betamix::detail {

/// Accumulates, for `starts` parameter sets of `k` components, the sufficient statistics of
/// samples [0, n) of one chunk into acc, laid out [start][N_0..N_k-1, S_0.., T_0.., LL]
/// (starts * (3k + 1) doubles, overwritten). `v` (nullable) holds case weights.
void cpu_pass_chunk(const double* log_x, const double* log1m_x, const double* v, std::size_t n,
                    int starts, int k, const double* am1, const double* bm1, const double* c,
                    double* acc);

/// Accumulates the moment sums of the observed information (MomentStats in backend.hpp) of
/// samples [0, n) of one chunk for one parameter set of `k` components into acc, in the layout
/// of betamix/math/moments.hpp (math::moment_sum_count(k) doubles, overwritten).
void cpu_moment_chunk(const double* log_x, const double* log1m_x, const double* v, std::size_t n,
                      int k, const double* am1, const double* bm1, const double* c, double* acc);

}  // namespace betamix::detail
