"""Curved shapes: the `Ellipse` (2-D), the `Ball` and the `Cylinder` (3-D).

Boundary draws are uniform in length or area: the ellipse through its arc-length
parametrisation (tabulated once, 2^14 steps), the sphere through Archimedes' map
($z = 2u_1 - 1$, $\\phi = 2\\pi u_2$), the cylinder's side in angle and height and its caps
as disks. Interiors are drawn by rejection from the bounding box. The cylinder's axis is its
third coordinate; its caps are the flat parts `"z = z0"` and `"z = z1"`. NumPy and SymPy only.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy as sp

from pinnkit.domain.base import Measure, _text
from pinnkit.domain.csg import Shape
from pinnkit.domain.distance import PieceDistance
from pinnkit.domain.highdim import VectorBall, is_vector_ball
from pinnkit.domain.shapes import (
    _check_axes,
    _named,
    check_name,
    check_point,
    check_positive,
    check_symbols,
)
from pinnkit.domain.solid import Piece, plane_label

__all__ = ["Ball", "Cylinder", "Ellipse"]

# Steps of the ellipse's arc-length table (trapezoid rule on a smooth periodic integrand:
# the perimeter is exact to round-off).
_ARC_STEPS = 2**14


def _floats(values: tuple) -> np.ndarray:
    return np.array([float(v) for v in values])


class Ellipse(Shape):
    """The ellipse $((x - c_x)/a)^2 + ((y - c_y)/b)^2 \\le 1$, axes along x and y.

    Its signed function is $(\\sqrt{(\\Delta x/a)^2 + (\\Delta y/b)^2} - 1)\\min(a, b)$: zero
    on the ellipse, negative inside (not the exact distance unless a = b).

    **Arguments**

    - `x`, `y`: the coordinate symbols, distinct.
    - `center`: `(cx, cy)`. Default `(0, 0)`.
    - `semi_axes`: `(a, b)`, positive. Default `(1, 1)`.
    - `name`: optional part name of the ellipse.

    **Raises**

    - `ProblemError`: repeated or non-Symbol coordinates, a bad center or semi-axis.
    """

    def __init__(self, x, y, center=(0, 0), semi_axes=(1, 1), *, name: str | None = None) -> None:
        where = f"Ellipse({x}, {y}, center={center!r}, semi_axes={semi_axes!r})"
        self._coords = check_symbols((x, y), where)
        self._center = check_point(center, 2, where, "center")
        pair = check_point(semi_axes, 2, where, "semi_axes")
        self._axes = tuple(check_positive(a, where, "semi-axis") for a in pair)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        (x, y), c, a = self._coords, self._center, self._axes
        return (
            f"Ellipse({x}, {y}, center=({_text(c[0])}, {_text(c[1])}), "
            f"semi_axes=({_text(a[0])}, {_text(a[1])}){_named(self._name)})"
        )

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._coords

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, a = _floats(self._center), _floats(self._axes)
        return c - a, c + a

    def _key(self) -> tuple:
        return (self._coords, self._center, self._axes, self._name)

    def _volume(self) -> Measure:
        a, b = _floats(self._axes)
        return Measure(float(np.pi * a * b), True)

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        c, a = _floats(self._center), _floats(self._axes)
        return (np.linalg.norm((points - c) / a, axis=1) - 1.0) * a.min()

    @cached_property
    def _arc(self) -> tuple[np.ndarray, np.ndarray]:
        """Angles and the arc length up to each, from 0 to the perimeter."""
        a, b = _floats(self._axes)
        angle = np.linspace(0.0, 2 * np.pi, _ARC_STEPS + 1)
        speed = np.hypot(a * np.sin(angle), b * np.cos(angle))
        steps = (speed[1:] + speed[:-1]) / 2 * np.diff(angle)
        return angle, np.concatenate([[0.0], np.cumsum(steps)])

    def _pieces(self) -> tuple[Piece, ...]:
        labels = frozenset({self._name} if self._name else ())
        return (Piece(self, 0, 1, float(self._arc[1][-1]), labels),)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, (a, b) = _floats(self._center), _floats(self._axes)
        angle, arc = self._arc
        theta = np.interp(unit[:, 0] * arc[-1], arc, angle)
        points = c + np.stack([a * np.cos(theta), b * np.sin(theta)], axis=1)
        normals = np.stack([np.cos(theta) / a, np.sin(theta) / b], axis=1)
        return points, normals / np.linalg.norm(normals, axis=1, keepdims=True)

    def _piece_distance(self, index: int) -> PieceDistance:
        (cx, cy), (a, b) = _floats(self._center), _floats(self._axes)
        return PieceDistance("ellipse", (0, 1), (float(cx), float(cy), float(a), float(b)))

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        return np.abs(self._sdf(points)) <= tol


class Ball(Shape):
    """The closed ball $|p - c| \\le R$ in three coordinates; its boundary is the sphere.

    **Arguments**

    - `x`, `y`, `z`: the coordinate symbols, distinct.
    - `center`: `(cx, cy, cz)`. Default the origin.
    - `radius`: positive. Default `1`.
    - `name`: optional part name of the sphere.

    **Raises**

    - `ProblemError`: repeated or non-Symbol coordinates, a bad center or radius.

    Over one `Vector` coordinate, `Ball(x, center=0, radius=1)` is the ball in d dimensions
    (a `pinnkit.domain.highdim.VectorBall`).
    """

    def __new__(cls, *args, **kwargs):
        if is_vector_ball(args, kwargs):
            return VectorBall(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, x, y, z, center=(0, 0, 0), radius=1, *, name: str | None = None):
        where = f"Ball({x}, {y}, {z}, center={center!r}, radius={radius})"
        self._coords = check_symbols((x, y, z), where)
        self._center = check_point(center, 3, where, "center")
        self._radius = check_positive(radius, where, "radius")
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        center = ", ".join(_text(c) for c in self._center)
        x, y, z = self._coords
        radius = _text(self._radius)
        return f"Ball({x}, {y}, {z}, center=({center}), radius={radius}{_named(self._name)})"

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._coords

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, r = _floats(self._center), float(self._radius)
        return c - r, c + r

    def _key(self) -> tuple:
        return (self._coords, self._center, self._radius, self._name)

    def _volume(self) -> Measure:
        return Measure(4 / 3 * np.pi * float(self._radius) ** 3, True)

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        return np.linalg.norm(points - _floats(self._center), axis=1) - float(self._radius)

    def _pieces(self) -> tuple[Piece, ...]:
        labels = frozenset({self._name} if self._name else ())
        return (Piece(self, 0, 2, 4 * np.pi * float(self._radius) ** 2, labels),)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = 2 * unit[:, 0] - 1
        phi = 2 * np.pi * unit[:, 1]
        rho = np.sqrt(np.clip(1 - z**2, 0.0, None))
        normals = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
        return _floats(self._center) + float(self._radius) * normals, normals

    def _piece_distance(self, index: int) -> PieceDistance:
        data = (*map(float, _floats(self._center)), float(self._radius))
        return PieceDistance("sphere", (0, 1, 2), data)

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        return np.abs(self._sdf(points)) <= tol


class Cylinder(Shape):
    """A solid circular cylinder along its third coordinate: `|(x, y) - c| <= R`, `z0 <= z <= z1`.

    Its parts: the side (named by `name=`) and the caps `"z = z0"`, `"z = z1"` (also named).

    **Arguments**

    - `x`, `y`, `z`: the coordinate symbols, distinct; the axis is along `z`.
    - `center`: `(cx, cy)`, the axis's position. Default `(0, 0)`.
    - `radius`: positive. Default `1`.
    - `height`: `(z0, z1)` with `z0 < z1`. Default `(0, 1)`.
    - `name`: optional part name of its whole boundary.

    **Raises**

    - `ProblemError`: repeated or non-Symbol coordinates, a bad center, radius or height.
    """

    def __init__(self, x, y, z, center=(0, 0), radius=1, height=(0, 1), *, name: str | None = None):
        where = f"Cylinder({x}, {y}, {z}, center={center!r}, radius={radius}, height={height!r})"
        self._coords = check_symbols((x, y, z), where)
        self._center = check_point(center, 2, where, "center")
        self._radius = check_positive(radius, where, "radius")
        pair = check_point(height, 2, where, "height")
        ((_, z0, z1),) = _check_axes(((self._coords[2], *pair),), where)
        self._height = (z0, z1)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        x, y, z = self._coords
        c, (z0, z1) = self._center, self._height
        return (
            f"Cylinder({x}, {y}, {z}, center=({_text(c[0])}, {_text(c[1])}), "
            f"radius={_text(self._radius)}, height=({_text(z0)}, {_text(z1)}){_named(self._name)})"
        )

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._coords

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, r, (z0, z1) = _floats(self._center), float(self._radius), _floats(self._height)
        return np.append(c - r, z0), np.append(c + r, z1)

    def _key(self) -> tuple:
        return (self._coords, self._center, self._radius, self._height, self._name)

    def _volume(self) -> Measure:
        z0, z1 = _floats(self._height)
        return Measure(float(np.pi * float(self._radius) ** 2 * (z1 - z0)), True)

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        c, r, (z0, z1) = _floats(self._center), float(self._radius), _floats(self._height)
        radial = np.linalg.norm(points[:, :2] - c, axis=1) - r
        axial = np.abs(points[:, 2] - (z0 + z1) / 2) - (z1 - z0) / 2
        q = np.stack([radial, axial], axis=1)
        return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)

    def _pieces(self) -> tuple[Piece, ...]:
        r, (z0, z1) = float(self._radius), _floats(self._height)
        named = {self._name} if self._name else set()
        pieces = [Piece(self, 0, 2, float(2 * np.pi * r * (z1 - z0)), frozenset(named))]
        for index, value in ((1, self._height[0]), (2, self._height[1])):
            plane = (self._coords[2], value)
            labels = frozenset(named | {plane_label(*plane)})
            pieces.append(Piece(self, index, 2, float(np.pi * r**2), labels, plane))
        return tuple(pieces)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, r, (z0, z1) = _floats(self._center), float(self._radius), _floats(self._height)
        angle = 2 * np.pi * unit[:, 1]
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        n = len(unit)
        if index == 0:
            z = z0 + (z1 - z0) * unit[:, :1]
            return np.hstack([c + r * direction, z]), np.hstack([direction, np.zeros((n, 1))])
        z = np.full((n, 1), z0 if index == 1 else z1)
        disk = c + r * np.sqrt(unit[:, :1]) * direction
        normal = np.zeros((n, 3))
        normal[:, 2] = -1.0 if index == 1 else 1.0
        return np.hstack([disk, z]), normal

    def _piece_distance(self, index: int) -> PieceDistance:
        """The side: the cylinder's function trimmed to its height (`"tube"`); a cap: its
        plane trimmed to its disk (`"disk"`), used where the plane itself cuts the domain."""
        (cx, cy), r, (z0, z1) = _floats(self._center), float(self._radius), _floats(self._height)
        if index == 0:
            return PieceDistance("tube", (0, 1, 2), (cx, cy, r, z0, z1))
        return PieceDistance("disk", (0, 1, 2), (cx, cy, r, z0 if index == 1 else z1))

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        c, r, (z0, z1) = _floats(self._center), float(self._radius), _floats(self._height)
        radial = np.linalg.norm(points[:, :2] - c, axis=1)
        z = points[:, 2]
        if index == 0:
            return (np.abs(radial - r) <= tol) & (z >= z0 - tol) & (z <= z1 + tol)
        return (np.abs(z - (z0 if index == 1 else z1)) <= tol) & (radial <= r + tol)
