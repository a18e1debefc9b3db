"""Geometry of a problem: intervals, boxes, disks, time intervals and space-time products.

A domain knows its coordinate symbols (space first, then time), samples points in named regions
from a caller's `numpy.random.Generator`, gives unit outward normals on boundaries and resolves
boundary parts given as names (`"left"`) or equations (`Eq(x, 1)`). NumPy, SciPy and SymPy only.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.stats import qmc

from pinnkit.errors import ProblemError, did_you_mean

__all__ = [
    "METHODS",
    "AbstractDomain",
    "AbstractBox",
    "Box",
    "Disk",
    "Interval",
    "Rectangle",
    "Sample",
    "SpaceTime",
    "TimeInterval",
]

METHODS = ("uniform", "sobol")
# `Eq(x, v)` names a face when |v - face| <= _EQ_RTOL * max(1, |face|): floats written by hand
# (0.1 + 0.2) differ from the exact face value in the last bits, never by more.
_EQ_RTOL = 1e-12
# Aliases of the low/high faces of the first, second and third coordinate.
_ALIASES = (("left", "right"), ("bottom", "top"), ("back", "front"))


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


def _symbol(value: object, where: str, role: str) -> sp.Symbol:
    if not isinstance(value, sp.Symbol):
        name = value if isinstance(value, str) else "x"
        raise ProblemError(
            f"{where}: the {role} is `{value!r}` ({type(value).__name__}), expected a SymPy "
            f'Symbol. Fix: `{name} = sympy.Symbol("{name}")` and pass `{name}`.'
        )
    return value


def _number(value: object, where: str, role: str) -> sp.Expr:
    try:
        number = sp.sympify(value)
    except (sp.SympifyError, TypeError):
        number = None
    if not (isinstance(number, sp.Expr) and number.is_real and number.is_finite):
        raise ProblemError(
            f"{where}: the {role} is `{value!r}`, expected a finite real number. "
            f"Fix: pass a number such as `0`, `1.5` or `sympy.pi`."
        )
    return number


def _text(value: sp.Expr) -> str:
    """Print a bound as SymPy does, but floats as Python does (`0.5`, not `0.500000000000000`)."""
    return repr(float(value)) if isinstance(value, sp.Float) else sp.sstr(value)


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


class AbstractDomain(abc.ABC):
    """A region of space, of time, or of both, in which a problem is posed.

    `coords` lists the space coordinates in order and then time, if any; this order is the
    column order of every points array. Regions are `"interior"`, `"boundary"` (space domains),
    `"initial"` and `"final"` (domains with time) and named boundary parts such as `"x = 0"`.
    Every method that takes a region also accepts a part's alias (`"left"`) or an equation
    (`"x = 0"` or `Eq(x, 0)`). Regions are closed sets.
    """

    @property
    @abc.abstractmethod
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        """The space coordinate symbols, in order."""

    @property
    @abc.abstractmethod
    def time(self) -> sp.Symbol | None:
        """The time symbol, or `None` for a purely spatial domain."""

    @property
    @abc.abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounding box `(lo, hi)`, float64 arrays of length `len(coords)`."""

    @property
    @abc.abstractmethod
    def regions(self) -> tuple[str, ...]:
        """The canonical region names."""

    @abc.abstractmethod
    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        """Axis-aligned parts: canonical name -> (coordinate, value)."""

    @abc.abstractmethod
    def _aliases(self) -> dict[str, str]:
        """Alias -> canonical part name."""

    @abc.abstractmethod
    def _dimension(self, region: str) -> int:
        """How many unit-cube coordinates `_map` needs per point of `region`."""

    @abc.abstractmethod
    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Map unit-cube points to (points, normals) in `region`; measure-preserving."""

    @abc.abstractmethod
    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        """Boolean mask of `points` lying in the canonical `region`."""

    @abc.abstractmethod
    def _key(self) -> tuple:
        """What makes two domains equal."""

    @abc.abstractmethod
    def __repr__(self) -> str: ...

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """All coordinate symbols: space in order, then time if any."""
        return self.space_coords + ((self.time,) if self.time is not None else ())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __mul__(self, other: TimeInterval) -> SpaceTime | AbstractBox:
        """`space * TimeInterval(t, 0, 1)` is a `SpaceTime`; `Interval * Interval` a box.

        **Raises**

        - `ProblemError`: for any other product (time first, two times, a disk with an interval).
        """
        if isinstance(other, TimeInterval) and not isinstance(self, (TimeInterval, SpaceTime)):
            return SpaceTime(self, other)
        if isinstance(self, AbstractBox) and isinstance(other, AbstractBox):
            return _make_box(self._axes + other._axes, f"{self!r} * {other!r}")
        raise ProblemError(
            f"{self!r} * {other!r}: this product is not supported. Expected a space domain "
            f"times a `TimeInterval`, or a product of intervals and boxes (axis-aligned). "
            f"Fix: write `space * TimeInterval(t, 0, 1)` with space first, e.g. "
            f"`Interval(x, 0, 1) * TimeInterval(t, 0, 1)`."
        )

    def sample(
        self, region: str, n: int, rng: np.random.Generator, *, method: str = "uniform"
    ) -> Sample:
        """Draw `n` points uniformly (in measure) in `region`.

        **Arguments**

        - `region`: a name from `regions`, an alias such as `"left"`, or `"x = 0"` / `Eq(x, 0)`.
        - `n`: number of points, a positive integer.
        - `rng`: the only source of randomness.
        - `method`: `"uniform"` (independent draws) or `"sobol"` (scrambled Sobol sequence,
          drawn jointly in all dimensions of the region; seeded from `rng`).

        **Returns**

        A `Sample`: `points` of shape `(n, len(coords))`, and unit outward `normals` on
        boundary regions. Box faces get counts proportional to their measure, exact up to
        rounding (largest remainder), so both ends of an interval are always represented.

        **Raises**

        - `ProblemError`: unknown region or method, bad `n` or `rng`.
        """
        where = f"{self!r}.sample"
        if method not in METHODS:
            raise ProblemError(
                f"{where}: unknown method `{method}`. Expected one of "
                f"{', '.join(map(repr, METHODS))}.{did_you_mean(method, METHODS)} "
                f'Fix: `method="sobol"`.'
            )
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ProblemError(
                f"{where}: `n` is `{n!r}`, expected a positive integer. Fix: e.g. `n=1024`."
            )
        if not isinstance(rng, np.random.Generator):
            raise ProblemError(
                f"{where}: `rng` is a {type(rng).__name__}, expected a numpy.random.Generator "
                f"(pinnkit never uses global random state). Fix: `rng=numpy.random.default_rng(0)`."
            )
        name = self._resolve(region, where)
        unit = _unit(int(n), self._dimension(name), rng, method)
        points, normals = self._map(name, unit)
        return Sample(np.ascontiguousarray(points, dtype=np.float64), normals)

    def contains(
        self, points: np.ndarray, region: str = "interior", *, tol: float = 1e-9
    ) -> np.ndarray:
        """Which points lie in `region` (closed), up to `tol` in every coordinate.

        **Arguments**

        - `points`: array of shape `(n, len(coords))`.
        - `region`: as in `sample`; on `"boundary"` or a part, *on* it within `tol`.
        - `tol`: absolute tolerance.

        **Returns**

        Boolean array of shape `(n,)`.

        **Raises**

        - `ProblemError`: unknown region, or `points` of the wrong shape.
        """
        where = f"{self!r}.contains"
        array = np.asarray(points, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(self.coords):
            raise ProblemError(
                f"{where}: points have shape {array.shape}, expected (n, {len(self.coords)}) "
                f"with columns {', '.join(map(str, self.coords))}. "
                f"Fix: stack the columns, e.g. `numpy.stack([x, ...], axis=1)`."
            )
        return self._inside(array, self._resolve(region, where), float(tol))

    def part(self, spec: str | sp.Eq) -> str:
        """Canonical name of a boundary part (or of `"boundary"`, `"initial"`, `"final"`).

        **Arguments**

        - `spec`: a canonical name (`"x = 1"`), an alias (`"right"`), or an equation
          (`Eq(x, 1)`, `Eq(1, x)`, `"x=1"`); values match within a relative 1e-12.

        **Returns**

        The canonical region name, e.g. `"x = 1"`.

        **Raises**

        - `ProblemError`: `spec` is not on the boundary; the message lists the parts.
        """
        where = repr(self)
        name = self._resolve(spec, where)
        if name == "interior":
            raise ProblemError(
                f"{where}: `interior` is not a boundary part. Expected one of: "
                f"{self._parts_text()}. Fix: use one of them, or a condition on the interior."
            )
        return name

    def opposite(self, part: str | sp.Eq) -> tuple[str, sp.Symbol, float]:
        """The face opposite `part`, for periodic conditions.

        **Arguments**

        - `part`: a face, as accepted by `part` (`"left"`, `"x = 0"`, `Eq(x, 0)`).

        **Returns**

        `(opposite_part_name, coordinate, value)`: map points sampled on `part` to the opposite
        face by setting `coordinate` to `value`.

        **Raises**

        - `ProblemError`: `part` is not a single axis-aligned face.
        """
        name = self.part(part)
        faces = self._faces()
        if name not in faces:
            raise ProblemError(
                f"{self!r}: `{name}` has no opposite face. Expected a single axis-aligned face: "
                f'{self._parts_text()}. Fix: pass one face, e.g. `opposite("left")`.'
            )
        symbol, value = faces[name]
        for other, (other_symbol, other_value) in faces.items():
            if other_symbol == symbol and other != name:
                return other, symbol, float(other_value)
        raise AssertionError("every face has an opposite; this is a bug in pinnkit")

    def grid(self, n_per_axis: int | Mapping[str, int]) -> dict[str, np.ndarray]:
        """Evenly spaced 1-D axes over the bounding box, for plots and error grids.

        **Arguments**

        - `n_per_axis`: points per axis (at least 2), or a mapping from every coordinate name
          to its count.

        **Returns**

        `{coordinate name: numpy.linspace(lo, hi, count)}` in `coords` order.

        **Raises**

        - `ProblemError`: unknown or missing coordinate names, or counts below 2.
        """
        where = f"{self!r}.grid"
        names = [str(c) for c in self.coords]
        if isinstance(n_per_axis, Mapping):
            counts = {str(k): v for k, v in n_per_axis.items()}
            for key in counts:
                if key not in names:
                    raise ProblemError(
                        f"{where}: `{key}` is not a coordinate. Expected keys "
                        f"{', '.join(names)}.{did_you_mean(key, names)} Fix: use those names."
                    )
            missing = [name for name in names if name not in counts]
            if missing:
                raise ProblemError(
                    f"{where}: no count for {', '.join(missing)}. Expected a count for every "
                    f"coordinate. Fix: add `{missing[0]!r}: 64`, or pass one integer."
                )
        else:
            counts = dict.fromkeys(names, n_per_axis)
        lo, hi = self.bounds
        axes = {}
        for i, name in enumerate(names):
            count = counts[name]
            if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 2:
                raise ProblemError(
                    f"{where}: count for `{name}` is `{count!r}`, expected an integer >= 2. "
                    f"Fix: e.g. `grid(64)`."
                )
            axes[name] = np.linspace(lo[i], hi[i], int(count))
        return axes

    def _parts_text(self) -> str:
        faces = self._faces()
        if not faces:
            return '"boundary" (this domain has no named parts)'
        aliases: dict[str, list[str]] = {}
        for alias, name in self._aliases().items():
            aliases.setdefault(name, []).append(alias)
        return ", ".join(
            f'"{name}"' + (f" ({', '.join(aliases[name])})" if name in aliases else "")
            for name in faces
        )

    def _resolve(self, spec: object, where: str) -> str:
        """Canonical region name of a name, alias, `"x = 1"` string or `Eq(x, 1)`."""
        if isinstance(spec, sp.Eq):
            return self._resolve_eq(spec.lhs, spec.rhs, where)
        if isinstance(spec, str):
            if spec in self.regions:
                return spec
            aliases = self._aliases()
            if spec in aliases:
                return aliases[spec]
            if spec.count("=") == 1:
                local = {str(c): c for c in self.coords}
                try:
                    lhs, rhs = (sp.sympify(side, locals=local) for side in spec.split("="))
                except (sp.SympifyError, SyntaxError, TypeError):
                    pass
                else:
                    return self._resolve_eq(lhs, rhs, where)
        names = list(self.regions) + list(self._aliases())
        raise ProblemError(
            f"{where}: unknown region `{spec}`. Expected one of "
            f"{', '.join(map(repr, names))}, or an equation such as `Eq(x, 0)`."
            f"{did_you_mean(str(spec), names)} Fix: use one of those names."
        )

    def _resolve_eq(self, lhs: object, rhs: object, where: str) -> str:
        coords = self.coords
        for symbol, value in ((lhs, rhs), (rhs, lhs)):
            if (
                symbol in coords
                and isinstance(value, sp.Expr)
                and value.is_number
                and value.is_real
            ):
                break
        else:
            symbol = next((s for s in (lhs, rhs) if isinstance(s, sp.Symbol)), lhs)
            names = [str(c) for c in coords]
            hint = "" if str(symbol) in names else did_you_mean(str(symbol), names)
            raise ProblemError(
                f"{where}: `{lhs} = {rhs}` is not of the form coordinate = number. Expected a "
                f"coordinate among {', '.join(map(str, coords))}.{hint} "
                f'Fix: e.g. `Eq({coords[0]}, 0)` or a part name such as `"boundary"`.'
            )
        text = f"{symbol} = {_text(value)}"
        faces = [(n, float(v)) for n, (s, v) in self._faces().items() if s == symbol]
        for name, face in faces:
            if abs(float(value) - face) <= _EQ_RTOL * max(1.0, abs(face)):
                return name
        if faces:
            closest = min(faces, key=lambda item: abs(item[1] - float(value)))[0]
            example = next((a for a, n in self._aliases().items() if n == closest), closest)
        else:
            example = "boundary"
        raise ProblemError(
            f"{where}: `{text}` is not on the boundary. Boundary parts are: "
            f'{self._parts_text()}. Fix: use one of them, e.g. `on="{example}"`.'
        )


class AbstractBox(AbstractDomain):
    """An axis-aligned box $\\prod_i [lo_i, hi_i]$; `Interval`, `Rectangle` and `Box` fill it in.

    Parts are the faces `"c = lo"` and `"c = hi"` of each coordinate `c`, with aliases
    `"left"`/`"right"`, `"bottom"`/`"top"`, `"back"`/`"front"` for the first three coordinates.
    Whole-boundary samples are spread over faces in proportion to their measure; the normal of
    a face is its axis direction, and a corner belongs to the face it was sampled on.
    """

    _axes: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return tuple(axis[0] for axis in self._axes)

    @property
    def time(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.array([float(axis[1]) for axis in self._axes])
        hi = np.array([float(axis[2]) for axis in self._axes])
        return lo, hi

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "boundary", *self._faces())

    def _key(self) -> tuple:
        return self._axes

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {
            f"{symbol} = {_text(value)}": (symbol, value)
            for symbol, lo, hi in self._axes
            for value in (lo, hi)
        }

    def _aliases(self) -> dict[str, str]:
        names = list(self._faces())
        return {
            alias: names[2 * i + side]
            for i, pair in enumerate(_ALIASES[: len(self._axes)])
            for side, alias in enumerate(pair)
        }

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
            raise ProblemError(
                f"{where}: the range of {symbol} is [{_text(lo)}, {_text(hi)}], expected lower "
                f"end < upper end. Fix: swap them, `({symbol}, {_text(hi)}, {_text(lo)})`."
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

    **Raises**

    - `ProblemError`: `x` is not a Symbol, an end is not a number, or `a >= b`.
    """

    def __init__(self, x: sp.Symbol, a: object, b: object) -> None:
        self._axes = _check_axes(((x, a, b),), f"Interval({x}, {a}, {b})")

    def __repr__(self) -> str:
        x, a, b = self._axes[0]
        return f"Interval({x}, {_text(a)}, {_text(b)})"


