"""`AbstractDomain`: coordinates, regions, sampling, containment and boundary-part resolution.

Also the checks and printing of the numbers and symbols that domains are built from. The
product `space * time` is defined here but builds classes from `shapes` and `spacetime`, which
are imported when it is called. NumPy and SymPy only.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import sympy as sp

from pinnkit.domain.sampling import METHODS, Sample, _unit
from pinnkit.errors import ProblemError, did_you_mean

__all__ = ["AbstractDomain", "Measure", "unsupported_product"]

# `Eq(x, v)` names a face when |v - face| <= _EQ_RTOL * max(1, |face|): floats written by hand
# (0.1 + 0.2) differ from the exact face value in the last bits, never by more.
_EQ_RTOL = 1e-12


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


class Measure(NamedTuple):
    """The measure of a region: length, area or volume (a count for the ends of an interval).

    `exact` is False when it was estimated by seeded quasi-Monte Carlo (2^16 points for a
    volume, 2^12 per boundary piece), with a relative error of order 1e-3 or better.
    """

    value: float
    exact: bool


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
    def _measure(self, region: str) -> Measure:
        """The measure of the canonical `region`."""

    def _draw(
        self, region: str, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """`n` points (and normals on boundaries) in the canonical `region`: one unit-cube draw
        through `_map`. Domains drawn by rejection override this."""
        return self._map(region, _unit(n, self._dimension(region), rng, method))

    @abc.abstractmethod
    def _key(self) -> tuple:
        """What makes two domains equal."""

    @abc.abstractmethod
    def __repr__(self) -> str: ...

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """All coordinate symbols: space in order, then time if any."""
        return self.space_coords + ((self.time,) if self.time is not None else ())

    @property
    def space_signature(self) -> tuple[sp.Symbol, ...]:
        """The space coordinates as fields take them: a `Vector` in place of its components
        (`space_coords` lists the components)."""
        return self.space_coords

    @property
    def signature(self) -> tuple[sp.Symbol, ...]:
        """What fields are applied to: `space_signature`, then time if any."""
        return self.space_signature + ((self.time,) if self.time is not None else ())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    # Space shapes (`pinnkit.domain.csg.Shape`) combine; other domains refuse with one error.
    def __or__(self, other: object) -> AbstractDomain:
        raise unsupported_combination("|", self, other)

    def __sub__(self, other: object) -> AbstractDomain:
        raise unsupported_combination("-", self, other)

    def __and__(self, other: object) -> AbstractDomain:
        raise unsupported_combination("&", self, other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

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
        points, normals = self._draw(self._resolve(region, where), int(n), rng, method)
        return Sample(np.ascontiguousarray(points, dtype=np.float64), normals)

    def measure(self, region: str = "interior") -> Measure:
        """The length, area or volume of `region` (a space-time region: times the duration).

        **Arguments**

        - `region`: as in `sample`.

        **Returns**

        A `Measure(value, exact)`; `exact` is False for shapes built with `|`, `-`, `&`,
        whose measures are estimated (seeded, so every call agrees).

        **Raises**

        - `ProblemError`: unknown region.
        """
        return self._measure(self._resolve(region, f"{self!r}.measure"))

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


def unsupported_product(left: AbstractDomain, right: object) -> ProblemError:
    """The error for `left * right` when no domain class defines that product."""
    return ProblemError(
        f"{left!r} * {right!r}: this product is not supported. Expected a space domain "
        f"times a `TimeInterval`, or a product of intervals and boxes (axis-aligned). "
        f"Fix: write `space * TimeInterval(t, 0, 1)` with space first, e.g. "
        f"`Interval(x, 0, 1) * TimeInterval(t, 0, 1)`."
    )


def unsupported_combination(op: str, left: AbstractDomain, right: object) -> ProblemError:
    """The error for `left op right` (`|`, `-`, `&`) when `left` is not a space shape (a
    space-time domain, a time interval)."""
    word = {"|": "union", "-": "difference", "&": "intersection"}[op]
    return ProblemError(
        f"{left!r} {op} {right!r}: the {word} needs two space shapes, but the left one is "
        f"{type(left).__name__}. Expected shapes such as Interval, Rectangle, Disk, Polygon, "
        f"Ball. Fix: combine the space shapes first, then multiply by time: "
        f"`(square - disk) * TimeInterval(t, 0, 1)`."
    )
