"""Tests of `pinnkit.domain.sampling`: box faces get points in proportion to their measure,
Sobol points have lower discrepancy.
"""

from __future__ import annotations

import pytest
import sympy as sp
from scipy.stats import qmc

from pinnkit.domain import Box, Rectangle
from tests.helpers import ON_SURFACE_ATOL, seeded_rng

x, y, z, t = sp.symbols("x y z t")


# Position within a face: U(0, 1) mean over ~1000 points, sd ~ 0.009; 0.05 is over 5 sd.
FACE_MEAN_ATOL = 0.05


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_box_boundary_is_proportional_to_face_measure(method: str) -> None:
    domain = Box((x, 0, 3), (y, 0, 1), (z, 0, 2))
    n = 2200  # total area 2 * (1*2 + 3*2 + 3*1) = 22, so 100 points per unit area
    sample = domain.sample("boundary", n, seeded_rng(3), method=method)
    expected = {"x = 0": 200, "x = 3": 200, "y = 0": 600, "y = 1": 600, "z = 0": 300, "z = 2": 300}
    for part, count in expected.items():
        on = domain.contains(sample.points, part, tol=ON_SURFACE_ATOL)
        assert int(on.sum()) == count, part
    on_left = sample.points[domain.contains(sample.points, "x = 0", tol=ON_SURFACE_ATOL)]
    assert abs(on_left[:, 1].mean() - 0.5) < FACE_MEAN_ATOL
    on_bottom = sample.points[domain.contains(sample.points, "y = 0", tol=ON_SURFACE_ATOL)]
    assert abs(on_bottom[:, 0].mean() / 3 - 0.5) < FACE_MEAN_ATOL


@pytest.mark.parametrize("n", [256, 200])
def test_sobol_has_lower_discrepancy(n: int) -> None:
    domain = Rectangle((x, 0, 2), (y, -1, 1))
    lo, hi = domain.bounds
    uniform = (domain.sample("interior", n, seeded_rng(5)).points - lo) / (hi - lo)
    sobol = (domain.sample("interior", n, seeded_rng(5), method="sobol").points - lo) / (hi - lo)
    assert ((sobol >= 0) & (sobol <= 1)).all()
    assert qmc.discrepancy(sobol) < qmc.discrepancy(uniform)
