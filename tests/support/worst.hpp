#pragma once
// Keeping the worst of a series of errors, where a NaN error counts as the worst of all and,
// once seen, stays: no later finite error may replace it (a comparison that lost it would pass).

#include <cmath>

namespace betamix::test {

/// True when `error` should replace `worst`: it is larger or NaN, and `worst` is not NaN.
inline bool is_worse(double error, double worst) { return !(error <= worst) && !std::isnan(worst); }

}  // namespace betamix::test
