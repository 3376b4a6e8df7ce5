#pragma once
/// \file
/// The betamix C++ API: fit a finite Beta mixture by maximum likelihood, sample from one,
/// and evaluate densities and posteriors. No CUDA type appears here; the GPU is chosen with
/// FitOptions::device or the `device` arguments below.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "betamix/error.hpp"
#include "betamix/options.hpp"
#include "betamix/params.hpp"
#include "betamix/result.hpp"

namespace betamix {

/// Fits a K-component mixture (options.k) to `n` samples in (0,1). Values of exactly 0 or 1
/// follow options.on_boundary; NaN, infinities and values outside [0,1] throw InputError
/// naming the index. `case_weights` (nullable) gives each sample a non-negative weight.
FitResult fit(const double* x, std::size_t n, const FitOptions& options,
              const double* case_weights = nullptr);

/// Convenience overload of fit() for a vector.
FitResult fit(const std::vector<double>& x, const FitOptions& options);

/// Fits every K in `ks` (each with options.restarts starts; options.k is ignored) on data
/// loaded once, and selects the K with the lowest `criterion` among the fits that converged or
/// reached the iteration limit (a collapsed or non-finite fit's criterion depends on where it
/// stopped; such a fit is selected only when all are). A fit that ends below a smaller K's
/// log-likelihood is fitted again from starts made of the best smaller fit with one of its
/// components split (as more starts of that K; the best sound one of all is its result, and
/// where none is better than the first fit, that stays), and gets a line in
/// ModelSelection::notes. A fit ended by options.stop (status Stopped, never selected over a
/// finished one) is the last: the K after it are not fitted (a note says which) and none is
/// fitted again. With options.standard_errors, only the selected fit gets them (one more
/// pass); the others' `se` stay empty.
ModelSelection select_k(const double* x, std::size_t n, const std::vector<int>& ks,
                        Criterion criterion, const FitOptions& options,
                        const double* case_weights = nullptr);

/// Draws `n` samples from the mixture with the counter-based Philox generator keyed by `seed`.
/// The same seed gives the same values on the same device whatever the thread count (the GPU's
/// agree with the CPU's up to rounding). Every value lies strictly inside (0,1). Device::Auto
/// draws on the GPU when one is visible (and takes the mixture's K), else, or when the GPU
/// fails with a DeviceError, on the CPU.
std::vector<double> sample(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                           Device device = Device::Cpu);

/// The device that sample() and sample_range() start drawing on when asked for `device`: Cpu
/// or Cuda as given; for Auto the GPU when one is visible and its sampler takes the mixture's
/// K, else the CPU.
Device sample_device(const MixtureParams& params, Device device);

/// As sample(), writing float32 values (also strictly inside (0,1)) into `out[0..n)`. They are
/// drawn in float32 arithmetic, so the shapes must be normal floats (1.2e-38 to 3.4e38; in
/// float64 normal doubles, 2.2e-308 to kMaxShape), else an InputError names the component.
void sample(const MixtureParams& params, std::size_t n, std::uint64_t seed, float* out,
            Device device = Device::Cpu);

/// As sample(), writing float64 values into `out[0..n)`.
void sample(const MixtureParams& params, std::size_t n, std::uint64_t seed, double* out,
            Device device = Device::Cpu);

/// Samples first .. first + n - 1 of the sequence that sample() draws for `seed`, into
/// out[0..n): the values sample(params, first + n, seed, ...) writes from its out[first] on.
/// A draw too large for memory can so be made piece by piece (or in parallel processes) with
/// the same values. InputError when first + n exceeds 2^64.
void sample_range(const MixtureParams& params, std::uint64_t first, std::size_t n,
                  std::uint64_t seed, float* out, Device device = Device::Cpu);

/// As above, writing float64 values.
void sample_range(const MixtureParams& params, std::uint64_t first, std::size_t n,
                  std::uint64_t seed, double* out, Device device = Device::Cpu);

/// As sample(), drawing on the GPU straight into device memory: `d_out` holds n floats in
/// memory of the current CUDA device (cudaMalloc or cudaMallocManaged). The values are those
/// sample(..., Device::Cuda) gives for the same seed. Waits for the work already queued on the
/// device, then draws, and returns when the values are written. Throws DeviceError without
/// CUDA or a visible device, InputError when `d_out` is host memory or another device's.
void sample_on_device(const MixtureParams& params, std::size_t n, std::uint64_t seed, float* d_out);

/// As above, writing float64 values.
void sample_on_device(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                      double* d_out);

/// sum_i log p(x_i) under the mixture.
double log_likelihood(const MixtureParams& params, const std::vector<double>& x);

/// Mixture density p(x) at each point: 0 outside (0,1), also at 0 and 1; NaN at NaN.
std::vector<double> pdf(const MixtureParams& params, const std::vector<double>& x);

/// Posterior probability of each component for each sample, row-major n x K, computed in
/// double precision on `device` (on the GPU from the samples as stored there, see the README).
/// Samples are validated as fit() does (exact 0 or 1 are an InputError).
std::vector<double> responsibilities(const MixtureParams& params, const std::vector<double>& x,
                                     Device device = Device::Cpu);

/// Index of the most probable component of each sample (the first one on ties), on `device`.
std::vector<int> predict(const MixtureParams& params, const std::vector<double>& x,
                         Device device = Device::Cpu);

/// Standard errors and 95 % intervals of a fitted mixture `params` on the data it was fitted
/// to (see StandardErrors), from one pass over the data on `device`. Where the backend cannot
/// run that pass, it runs on the CPU. Data and case weights are validated as fit() does
/// (samples of exactly 0 or 1 are an InputError).
StandardErrors standard_errors(const MixtureParams& params, const double* x, std::size_t n,
                               const double* case_weights = nullptr, Device device = Device::Auto);

/// True when this build has CUDA support and a CUDA device is visible.
bool cuda_available();

}  // namespace betamix
