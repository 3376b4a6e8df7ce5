// The fused GPU pass (one read of the data per iteration). For every sample i with
// case weight v_i and every start r:
//
//   l_irk = c_rk + (a_rk - 1) log x_i + (b_rk - 1) log(1 - x_i)
//   L_ir  = logsumexp_k l_irk,   r_irk = exp(l_irk - L_ir)   (math::mixture_responsibilities)
//   N_rk += v_i r_irk,  S_rk += v_i r_irk log x_i,  T_rk += v_i r_irk log(1-x_i),  LL_r += v_i L_ir
//
// Precision: per-sample math in float32 (betamix/math/float_pass.hpp, which the CPU tests run
// too), in base 2: the constants c_k log2(e), logs in base 2 (S, T, LL are converted back on the
// host), so each exponential is one exp2 (math::FloatPassExp2: the hardware's ex2.approx for
// k <= 2, above it a software exp2 that is unbiased and gives the host's bits).
// The logs and the reciprocal are those of betamix/math/float_math.hpp, within 2.5 ulp, without
// the special cases of the general functions: the layout rule (data_layout.cuh) admits only normal
// floats in (0, 1) as x, and the sum s of the shifted exponentials lies in [1, k]. Without case
// weights the LL of a group takes one log of the product of its four s. The four samples of one
// float4 group are summed in float32, in a fixed order, and every group sum is added to per-thread
// double accumulators. bench/sass_loop.py counts the instructions per group (bench/RESULTS.md).
//
// Launch shape: pass_kernel<<<(grid, ceil(starts / S)), 256>>>. Blocks along x split the
// samples in a grid-stride loop over groups of 4 samples (float4 loads; buffers are padded to
// a multiple of 4 and lanes past n get weight 0), one loop for each layout and weighting. Blocks
// along y take S consecutive starts: S = 1 for one start, else S = starts_per_block(k), as many as
// keep their double accumulators in registers, so the data are read ceil(starts / S) times. `grid`
// is one full wave of the one-start kernel (pass_grid_size), and the per-thread work of a start
// does not depend on S. Each block reduces its accumulators with cub::BlockReduce (every thread
// takes part, in range or not) and writes one partial per statistic; then combine_kernel<<<starts *
// (3k+1), 256>>> sums each statistic's `grid` partials in a fixed order. No atomics: the totals
// depend only on the data, the constants and `grid`.
//
// k <= 16 runs kernels with a compile-time k (loops unrolled, everything in registers);
// 17 <= k <= 64 runs one kernel with a runtime k (arrays in local memory, slower).

#include <algorithm>
#include <array>
#include <cstdint>
#include <cub/block/block_reduce.cuh>
#include <string>
#include <utility>

#include "betamix/error.hpp"
#include "betamix/math/float_pass.hpp"
#include "cuda_check.cuh"
#include "device_memory.cuh"
#include "pass.cuh"

