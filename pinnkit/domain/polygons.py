"""Plane shapes with straight sides: `Polygon` (any simple polygon) and `Triangle`.

The signed distance is exact: the distance to the nearest edge, negative inside (even-odd
rule). Each edge is a boundary piece; an axis-aligned edge also belongs to the part named by
its line (`"x = 0"`), so the inlet of a channel drawn as a polygon is `on="x = 0"`. Interior
points are drawn by rejection from the bounding box. NumPy and SymPy only.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.domain.base import Measure, _text
from pinnkit.domain.csg import Shape
from pinnkit.domain.distance import PieceDistance
from pinnkit.domain.shapes import _named, check_name, check_point, check_symbols
from pinnkit.domain.solid import Piece, plane_label
from pinnkit.errors import ProblemError

__all__ = ["Polygon", "Triangle"]

# Points are tested against edges in blocks of this many, to bound memory (points x edges).
_BLOCK = 65536


class Polygon(Shape):
    """A simple polygon in the plane of `x` and `y`, from its vertices in order.

    **Arguments**

    - `x`, `y`: the coordinate symbols, distinct.
    - `vertices`: at least 3 `(x, y)` pairs of numbers, in order around the polygon (either
      direction; the last is joined to the first). The sides may not cross or touch.
    - `name`: optional part name of all its sides.

    **Raises**

    - `ProblemError`: fewer than 3 vertices, a vertex that is not two numbers, repeated
      vertices, sides that cross, or zero area.
    """

    def __init__(self, x: sp.Symbol, y: sp.Symbol, vertices, *, name: str | None = None) -> None:
        where = f"{type(self).__name__}({x}, {y}, {vertices!r})"
        self._x, self._y = check_symbols((x, y), where)
        if not isinstance(vertices, (list, tuple)) or len(vertices) < 3:
            raise ProblemError(
                f"{where}: expected at least 3 vertices as `(x, y)` pairs. "
                f"Fix: e.g. `[(0, 0), (1, 0), (0, 1)]`."
            )
        exact = [check_point(v, 2, where, "vertex") for v in vertices]
        corners = np.array([[float(a), float(b)] for a, b in exact])
        _check_simple(corners, where)
        if _signed_area(corners) < 0:  # store counter-clockwise: outward normals on the right
            exact, corners = exact[::-1], corners[::-1]
        self._exact, self._corners = tuple(exact), np.ascontiguousarray(corners)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        corners = ", ".join(f"({_text(a)}, {_text(b)})" for a, b in self._exact)
        return f"{type(self).__name__}({self._x}, {self._y}, [{corners}]{_named(self._name)})"

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return (self._x, self._y)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._corners.min(axis=0), self._corners.max(axis=0)

    def _key(self) -> tuple:
        return (self._x, self._y, self._exact, self._name)

    def _volume(self) -> Measure:
        return Measure(_signed_area(self._corners), True)

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        start = self._corners
        return start, np.roll(start, -1, axis=0) - start

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for i in range(0, len(points), _BLOCK):
            out[i : i + _BLOCK] = self._sdf_block(points[i : i + _BLOCK])
        return out

    def _sdf_block(self, points: np.ndarray) -> np.ndarray:
        start, edge = self._edges()
        rel = points[:, None, :] - start[None]  # (n, m, 2)
        t = np.clip((rel * edge).sum(-1) / (edge**2).sum(-1), 0.0, 1.0)
        distance = np.sqrt(((rel - t[..., None] * edge) ** 2).sum(-1).min(axis=1))
        y0, y1 = start[:, 1], start[:, 1] + edge[:, 1]
        px, py = points[:, :1], points[:, 1:]
        straddle = (y0 <= py) != (y1 <= py)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = start[:, 0] + (py - y0) * edge[:, 0] / edge[:, 1]
        inside = (np.count_nonzero(straddle & (px < cross_x), axis=1) % 2) == 1
        return np.where(inside, -distance, distance)

    def _pieces(self) -> tuple[Piece, ...]:
        start, edge = self._edges()
        pieces = []
        for i in range(len(start)):
            labels, plane = {self._name} if self._name else set(), None
            j = (i + 1) % len(start)
            for axis, symbol in enumerate((self._x, self._y)):
                if self._exact[i][axis] == self._exact[j][axis]:
                    plane = (symbol, self._exact[i][axis])
                    labels.add(plane_label(*plane))
            length = float(np.hypot(*edge[i]))
            pieces.append(Piece(self, i, 1, length, frozenset(labels), plane))
        return tuple(pieces)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, edge = self._edges()
        points = start[index] + unit[:, :1] * edge[index]
        normal = np.array([edge[index, 1], -edge[index, 0]]) / np.hypot(*edge[index])
        return points, np.repeat(normal[None], len(unit), axis=0)

    def _piece_distance(self, index: int) -> PieceDistance:
        start, edge = self._edges()
        end = start[index] + edge[index]
        return PieceDistance("segment", (0, 1), (*map(float, start[index]), *map(float, end)))

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        start, edge = self._edges()
        rel = points - start[index]
        t = np.clip(rel @ edge[index] / (edge[index] @ edge[index]), 0.0, 1.0)
        return np.linalg.norm(rel - t[:, None] * edge[index], axis=1) <= tol


class Triangle(Polygon):
    """The triangle with corners `a`, `b`, `c` (each `(x, y)`), a `Polygon` of three vertices.

    **Raises**

    - `ProblemError`: as `Polygon` (the corners must not lie on one line).
    """

    def __init__(self, x: sp.Symbol, y: sp.Symbol, a, b, c, *, name: str | None = None) -> None:
        super().__init__(x, y, [a, b, c], name=name)


def _signed_area(corners: np.ndarray) -> float:
    x, y = corners[:, 0], corners[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _check_simple(corners: np.ndarray, where: str) -> None:
    """Refuse repeated vertices, zero area and sides that cross or touch (O(m^2) test)."""
    m = len(corners)
    scale = float(np.ptp(corners, axis=0).max())
    for i in range(m):
        for j in range(i + 1, m):
            if np.linalg.norm(corners[i] - corners[j]) <= 1e-12 * max(scale, 1.0):
                raise ProblemError(
                    f"{where}: vertices {i} and {j} are the same point {tuple(corners[i])}. "
                    f"Fix: list each corner once (the polygon closes itself)."
                )
    for i in range(m):
        for j in range(i + 2, m):
            if i == 0 and j == m - 1:
                continue  # neighbours through the closing side
            a, b = corners[i], corners[(i + 1) % m]
            c, d = corners[j], corners[(j + 1) % m]
            if _segments_meet(a, b, c, d):
                raise ProblemError(
                    f"{where}: sides {i}-{(i + 1) % m} and {j}-{(j + 1) % m} cross, so the "
                    f"polygon is not simple. Fix: order the vertices around the boundary, or "
                    f"build the shape from simple pieces with `|` and `-`."
                )
    if abs(_signed_area(corners)) <= 1e-12 * max(scale, 1.0) ** 2:
        raise ProblemError(
            f"{where}: the vertices lie on one line (zero area). Fix: check the corners."
        )


def _segments_meet(a, b, c, d) -> bool:
    def orient(p, q, r) -> float:
        return float((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    def on(p, q, r) -> bool:  # r on segment pq, given collinear
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    if (o1 > 0) != (o2 > 0) and (o3 > 0) != (o4 > 0) and o1 * o2 < 0 and o3 * o4 < 0:
        return True
    return (
        (o1 == 0 and on(a, b, c))
        or (o2 == 0 and on(a, b, d))
        or (o3 == 0 and on(c, d, a))
        or (o4 == 0 and on(c, d, b))
    )
