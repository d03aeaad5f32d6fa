#!/usr/bin/env python3
"""Fits the rational approximation of erf that the float32 runtime uses (VectorMath.erf).

erf(x) = x * P(x^2) / Q(x^2) for |x| <= 4 (erf(4) rounds to 1 in float32), with P of
degree 5, Q of degree 5 and Q(0) = 1. The fit minimises the largest relative error by
Sanathanan-Koerner iteration (the nonlinear problem linearised around the last
denominator) with Lawson reweighting, on Chebyshev-spaced points.

Prints the coefficients in float32, then evaluates the approximation in float32 the way
the Swift code does (Horner, no fused multiply-add) against the exact erf and reports the
largest and mean error in ulp per interval.

    python3 scripts/fit-float-erf.py
"""
import math

import numpy as np

LIMIT = 4.0
NUMERATOR, DENOMINATOR = 5, 5


def chebyshev_points(lo, hi, n):
    return lo + (hi - lo) * (np.cos(np.linspace(0, np.pi, n)) * 0.5 + 0.5)


def fit(x):
    t = x * x
    target = np.array([math.erf(v) for v in x]) / x
    powers_p = np.stack([t**k for k in range(NUMERATOR + 1)], 1)
    powers_q = np.stack([t**k for k in range(1, DENOMINATOR + 1)], 1)
    q = np.ones_like(t)
    weight = np.ones_like(t)
    for _ in range(40):
        # Relative residual (P - f*Q) / (f*Q_previous), weighted.
        scale = weight / (q * target)
        system = np.concatenate([powers_p, -target[:, None] * powers_q], 1) * scale[:, None]
        solution, *_ = np.linalg.lstsq(system, target * scale, rcond=None)
        p = powers_p @ solution[: NUMERATOR + 1]
        q = 1 + powers_q @ solution[NUMERATOR + 1 :]
        error = np.abs(p / q - target) / target
        weight = weight * np.sqrt(error / error.max() + 1e-2)
    numerator = solution[: NUMERATOR + 1]
    denominator = np.concatenate([[1.0], solution[NUMERATOR + 1 :]])
    return numerator, denominator, error.max()


def horner32(coefficients, t):
    result = np.full_like(t, coefficients[-1])
    for c in coefficients[-2::-1]:
        result = (result * t + c).astype(np.float32)
    return result


def erf32(x, numerator, denominator):
    a = np.minimum(np.abs(x), np.float32(LIMIT)).astype(np.float32)
    t = (a * a).astype(np.float32)
    value = (a * horner32(numerator, t)).astype(np.float32) / horner32(denominator, t)
    return np.copysign(np.minimum(value, np.float32(1)), x).astype(np.float32)


def main():
    numerator, denominator, error = fit(chebyshev_points(1e-5, LIMIT, 8000))
    print(f"largest relative error of the fit in double precision: {error:.3g}")
    p32, q32 = numerator.astype(np.float32), denominator.astype(np.float32)
    print("P:", ", ".join(repr(float(c)) for c in p32))
    print("Q:", ", ".join(repr(float(c)) for c in q32))
    x = np.linspace(-5, 5, 2_000_001).astype(np.float32)
    x = np.concatenate([x, np.geomspace(1e-30, 1, 100_000).astype(np.float32)])
    exact = np.array([math.erf(v) for v in x.astype(np.float64)])
    ulps = np.abs(erf32(x, p32, q32) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    a = np.abs(x)
    for lo, hi in ((0, 1e-3), (1e-3, 0.5), (0.5, 1), (1, 2), (2, 3), (3, 4), (4, 5.01)):
        inside = (a >= lo) & (a < hi)
        print(f"|x| in [{lo}, {hi}): max {ulps[inside].max():.2f} ulp, mean {ulps[inside].mean():.3f} ulp")
    print(f"overall: max {ulps.max():.2f} ulp")


if __name__ == "__main__":
    main()
