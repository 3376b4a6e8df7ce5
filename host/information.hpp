#pragma once
// Standard errors of a fitted mixture from the observed information: the exact Hessian of
//
//   LL(theta) = sum_i v_i log sum_k w_k Beta(x_i; a_k, b_k),
//   theta = [a_1..a_K, b_1..b_K, w_1..w_(K-1)],  w_K = 1 - w_1 - ... - w_(K-1),
//
// assembled from the moment sums of one pass (MomentStats, backend.hpp). With
// l_ik = log(w_k f_k(x_i)), g_ik and H_ik its gradient and Hessian in theta, r_ik the
// responsibilities:
//
//   Hessian = sum_i [ sum_k r_ik (H_ik + g_ik g_ik^T) - (sum_k r_ik g_ik)(sum_k r_ik g_ik)^T ].
//
// g_ik is (lx - A_k) in the a_k slot, (l1x - B_k) in the b_k slot and e_k = d log w_k / dw in
// the weight slots, A_k = psi(a_k) - psi(a_k + b_k), B_k = psi(b_k) - psi(a_k + b_k); H_ik is
// constant in i: minus the trigamma matrix of (a_k, b_k), and -e_k e_k^T for the weights (which
// cancels the weights' part of g g^T). Every sum over i is then a combination of the sums of
// v_i r_ik {1, lx, l1x, lx^2, lx l1x, l1x^2} and v_i r_ik r_il {the same}.

#include <vector>

#include "backend.hpp"
#include "betamix/params.hpp"
#include "betamix/result.hpp"

namespace betamix::detail {

/// The observed information -d^2 LL / dtheta^2 at `p` (row-major, (3K-1) x (3K-1), theta in
/// the order above) from the moment sums of a pass at the same parameters.
std::vector<double> observed_information(const MixtureParams& p, const MomentStats& m);

/// Standard errors and 95 % intervals from the observed information `info` of `p`: not
/// available (with the reason) when it is not positive definite.
StandardErrors standard_errors_from_information(const MixtureParams& p,
                                                const std::vector<double>& info);

/// sqrt(g' Cov g) at `p`, g the gradient of LL in theta from the sums `m` of a moment pass at
/// `p`, `covariance` the inverse of the observed information there.
double distance_to_maximum(const MixtureParams& p, const MomentStats& m,
                           const std::vector<double>& covariance);

/// Runs the moment pass for `p` on a loaded backend and returns the standard errors; a weight
/// of 0 or a non-finite parameter gives "not available". Throws DeviceError where the
/// backend's moment pass fails.
StandardErrors standard_errors(Backend& backend, const MixtureParams& p);

}  // namespace betamix::detail