namespace betamix::detail {
namespace {

constexpr int kPassBlock = 256;
constexpr int kCombineBlock = 256;

// Starts per block: as many as keep S * (3k+1) double accumulators within 28 (56 registers),
// at most 8; one for the runtime-k kernel.
constexpr int starts_per_block(int k) {
  if (k > kPassMaxFixedK) return 1;
  const int s = 28 / (3 * k + 1);
  return s < 1 ? 1 : (s > 8 ? 8 : s);
}

// Loads the 4 samples of group g as (log2 x, log2(1-x), weight). LogPair: a = log x,
// b = log(1-x), else a = x. UnitWeights: no weights (v unused). Checked: the group may run past
// n (the last one), whose lanes past n get weight 0 (math::lane_logs); else all 4 are data.
template <bool LogPair, bool UnitWeights, bool Checked>
__device__ __forceinline__ void load_group(std::size_t n, std::size_t g,
                                           const float* __restrict__ a, const float* __restrict__ b,
                                           const float* __restrict__ v, float (&lx)[4],
                                           float (&l1x)[4], float (&w)[4]) {
  const float4 a4 = reinterpret_cast<const float4*>(a)[g];
  const float av[4] = {a4.x, a4.y, a4.z, a4.w};
  float bv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  if constexpr (LogPair) {
    const float4 b4 = reinterpret_cast<const float4*>(b)[g];
    bv[0] = b4.x;
    bv[1] = b4.y;
    bv[2] = b4.z;
    bv[3] = b4.w;
  }
  float wv[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  if constexpr (!UnitWeights) {
    const float4 v4 = reinterpret_cast<const float4*>(v)[g];
    wv[0] = v4.x;
    wv[1] = v4.y;
    wv[2] = v4.z;
    wv[3] = v4.w;
  }
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const bool valid = !Checked || 4 * g + j < n;
    math::lane_logs<LogPair>(valid, av[j], bv[j], lx[j], l1x[j]);
    w[j] = valid ? wv[j] : 0.0f;
  }
}

// Adds one group to the accumulators of the block's starts.
template <int KCap, int S, bool LogPair, bool UnitWeights, bool Checked>
__device__ __forceinline__ void pass_group(
    std::size_t n, std::size_t g, int k, int starts, int first, const float* __restrict__ a,
    const float* __restrict__ b, const float* __restrict__ v, const float (&s_am1)[S][KCap],
    const float (&s_bm1)[S][KCap], const float (&s_c)[S][KCap], double (&acc)[S][3 * KCap + 1]) {
  float lx[4], l1x[4], w[4];
  load_group<LogPair, UnitWeights, Checked>(n, g, a, b, v, lx, l1x, w);
#pragma unroll
  for (int s = 0; s < S; ++s) {
    if (first + s < starts) {  // uniform across the block
      math::accumulate_float_group<KCap, UnitWeights>(
          k, lx, l1x, w, math::ComponentView<float>{s_am1[s], s_bm1[s], s_c[s]}, acc[s]);
    }
  }
}

// The grid-stride loop of one thread over its groups, for one layout and weighting (each
// combination its own loop, so that no per-group branch on them remains). The whole groups
// need no range check; a last, partial group (n % 4 != 0) is the next group of the thread
// whose loop stops at it, so it is added last, in the same order as in a checked loop.
template <int KCap, int S, bool LogPair, bool UnitWeights>
__device__ __forceinline__ void pass_groups(
    std::size_t n, int k, int starts, int first, const float* __restrict__ a,
    const float* __restrict__ b, const float* __restrict__ v, const float (&s_am1)[S][KCap],
    const float (&s_bm1)[S][KCap], const float (&s_c)[S][KCap], double (&acc)[S][3 * KCap + 1]) {
  const std::size_t whole = n / 4, groups = (n + 3) / 4;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kPassBlock;
  std::size_t g = static_cast<std::size_t>(blockIdx.x) * kPassBlock + threadIdx.x;
  for (; g < whole; g += stride) {
    pass_group<KCap, S, LogPair, UnitWeights, false>(n, g, k, starts, first, a, b, v, s_am1, s_bm1,
                                                     s_c, acc);
  }
  if (g < groups) {  // then g == whole: the partial group
    pass_group<KCap, S, LogPair, UnitWeights, true>(n, g, k, starts, first, a, b, v, s_am1, s_bm1,
                                                    s_c, acc);
  }
}

// KCap: capacity of the per-thread arrays; Exact: k == KCap at compile time (else k_runtime).
// S: starts per block (blockIdx.y selects starts [S * blockIdx.y, S * blockIdx.y + S)).
template <int KCap, int S, bool Exact>
__global__ void __launch_bounds__(kPassBlock)
    pass_kernel(std::size_t n, int k_runtime, int starts, const float* __restrict__ a,
                const float* __restrict__ b, const float* __restrict__ v,
                const float* __restrict__ constants, double* __restrict__ partials) {
  using BlockReduce = cub::BlockReduce<double, kPassBlock>;
  __shared__ typename BlockReduce::TempStorage reduce_storage;
  __shared__ float s_am1[S][KCap], s_bm1[S][KCap], s_c[S][KCap];

  const int k = Exact ? KCap : k_runtime;
  const int stats = 3 * k + 1;
  const int first = static_cast<int>(blockIdx.y) * S;
  const std::size_t table = static_cast<std::size_t>(starts) * k;
  for (int i = threadIdx.x; i < S * KCap; i += kPassBlock) {
    const int s = i / KCap, j = i % KCap;
    const bool used = first + s < starts && j < k;
    const std::size_t at = static_cast<std::size_t>(first + s) * k + j;
    s_am1[s][j] = used ? constants[at] : 0.0f;
    s_bm1[s][j] = used ? constants[table + at] : 0.0f;
    s_c[s][j] = used ? constants[2 * table + at] : 0.0f;
  }
  __syncthreads();  // the component tables are complete before any thread reads them

  double acc[S][3 * KCap + 1];
#pragma unroll
  for (int s = 0; s < S; ++s) {
#pragma unroll
    for (int t = 0; t < stats; ++t) acc[s][t] = 0.0;
  }

  if (b) {
    if (v) {
      pass_groups<KCap, S, true, false>(n, k, starts, first, a, b, v, s_am1, s_bm1, s_c, acc);
    } else {
      pass_groups<KCap, S, true, true>(n, k, starts, first, a, b, v, s_am1, s_bm1, s_c, acc);
    }
  } else {
    if (v) {
      pass_groups<KCap, S, false, false>(n, k, starts, first, a, b, v, s_am1, s_bm1, s_c, acc);
    } else {
      pass_groups<KCap, S, false, true>(n, k, starts, first, a, b, v, s_am1, s_bm1, s_c, acc);
    }
  }

  // Every thread reaches every reduction (threads without samples hold zeros).
#pragma unroll
  for (int s = 0; s < S; ++s) {
#pragma unroll
    for (int t = 0; t < stats; ++t) {
      const double total = BlockReduce(reduce_storage).Sum(acc[s][t]);
      if (threadIdx.x == 0 && first + s < starts) {
        partials[(static_cast<std::size_t>(first + s) * stats + t) * gridDim.x + blockIdx.x] =
            total;
      }
      __syncthreads();  // reduce_storage is reused by the next reduction
    }
  }
}

// totals[row] = sum of partials[row * blocks + 0 .. blocks): thread t adds t, t + 256, ... in
// order, then a block reduction; a fixed order for a fixed `blocks`.
__global__ void __launch_bounds__(kCombineBlock)
    combine_kernel(int blocks, const double* __restrict__ partials, double* __restrict__ totals) {
  using BlockReduce = cub::BlockReduce<double, kCombineBlock>;
  __shared__ typename BlockReduce::TempStorage reduce_storage;
  const double* row = partials + static_cast<std::size_t>(blockIdx.x) * blocks;
  double sum = 0.0;
  for (int i = threadIdx.x; i < blocks; i += kCombineBlock) sum += row[i];
  const double total = BlockReduce(reduce_storage).Sum(sum);
  if (threadIdx.x == 0) totals[blockIdx.x] = total;
}

using PassKernel = void (*)(std::size_t, int, int, const float*, const float*, const float*,
                            const float*, double*);

// One start per block (the common case, and the kernel whose occupancy sets the grid), and
// starts_per_block(k) starts per block for several starts.
template <int... Ks>
constexpr std::array<PassKernel, sizeof...(Ks)> single_start_kernels(
    std::integer_sequence<int, Ks...>) {
  return {&pass_kernel<Ks + 1, 1, true>...};
}
template <int... Ks>
constexpr std::array<PassKernel, sizeof...(Ks)> multi_start_kernels(
    std::integer_sequence<int, Ks...>) {
  return {&pass_kernel<Ks + 1, starts_per_block(Ks + 1), true>...};
}

PassKernel pass_kernel_for(int k, int starts) {
  static constexpr std::array<PassKernel, kPassMaxFixedK> kSingle =
      single_start_kernels(std::make_integer_sequence<int, kPassMaxFixedK>{});
  static constexpr std::array<PassKernel, kPassMaxFixedK> kMulti =
      multi_start_kernels(std::make_integer_sequence<int, kPassMaxFixedK>{});
  if (k > kPassMaxFixedK) return &pass_kernel<kPassMaxK, 1, false>;
  return starts > 1 ? kMulti[k - 1] : kSingle[k - 1];
}

void check_k(int k) {
  if (k < 1 || k > kPassMaxK) {
    throw DeviceError("device cuda: the GPU pass supports 1 to " + std::to_string(kPassMaxK) +
                      " components, got k = " + std::to_string(k) + "; use --device cpu");
  }
}

}  // namespace

int pass_grid_size(std::size_t n, int k) {
  check_k(k);
  int per_sm = 0;
  BETAMIX_CUDA_CHECK(
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, pass_kernel_for(k, 1), kPassBlock, 0));
  const std::size_t wave =
      static_cast<std::size_t>(per_sm < 1 ? 1 : per_sm) * current_device_sm_count();
  const std::size_t needed = ((n + 3) / 4 + kPassBlock - 1) / kPassBlock;
  const std::size_t grid = needed < wave ? needed : wave;
  return static_cast<int>(grid < 1 ? 1 : grid);
}

