#pragma once
/// \file
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator behind cuRAND's curandStatePhilox4_32_10_t, for the CPU. A stream
/// is keyed by the 64-bit seed; the sample index selects the upper 64 counter bits (cuRAND's
/// "subsequence") and the lower 64 bits count the blocks of four words drawn for that sample,
/// so each sample's draws are independent of how samples are split across threads.

#include <cstdint>

#include "betamix/math/hd.hpp"

namespace betamix::math {

/// One Philox4x32-10 block: ten rounds of the multiply-xor permutation with a Weyl key schedule.
BETAMIX_HD_INLINE void philox4x32_10(const std::uint32_t in_ctr[4], const std::uint32_t in_key[2],
                                     std::uint32_t out[4]) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  std::uint32_t c0 = in_ctr[0], c1 = in_ctr[1], c2 = in_ctr[2], c3 = in_ctr[3];
  std::uint32_t k0 = in_key[0], k1 = in_key[1];
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32),
                        lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32),
                        lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/// A per-sample stream of 32-bit words: Philox4x32-10 keyed by `seed`, counter
/// (block, 0, index_lo, index_hi), as cuRAND's curand_init(seed, index, 0, &state) lays it out.
class PhiloxStream {
 public:
  BETAMIX_HD PhiloxStream(std::uint64_t seed, std::uint64_t index) {
    key_[0] = static_cast<std::uint32_t>(seed);
    key_[1] = static_cast<std::uint32_t>(seed >> 32);
    ctr_[0] = 0;
    ctr_[1] = 0;
    ctr_[2] = static_cast<std::uint32_t>(index);
    ctr_[3] = static_cast<std::uint32_t>(index >> 32);
  }

  /// The next 32-bit word.
  BETAMIX_HD std::uint32_t next() {
    if (used_ == 4) {
      philox4x32_10(ctr_, key_, buf_);
      if (++ctr_[0] == 0) ++ctr_[1];
      used_ = 0;
    }
    return buf_[used_++];
  }

 private:
  std::uint32_t ctr_[4];
  std::uint32_t key_[2];
  std::uint32_t buf_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

}  // namespace betamix::math
