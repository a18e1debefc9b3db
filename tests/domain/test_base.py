"""Tests of the domain interface (`AbstractDomain`) over every domain: sampling shapes and
membership, outward unit normals, reproducibility, part resolution, opposite faces,
`contains`, grids, products, and every error.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from pinnkit.domain import (
    AbstractBox,
    AbstractDomain,
    Box,
    Disk,
    Interval,
    Rectangle,
    Sample,
    SpaceTime,
    TimeInterval,
)
from pinnkit.errors import ProblemError
from tests.helpers import ON_SURFACE_ATOL, seeded_rng

x, y, z, t = sp.symbols("x y z t")


# A step along the normal this long leaves a closed domain that `contains` checks with its
# default tolerance of 1e-9, and is far above the float64 round-off of the points.
NORMAL_STEP = 1e-6


DOMAINS = {
    "interval": Interval(x, 0, 1),
    "rectangle": Rectangle((x, -1, 1), (y, 0, 0.5)),
    "box": Box((x, 0, 1), (y, 0, 2), (z, -1, 0)),
    "disk": Disk(x, y, center=(1, -1), radius=2),
    "time": TimeInterval(t, 0, 2),
    "interval_time": Interval(x, 0, 1) * TimeInterval(t, 0, 1),
    "rectangle_time": Rectangle((x, 0, 1), (y, 0, 1)) * TimeInterval(t, 1, 3),
    "disk_time": Disk(x, y) * TimeInterval(t, 0, 1),
}
CASES = [(key, region) for key, domain in DOMAINS.items() for region in domain.regions]


def _space_boundary(domain: AbstractDomain, region: str) -> bool:
    return region not in ("interior", "initial", "final")


@pytest.mark.parametrize("method", ["uniform", "sobol"])
@pytest.mark.parametrize("key, region", CASES)
def test_sample_shapes_and_membership(key: str, region: str, method: str) -> None:
    domain = DOMAINS[key]
    sample = domain.sample(region, 37, seeded_rng(), method=method)
    assert isinstance(sample, Sample)
    assert sample.points.shape == (37, len(domain.coords))
    assert sample.points.dtype == np.float64
    assert domain.contains(sample.points, region).all()
    assert domain.contains(sample.points, "interior").all()
    if _space_boundary(domain, region):
        assert domain.contains(sample.points, "boundary").all()
        assert sample.normals is not None
        assert sample.normals.shape == sample.points.shape
        assert sample.normals.dtype == np.float64
    else:
        assert sample.normals is None


@pytest.mark.parametrize("key, region", [c for c in CASES if _space_boundary(DOMAINS[c[0]], c[1])])
def test_normals_are_unit_and_outward(key: str, region: str) -> None:
    domain = DOMAINS[key]
    sample = domain.sample(region, 64, seeded_rng(1))
    np.testing.assert_allclose(np.linalg.norm(sample.normals, axis=1), 1.0, atol=ON_SURFACE_ATOL)
    assert not domain.contains(sample.points + NORMAL_STEP * sample.normals).any()
    assert domain.contains(sample.points - NORMAL_STEP * sample.normals).all()
    if domain.time is not None:
        assert (sample.normals[:, -1] == 0).all()


@pytest.mark.parametrize("method", ["uniform", "sobol"])
@pytest.mark.parametrize("key", DOMAINS)
def test_sampling_is_reproducible(key: str, method: str) -> None:
    domain = DOMAINS[key]
    first = domain.sample("interior", 16, seeded_rng(7), method=method).points
    again = domain.sample("interior", 16, seeded_rng(7), method=method).points
    other = domain.sample("interior", 16, seeded_rng(8), method=method).points
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_part_resolution() -> None:
    interval = Interval(x, 0, 1)
    assert interval.part("left") == interval.part(sp.Eq(x, 0)) == "x = 0"
    assert interval.part(sp.Eq(1, x)) == interval.part(sp.Eq(x, 1.0)) == "x = 1"
    assert interval.part("x=1") == interval.part(sp.Eq(x, 0.1 + 0.9)) == "x = 1"
    assert interval.part("boundary") == "boundary"
    rectangle = Rectangle((x, -1, 1), (y, 0, 0.5))
    assert rectangle.regions[2:] == ("x = -1", "x = 1", "y = 0", "y = 0.5")
    assert rectangle.part("bottom") == "y = 0" and rectangle.part("top") == "y = 0.5"
    assert rectangle.part(sp.Eq(y, sp.Rational(1, 2))) == "y = 0.5"
    box = Box((x, 0, 1), (y, 0, 1), (z, 0, sp.pi))
    assert box.part("back") == "z = 0" and box.part("front") == "z = pi"
    space_time = rectangle * TimeInterval(t, 0, 1)
    assert space_time.part("left") == "x = -1"
    assert space_time.part(sp.Eq(t, 0)) == "initial"
    assert space_time.part(sp.Eq(t, 1)) == "final"


def test_opposite() -> None:
    assert Interval(x, 0, 1).opposite("left") == ("x = 1", x, 1.0)
    box = Box((x, 0, 1), (y, -2, 2), (z, 0, 1))
    assert box.opposite(sp.Eq(y, 2)) == ("y = -2", y, -2.0)
    space_time = Rectangle((x, 0, 2), (y, 0, 1)) * TimeInterval(t, 0, 1)
    assert space_time.opposite("x = 2") == ("x = 0", x, 0.0)
    part, symbol, value = space_time.opposite("left")
    points = space_time.sample("left", 5, seeded_rng()).points
    points[:, space_time.coords.index(symbol)] = value
    assert space_time.contains(points, part).all()


def test_contains_is_closed_with_tolerance() -> None:
    domain = Rectangle((x, 0, 1), (y, 0, 1))
    points = np.array([[1 + 1e-12, 0.5], [1.1, 0.5], [0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_array_equal(domain.contains(points), [True, False, True, True])
    np.testing.assert_array_equal(domain.contains(points, "boundary"), [True, False, False, True])
    np.testing.assert_array_equal(domain.contains(points, "right"), [True, False, False, False])
    assert domain.contains(points, tol=0.2).all()


def test_grid() -> None:
    domain = Rectangle((x, 0, 1), (y, -1, 1)) * TimeInterval(t, 0, 2)
    axes = domain.grid({"x": 3, "y": 5, "t": 2})
    assert list(axes) == ["x", "y", "t"]
    np.testing.assert_array_equal(axes["x"], [0, 0.5, 1])
    np.testing.assert_array_equal(axes["t"], [0, 2])
    assert all(len(axis) == 4 for axis in domain.grid(4).values())
    np.testing.assert_array_equal(Disk(x, y, radius=2).grid(3)["y"], [-2, 0, 2])


def test_products_and_types() -> None:
    rectangle = Interval(x, 0, 1) * Interval(y, 0, 2)
    assert isinstance(rectangle, Rectangle) and isinstance(rectangle, AbstractBox)
    assert rectangle == Rectangle((x, 0, 1), (y, 0, 2))
    assert hash(rectangle) == hash(Rectangle((x, 0, 1), (y, 0, 2)))
    box = rectangle * Interval(z, 0, 3)
    assert isinstance(box, Box) and not isinstance(box, Rectangle)
    assert box.coords == (x, y, z) and box.time is None
    assert Interval(x, 0, 1) * TimeInterval(t, 0, 1) == SpaceTime(
        Interval(x, 0, 1), TimeInterval(t, 0, 1)
    )
    assert Interval(x, 0, 1) != Interval(x, 0, 2)


ERRORS = [
    (lambda: Interval("x", 0, 1), "expected a SymPy Symbol"),
    (lambda: Interval(x, 1, 0), r"range of x is \[1, 0\], expected lower end < upper end"),
    (lambda: Interval(x, 1, 1), r"\[1, 1\], expected .* Fix: widen it, e.g. `\(x, 1, 2\)`"),
    (lambda: Interval(x, 0, sp.Symbol("L")), "expected a finite real number"),
    (lambda: Interval(x, 0, sp.oo), "expected a finite real number"),
    (lambda: Interval(x, 0, 1) * Interval(x, 0, 2), "`x` appears more than once"),
    (lambda: Box((x, 0, 1), (y, 0)), r"is not a \(symbol, lo, hi\) tuple"),
    (lambda: Box(), "no axes given"),
    (lambda: Rectangle((x, 0, 1), (y, 0, 1), (z, 0, 1)), "3 axes given, expected exactly 2"),
    (lambda: Disk(x, y, radius=0), "expected a positive number"),
    (lambda: Disk(x, x), "coordinates are x, x, expected 2 distinct symbols"),
    (lambda: Disk(x, y, center=(0,)), "expected 2 numbers"),
    (lambda: Interval(x, 0, 1) * TimeInterval(x, 0, 1), "`x` is both a space coordinate and time"),
    (lambda: SpaceTime(TimeInterval(t, 0, 1), TimeInterval(t, 0, 1)), "expected a space domain"),
    (lambda: SpaceTime(Interval(x, 0, 1), Interval(t, 0, 1)), "expected a TimeInterval"),
    (lambda: TimeInterval(t, 0, 1) * Interval(x, 0, 1), "this product is not supported"),
    (lambda: Disk(x, y) * Interval(z, 0, 1), "this product is not supported"),
    (
        lambda: Interval(x, 0, 1).sample("interior", 4, seeded_rng(), method="sobel"),
        "Did you mean `sobol`",
    ),
    (
        lambda: Interval(x, 0, 1).sample("lft", 4, seeded_rng()),
        "unknown region `lft`.*Did you mean `left`",
    ),
    (lambda: Interval(x, 0, 1).sample("interior", 0, seeded_rng()), "expected a positive integer"),
    (lambda: Interval(x, 0, 1).sample("interior", 4, 0), "expected a numpy.random.Generator"),
    (lambda: Interval(x, 0, 1).contains(np.zeros(3)), r"expected \(n, 1\)"),
    (lambda: Interval(x, 0, 1).part("interior"), "`interior` is not a boundary part"),
    (lambda: Interval(x, 0, 1).part(sp.Eq(y, 0)), "`y = 0` is not of the form.*coordinate among x"),
    (lambda: Interval(x, 0, 1).part(sp.Eq(x, 0.5)), "`x = 0.5` is not on the boundary"),
    (lambda: Disk(x, y).part(sp.Eq(x, 1)), 'no named parts.*on="boundary"'),
    (lambda: Disk(x, y).opposite("boundary"), "has no opposite face"),
    (lambda: Interval(x, 0, 1).grid({"X": 4}), "`X` is not a coordinate.*Did you mean `x`"),
    (lambda: Rectangle((x, 0, 1), (y, 0, 1)).grid({"x": 4}), "no count for y"),
    (lambda: Interval(x, 0, 1).grid(1), "expected an integer >= 2"),
]


@pytest.mark.parametrize("make, match", ERRORS)
def test_errors(make, match: str) -> None:
    with pytest.raises(ProblemError, match=match):
        make()


def test_not_on_boundary_message_is_complete() -> None:
    with pytest.raises(ProblemError) as info:
        Interval(x, 0, 1).part(sp.Eq(x, 2))
    assert str(info.value) == (
        'Interval(x, 0, 1): `x = 2` is not on the boundary. Boundary parts are: "x = 0" (left), '
        '"x = 1" (right). Fix: use one of them, e.g. `on="right"`.'
    )
