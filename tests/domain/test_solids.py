"""Tests of the primitives `Polygon`, `Triangle`, `Ellipse`, `Ball`, `Cylinder` and of the
`Solid` protocol every shape keeps: samples on their region, unit outward normals, measures
against closed forms, draws uniform in length or area, signed distances against brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from matplotlib.path import Path

import pinnkit as pk
from pinnkit.errors import ProblemError
from tests.helpers import seeded_rng

x, y, z = sp.symbols("x y z")

# Points drawn on a boundary lie on it to round-off: maps are closed forms of size ~1, so
# |sdf| ~ 1e-16; 1e-12 fails on any wrong radius, offset or parametrisation.
ON_ATOL = 1e-12
# A step of this length along the normal leaves a convex shape and a step against it enters
# (the shapes here have sizes ~1, so the step is far below any curvature radius).
NORMAL_STEP = 1e-6
# Shares of uniform draws: the standard deviation of a share p over N = 20,000 independent
# points is sqrt(p (1 - p) / N) <= 0.0035; 0.015 is over four standard deviations.
N = 20_000
SHARE_ATOL = 0.015

L_SHAPE = [(0, 0), (2, 0), (2, 2), (1, 2), (1, 1), (0, 1)]

SHAPES = {
    "triangle": lambda: pk.Triangle(x, y, (0, 0), (1, 0), (0, 2), name="edge"),
    "l_shape": lambda: pk.Polygon(x, y, L_SHAPE, name="wall"),
    "ellipse": lambda: pk.Ellipse(x, y, (1, -1), (2, 0.5), name="rim"),
    "ball": lambda: pk.Ball(x, y, z, (0, 1, 0), 0.5, name="sphere"),
    "cylinder": lambda: pk.Cylinder(x, y, z, (0, 0), 0.5, (0, 2), name="pipe"),
}
MEASURES = {
    "triangle": (1.0, 3 + np.sqrt(5)),
    "l_shape": (3.0, 8.0),
    "ellipse": (np.pi, None),  # the perimeter is checked against quadrature below
    "ball": (4 / 3 * np.pi / 8, np.pi),
    "cylinder": (np.pi / 2, 2 * np.pi * 0.5 * 2 + 2 * np.pi * 0.25),
}


@pytest.mark.parametrize("kind", SHAPES)
@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_samples_lie_in_their_regions(kind: str, method: str) -> None:
    shape = SHAPES[kind]()
    inner = shape.sample("interior", 2000, seeded_rng(), method=method)
    assert inner.normals is None
    assert np.all(shape._sdf(inner.points) <= 0)
    edge = shape.sample("boundary", 2000, seeded_rng(1), method=method)
    assert np.abs(shape._sdf(edge.points)).max() <= ON_ATOL
    np.testing.assert_allclose(np.linalg.norm(edge.normals, axis=1), 1.0, atol=ON_ATOL)
    # all these shapes are convex except the L, whose normals are checked edge by edge below
    if kind != "l_shape":
        assert np.all(shape._sdf(edge.points + NORMAL_STEP * edge.normals) > 0)
        assert np.all(shape._sdf(edge.points - NORMAL_STEP * edge.normals) < 0)
    assert shape.contains(edge.points, shape.name).all()


@pytest.mark.parametrize("kind", SHAPES)
def test_measures_are_the_closed_forms(kind: str) -> None:
    shape = SHAPES[kind]()
    volume, boundary = MEASURES[kind]
    assert shape.measure() == pk.domain.Measure(pytest.approx(volume, rel=1e-12), True)
    if boundary is not None:
        assert shape.measure("boundary").value == pytest.approx(boundary, rel=1e-12)


def test_ellipse_perimeter_and_arc_length_uniformity() -> None:
    a, b = 2.0, 0.5
    shape = pk.Ellipse(x, y, (0, 0), (a, b))
    theta = np.linspace(0, 2 * np.pi, 200_001)
    speed = np.hypot(a * np.sin(theta), b * np.cos(theta))
    perimeter = np.trapezoid(speed, theta)
    assert shape.measure("boundary").value == pytest.approx(perimeter, rel=1e-10)
    # the share of arc with |x| < 1 (steep flanks near the minor axis) by quadrature
    near = np.abs(a * np.cos(theta)) < 1
    share = np.trapezoid(speed * near, theta) / perimeter
    points = shape.sample("boundary", N, seeded_rng(2)).points
    assert np.mean(np.abs(points[:, 0]) < 1) == pytest.approx(share, abs=SHARE_ATOL)


def test_polygon_signed_distance_matches_brute_force() -> None:
    shape = pk.Polygon(x, y, L_SHAPE)
    probe = seeded_rng(3).uniform(-0.5, 2.5, size=(3000, 2))
    inside = Path(np.array(L_SHAPE)).contains_points(probe)
    sdf = shape._sdf(probe)
    assert np.array_equal(sdf < 0, inside)
    corners = np.array(L_SHAPE, dtype=float)
    dense = np.concatenate(
        [
            a + np.linspace(0, 1, 4001)[:, None] * (b - a)
            for a, b in zip(corners, np.roll(corners, -1, 0))
        ]
    )
    nearest = np.min(np.linalg.norm(probe[:, None] - dense[None], axis=2), axis=1)
    # dense edge points every 2/4000 apart: the brute-force distance is over by <= 2.5e-4
    np.testing.assert_allclose(np.abs(sdf), nearest, atol=3e-4)


def test_polygon_edges_have_outward_normals_and_plane_names() -> None:
    shape = pk.Polygon(x, y, L_SHAPE[::-1])  # clockwise input is reoriented
    assert set(shape.regions) == {
        "interior", "boundary", "x = 0", "x = 1", "x = 2", "y = 0", "y = 1", "y = 2"
    }  # fmt: skip
    assert shape.part("left") == "x = 0" and shape.part("top") == "y = 2"
    drawn = shape.sample("boundary", 4000, seeded_rng(4))
    assert np.all(shape._sdf(drawn.points + NORMAL_STEP * drawn.normals) > 0)
    inner_step = drawn.points - NORMAL_STEP * drawn.normals
    away_from_corners = np.min(np.abs(drawn.points[:, :, None] - [0, 1, 2]), axis=2).max(1) > 1e-4
    assert np.all(shape._sdf(inner_step[away_from_corners]) < 0)
    step = shape.sample("y = 1", 50, seeded_rng())
    np.testing.assert_array_equal(step.points[:, 1], 1.0)
    assert np.all((step.points[:, 0] >= 0) & (step.points[:, 0] <= 1))
    np.testing.assert_array_equal(step.normals, [[0.0, 1.0]] * 50)


def test_boundary_draws_are_uniform_in_length() -> None:
    shape = pk.Polygon(x, y, L_SHAPE)
    points = shape.sample("boundary", N, seeded_rng(5)).points
    on_bottom = np.mean(np.abs(points[:, 1]) < 1e-12)
    assert on_bottom == pytest.approx(2 / 8, abs=SHARE_ATOL)


def test_cylinder_caps_and_ball_sphere_uniformity() -> None:
    cylinder = SHAPES["cylinder"]()
    assert cylinder.part("z = 2") == "z = 2" and cylinder.part("front") == "z = 2"
    cap = cylinder.sample("z = 0", 100, seeded_rng())
    np.testing.assert_array_equal(cap.normals, [[0.0, 0.0, -1.0]] * 100)
    ball = pk.Ball(x, y, z)
    points = ball.sample("boundary", N, seeded_rng(6)).points
    # Archimedes: the height of a uniform point on the sphere is uniform on [-1, 1]
    assert np.mean(points[:, 2] > 0.5) == pytest.approx(0.25, abs=SHARE_ATOL)


ERRORS = [
    (lambda: pk.Polygon(x, y, [(0, 0), (1, 0)]), "at least 3 vertices"),
    (lambda: pk.Polygon(x, y, [(0, 0), (1, 0), (2, 0)]), "zero area"),
    (lambda: pk.Polygon(x, y, [(0, 0), (1, 1), (1, 0), (0, 1)]), "cross"),
    (lambda: pk.Polygon(x, y, [(0, 0), (1, 0), (1, 0), (0, 1)]), "same point"),
    (lambda: pk.Polygon(x, y, [(0, 0), (1, 0), (0, "a")]), "finite real number"),
    (lambda: pk.Polygon(x, x, [(0, 0), (1, 0), (0, 1)]), "distinct"),
    (lambda: pk.Ellipse(x, y, (0, 0), (1, 0)), "positive"),
    (lambda: pk.Ball(x, y, y), "distinct"),
    (lambda: pk.Cylinder(x, y, z, height=(1, 0)), "lower end < upper end"),
    (lambda: pk.Disk(x, y, name="a = b"), "without `=`"),
    (lambda: pk.Disk(x, y, name="boundary"), "a region every domain has"),
]


@pytest.mark.parametrize("make, match", ERRORS)
def test_errors(make, match: str) -> None:
    with pytest.raises(ProblemError, match=match):
        make()


def test_named_primitive_alone_names_its_boundary() -> None:
    disk = pk.Disk(x, y, radius=2, name="wall")
    assert disk.part("wall") == "boundary"
    box = pk.Rectangle((x, 0, 1), (y, 0, 1), name="walls")
    assert box.part("walls") == "boundary" and box.part("left") == "x = 0"
    assert "walls" in repr(box) and box != pk.Rectangle((x, 0, 1), (y, 0, 1))
