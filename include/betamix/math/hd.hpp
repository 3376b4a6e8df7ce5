#pragma once
/// \file
/// BETAMIX_HD marks functions compiled for both the host and the CUDA device.
/// BETAMIX_UNROLL asks nvcc to unroll the loop that follows in device code (nothing elsewhere).

#if defined(__CUDACC__)
#define BETAMIX_HD __host__ __device__
#define BETAMIX_HD_INLINE __host__ __device__ __forceinline__
#else
#define BETAMIX_HD
#define BETAMIX_HD_INLINE inline __attribute__((always_inline))
#endif

#if defined(__CUDA_ARCH__)
#define BETAMIX_UNROLL _Pragma("unroll")
#else
#define BETAMIX_UNROLL
#endif
