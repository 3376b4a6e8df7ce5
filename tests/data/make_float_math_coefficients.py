#!/usr/bin/env python3
"""Fits the polynomial of betamix::math::log_normal (include/betamix/math/float_math.hpp).

log1p(f) = f + f^2 Q(f) on f in [2/3 - 1, 4/3 - 1), the range the argument reduction leaves.
Q is the degree-8 polynomial that minimises the largest relative error of f + f^2 Q(f), i.e.
the error of Q weighted by |f|: a weighted least-squares fit at 3000 Chebyshev nodes, its
weights updated by Lawson's rule (each node's weight times its error) toward the minimax. The
reference values come from mpmath at 40 digits. Prints the coefficients, rounded to float32,
from the constant term up, and the largest relative error of the rounded polynomial (about
2^-26, a quarter of a float32 ulp; the float32 evaluation adds the rest):

    python3 tests/data/make_float_math_coefficients.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40
LO, HI = 2.0 / 3.0 - 1.0, 4.0 / 3.0 - 1.0
DEGREE = 8


def q_exact(f):
    f = mp.mpf(f)
    if f == 0:
        return mp.mpf(-0.5)
    return (mp.log1p(f) - f) / f**2


def main():
    n = 3000
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    f = LO + (HI - LO) * (t + 1.0) / 2.0
    y = np.array([float(q_exact(v)) for v in f])
    weight = np.abs(f)
    lawson = np.ones(n)
    vander = np.vander(f, DEGREE + 1, increasing=True)
    for _ in range(60):
        scale = weight * np.sqrt(lawson)
        coef, *_ = np.linalg.lstsq(vander * scale[:, None], y * scale, rcond=None)
        err = np.abs((vander @ coef - y) * weight)
        lawson = lawson * err
        lawson /= lawson.sum()
    rounded = coef.astype(np.float32)
    check = np.linspace(LO, HI, 4001)
    exact = np.array([float(q_exact(v)) for v in check])
    approx = np.vander(check, DEGREE + 1, increasing=True) @ rounded.astype(np.float64)
    worst = np.max(np.abs((approx - exact) * np.abs(check)))
    for i, c in enumerate(rounded):
        print("c%d = %.9e" % (i, c))
    print("largest relative error of f + f^2 Q(f): %.3g (2^%.1f)" % (worst, np.log2(worst)))


if __name__ == "__main__":
    main()
