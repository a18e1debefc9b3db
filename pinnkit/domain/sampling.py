"""`Sample`, and the unit-cube draws that every domain maps into its regions.

Points are drawn from a caller's `numpy.random.Generator` only (uniform or scrambled Sobol),
and split over box faces in proportion to their measure. NumPy and SciPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from pinnkit.config.strategies import SAMPLING_METHODS

__all__ = ["METHODS", "Sample"]

#: How points are drawn: the names `Sampling.method` accepts (one list, in the config).
METHODS = SAMPLING_METHODS


@dataclass(frozen=True, eq=False)
class Sample:
    """Points drawn in one region of a domain.

    **Arguments**

    - `points`: float64 array of shape `(n, len(domain.coords))`, columns in `domain.coords` order.
    - `normals`: unit outward normals, same shape, on boundary regions (time component 0);
      `None` on `"interior"`, `"initial"` and `"final"`.
    """

    points: np.ndarray
    normals: np.ndarray | None = None


def _unit(n: int, dimension: int, rng: np.random.Generator, method: str) -> np.ndarray:
    """Draw `n` points in the unit cube `[0, 1)^dimension`, jointly over all dimensions."""
    if dimension == 0:
        return np.empty((n, 0))
    if method == "uniform":
        return rng.uniform(size=(n, dimension))
    try:
        engine = qmc.Sobol(dimension, scramble=True, rng=rng)
    except TypeError:  # SciPy < 1.15 calls the generator `seed`.
        engine = qmc.Sobol(dimension, scramble=True, seed=rng)
    # The first n of a power-of-two draw keep Sobol's low discrepancy without SciPy's balance
    # warning, which `random(n)` raises for other n.
    return engine.random_base2((n - 1).bit_length())[:n]


def _allocate(n: int, weights: np.ndarray) -> np.ndarray:
    """Split `n` into integer counts proportional to `weights` (largest remainder)."""
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _fill(lo: np.ndarray, hi: np.ndarray, axis: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Points with every coordinate but `axis[i]` taken in turn from `unit[i]` (box faces)."""
    n, d = len(axis), len(lo)
    points = np.empty((n, d))
    for j in range(d):
        if d > 1:
            column = np.where(j < axis, j, j - 1).clip(0, d - 2)
            points[:, j] = lo[j] + (hi[j] - lo[j]) * unit[np.arange(n), column]
    return points
