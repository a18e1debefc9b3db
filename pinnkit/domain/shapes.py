"""Space domains: axis-aligned boxes (`Interval`, `Rectangle`, `Box`) and the `Disk`.

Box faces are named `"x = 0"` with aliases `"left"`, `"right"`, ...; the disk's boundary is
its circle; `name="wall"` names a shape's whole boundary. Both are `Solid`s: their regions are
drawn through exact unit-cube maps, and they combine with `|`, `-`, `&`. NumPy and SymPy only.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.domain.base import (
    AbstractDomain,
    Measure,
    _number,
    _symbol,
    _text,
    unsupported_product,
)
from pinnkit.domain.csg import Shape
from pinnkit.domain.distance import PieceDistance
from pinnkit.domain.sampling import _allocate, _fill
from pinnkit.domain.solid import _ALIASES, Piece, plane_label
from pinnkit.errors import ProblemError

__all__ = ["AbstractBox", "Box", "Disk", "Interval", "Rectangle"]


def check_name(name: object, where: str) -> str | None:
    """A primitive's `name=`: `None` or a part name that cannot be read as anything else."""
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or "=" in name:
        raise ProblemError(
            f"{where}: name is `{name!r}`, expected a non-empty text without `=` that names "
            f'this shape\'s boundary. Fix: e.g. `name="holes"`.'
        )
    if name in ("interior", "boundary", "initial", "final"):
        raise ProblemError(
            f"{where}: name `{name}` is a region every domain has. Fix: another name, e.g. "
            f'`name="wall"`.'
        )
    return name