class Box(AbstractBox):
    """An axis-aligned box in any number of dimensions, e.g. `Box((x, 0, 1), (y, 0, 1), (z, 0, 2))`.

    **Arguments**

    - `*axes`: one `(symbol, lo, hi)` tuple per coordinate, with `lo < hi`, distinct symbols.

    **Raises**

    - `ProblemError`: a malformed axis, a non-Symbol, `lo >= hi`, or a repeated symbol.
    """

    def __init__(self, *axes: tuple[sp.Symbol, object, object]) -> None:
        where = "Box(" + ", ".join(map(repr, axes)) + ")"
        if not axes:
            raise ProblemError(
                f"{where}: no axes given, expected at least one `(symbol, lo, hi)`. "
                f"Fix: `Box((x, 0, 1), (y, 0, 1), (z, 0, 1))`."
            )
        self._axes = _check_axes(axes, where)

    def __repr__(self) -> str:
        return "Box(" + ", ".join(f"({s}, {_text(a)}, {_text(b)})" for s, a, b in self._axes) + ")"


class Rectangle(AbstractBox):
    """The rectangle $[x_0, x_1] \\times [y_0, y_1]$: `Rectangle((x, 0, 1), (y, 0, 2))`.

    Same as a two-axis `Box`, with the aliases `"left"`, `"right"`, `"bottom"`, `"top"`.

    **Raises**

    - `ProblemError`: not exactly two axes, or any `Box` error.
    """

    def __init__(self, *axes: tuple[sp.Symbol, object, object]) -> None:
        where = "Rectangle(" + ", ".join(map(repr, axes)) + ")"
        if len(axes) != 2:
            raise ProblemError(
                f"{where}: {len(axes)} axes given, expected exactly 2. "
                f"Fix: `Interval` for one axis, `Box(...)` for three or more."
            )
        self._axes = _check_axes(axes, where)

    def __repr__(self) -> str:
        (x, x0, x1), (y, y0, y1) = self._axes
        return f"Rectangle(({x}, {_text(x0)}, {_text(x1)}), ({y}, {_text(y0)}, {_text(y1)}))"


