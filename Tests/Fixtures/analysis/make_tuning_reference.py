#!/usr/bin/env python3
"""Independent NumPy reference for grating tuning (OrientationTuning.measure) and for the
grating stimuli (Stimuli.grating).

Regenerate from the repository root with

    python3 Tests/Fixtures/analysis/make_tuning_reference.py

It needs only NumPy, is deterministic (one seeded generator, fixed draw order) and writes,
next to this file:

  * tuning_reference.npz -- for every case NAME (even4, even8, repeats, uneven, nine, two_phases):
      NAME_responses            stimuli x units (float64), the input;
      NAME_orientation, NAME_frequency, NAME_phase
                                one value per stimulus (degrees, cycles/pixel, degrees);
      NAME_orientations         the grid's distinct orientations, ascending;
      NAME_preferred_orientation, NAME_preferred_frequency, NAME_circular_variance,
      NAME_osi, NAME_bandwidth, NAME_f1_f0
                                one value per unit (NaN where undefined);
      NAME_tuning_curve         units x orientations.
  * grating_reference.npz -- `params` (n x 8: height, width, channels, orientation,
    frequency, phase, mean, contrast) and `image_K` ([channels, height, width], float64)
    for each row K of `params`.

What it checks: Tests/AnalysisTests/OrientationTuningReferenceTests.swift runs
OrientationTuning.measure on each case's responses and compares every metric with the
values below; Tests/ProbeTests/GratingReferenceTests.swift compares Stimuli.grating with
the images.

The responses are those of synthetic units (a rectified linear Gabor "simple cell", a
quadrature-pair energy "complex cell", a broadly tuned cell, an unrectified cell (linear
plus an expansive term) with a negative offset, a seeded noise unit and a constant unit) to gratings drawn with
the formula documented on Stimuli.grating, on a 15 x 15 image.

Definitions implemented here (per unit, from the documentation of OrientationTuning):
  * shift the unit's responses so that its minimum over all stimuli is 0;
  * per (theta, f), over the phases v_p (repeats averaged first): F0 = mean v_p and
    F1 = 2 |sum v_p e^{i phi_p}| / n_p (only with 3 or more phases);
  * the peak (theta_peak, f*) is the joint argmax over (theta, f) of max(F0, F1) (F0 alone
    without F1; first in orientation-major order on ties); the unit is phase-sensitive
    when F1 > F0 at the peak, and R = F1 then, else R = F0; T(theta) = R(theta, f*);
  * CV = 1 - |sum T e^{2 i theta}| / sum T  (1 when sum T = 0);
  * preferred orientation = angle(sum T e^{2 i theta}) / 2 in degrees, in [0, 180) (the
    sum's direction is undefined when sum T = 0; the peak grid orientation is used then);
  * OSI = (T(peak) - T(orth)) / (T(peak) + T(orth)), orth = the grid orientation nearest
    (circularly, mod 180) to peak + 90, the first of two equally near (0 when both are 0);
  * bandwidth: half-width at half height (half = T(peak) / 2).  On each side of the peak,
    walk around the 180-degree circle through the grid orientations; the side's width is
    the angular distance, linearly interpolated between the last orientation above half
    and the first at or below it, at which T reaches half.  Bandwidth = mean of the two
    sides, capped at 90; 90 when a side does not reach half within 90 degrees or when
    T(peak) = 0 (a flat curve never falls);
  * F1/F0 at the peak (NaN with fewer than 3 phases, or when F0 = 0).
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(20240611)
SIZE = 15


# --------------------------------------------------------------------------- gratings

def pixel_coordinates(height, width):
    """(x, y) of every pixel centre, from the image centre ((w-1)/2, (h-1)/2), y up."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    return columns - (width - 1) / 2, (height - 1) / 2 - rows


def grating(height, width, channels, orientation, frequency, phase, mean, contrast):
    """mean + contrast/2 cos(2 pi f (x cos theta + y sin theta) + phi), [channels, h, w]."""
    x, y = pixel_coordinates(height, width)
    theta, phi = np.deg2rad(orientation), np.deg2rad(phase)
    plane = mean + contrast / 2 * np.cos(2 * np.pi * frequency * (x * np.cos(theta) + y * np.sin(theta)) + phi)
    return np.broadcast_to(plane, (channels, height, width)).copy()


