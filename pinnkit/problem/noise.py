"""The noise in observations, estimated from the observations alone (no fitted model).

Each observation is compared with a local polynomial through its nearest neighbours, itself
left out (a difference-based estimator, as Gasser, Sargent and Buckley's pseudo-residuals in
one coordinate, Biometrika 1986). Each such residual, divided by its variance factor, has the
noise variance as its expectation plus the square of the local polynomial's error (the
signal's curvature between neighbours): the estimate can be too large where observations are
sparse against the signal's oscillation, never too small but by chance. So a fit that misses
its observations by many times this estimate has certainly not followed them. Never imports
torch.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["noise_variance", "MIN_POINTS"]

#: Fewer observations than this (of one field over its points) get no estimate.
MIN_POINTS = 12
#: The median of a chi-square variable of one degree of freedom: the median of the squared
#: standardised residuals over this is the variance (robust to a few residuals of regions
#: where the signal bends sharply between neighbours, a front).
_CHI2_MEDIAN = 0.454936423119572


def _terms(offsets: np.ndarray, degree: int) -> np.ndarray:
    """The polynomial terms of `degree` (1 or 2) in the offsets (k, d): columns 1, the
    offsets, and with degree 2 their squares and products."""
    k, d = offsets.shape
    columns = [np.ones(k), *offsets.T]
    if degree == 2:
        columns += [offsets[:, a] * offsets[:, b] for a in range(d) for b in range(a, d)]
    return np.stack(columns, axis=1)


def noise_variance(points: np.ndarray, values: np.ndarray) -> float | None:
    """The variance of the noise in `values` (n,) observed at `points` (n, d), from the
    observations alone; None with fewer than `MIN_POINTS` observations or where no
    neighbourhood spans a polynomial.

    Each observation is predicted by least squares from a quadratic through its nearest
    neighbours (in one coordinate the two on either side: exact for cubics where they sit
    evenly), with each coordinate scaled to its range; the residual over the square root of
    its variance factor (1 plus the squared weights of the neighbours) is one draw of the
    noise. Replicates (observations at one point) make the local polynomial their mean."""
    points = np.asarray(points, float).reshape(len(values), -1)
    values = np.asarray(values, float).ravel()
    n, d = points.shape
    span = np.ptp(points, axis=0)
    points = points[:, span > 0] / span[span > 0]
    d = points.shape[1]
    terms = 1 + d + d * (d + 1) // 2
    k = 4 if d <= 1 else 2 * terms
    if n < max(MIN_POINTS, k + 1 + 4):
        return None
    if d == 0:
        return float(np.var(values, ddof=1))
    _, near = cKDTree(points).query(points, k=k + 1)
    draws = []
    for i in range(n):
        others = near[i][near[i] != i][:k]
        basis = _terms(points[others] - points[i], 2)
        weights = np.linalg.pinv(basis)[0]  # prediction at the observation's own point
        if not np.all(np.isfinite(weights)):
            continue
        residual = values[i] - weights @ values[others]
        draws.append(residual**2 / (1.0 + weights @ weights))
    if len(draws) < MIN_POINTS:
        return None
    return float(np.median(draws) / _CHI2_MEDIAN)
