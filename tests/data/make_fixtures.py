#!/usr/bin/env python3
"""Writes the reference fixtures the numeric tests read (tests/data/*.csv, *.txt).

Every value is computed with mpmath at 50 significant digits from the exact binary value of
each double input, then rounded once to 17 significant digits, so a fixture is accurate to
the last bit of a double. Nothing here is random except numpy's generator with a fixed seed,
so running the script again rewrites byte-identical files:

    python3 tests/data/make_fixtures.py

Files:
  special_functions.csv  a, b, x -> log B(a,b), log Beta(x; a, b) and the magnitude of the
                         terms each is a difference of (the conditioning the tests allow for)
  log_beta_large.csv     a, b -> log B(a,b) at shapes up to 1e300 (at 400 digits, as loggamma
                         cancels there), and the size of the terms of its Stirling form
  polygamma.csv          x -> digamma(x), trigamma(x)
  mixture_density.csv    x -> log p(x) and the responsibilities of a K = 3 mixture
  single_beta_data.txt   2000 draws of Beta(2.5, 6), numpy seed 20240501, 17 digits each
  single_beta_mle.csv    the maximum-likelihood (alpha, beta) of single_beta_data.txt, from
                         the digamma equations solved to 40 digits
"""

import os

import mpmath as mp
import numpy as np

mp.mp.dps = 50
HERE = os.path.dirname(os.path.abspath(__file__))


def g17(v):
    """A real (mpf or float) as a 17-significant-digit decimal: exact for a double."""
    return mp.nstr(mp.mpf(v), 17, min_fixed=-1, max_fixed=-1, strip_zeros=False) if v != 0 else "0"


def dbl(v):
    """The exact binary value of a Python float as an mpf."""
    return mp.mpf(float(v))