class Disk(AbstractDomain):
    """The closed disk $|(x, y) - c| \\le R$; its boundary is the circle (no named parts).

    Interior points are uniform in area: $r = R\\sqrt{u_1}$, $\\theta = 2\\pi u_2$ (Sobol draws
    go through the same map). Normals on the circle are radial.

    **Arguments**

    - `x`, `y`: the coordinate symbols, distinct.
    - `center`: `(cx, cy)`, numbers. Default `(0, 0)`.
    - `radius`: a positive number. Default `1`.

    **Raises**

    - `ProblemError`: non-Symbol or repeated coordinates, a bad center, or `radius <= 0`.
    """

    def __init__(
        self, x: sp.Symbol, y: sp.Symbol, center: tuple = (0, 0), radius: object = 1
    ) -> None:
        where = f"Disk({x}, {y}, center={center!r}, radius={radius})"
        self._x, self._y = _symbol(x, where, "first coordinate"), _symbol(y, where, "second")
        if x == y:
            raise ProblemError(
                f"{where}: both coordinates are `{x}`, expected two distinct symbols. "
                f'Fix: `Disk(x, y)` with `x, y = sympy.symbols("x y")`.'
            )
        if not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ProblemError(
                f"{where}: center is `{center!r}`, expected a pair of numbers. "
                f"Fix: `center=(0, 0)`."
            )
        self._center = tuple(_number(c, where, "center coordinate") for c in center)
        self._radius = _number(radius, where, "radius")
        if not bool(self._radius > 0):
            raise ProblemError(
                f"{where}: radius is {_text(self._radius)}, expected a positive number. "
                f"Fix: e.g. `radius=1`."
            )

    def __repr__(self) -> str:
        cx, cy = (_text(c) for c in self._center)
        return f"Disk({self._x}, {self._y}, center=({cx}, {cy}), radius={_text(self._radius)})"

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return (self._x, self._y)

    @property
    def time(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        center, radius = np.array([float(c) for c in self._center]), float(self._radius)
        return center - radius, center + radius

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "boundary")

    def _key(self) -> tuple:
        return (self._x, self._y, self._center, self._radius)

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {}

    def _aliases(self) -> dict[str, str]:
        return {}

    def _dimension(self, region: str) -> int:
        return 2 if region == "interior" else 1

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        center, radius = np.array([float(c) for c in self._center]), float(self._radius)
        angle = 2 * np.pi * unit[:, -1]
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        if region == "interior":
            return center + radius * np.sqrt(unit[:, :1]) * direction, None
        return center + radius * direction, direction

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        center, radius = np.array([float(c) for c in self._center]), float(self._radius)
        distance = np.linalg.norm(points - center, axis=1)
        if region == "interior":
            return distance <= radius + tol
        return np.abs(distance - radius) <= tol


