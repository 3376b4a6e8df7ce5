// The CPU backend: caches log x and log(1-x) in double, then runs the pass with OpenMP over
// fixed-size chunks. Each chunk's statistics are computed by one thread in a fixed order and
// the chunk partials are added in chunk order, so the totals are bit-identical whatever the
// number of threads.

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/error.hpp"
#include "betamix/math/beta_math.hpp"
#include "cpu_pass.hpp"
#include "host_memory.hpp"

namespace betamix::detail {
namespace {

constexpr std::size_t kChunk = 16384;
// Chunks per wave of a pass: every chunk where their partials (`width` doubles each) fit in
// `bytes`, else as many as do, but at least one per thread. The partials are added in chunk
// order either way, so the totals do not depend on it; it bounds the memory of a pass of many
// starts or components.
std::size_t wave_chunks(std::size_t chunks, std::size_t width, int threads, std::size_t bytes) {
  const std::size_t fit = bytes / (width * sizeof(double));
  return std::max<std::size_t>(1, std::min(chunks, std::max<std::size_t>(fit, threads)));
}

// Resizes `buffer` to `count` values (new ones 0), or throws a DeviceError that says how much
// it needed.
void reserve_partials(std::vector<double>& buffer, std::size_t count, const char* what) {
  try {
    buffer.resize(count);
  } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
    buffer = {};
    throw DeviceError("device cpu: " +
                      host_allocation_failure(8.0 * static_cast<double>(count), what));
  }
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(int threads, std::size_t partial_bytes)
      : threads_(threads > 0 ? threads : omp_get_max_threads()), partial_bytes_(partial_bytes) {}

  const char* name() const override { return "cpu"; }

  std::string device_name() const override {
    return std::to_string(threads_) + (threads_ == 1 ? " thread" : " threads");
  }

  void load(const double* x, const double* case_weights, std::size_t n) override {
    try {
      log_x_.resize(n);
      log1m_x_.resize(n);
      if (case_weights) weights_.resize(n);
    } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
      log_x_ = {};
      log1m_x_ = {};
      weights_ = {};
      throw DeviceError("device cpu: " + std::to_string(n) + " samples need " +
                        host_allocation_failure(
                            (case_weights ? 24.0 : 16.0) * static_cast<double>(n),
                            std::string("log x and log(1-x)") +
                                (case_weights ? " and the case weights" : "") + " in double"));
    }
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      log_x_[i] = std::log(x[i]);
      log1m_x_[i] = std::log1p(-x[i]);
    }
    if (case_weights) {
      std::copy(case_weights, case_weights + n, weights_.begin());
      total_weight_ = 0.0;
      for (double w : weights_) total_weight_ += w;
    } else {
      weights_.clear();
      total_weight_ = static_cast<double>(n);
    }
  }

  std::size_t size() const override { return log_x_.size(); }
  double total_weight() const override { return total_weight_; }

  void pass(const PassConstants& constants, PassStats& out) override {
    const int starts = constants.starts, k = constants.k;
    const std::size_t n = log_x_.size();
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    const std::size_t width = static_cast<std::size_t>(starts) * (3 * k + 1);
    const std::size_t wave = wave_chunks(chunks, width, threads_, partial_bytes_);
    reserve_partials(partials_, wave * width, "the partial sums of the pass");
    const double* v = weights_.empty() ? nullptr : weights_.data();
    out.resize(starts, k);
    for (std::size_t first = 0; first < chunks; first += wave) {
      const std::size_t count = std::min(wave, chunks - first);
      // A single chunk runs on the calling thread: waking a team costs more than it saves.
#pragma omp parallel for num_threads(threads_) schedule(static) if (count > 1)
      for (std::size_t c = 0; c < count; ++c) {
        const std::size_t begin = (first + c) * kChunk;
        const std::size_t len = std::min(kChunk, n - begin);
        cpu_pass_chunk(log_x_.data() + begin, log1m_x_.data() + begin, v ? v + begin : nullptr, len,
                       starts, k, constants.am1.data(), constants.bm1.data(), constants.c.data(),
                       partials_.data() + c * width);
      }
      for (std::size_t c = 0; c < count; ++c) {
        const double* p = partials_.data() + c * width;
        for (int r = 0; r < starts; ++r, p += 3 * k + 1) {
          for (int j = 0; j < k; ++j) {
            out.n[r * k + j] += p[j];
            out.s[r * k + j] += p[k + j];
            out.t[r * k + j] += p[2 * k + j];
          }
          out.ll[r] += p[3 * k];
        }
      }
    }
  }

  void moment_pass(const PassConstants& constants, MomentStats& out) override {
    const int k = constants.k;
    const std::size_t n = log_x_.size();
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    const std::size_t width = math::moment_sum_count(k);
    const std::size_t wave = wave_chunks(chunks, width, threads_, partial_bytes_);
    std::vector<double> partials, total;
    reserve_partials(partials, wave * width, "the partial sums of the moment pass");
    reserve_partials(total, width, "the sums of the moment pass");
    const double* v = weights_.empty() ? nullptr : weights_.data();
    // Chunk partials in chunk order, as in pass(): the same sums whatever the thread count.
    for (std::size_t first = 0; first < chunks; first += wave) {
      const std::size_t count = std::min(wave, chunks - first);
#pragma omp parallel for num_threads(threads_) schedule(static) if (count > 1)
      for (std::size_t c = 0; c < count; ++c) {
        const std::size_t begin = (first + c) * kChunk;
        cpu_moment_chunk(log_x_.data() + begin, log1m_x_.data() + begin, v ? v + begin : nullptr,
                         std::min(kChunk, n - begin), k, constants.am1.data(), constants.bm1.data(),
                         constants.c.data(), partials.data() + c * width);
      }
      for (std::size_t c = 0; c < count; ++c) {
        for (std::size_t i = 0; i < width; ++i) total[i] += partials[c * width + i];
      }
    }
    out.assign(k, total.data());
  }

  void posteriors(const PassConstants& constants, double* post, int* best) override {
    const int k = constants.k;
    const math::ComponentView<double> comp{constants.am1.data(), constants.bm1.data(),
                                           constants.c.data()};
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(log_x_.size());
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      double* r = post + i * k;
      math::mixture_responsibilities(log_x_[i], log1m_x_[i], comp, k, r);
      best[i] = static_cast<int>(std::max_element(r, r + k) - r);
    }
  }

 private:
  int threads_;
  std::size_t partial_bytes_;
  std::vector<double> log_x_, log1m_x_, weights_, partials_;
  double total_weight_ = 0.0;
};

}  // namespace

void check_threads(int threads) {
  if (threads < 0 || threads > kMaxThreads) {
    throw InputError("threads must be from 0 (all cores) to " + std::to_string(kMaxThreads) +
                     ", got " + std::to_string(threads));
  }
}

std::unique_ptr<Backend> make_cpu_backend(int threads, std::size_t partial_bytes) {
  check_threads(threads);
  return std::make_unique<CpuBackend>(threads, partial_bytes);
}

}  // namespace betamix::detail