def gabor(orientation, frequency, sigma, phase):
    x, y = pixel_coordinates(SIZE, SIZE)
    theta = np.deg2rad(orientation)
    carrier = np.cos(2 * np.pi * frequency * (x * np.cos(theta) + y * np.sin(theta)) + np.deg2rad(phase))
    g = np.exp(-(x ** 2 + y ** 2) / (2 * sigma ** 2)) * carrier
    return g - g.mean()          # no response to the mean luminance


# --------------------------------------------------------------------------- units

def unit_responses(orientation, frequency, phase):
    """stimuli x units responses of the synthetic units to 15 x 15 gratings."""
    images = np.stack([grating(SIZE, SIZE, 1, o, f, p, 0.5, 1.0)[0].ravel()
                       for o, f, p in zip(orientation, frequency, phase)])
    simple = np.maximum(0, images @ gabor(40, 0.125, 3.0, 0).ravel())
    even, odd = images @ gabor(100, 0.25, 2.5, 0).ravel(), images @ gabor(100, 0.25, 2.5, 90).ravel()
    complex_ = np.sqrt(even ** 2 + odd ** 2)
    # A small envelope gives broad orientation tuning.
    b_even, b_odd = images @ gabor(150, 0.125, 1.6, 0).ravel(), images @ gabor(150, 0.125, 1.6, 90).ravel()
    broad = np.sqrt(b_even ** 2 + b_odd ** 2) + 0.5 * np.maximum(0, b_even)
    # Linear plus an expansive term (a purely linear unit averages to a constant over
    # evenly spaced phases), offset so that it responds negatively: the shift matters.
    a = images @ gabor(70, 0.125, 2.0, 30).ravel()
    linear = a + 0.15 * a ** 2 - 3.0
    noise = RNG.normal(size=len(orientation))
    constant = np.full(len(orientation), 1.7)
    return np.column_stack([simple, complex_, broad, linear, noise, constant])


UNIT_NAMES = ["simple", "complex", "broad", "linear", "noise", "constant"]

# Two hand-made tuning curves on the nine-orientation grid, peaking at 0 degrees (the phase
# factor 1 + cos(phase) makes the minimum 0 and averages to 1, so T is the curve as written).
# Walking right, the curve is above half (0.5) at 80 degrees and below it at 100; linear
# interpolation puts the crossing at 96 degrees for "beyond90" (so that side does not reach
# half within 90 degrees: bandwidth 90) and at 88.9 for "within90".  Walking left, both
# cross at 26.7.
NINE_CURVES = {
    "beyond90": [1.0, 0.95, 0.9, 0.8, 0.7, 0.45, 0.35, 0.3, 0.6],
    "within90": [1.0, 0.95, 0.9, 0.8, 0.54, 0.45, 0.35, 0.3, 0.6],
}


def hand_made_responses(orientation, frequency, phase):
    columns = []
    for curve in NINE_CURVES.values():
        t = np.asarray(curve)[np.round(orientation / 20).astype(int)]
        columns.append(t * np.where(frequency == 0.125, 1.0, 0.5) * np.maximum(0, np.cos(np.deg2rad(phase))))
    return np.column_stack(columns)


# --------------------------------------------------------------------------- reference

def circular_distance(a, b):
    """Distance between orientations a and b on the 180-degree circle."""
    return np.abs((np.asarray(a) - b + 90) % 180 - 90)


def half_width_side(curve, thetas, peak, step):
    """Angular distance from the peak, walking in direction `step`, at which the curve
    first reaches half its peak; None if that does not happen within 90 degrees."""
    n, half = len(curve), curve[peak] / 2
    order = [(peak + step * k) % n for k in range(n)]          # peak, then neighbours outwards
    # Cumulative angular distance of each visited orientation from the peak.
    gaps = [((thetas[order[k]] - thetas[order[k - 1]]) * step) % 180 for k in range(1, n)]
    distance = np.concatenate([[0.0], np.cumsum(gaps)])
    values = curve[order]
    below = np.nonzero(values[1:] <= half)[0]
    if len(below) == 0:
        return None
    k = below[0] + 1
    # Linear interpolation between (distance[k-1], values[k-1]) and (distance[k], values[k]).
    crossing = np.interp(half, [values[k], values[k - 1]], [distance[k], distance[k - 1]])
    return crossing if crossing <= 90 else None