class TimeInterval(AbstractDomain):
    """The time interval $[t_0, t_1]$: an ODE domain alone, or the time factor of `space * time`.

    Regions are `"interior"`, `"initial"` ($t = t_0$, alias `"t = t0"`) and `"final"`
    ($t = t_1$, alias `"t = t1"`), so boundary-value problems in time can name both ends.
    There is no `"boundary"` and there are no normals.

    **Arguments**

    - `t`: the time symbol.
    - `t0`, `t1`: numbers with `t0 < t1`.

    **Raises**

    - `ProblemError`: `t` is not a Symbol, an end is not a number, or `t0 >= t1`.
    """

    def __init__(self, t: sp.Symbol, t0: object, t1: object) -> None:
        ((self._t, self._t0, self._t1),) = _check_axes(
            ((t, t0, t1),), f"TimeInterval({t}, {t0}, {t1})"
        )

    def __repr__(self) -> str:
        return f"TimeInterval({self._t}, {_text(self._t0)}, {_text(self._t1)})"

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return ()

    @property
    def time(self) -> sp.Symbol:
        return self._t

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([float(self._t0)]), np.array([float(self._t1)])

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "initial", "final")

    def _key(self) -> tuple:
        return (self._t, self._t0, self._t1)

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {"initial": (self._t, self._t0), "final": (self._t, self._t1)}

    def _aliases(self) -> dict[str, str]:
        return {
            f"{self._t} = {_text(self._t0)}": "initial",
            f"{self._t} = {_text(self._t1)}": "final",
        }

    def _dimension(self, region: str) -> int:
        return 1 if region == "interior" else 0

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, None]:
        t0, t1 = float(self._t0), float(self._t1)
        if region == "interior":
            return t0 + (t1 - t0) * unit, None
        return np.full((len(unit), 1), t0 if region == "initial" else t1), None

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        t, t0, t1 = points[:, 0], float(self._t0), float(self._t1)
        if region == "interior":
            return (t >= t0 - tol) & (t <= t1 + tol)
        return np.abs(t - (t0 if region == "initial" else t1)) <= tol


