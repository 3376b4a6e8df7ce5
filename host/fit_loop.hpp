#pragma once
// The fitting loop on a backend that already holds the data (fit.cpp): what betamix::fit()
// runs once it has validated the input and loaded a backend, for callers that bring their own
// backend (the tests run it on the GPU pass's float32 arithmetic emulated on the host).

#include <cstddef>

#include "backend.hpp"
#include "betamix/options.hpp"
#include "betamix/result.hpp"

namespace betamix::detail {

/// Fits with options `o` on `backend`, which holds the n samples x (validated, in (0, 1)) and
/// the case weights w (nullptr: none); x and w are also read here, on the host, to make the
/// starts. No standard errors, no clamping note: those are betamix::fit()'s.
FitResult fit_loaded(Backend& backend, const FitOptions& o, const double* x, const double* w,
                     std::size_t n);

}  // namespace betamix::detail