def reference(responses, orientation, frequency, phase):
    thetas, freqs, phis = np.unique(orientation), np.unique(frequency), np.unique(phase)
    oi, fi, pi = (np.searchsorted(v, s) for v, s in ((thetas, orientation), (freqs, frequency), (phis, phase)))
    no, nf, nph, units = len(thetas), len(freqs), len(phis), responses.shape[1]

    shifted = responses - responses.min(axis=0)
    sums = np.zeros((no, nf, nph, units))
    counts = np.zeros((no, nf, nph))
    np.add.at(sums, (oi, fi, pi), shifted)
    np.add.at(counts, (oi, fi, pi), 1)
    assert (counts > 0).all(), "incomplete grid"
    cells = sums / counts[..., None]                     # repeats averaged
    F0 = cells.mean(axis=2)                              # no x nf x units
    if nph >= 3:
        F1 = 2 * np.abs(np.einsum("ofpu,p->ofu", cells, np.exp(1j * np.deg2rad(phis)))) / nph
        strength = np.maximum(F0, F1)
    else:
        F1 = np.full_like(F0, np.nan)
        strength = F0

    out = {k: np.empty(units) for k in ("preferred_orientation", "preferred_frequency", "circular_variance",
                                        "osi", "bandwidth", "f1_f0")}
    out["tuning_curve"] = np.empty((units, no))
    margins = []
    for u in range(units):
        flat = strength[:, :, u].ravel()                 # orientation-major
        best = int(np.argmax(flat))
        peak, fstar = divmod(best, nf)
        modulated = nph >= 3 and F1[peak, fstar, u] > F0[peak, fstar, u]
        T = (F1 if modulated else F0)[:, fstar, u]
        total = T.sum()
        z = np.sum(T * np.exp(2j * np.deg2rad(thetas)))
        cv = 1 - abs(z) / total if total > 0 else 1.0
        preferred = np.rad2deg(np.angle(z)) / 2 % 180 if total > 0 else thetas[peak]
        orth = int(np.argmin(circular_distance(thetas, (thetas[peak] + 90) % 180)))
        denominator = T[peak] + T[orth]
        osi = (T[peak] - T[orth]) / denominator if denominator > 0 else 0.0
        if T[peak] > 0:
            left, right = half_width_side(T, thetas, peak, -1), half_width_side(T, thetas, peak, +1)
            bandwidth = 90.0 if left is None or right is None else min(90.0, (left + right) / 2)
        else:
            bandwidth = 90.0
        f0, f1 = F0[peak, fstar, u], F1[peak, fstar, u]
        f1f0 = f1 / f0 if f0 > 0 else np.nan
        for key, value in zip(("preferred_orientation", "preferred_frequency", "circular_variance", "osi",
                               "bandwidth", "f1_f0"), (preferred, freqs[fstar], cv, osi, bandwidth, f1f0)):
            out[key][u] = value
        out["tuning_curve"][u] = T
        # Robustness of the fixture: no near-ties in the argmax, the orthogonal orientation
        # or the half-height comparisons (rounding could otherwise flip them in Swift).
        if flat.max() > 0:
            second = np.sort(flat)[-2]
            d = circular_distance(thetas, (thetas[peak] + 90) % 180)
            if nph >= 3:
                assert abs(f1 - f0) > 1e-6 * max(f1, f0), ("F0 and F1 nearly tie at the peak", u)
            margins.append(((flat.max() - second) / flat.max(),
                            np.sort(d)[1] - np.sort(d)[0] if len(d) > 1 else np.inf,
                            np.min(np.abs(T - T[peak] / 2)) / T[peak]))
    for argmax_margin, orth_margin, half_margin in margins:
        assert argmax_margin > 1e-6 and (orth_margin == 0 or orth_margin > 1e-6) and half_margin > 1e-6, margins
    out["orientations"] = thetas
    return out


# --------------------------------------------------------------------------- cases

def full_grid(thetas, freqs, phis):
    o, f, p = np.meshgrid(thetas, freqs, phis, indexing="ij")
    return o.ravel(), f.ravel(), p.ravel()


FREQS = np.array([0.0625, 0.125, 0.25])
cases = {}

