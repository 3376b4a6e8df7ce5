#pragma once
/// \file
/// Options of a fit.

#include <cstdint>
#include <functional>
#include <optional>

#include "betamix/params.hpp"

namespace betamix {

/// Optimiser of the likelihood.
enum class Method {
  Adam,  ///< Adam on unconstrained parameters (log alpha, log beta, softmax logits)
  EM,    ///< expectation-maximisation with a Newton M-step per component
  /// EM accelerated by squared extrapolation (SQUAREM, Varadhan and Roland 2008, scheme S3):
  /// two EM steps, a step along their difference, accepted only when it does not lower the
  /// likelihood, so the likelihood still never decreases; far fewer passes where EM is slow
  Squarem,
};

/// Where the pass over the data runs.
enum class Device {
  Auto,  ///< the GPU when this build has CUDA and a device is visible, else the CPU
  Cpu,
  Cuda,
};

/// How the first parameters are chosen.
enum class InitMethod {
  Quantile,  ///< K quantile groups of the data, a moment-matched Beta for each
  Random,    ///< seeded random shapes and weights
  KMeans,    ///< 1-D k-means on the data, then moments
};

/// What to do with samples equal to exactly 0 or 1, where the log-density is infinite.
enum class BoundaryPolicy {
  Reject,  ///< an InputError naming how many and where
  Clamp,   ///< move them to [eps, 1 - eps] and count them in FitResult::n_clamped
};

/// Progress of a running fit, reported about once per second through FitOptions::progress.
struct Progress {
  int iteration = 0;
  double mean_nll = 0.0;
  double iterations_per_second = 0.0;
};

/// Most CPU threads an option may ask for (more than any machine has cores; far more fail to
/// start, or exhaust memory, inside the OpenMP runtime).
inline constexpr int kMaxThreads = 1024;

/// Most independent starts one fit takes (their parameters and per-pass sums are held
/// together: far more exhaust memory before they would help).
inline constexpr int kMaxRestarts = 1000000;

/// Everything a fit can be told. The defaults fit ordinary data well.
struct FitOptions {
  int k = 2;                     ///< number of components
  Method method = Method::Adam;  ///< optimiser
  double learning_rate = 0.05;   ///< Adam step size on the unconstrained parameters
  int max_iterations = 10000;    ///< iteration limit (status MaxIterations)
  double tolerance = 1e-12;      ///< relative change of mean NLL that stops; 0 never stops early
  std::uint64_t seed = 0;        ///< seed of random starts; recorded in the result
  InitMethod init = InitMethod::Quantile;  ///< first parameters
  std::optional<MixtureParams> start;      ///< warm start; overrides `init` when set
  Device device = Device::Auto;            ///< where the pass runs
  BoundaryPolicy on_boundary = BoundaryPolicy::Reject;
  double boundary_eps = 1e-6;  ///< clamp target distance from 0 and 1
  /// Starts evaluated in one pass: `init` (or `start`), then the other of quantile and k-means
  /// (random after Random or `start`), then seeded random starts.
  int restarts = 1;
  int threads = 0;  ///< CPU threads, 0 to kMaxThreads; 0 = OpenMP's default
  std::function<void(const Progress&)> progress;  ///< called about once per second
  /// Polled once per iteration, after the pass: true ends every start at the point it has
  /// reached (status Stopped; Adam's result is still the best point it passed), and select_k
  /// then fits no further K. The command line sets it on Ctrl-C.
  std::function<bool()> stop;
  bool standard_errors = true;  ///< standard errors from the observed information (one more pass)
};

}  // namespace betamix
