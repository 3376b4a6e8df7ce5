#!/usr/bin/env python3
"""Fits the polynomials of include/betamix/math/float_math.hpp.

log2_normal: log1p(f) = f + f^2 Q(f) on f in [2/3 - 1, 4/3 - 1), the range its argument
reduction leaves, Q of degree 8, minimising the largest relative error of f + f^2 Q(f) (the
error of Q weighted by |f|). The rounded polynomial's largest relative error is about 2^-26,
a quarter of a float32 ulp; the float32 evaluation adds the rest.

exp2_nonpositive: 2^f = 1 + f P(f) on f in [-1/2, 1/2], P of degree 5, minimising the largest
relative error of 1 + f P(f) (the error of P weighted by |f| / 2^f). About 2^-26 as well.

Each is a weighted least-squares fit at 3000 Chebyshev nodes, its weights updated by Lawson's
rule (each node's weight times its error) toward the minimax, against mpmath at 40 digits.
Prints the coefficients, rounded to float32, from the constant term up, and the largest
relative error of the rounded polynomial:

    python3 tests/data/make_float_math_coefficients.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(name, exact, weight_of, lo, hi, degree):
    """Near-minimax fit of exact(f) with weights weight_of(f); prints its float32 coefficients."""
    n = 3000
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    f = lo + (hi - lo) * (t + 1.0) / 2.0
    y = np.array([float(exact(v)) for v in f])
    weight = np.array([float(weight_of(v)) for v in f])
    lawson = np.ones(n)
    vander = np.vander(f, degree + 1, increasing=True)
    for _ in range(60):
        scale = weight * np.sqrt(lawson)
        coef, *_ = np.linalg.lstsq(vander * scale[:, None], y * scale, rcond=None)
        err = np.abs((vander @ coef - y) * weight)
        lawson = lawson * err
        lawson /= lawson.sum()
    rounded = coef.astype(np.float32)
    check = np.linspace(lo, hi, 4001)
    want = np.array([float(exact(v)) for v in check])
    scale = np.array([float(weight_of(v)) for v in check])
    approx = np.vander(check, degree + 1, increasing=True) @ rounded.astype(np.float64)
    worst = np.max(np.abs((approx - want) * scale))
    print(name)
    for i, c in enumerate(rounded):
        print("  c%d = %.9e" % (i, c))
    print("  largest relative error: %.3g (2^%.1f)" % (worst, np.log2(worst)))


def log1p_q(f):
    f = mp.mpf(f)
    return mp.mpf(-0.5) if f == 0 else (mp.log1p(f) - f) / f**2


def exp2_p(f):
    f = mp.mpf(f)
    return mp.log(2) if f == 0 else (mp.power(2, f) - 1) / f


def main():
    fit("log2_normal: log1p(f) = f + f^2 Q(f)", log1p_q, lambda f: abs(mp.mpf(f)),
        2.0 / 3.0 - 1.0, 4.0 / 3.0 - 1.0, 8)
    fit("exp2_nonpositive: 2^f = 1 + f P(f)", exp2_p,
        lambda f: abs(mp.mpf(f)) / mp.power(2, mp.mpf(f)), -0.5, 0.5, 5)


if __name__ == "__main__":
    main()