def write(name, header, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", newline="\n") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(",".join(row) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def log_beta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def special_functions():
    # Shapes from tiny to large, x from 1e-12 to 1 - 1e-12 (as doubles: 1 - 1e-12 is not
    # exact, so the reference is computed at the double the test will read).
    shapes = [1e-3, 0.05, 0.7, 1.0, 2.5, 37.25, 1e4]
    xs = [1e-12, 1e-3, 0.3, 0.5, 0.875, 1.0 - 1e-12]
    rows = []
    for i, a in enumerate(shapes):
        for j, b in enumerate(shapes):
            for x in (xs[(i + j) % len(xs)], xs[(i + 2 * j + 3) % len(xs)]):
                A, B, X = dbl(a), dbl(b), dbl(x)
                lb = log_beta(A, B)
                lb_scale = abs(mp.loggamma(A)) + abs(mp.loggamma(B)) + abs(mp.loggamma(A + B))
                la, l1a = (A - 1) * mp.log(X), (B - 1) * mp.log(1 - X)
                pdf_scale = abs(la) + abs(l1a) + lb_scale
                rows.append([g17(a), g17(b), g17(x), g17(lb), g17(lb_scale),
                             g17(la + l1a - lb), g17(pdf_scale)])
    write("special_functions.csv", "a,b,x,log_beta,log_beta_scale,log_pdf,log_pdf_scale", rows)


def log_beta_large():
    # Every pair of shapes from tiny to the largest allowed (1e300), both orders for unequal
    # pairs, around the formula's switch at 10. loggamma(1e300) ~ 7e302, so the difference
    # needs ~320 digits before any are left for log B itself.
    shapes = [0.05, 0.163, 1.0, 3.5, 9.99, 10.0, 10.5, 37.25, 1e3, 5e3, 1e4, 1e6, 1e8, 1e10,
              1.94e14, 1e15, 1e200, 1e300]
    rows = []
    with mp.workdps(400):
        for i, a in enumerate(shapes):
            for b in shapes[i:]:
                for A, B in ((dbl(a), dbl(b)), (dbl(b), dbl(a)))[: 1 if a == b else 2]:
                    lb = log_beta(A, B)
                    p, q = min(A, B), max(A, B)
                    scale = (abs(lb) + abs(mp.loggamma(p)) + p * (2 + abs(mp.log(p + q)))
                             + abs(mp.log(q)) / 2 + 1)
                    rows.append([g17(A), g17(B), g17(lb), g17(scale)])
    write("log_beta_large.csv", "a,b,log_beta,scale", rows)


def polygamma():
    # Log-spaced from 1e-3 to 1e4, plus the points where digamma is small (near its root
    # 1.4616...) or changes regime in common implementations (around 1, 2, 10).
    # (mpmath's powers rounded once: numpy's logspace differs in the last bit between releases)
    xs = [float(mp.power(10, mp.mpf(-3) + mp.mpf(7) * i / 35)) for i in range(36)]
    xs += [0.5, 1.0, 1.4616321449683622, 1.5, 2.0, 9.75, 10.0, 10.25, 123.456]
    rows = [[g17(x), g17(mp.digamma(dbl(x))), g17(mp.polygamma(1, dbl(x)))] for x in sorted(xs)]
    write("polygamma.csv", "x,digamma,trigamma", rows)


MIXTURE = ([0.2, 0.5, 0.3], [0.5, 4.0, 30.0], [3.0, 4.0, 2.0])


def mixture_density():
    w, a, b = MIXTURE
    xs = [1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0 - 1e-6,
          1.0 - 1e-12]
    rows = []
    for x in xs:
        X = dbl(x)
        lk = [mp.log(dbl(w[k])) + (dbl(a[k]) - 1) * mp.log(X) + (dbl(b[k]) - 1) * mp.log(1 - X)
              - log_beta(dbl(a[k]), dbl(b[k])) for k in range(3)]
        # The conditioning of l_k: the magnitudes of the terms it is a sum of, with log B
        # counted as its three lgamma terms (the library computes it so).
        scale = max(abs(mp.log(dbl(w[k]))) + abs((dbl(a[k]) - 1) * mp.log(X))
                    + abs((dbl(b[k]) - 1) * mp.log(1 - X)) + abs(mp.loggamma(dbl(a[k])))
                    + abs(mp.loggamma(dbl(b[k]))) + abs(mp.loggamma(dbl(a[k]) + dbl(b[k])))
                    for k in range(3))
        lse = mp.log(mp.fsum(mp.exp(v) for v in lk))
        rows.append([g17(x), g17(lse)] + [g17(mp.exp(v - lse)) for v in lk] + [g17(scale)])
    write("mixture_density.csv", "x,log_p,r1,r2,r3,scale", rows)


def single_beta():
    rng = np.random.default_rng(20240501)
    x = rng.beta(2.5, 6.0, size=2000)
    assert np.all((x > 0) & (x < 1))
    text = [repr(float(v)) for v in x]  # shortest round-trip repr: <= 17 digits, exact
    path = os.path.join(HERE, "single_beta_data.txt")
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(text) + "\n")
    print(f"wrote single_beta_data.txt: {len(text)} values")

    # The MLE solves psi(a) - psi(a+b) = mean log x, psi(b) - psi(a+b) = mean log(1-x), with
    # the means taken over the exact doubles the test reads.
    xs = [dbl(float(s)) for s in text]
    slog = mp.fsum(mp.log(v) for v in xs) / len(xs)
    tlog = mp.fsum(mp.log(1 - v) for v in xs) / len(xs)
    mp.mp.dps = 60
    a, b = mp.findroot(
        [lambda a, b: mp.digamma(a) - mp.digamma(a + b) - slog,
         lambda a, b: mp.digamma(b) - mp.digamma(a + b) - tlog], (mp.mpf(2.5), mp.mpf(6.0)))
    mp.mp.dps = 50
    resid = max(abs(mp.digamma(a) - mp.digamma(a + b) - slog),
                abs(mp.digamma(b) - mp.digamma(a + b) - tlog))
    assert resid < mp.mpf(10) ** -40, resid
    # Cross-check with scipy's optimiser (a few digits only: its tolerance is loose).
    from scipy import stats
    sa, sb, _, _ = stats.beta.fit(x, floc=0, fscale=1)
    assert abs(sa / float(a) - 1) < 1e-4 and abs(sb / float(b) - 1) < 1e-4, (sa, sb, a, b)
    mean_nll = -(slog * (a - 1) + tlog * (b - 1) - log_beta(a, b))
    write("single_beta_mle.csv", "n,alpha,beta,mean_nll",
          [[str(len(xs)), g17(a), g17(b), g17(mean_nll)]])


if __name__ == "__main__":
    special_functions()
    log_beta_large()
    polygamma()
    mixture_density()
    single_beta()
