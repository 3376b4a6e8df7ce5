#pragma once
// The interface every compute backend implements. A backend holds the data (loaded once per
// fit) and runs the one pass per iteration that turns per-component constants into the
// sufficient statistics: for each start r and component k
//
//   N_rk = sum_i v_i r_irk,  S_rk = sum_i v_i r_irk log x_i,  T_rk = sum_i v_i r_irk log(1-x_i)
//   LL_r = sum_i v_i log sum_k exp(l_irk)
//
// Everything else (initialisation, optimisers, stopping, the result) is written once in
// fit.cpp and updates.cpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "betamix/error.hpp"
#include "betamix/math/moments.hpp"
#include "betamix/options.hpp"
#include "betamix/params.hpp"

namespace betamix::detail {

/// Per-component constants of one pass for `starts` independent parameter sets of `k`
/// components each, laid out [start][k]: l = c + am1 log x + bm1 log(1-x).
struct PassConstants {
  int starts = 0;
  int k = 0;
  std::vector<double> am1, bm1, c;

  void resize(int n_starts, int n_components);
  /// Fills the constants of start `r` from its parameters: am1 = a - 1, bm1 = b - 1,
  /// c = log w - log B(a, b), in double precision.
  void set(int r, const MixtureParams& p);
};

/// Writes the constants of the float32 pass into out[0 .. 3 starts k): [am1 | bm1 | c log2(e)]
/// rounded to float, each starts * k long (math/float_pass.hpp works in base 2).
void float_pass_constants(const PassConstants& constants, float* out);

/// Sufficient statistics of one pass, laid out like PassConstants, plus LL per start.
struct PassStats {
  int starts = 0;
  int k = 0;
  std::vector<double> n, s, t;  // [start][k]
  std::vector<double> ll;       // [start]

  void resize(int n_starts, int n_components);

  /// Takes the totals of a float32 pass (the GPU's, kernels/pass.cuh; math/float_pass.hpp),
  /// laid out [start][N_0..N_k-1, S_0.., T_0.., LL] with S, T and LL in base 2, computed with
  /// `rounded` = float_pass_constants(constants). Converts S, T and LL to natural logs, and
  /// corrects LL, to first order, for the rounding of the constants to float, the same in every
  /// sample (see backend.cpp).
  void assign_float_pass(const PassConstants& constants, const float* rounded,
                         const double* totals);
};

/// Second-moment sums of one pass for the observed information (information.hpp), for one
/// parameter set. With the per-sample moments m = (1, lx, l1x, lx^2, lx l1x, l1x^2),
/// lx = log x_i, l1x = log(1 - x_i):
///
///   single[q][k]  = sum_i v_i r_ik m_q(x_i)
///   pair[q][k][l] = sum_i v_i r_ik r_il m_q(x_i)   (symmetric in k, l)
///   ll            = sum_i v_i L_i
struct MomentStats {
  static constexpr int kMoments = math::kMoments;
  int k = 0;
  std::vector<double> single;  // [kMoments][k]
  std::vector<double> pair;    // [kMoments][k][k]
  double ll = 0.0;

