#pragma once
// Special functions evaluated on the host in double precision, once per component and
// iteration (never per sample): digamma and trigamma from Boost.Math, log B from its lgamma
// and, at large shapes, Stirling's formula.

namespace betamix::detail {

/// log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), without its cancellation at large
/// shapes (Stirling's formula for a shape >= 10): good to a few ulps of the result's terms.
double log_beta(double a, double b);
/// psi(x) = d/dx log Gamma(x).
double digamma(double x);
/// psi'(x).
double trigamma(double x);
/// log Beta(x; a, b) evaluated directly (for references and the public pdf()).
double beta_log_pdf(double x, double a, double b);

}  // namespace betamix::detail
