"""Tests of `pinnkit.domain.spacetime`: space-time regions and slices, the time interval as
an ODE domain.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.domain import Interval, SpaceTime, TimeInterval
from tests.helpers import seeded_rng

x, y, z, t = sp.symbols("x y z t")


def test_space_time_regions_and_slices() -> None:
    domain = Interval(x, 0, 1) * TimeInterval(t, 0.5, 2)
    assert isinstance(domain, SpaceTime)
    assert domain.coords == (x, t) and domain.space_coords == (x,) and domain.time == t
    assert domain.regions == ("interior", "boundary", "x = 0", "x = 1", "initial", "final")
    np.testing.assert_array_equal(domain.bounds[0], [0, 0.5])
    np.testing.assert_array_equal(domain.bounds[1], [1, 2])
    initial = domain.sample("initial", 8, seeded_rng()).points
    np.testing.assert_array_equal(initial[:, 1], 0.5)
    final = domain.sample(sp.Eq(t, 2), 8, seeded_rng()).points
    np.testing.assert_array_equal(final[:, 1], 2.0)
    right = domain.sample("right", 8, seeded_rng())
    np.testing.assert_array_equal(right.points[:, 0], 1.0)
    np.testing.assert_array_equal(right.normals, [[1.0, 0.0]] * 8)


def test_time_interval_as_ode_domain() -> None:
    domain = TimeInterval(t, 0, 1)
    assert domain.coords == (t,) and domain.space_coords == () and domain.time == t
    assert domain.regions == ("interior", "initial", "final")
    assert domain.part(sp.Eq(t, 0)) == "initial"
    assert domain.part("t = 1") == "final"
    sample = domain.sample("initial", 4, seeded_rng())
    np.testing.assert_array_equal(sample.points, 0.0)
    assert sample.normals is None