std::size_t pass_local_bytes_per_thread() {
  cudaFuncAttributes attributes{};
  BETAMIX_CUDA_CHECK(cudaFuncGetAttributes(&attributes, pass_kernel_for(kPassMaxK, 1)));
  return attributes.localSizeBytes;
}

std::size_t pass_local_memory_bytes() {
  // The arrays a thread of the runtime-k kernel keeps: acc (double), part (float), r (float).
  constexpr std::size_t kArrays =
      (3 * kPassMaxK + 1) * (sizeof(double) + sizeof(float)) + kPassMaxK * sizeof(float);
  int device = 0, threads_per_sm = 0;
  BETAMIX_CUDA_CHECK(cudaGetDevice(&device));
  BETAMIX_CUDA_CHECK(
      cudaDeviceGetAttribute(&threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, device));
  return std::max(pass_local_bytes_per_thread(), kArrays) *
         static_cast<std::size_t>(threads_per_sm) *
         static_cast<std::size_t>(current_device_sm_count());
}

std::size_t pass_partials_size(int starts, int k, int grid) {
  return static_cast<std::size_t>(starts) * (3 * k + 1) * grid;
}

void launch_pass(std::size_t n, int starts, int k, int grid, const float* d_a, const float* d_b,
                 const float* d_v, const float* d_constants, double* d_partials, double* d_totals,
                 cudaStream_t stream) {
  check_k(k);
  for (const float* p : {d_a, d_b, d_v}) {
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) {
      throw DeviceError(
          "device cuda: the pass reads float4 groups; its data must be 16-byte "
          "aligned");
    }
  }
  const int s = starts > 1 ? starts_per_block(k) : 1;
  const int slices = (starts + s - 1) / s;
  if (starts < 1 || slices > 65535 || grid < 1) {
    throw DeviceError("device cuda: cannot run " + std::to_string(starts) +
                      " starts in one GPU pass (at most " + std::to_string(65535 * s) + ")");
  }
  pass_kernel_for(k, starts)<<<dim3(static_cast<unsigned>(grid), static_cast<unsigned>(slices)),
                               kPassBlock, 0, stream>>>(n, k, starts, d_a, d_b, d_v, d_constants,
                                                        d_partials);
  BETAMIX_CUDA_CHECK_LAUNCH();
  launch_combine(starts * (3 * k + 1), grid, d_partials, d_totals, stream);
}

void launch_combine(int rows, int blocks, const double* d_partials, double* d_totals,
                    cudaStream_t stream) {
  combine_kernel<<<static_cast<unsigned>(rows), kCombineBlock, 0, stream>>>(blocks, d_partials,
                                                                            d_totals);
  BETAMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace betamix::detail
