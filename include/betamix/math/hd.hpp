#pragma once
/// \file
/// BETAMIX_HD marks functions compiled for both the host and the CUDA device.

#if defined(__CUDACC__)
#define BETAMIX_HD __host__ __device__
#define BETAMIX_HD_INLINE __host__ __device__ __forceinline__
#else
#define BETAMIX_HD
#define BETAMIX_HD_INLINE inline __attribute__((always_inline))
#endif