class SpaceTime(AbstractDomain):
    """A space domain times a time interval, usually written `space * TimeInterval(t, 0, 1)`.

    Regions: `"interior"` (space interior x time), `"boundary"` and each space part (space
    region x time; normals from space with time component 0), `"initial"` and `"final"` (space
    interior at $t_0$ / $t_1$, no normals). Sobol draws are joint over space and time.

    **Arguments**

    - `space`: an `Interval`, `Rectangle`, `Box` or `Disk`.
    - `time`: a `TimeInterval` whose symbol is not a space coordinate.

    **Raises**

    - `ProblemError`: `space` is not a space domain, `time` is not a `TimeInterval`, or the
      time symbol is also a space coordinate.
    """

    def __init__(self, space: AbstractDomain, time: TimeInterval) -> None:
        where = f"SpaceTime({space!r}, {time!r})"
        if not isinstance(space, AbstractDomain) or space.time is not None:
            raise ProblemError(
                f"{where}: the space factor is `{space!r}`, expected a space domain (Interval, "
                f"Rectangle, Box or Disk) without time. Fix: `Interval(x, 0, 1) * {time!r}`."
            )
        if not isinstance(time, TimeInterval):
            raise ProblemError(
                f"{where}: the time factor is `{time!r}`, expected a TimeInterval. "
                f"Fix: `{space!r} * TimeInterval(t, 0, 1)`."
            )
        if time.time in space.coords:
            raise ProblemError(
                f"{where}: `{time.time}` is both a space coordinate and time, expected a "
                f'separate time symbol. Fix: `t = sympy.Symbol("t")` and `TimeInterval(t, ...)`.'
            )
        self._space, self._time = space, time

    def __repr__(self) -> str:
        return f"{self._space!r} × {self._time!r}"

    @property
    def space(self) -> AbstractDomain:
        """The space factor."""
        return self._space

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._space.space_coords

    @property
    def time(self) -> sp.Symbol:
        return self._time.time

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (lo, hi), (t0, t1) = self._space.bounds, self._time.bounds
        return np.concatenate([lo, t0]), np.concatenate([hi, t1])

    @property
    def regions(self) -> tuple[str, ...]:
        return (*self._space.regions, "initial", "final")

    def _key(self) -> tuple:
        return (self._space, self._time)

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {**self._space._faces(), **self._time._faces()}

    def _aliases(self) -> dict[str, str]:
        return {**self._space._aliases(), **self._time._aliases()}

    def _dimension(self, region: str) -> int:
        if region in ("initial", "final"):
            return self._space._dimension("interior")
        return self._space._dimension(region) + 1

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if region in ("initial", "final"):
            space, _ = self._space._map("interior", unit)
            time, _ = self._time._map(region, unit[:, :0])
            return np.hstack([space, time]), None
        space, normals = self._space._map(region, unit[:, :-1])
        time, _ = self._time._map("interior", unit[:, -1:])
        if normals is not None:
            normals = np.hstack([normals, np.zeros((len(unit), 1))])
        return np.hstack([space, time]), normals

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        space, time = points[:, :-1], points[:, -1:]
        if region in ("initial", "final"):
            return self._space._inside(space, "interior", tol) & self._time._inside(
                time, region, tol
            )
        return self._space._inside(space, region, tol) & self._time._inside(time, "interior", tol)