# 16 orientations x 3 frequencies x 4 phases, in the order the probe sets use.
cases["even4"] = full_grid(np.arange(16) * 11.25, FREQS, np.arange(4) * 90.0)
# The same with 8 phases.
cases["even8"] = full_grid(np.arange(16) * 11.25, FREQS, np.arange(8) * 45.0)

# 12 orientations x 2 frequencies x 4 phases, shuffled, with some combinations repeated
# (once or twice more) and the responses of the repeats jittered, so averaging matters.
o, f, p = full_grid(np.arange(12) * 15.0, FREQS[1:], np.arange(4) * 90.0)
extra = RNG.choice(len(o), size=30, replace=True)
o, f, p = np.concatenate([o, o[extra]]), np.concatenate([f, f[extra]]), np.concatenate([p, p[extra]])
order = RNG.permutation(len(o))
cases["repeats"] = (o[order], f[order], p[order])

# An uneven orientation grid (wrapping gaps differ too) and three uneven phases.
cases["uneven"] = full_grid(np.array([0.0, 12.0, 30.0, 41.0, 67.5, 90.0, 101.0, 118.0, 150.0, 170.0]),
                            FREQS, np.array([0.0, 100.0, 230.0]))

# Nine orientations, as a probe set with `orientations: 9` makes (0, 20, ..., 160): no grid
# orientation lies 90 degrees from the peak, so the orthogonal orientation is a tie between
# two (the first is taken) and a half-height crossing can fall just beyond 90 degrees.
cases["nine"] = full_grid(np.arange(9) * 20.0, FREQS, np.arange(4) * 90.0)

# Only two phases: F1 (and so F1/F0) is undefined.
cases["two_phases"] = full_grid(np.arange(8) * 22.5, FREQS[:2], np.array([0.0, 180.0]))

arrays = {}
for name, (o, f, p) in cases.items():
    responses = unit_responses(o, f, p)
    if name == "nine":
        responses = np.column_stack([responses, hand_made_responses(o, f, p)])
    if name == "repeats":
        responses = responses + 0.05 * RNG.normal(size=responses.shape) * (responses.std(axis=0) + 1e-12)
        responses[:, UNIT_NAMES.index("constant")] = 1.7     # keep the constant unit constant
    expected = reference(responses, o, f, p)
    arrays[f"{name}_responses"] = responses
    arrays[f"{name}_orientation"], arrays[f"{name}_frequency"], arrays[f"{name}_phase"] = o, f, p
    for key, value in expected.items():
        arrays[f"{name}_{key}"] = value
    with np.printoptions(precision=4, suppress=True):
        print(name, responses.shape)
        for key in ("preferred_orientation", "preferred_frequency", "circular_variance", "osi", "bandwidth", "f1_f0"):
            print(f"  {key:22s}", expected[key])

np.savez_compressed(os.path.join(HERE, "tuning_reference.npz"), **arrays)

# --------------------------------------------------------------------------- grating images

GRATINGS = [  # height, width, channels, orientation, frequency, phase, mean, contrast
    (9, 12, 1, 0.0, 0.125, 0.0, 0.5, 1.0),
    (9, 12, 3, 33.7, 0.2, 45.0, 0.5, 1.0),
    (16, 16, 1, 90.0, 0.0625, 270.0, 0.0, 2.0),
    (16, 16, 3, 135.0, 0.3, 10.0, 0.25, 0.5),
    (7, 5, 3, 101.25, 0.45, 300.0, -1.0, 3.0),
    (12, 9, 1, 168.75, 0.1, 180.0, 0.5, 0.8),
]
images = {"params": np.array(GRATINGS, dtype=np.float64)}
for k, (h, w, c, o, f, p, m, con) in enumerate(GRATINGS):
    images[f"image_{k}"] = grating(h, w, c, o, f, p, m, con)
# Self-checks of the convention: at 0 degrees every column is constant, at 90 every row;
# phase 0 on an odd-sized image puts the peak (mean + contrast/2) on the centre pixel.
assert np.ptp(grating(8, 8, 1, 0, 0.125, 0, 0.5, 1)[0], axis=0).max() < 1e-12
assert np.ptp(grating(8, 8, 1, 90, 0.125, 0, 0.5, 1)[0], axis=1).max() < 1e-12
assert grating(7, 7, 1, 30, 0.2, 0, 0.5, 1)[0, 3, 3] == 1.0
np.savez_compressed(os.path.join(HERE, "grating_reference.npz"), **images)
