"""Tests of `pinnkit.domain.shapes`: interval ends, the disk (uniform in area, contains by
radius), reprs.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from pinnkit.domain import Box, Disk, Interval, Rectangle, TimeInterval
from tests.helpers import seeded_rng

x, y, z, t = sp.symbols("x y z t")


# Disk uniformity: r^2 / R^2 is U(0, 1), whose mean over N points has standard deviation
# sqrt(1 / (12 N)) ~ 0.002 at N = 20_000; 0.01 is five standard deviations.
DISK_N = 20_000
DISK_MEAN_ATOL = 0.01


def test_interval_ends() -> None:
    domain = Interval(x, 2, 5)
    left = domain.sample("left", 9, seeded_rng())
    np.testing.assert_array_equal(left.points, 2.0)
    np.testing.assert_array_equal(left.normals, -1.0)
    ends = domain.sample("boundary", 2, seeded_rng())
    assert sorted(ends.points[:, 0]) == [2.0, 5.0]
    np.testing.assert_array_equal(ends.normals[:, 0], np.where(ends.points[:, 0] == 5, 1, -1))
    both = domain.sample("boundary", 101, seeded_rng())
    assert abs(int((both.points == 2).sum()) - int((both.points == 5).sum())) <= 1


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_disk_is_uniform_in_area(method: str) -> None:
    radius, center = 2.0, np.array([1.0, -1.0])
    domain = Disk(x, y, center=(1, -1), radius=2)
    points = domain.sample("interior", DISK_N, seeded_rng(4), method=method).points
    squared = ((points - center) ** 2).sum(axis=1) / radius**2
    assert abs(squared.mean() - 0.5) < DISK_MEAN_ATOL
    assert abs(points.mean(axis=0) - center).max() < DISK_MEAN_ATOL * radius * 5
    circle = domain.sample("boundary", 256, seeded_rng(4), method=method)
    np.testing.assert_allclose(np.linalg.norm(circle.points - center, axis=1), radius)
    np.testing.assert_allclose(circle.normals, (circle.points - center) / radius, atol=1e-12)


def test_disk_contains_by_radius() -> None:
    domain = Disk(x, y, radius=1)
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.8, 0.7], [0.0, -1.0 - 1e-12]])
    np.testing.assert_array_equal(domain.contains(points), [True, True, False, True])
    np.testing.assert_array_equal(domain.contains(points, "boundary"), [False, True, False, True])


def test_reprs() -> None:
    assert (
        repr(Interval(x, 0, 1) * TimeInterval(t, 0, 1))
        == "Interval(x, 0, 1) × TimeInterval(t, 0, 1)"
    )
    assert repr(Rectangle((x, -1, 1), (y, 0, 0.5))) == "Rectangle((x, -1, 1), (y, 0, 0.5))"
    assert repr(Box((x, 0, 1), (y, 0, 1), (z, 0, sp.pi))) == "Box((x, 0, 1), (y, 0, 1), (z, 0, pi))"
    assert repr(Disk(x, y)) == "Disk(x, y, center=(0, 0), radius=1)"
    assert repr(TimeInterval(t, 0, 10)) == "TimeInterval(t, 0, 10)"