class AbstractBox(Shape):
    """An axis-aligned box $\\prod_i [lo_i, hi_i]$; `Interval`, `Rectangle` and `Box` fill it in.

    Parts are the faces `"c = lo"` and `"c = hi"` of each coordinate `c`, with aliases
    `"left"`/`"right"`, `"bottom"`/`"top"`, `"back"`/`"front"` for the first three coordinates.
    Whole-boundary samples are spread over faces in proportion to their measure; the normal of
    a face is its axis direction, and a corner belongs to the face it was sampled on.
    """

    _axes: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]
    _exact_map = True

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return tuple(axis[0] for axis in self._axes)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.array([float(axis[1]) for axis in self._axes])
        hi = np.array([float(axis[2]) for axis in self._axes])
        return lo, hi

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "boundary", *self._faces())

    def __mul__(self, other: object) -> AbstractBox:
        """`Interval * Interval` (or any boxes) is the box of their axes; `box * time` is left
        to `TimeInterval` (a `SpaceTime`).

        **Raises**

        `ProblemError` for any other product.
        """
        if isinstance(other, AbstractBox):
            if self._name or other._name:
                raise ProblemError(
                    f"{self!r} * {other!r}: a product of named boxes is not defined (which "
                    f"faces would the names cover?). Fix: name the product, "
                    f"`Box((x, 0, 1), (y, 0, 1), name=...)`, or drop the names."
                )
            return _make_box(self._axes + other._axes, f"{self!r} * {other!r}")
        if isinstance(other, AbstractDomain) and other.time is not None and not other.space_coords:
            return NotImplemented  # a time interval: `TimeInterval.__rmul__` builds space x time
        raise unsupported_product(self, other)

    def __rmul__(self, other: object) -> AbstractBox:
        raise unsupported_product(other, self)

    def _key(self) -> tuple:
        return (self._axes, self._name)

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {
            plane_label(symbol, value): (symbol, value)
            for symbol, lo, hi in self._axes
            for value in (lo, hi)
        }

    def _aliases(self) -> dict[str, str]:
        names = list(self._faces())
        aliases = {
            alias: names[2 * i + side]
            for i, pair in enumerate(_ALIASES[: len(self._axes)])
            for side, alias in enumerate(pair)
        }
        return {**aliases, self._name: "boundary"} if self._name else aliases

    def _parts_text(self) -> str:
        return AbstractDomain._parts_text(self)

    def _measure(self, region: str) -> Measure:
        widths = np.subtract(*self.bounds[::-1])
        if region == "interior":
            return Measure(float(np.prod(widths)), True)
        faces = [np.prod(np.delete(widths, i)) for i in range(len(widths)) for _ in (0, 1)]
        if region == "boundary":
            return Measure(float(sum(faces)), True)
        return Measure(float(faces[list(self._faces()).index(region)]), True)

    def _volume(self) -> Measure:
        return self._measure("interior")

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds
        q = np.abs(points - (lo + hi) / 2) - (hi - lo) / 2
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
        return outside + np.minimum(q.max(axis=1), 0.0)

    def _pieces(self) -> tuple[Piece, ...]:
        d, widths = len(self._axes), np.subtract(*self.bounds[::-1])
        pieces = []
        for index, (label, plane) in enumerate(self._faces().items()):
            labels = {label} | ({self._name} if self._name else set())
            measure = float(np.prod(np.delete(widths, index // 2)))
            pieces.append(Piece(self, index, d - 1, measure, frozenset(labels), plane))
        return tuple(pieces)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._map(list(self._faces())[index], unit)

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        return self._inside(points, list(self._faces())[index], tol)

    def _piece_distance(self, index: int) -> PieceDistance | None:
        lo, hi = self.bounds
        axis, side = divmod(index, 2)
        value = float(hi[axis] if side else lo[axis])
        if len(lo) == 1:
            return PieceDistance("point", (0,), (value,), -1.0 if side else 1.0)
        if len(lo) == 2:
            a, b = np.array([lo, hi], dtype=float)[:, 1 - axis]
            ends = [(value, a), (value, b)] if axis == 0 else [(a, value), (b, value)]
            return PieceDistance("segment", (0, 1), tuple(float(v) for e in ends for v in e))
        return None

    def _dimension(self, region: str) -> int:
        d = len(self._axes)
        return d if region in ("interior", "boundary") else d - 1

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        lo, hi = self.bounds
        n, d = len(unit), len(lo)
        if region == "interior":
            return lo + (hi - lo) * unit, None
        if region == "boundary":
            widths = hi - lo
            measure = np.repeat([np.prod(np.delete(widths, i)) for i in range(d)], 2)
            by_rank = np.repeat(np.arange(2 * d), _allocate(n, measure))
            # The first unit coordinate only orders points among faces, so a joint Sobol draw
            # stays balanced over faces and within each face.
            face = by_rank[np.argsort(np.argsort(unit[:, 0], kind="stable"), kind="stable")]
            unit = unit[:, 1:]
        else:
            face = np.full(n, list(self._faces()).index(region))
        axis, side = face // 2, face % 2
        points = _fill(lo, hi, axis, unit)
        rows = np.arange(n)
        points[rows, axis] = np.where(side == 1, hi[axis], lo[axis])
        normals = np.zeros((n, d))
        normals[rows, axis] = np.where(side == 1, 1.0, -1.0)
        return points, normals

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        lo, hi = self.bounds
        inside = np.all((points >= lo - tol) & (points <= hi + tol), axis=1)
        if region == "interior":
            return inside
        if region == "boundary":
            on = (np.abs(points - lo) <= tol) | (np.abs(points - hi) <= tol)
            return inside & np.any(on, axis=1)
        symbol, value = self._faces()[region]
        return inside & (np.abs(points[:, self.coords.index(symbol)] - float(value)) <= tol)


def _check_axes(axes: tuple, where: str) -> tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]:
    checked = []
    for axis in axes:
        if not (isinstance(axis, tuple) and len(axis) == 3):
            raise ProblemError(
                f"{where}: axis `{axis!r}` is not a (symbol, lo, hi) tuple. Expected e.g. "
                f"`(x, 0, 1)`. Fix: `Box((x, 0, 1), (y, 0, 1), (z, 0, 1))`."
            )
        symbol = _symbol(axis[0], where, "coordinate")
        lo = _number(axis[1], where, f"lower end of {symbol}")
        hi = _number(axis[2], where, f"upper end of {symbol}")
        if not bool(lo < hi):
            fix = (
                f"swap them, `({symbol}, {_text(hi)}, {_text(lo)})`"
                if bool(lo > hi)
                else f"widen it, e.g. `({symbol}, {_text(lo)}, {_text(lo + 1)})`"
            )
            raise ProblemError(
                f"{where}: the range of {symbol} is [{_text(lo)}, {_text(hi)}], expected lower "
                f"end < upper end. Fix: {fix}."
            )
        checked.append((symbol, lo, hi))
    symbols = [axis[0] for axis in checked]
    repeated = sorted({str(s) for s in symbols if symbols.count(s) > 1})
    if repeated:
        raise ProblemError(
            f"{where}: coordinate `{repeated[0]}` appears more than once, expected distinct "
            f'coordinates. Fix: use a new symbol per axis, e.g. `y = sympy.Symbol("y")`.'
        )
    return tuple(checked)


def _make_box(axes: tuple, where: str) -> AbstractBox:
    axes = _check_axes(axes, where)
    return Rectangle(*axes) if len(axes) == 2 else Box(*axes)


class Interval(AbstractBox):
    """The interval $[a, b]$ in the coordinate `x`; parts `"x = a"` (left) and `"x = b"` (right).

    **Arguments**

    - `x`: the coordinate symbol.
    - `a`, `b`: the ends, numbers with `a < b` (`sympy.pi` is fine).
    - `name`: optional part name of both ends (in a union of intervals, say).

    **Raises**

    - `ProblemError`: `x` is not a Symbol, an end is not a number, or `a >= b`.
    """

    def __init__(self, x: sp.Symbol, a: object, b: object, *, name: str | None = None) -> None:
        where = f"Interval({x}, {a}, {b})"
        self._axes = _check_axes(((x, a, b),), where)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        x, a, b = self._axes[0]
        return f"Interval({x}, {_text(a)}, {_text(b)}{_named(self._name)})"


class Box(AbstractBox):
    """An axis-aligned box in any number of dimensions, e.g. `Box((x, 0, 1), (y, 0, 1), (z, 0, 2))`.

    **Arguments**

    - `*axes`: one `(symbol, lo, hi)` tuple per coordinate, with `lo < hi`, distinct symbols.
    - `name`: optional part name of the whole boundary (its faces keep their own names).

    **Raises**

    - `ProblemError`: a malformed axis, a non-Symbol, `lo >= hi`, or a repeated symbol.
    """

    def __init__(self, *axes: tuple[sp.Symbol, object, object], name: str | None = None) -> None:
        where = "Box(" + ", ".join(map(repr, axes)) + ")"
        if not axes:
            raise ProblemError(
                f"{where}: no axes given, expected at least one `(symbol, lo, hi)`. "
                f"Fix: `Box((x, 0, 1), (y, 0, 1), (z, 0, 1))`."
            )
        self._axes = _check_axes(axes, where)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        axes = ", ".join(f"({s}, {_text(a)}, {_text(b)})" for s, a, b in self._axes)
        return f"Box({axes}{_named(self._name)})"


class Rectangle(AbstractBox):
    """The rectangle $[x_0, x_1] \\times [y_0, y_1]$: `Rectangle((x, 0, 1), (y, 0, 2))`.

    Same as a two-axis `Box`, with the aliases `"left"`, `"right"`, `"bottom"`, `"top"`;
    `name="outer"` names its whole boundary (in a combined shape: the part it keeps).

    **Raises**

    - `ProblemError`: not exactly two axes, or any `Box` error.
    """

    def __init__(self, *axes: tuple[sp.Symbol, object, object], name: str | None = None) -> None:
        where = "Rectangle(" + ", ".join(map(repr, axes)) + ")"
        if len(axes) != 2:
            raise ProblemError(
                f"{where}: {len(axes)} axes given, expected exactly 2, each a "
                f"`(symbol, lo, hi)` tuple. Fix: `Rectangle((x, 0, 1), (y, 0, 2))`; "
                f"`Interval` for one axis, `Box(...)` for three or more."
            )
        self._axes = _check_axes(axes, where)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        (x, x0, x1), (y, y0, y1) = self._axes
        axes = f"({x}, {_text(x0)}, {_text(x1)}), ({y}, {_text(y0)}, {_text(y1)})"
        return f"Rectangle({axes}{_named(self._name)})"


def _named(name: str | None) -> str:
    return f", name={name!r}" if name else ""


class Disk(Shape):
    """The closed disk $|(x, y) - c| \\le R$; its boundary is the circle.

    Interior points are uniform in area: $r = R\\sqrt{u_1}$, $\\theta = 2\\pi u_2$ (Sobol draws
    go through the same map). Normals on the circle are radial (into the hole when the disk is
    subtracted: `square - Disk(x, y, (0, 0), 0.1, name="hole")`).

    **Arguments**

    - `x`, `y`: the coordinate symbols, distinct.
    - `center`: `(cx, cy)`, numbers. Default `(0, 0)`.
    - `radius`: a positive number. Default `1`.
    - `name`: optional part name of the circle, e.g. `"holes"` (shared by several disks).

    **Raises**

    - `ProblemError`: non-Symbol or repeated coordinates, a bad center, or `radius <= 0`.
    """

    _exact_map = True

    def __init__(
        self,
        x: sp.Symbol,
        y: sp.Symbol,
        center: tuple = (0, 0),
        radius: object = 1,
        *,
        name: str | None = None,
    ) -> None:
        where = f"Disk({x}, {y}, center={center!r}, radius={radius})"
        self._x, self._y = check_symbols((x, y), where)
        self._center = check_point(center, 2, where, "center")
        self._radius = check_positive(radius, where, "radius")
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        cx, cy = (_text(c) for c in self._center)
        radius = _text(self._radius)
        return (
            f"Disk({self._x}, {self._y}, center=({cx}, {cy}), radius={radius}{_named(self._name)})"
        )

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return (self._x, self._y)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        center, radius = np.array([float(c) for c in self._center]), float(self._radius)
        return center - radius, center + radius

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "boundary")

    def _key(self) -> tuple:
        return (self._x, self._y, self._center, self._radius, self._name)

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {}

    def _aliases(self) -> dict[str, str]:
        return {self._name: "boundary"} if self._name else {}

    def _measure(self, region: str) -> Measure:
        radius = float(self._radius)
        return Measure(np.pi * radius**2 if region == "interior" else 2 * np.pi * radius, True)

    def _volume(self) -> Measure:
        return self._measure("interior")

    def _dimension(self, region: str) -> int:
        return 2 if region == "interior" else 1

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        center, radius = np.array([float(c) for c in self._center]), float(self._radius)
        angle = 2 * np.pi * unit[:, -1]
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        if region == "interior":
            return center + radius * np.sqrt(unit[:, :1]) * direction, None
        return center + radius * direction, direction

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        center = np.array([float(c) for c in self._center])
        return np.linalg.norm(points - center, axis=1) - float(self._radius)

    def _pieces(self) -> tuple[Piece, ...]:
        labels = frozenset({self._name} if self._name else ())
        return (Piece(self, 0, 1, 2 * np.pi * float(self._radius), labels),)

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._map("boundary", unit)

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        return np.abs(self._sdf(points)) <= tol

    def _piece_distance(self, index: int) -> PieceDistance:
        cx, cy = (float(c) for c in self._center)
        return PieceDistance("sphere", (0, 1), (cx, cy, float(self._radius)))

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        distance = self._sdf(points)
        return distance <= tol if region == "interior" else np.abs(distance) <= tol


def check_symbols(symbols: tuple, where: str) -> tuple[sp.Symbol, ...]:
    """Coordinate symbols of a shape: Symbols, all distinct."""
    checked = tuple(_symbol(s, where, "coordinate") for s in symbols)
    if len(set(checked)) != len(checked):
        names = " ".join("xyz"[: len(checked)])
        raise ProblemError(
            f"{where}: the coordinates are {', '.join(map(str, checked))}, expected "
            f"{len(checked)} distinct symbols. Fix: `{names.replace(' ', ', ')} = "
            f'sympy.symbols("{names}")`.'
        )
    return checked


def check_point(value: object, d: int, where: str, role: str) -> tuple[sp.Expr, ...]:
    """A point of `d` numbers (a center, a vertex)."""
    if not (isinstance(value, (tuple, list)) and len(value) == d):
        raise ProblemError(
            f"{where}: {role} is `{value!r}`, expected {d} numbers. "
            f"Fix: e.g. `{role}=({', '.join(['0'] * d)})`."
        )
    return tuple(_number(c, where, f"{role} coordinate") for c in value)


def check_positive(value: object, where: str, role: str) -> sp.Expr:
    """A positive number (a radius, a semi-axis)."""
    number = _number(value, where, role)
    if not bool(number > 0):
        raise ProblemError(
            f"{where}: {role} is {_text(number)}, expected a positive number. Fix: e.g. `{role}=1`."
        )
    return number