  /// Unpacks the math::moment_sum_count(k) sums of a moment pass (betamix/math/moments.hpp),
  /// filling both triangles of `pair`.
  void assign(int n_components, const double* sums);
  double single_at(int q, int j) const { return single[static_cast<std::size_t>(q) * k + j]; }
  double pair_at(int q, int j, int l) const {
    return pair[(static_cast<std::size_t>(q) * k + j) * k + l];
  }
};

/// A compute backend: holds the data and runs the pass.
class Backend {
 public:
  virtual ~Backend() = default;
  /// "cpu" or "cuda".
  virtual const char* name() const = 0;
  /// Human description: thread count or GPU name.
  virtual std::string device_name() const = 0;
  /// Takes the samples (already validated to lie in (0,1)) and optional non-negative case
  /// weights (nullptr: all 1). Called once per fit; the data stay with the backend.
  virtual void load(const double* x, const double* case_weights, std::size_t n) = 0;
  /// Number of samples loaded.
  virtual std::size_t size() const = 0;
  /// Sum of the case weights (n when there are none).
  virtual double total_weight() const = 0;
  /// Unit roundoff of the per-sample arithmetic of the pass (2^-53 in double, 2^-24 in
  /// float). The fitting loop never asks for a relative change of the mean NLL below the
  /// rounding noise this causes, which shrinks as 1/sqrt(n).
  virtual double roundoff() const { return 0x1p-53; }
  /// One pass over the data. `out` is resized by the backend.
  virtual void pass(const PassConstants& constants, PassStats& out) = 0;
  /// One pass that accumulates the moment sums of the observed information for the single
  /// parameter set in `constants` (constants.starts == 1), in double precision.
  virtual void moment_pass(const PassConstants& constants, MomentStats& out) = 0;
  /// The posterior probability of each component for every loaded sample under the single
  /// parameter set in `constants`, in double precision: post[i * k + j] for component j of
  /// sample i (n x k), and in best[i] the first j with the largest post[i * k + j].
  virtual void posteriors(const PassConstants& constants, double* post, int* best) = 0;
};

/// Throws InputError unless 0 <= threads <= kMaxThreads (betamix/options.hpp).
void check_threads(int threads);

/// Throws InputError for a Device outside its enumeration (a cast from a bad integer).
void check_device(Device device);

/// Bytes of chunk partials a CPU pass holds at once (below).
inline constexpr std::size_t kCpuPartialBytes = std::size_t{64} << 20;

/// The CPU backend; `threads` = 0 uses OpenMP's default; checked by check_threads(). A pass
/// sums the data's chunks in waves whose partial sums take at most `partial_bytes` (at least
/// one chunk per thread); the totals are the same for any value, which bounds only the memory.
std::unique_ptr<Backend> make_cpu_backend(int threads,
                                          std::size_t partial_bytes = kCpuPartialBytes);

/// Where the CUDA backend keeps the data. By default they stay on the GPU when they fit (with
/// some memory left for the kernels), and otherwise stay in host memory (page-locked where the
/// system grants it) and are copied to the GPU chunk by chunk in every pass: slower (bound by
/// the host-to-device link) but any size that fits into host memory works.
struct CudaDataOptions {
  /// Stream from host memory even when the data fit on the GPU (tests, comparisons).
  bool force_stream = false;
  /// Samples per streamed chunk, rounded up to a multiple of 4; 0: 2^24 (64 MB of float32).
  std::size_t stream_chunk = 0;
};

/// The CUDA backend; throws DeviceError when the build has no CUDA or no device is visible.
/// The environment variable BETAMIX_CUDA_STREAM_CHUNK=N (a positive integer) forces streaming
/// in chunks of N samples where `options` is the default.
std::unique_ptr<Backend> make_cuda_backend(const CudaDataOptions& options = {});

/// True when the build has CUDA and a device is visible.
bool cuda_device_visible();

/// The power of two by which the CUDA backend multiplies case weights before it rounds them to
/// float32 (and divides the sums after): 1 while the largest weight lies in [2^-64, 2^64], the
/// usual case; otherwise the scale that brings it into [1/2, 1) (a subnormal largest: to at
/// least 2^-51), so that float32 neither overflows (above 3.4e38) nor flushes (below 1.4e-45)
/// weights that matter. Weights below 2^-126 of the largest may still round to 0: their part
/// of every sum is below 2^-126 of it.
double float_weight_scale(const double* case_weights, std::size_t n);

/// Most components the GPU passes take (the fit's pass, the posteriors, the moment pass).
inline constexpr int kCudaPassMaxK = 64;

/// Resolves Device::Auto and builds the backend, for parameter sets of up to `max_k`
/// components. Auto takes the GPU when one is visible, max_k <= kCudaPassMaxK and the CUDA
/// backend can be built; otherwise the CPU, and `note` (when not null) receives a line for the
/// summary saying why.
std::unique_ptr<Backend> make_backend(Device device, int threads, std::string* note, int max_k);

/// backend->load(x, case_weights, n), where `backend` came from make_backend(device, ...).
/// Under Device::Auto a GPU backend that fails to take the data (DeviceError) is replaced by
/// the CPU backend, which then loads them, and `note` (when not null) says why; otherwise the
/// error propagates. Commands that load chunk after chunk call it for every chunk.
void load_or_fall_back(std::unique_ptr<Backend>& backend, Device device, int threads,
                       std::string* note, const double* x, const double* case_weights,
                       std::size_t n);

/// make_backend(), then load_or_fall_back().
std::unique_ptr<Backend> load_backend(Device device, int threads, std::string* note, int max_k,
                                      const double* x, const double* case_weights, std::size_t n);

/// Fills out[0..n) with samples first .. first + n - 1 of the mixture's sequence for `seed` on
/// the CPU (OpenMP, any thread count gives the same values).
template <class Real>
void sample_cpu(const MixtureParams& params, std::size_t n, std::uint64_t seed, Real* out,
                int threads, std::uint64_t first = 0);

/// Most components the GPU sampler takes (its component search is linear).
inline constexpr int kCudaSampleMaxK = 2048;

/// Fills the host array out[0..n) with samples first .. first + n - 1, drawn on the GPU.
template <class Real>
void sample_cuda(const MixtureParams& params, std::size_t n, std::uint64_t seed, Real* out,
                 std::uint64_t first = 0);

/// Fills the device array d_out[0..n) with samples drawn on the GPU (InputError when d_out is
/// not device memory); returns when they are written.
template <class Real>
void sample_cuda_device(const MixtureParams& params, std::size_t n, std::uint64_t seed,
                        Real* d_out);

}  // namespace betamix::detail
