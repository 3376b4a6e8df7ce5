#pragma once
// The mixtures both samplers (CPU and GPU) are tested on: ordinary, tiny (0.05) and large
// (500) shapes, with the sample size of the distribution tests.

#include <cstddef>
#include <ostream>

#include "betamix/params.hpp"

namespace betamix::test {

struct SamplerCase {
  const char* name;
  MixtureParams p;
};

inline const SamplerCase kSamplerCases[] = {
    {"Demo", {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}}},
    {"Tiny", {{1.0}, {0.05}, {0.05}}},
    {"TinyAlphaMixture", {{0.3, 0.7}, {0.05, 2.0}, {3.0, 3.0}}},
    {"Large500x500", {{1.0}, {500.0}, {500.0}}},
    {"Large500x50", {{1.0}, {500.0}, {50.0}}},
};

/// Samples per distribution test.
constexpr std::size_t kSamplerN = 200000;

// gtest prints a parameter by name instead of as bytes.
inline void PrintTo(const SamplerCase& c, std::ostream* os) { *os << c.name; }

}  // namespace betamix::test
