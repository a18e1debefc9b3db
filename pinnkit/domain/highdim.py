"""Domains in d dimensions over one `Vector` coordinate: the ball and the cube.

`pk.Ball(x, center, radius)` with `x = pk.Vector("x", d)` is the closed d-dimensional ball
(`Ball(x, y, z, ...)` over three symbols stays the 3-D `Ball` of `curved`), and
`pk.Cube(x, low, high)` is the cube $[low, high]^d$. Every array operation runs over all
components at once: at d = 100,000, 100 points are drawn or tested in well under a second
(only `coords`, which makes the d component symbols once, takes longer). NumPy, SciPy and
SymPy only.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

import numpy as np
import sympy as sp
from scipy.special import gammaln, ndtri
from scipy.stats import qmc

from pinnkit.domain.base import AbstractDomain, Measure, _number, _text, unsupported_product
from pinnkit.domain.distance import PieceDistance
from pinnkit.domain.sampling import _unit
from pinnkit.domain.shapes import _named, check_name, check_positive
from pinnkit.domain.vector import Vector
from pinnkit.errors import ProblemError

__all__ = ["AbstractVectorShape", "Cube", "VectorBall", "is_vector_ball"]

# SciPy's Sobol sequence has direction numbers for this many dimensions, no more.
_SOBOL_MAX_DIM = getattr(qmc.Sobol, "MAXDIM", 21201)
# Unit-cube coordinates are kept this far from 0 and 1 before the inverse normal CDF, which
# is infinite there (a draw of exactly 0 happens, with Sobol points or rarely with uniform).
_UNIT_EDGE = 2.0**-53
# Grids are built for at most this many components; beyond, a tensor grid has no use.
_GRID_MAX_DIM = 3


def is_vector_ball(args: tuple, kwargs: dict) -> bool:
    """Whether `Ball(*args, **kwargs)` names one coordinate (the d-dimensional ball): a
    `Vector` first, or a first coordinate with no second one (then the `Vector` error).
    A call without arguments (unpickling) is the 3-D `Ball`."""
    first = args[0] if args else kwargs.get("x")
    second = args[1] if len(args) > 1 else kwargs.get("y")
    if first is None:
        return False
    return isinstance(first, Vector) or not isinstance(second, sp.Symbol)


def _vector(x: object, where: str, kind: str) -> Vector:
    if not isinstance(x, Vector):
        name = x.name if isinstance(x, sp.Symbol) and x.name.isidentifier() else "x"
        three = (
            " (or three symbols for the 3-D ball: `Ball(x, y, z, ...)`)" if kind == "Ball" else ""
        )
        raise ProblemError(
            f"{where}: the coordinate is `{x!r}` ({type(x).__name__}), expected a `Vector` "
            f'of d components. Fix: `{name} = pk.Vector("{name}", 100)` and '
            f"`pk.{kind}({name}, ...)`{three}."
        )
    return x


def _center(value: object, d: int, where: str) -> tuple[sp.Expr | None, np.ndarray]:
    """A center given as one number (every component) or as `d` numbers: the number (or
    None) and the float64 center, of shape `()` or `(d,)`, read-only."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, (tuple, list, np.ndarray)):
        number = _number(value, where, "center")
        array = np.array(float(number))
    else:
        shape = np.shape(value) if isinstance(value, np.ndarray) else (len(value),)
        if shape != (d,):
            raise ProblemError(
                f"{where}: the center has shape {shape}, expected one number or {d} numbers "
                f"(one per component). Fix: `center=0`, or `center=numpy.zeros({d})`."
            )
        try:
            array = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            array = np.array([np.nan])
        if array.shape != (d,) or not np.all(np.isfinite(array)):
            raise ProblemError(
                f"{where}: the center has entries that are not finite real numbers, expected "
                f"{d} numbers. Fix: pass numbers, e.g. `center=numpy.full({d}, 0.5)`."
            )
        number = None
    array.flags.writeable = False
    return number, array


def _center_text(number: sp.Expr | None, array: np.ndarray) -> str:
    if number is not None:
        return _text(number)
    if len(array) <= 4:
        return "(" + ", ".join(repr(float(c)) for c in array) + ")"
    return f"({float(array[0])!r}, {float(array[1])!r}, ..., {float(array[-1])!r})"


def _exp(log_value: float) -> float:
    """`exp` that gives inf or 0.0 past the float range instead of raising or warning."""
    with np.errstate(over="ignore", under="ignore"):
        return float(np.exp(log_value))


def _directions(unit: np.ndarray) -> np.ndarray:
    """Unit vectors, uniform on the sphere: normalised Gaussians through the inverse normal
    CDF of the unit-cube draws."""
    return _normalised(ndtri(np.clip(unit, _UNIT_EDGE, 1.0 - _UNIT_EDGE)))


def _normalised(gauss: np.ndarray) -> np.ndarray:
    """Rows of `gauss` scaled to length 1, in place; an all-zero row becomes e_0."""
    norm = np.linalg.norm(gauss, axis=1)
    zero = norm == 0  # only a coordinate of exactly 1/2 in d = 1 reaches this
    gauss[zero, 0], norm[zero] = 1.0, 1.0
    gauss /= norm[:, None]
    return gauss


class AbstractVectorShape(AbstractDomain):
    """A space domain over one `Vector` coordinate: its components are the columns.

    Regions are `"interior"` and `"boundary"` (plus the `name=` alias of the boundary). There
    are no axis-aligned named parts (d can be 100,000), so periodic conditions and
    `"x[0] = 0"` parts are not available. Products: `shape * TimeInterval(t, 0, 1)` only;
    `|`, `-`, `&` are not defined (rejection from a bounding box fails in high dimensions).
    """

    _x: Vector
    _name: str | None
    # Space-time products draw space and time apart through `_draw`, which checks the Sobol
    # dimension limit and draws Gaussians directly.
    _exact_map = False

    @abc.abstractmethod
    def _uniform(self, region: str, n: int, rng: np.random.Generator):
        """Independent draws in the canonical `region`: (points, normals or None)."""

    @property
    def name(self) -> str | None:
        """The boundary's part name given with `name=`, or `None`."""
        return self._name

    @property
    def vector(self) -> Vector:
        """The `Vector` coordinate."""
        return self._x

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._x.components

    @property
    def space_signature(self) -> tuple[sp.Symbol, ...]:
        return (self._x,)

    @property
    def time(self) -> None:
        return None

    @property
    def regions(self) -> tuple[str, ...]:
        return ("interior", "boundary")

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        return {}

    def _aliases(self) -> dict[str, str]:
        return {self._name: "boundary"} if self._name else {}

    def __mul__(self, other: object) -> AbstractDomain:
        """`shape * TimeInterval(t, 0, 1)` is left to `TimeInterval` (a `SpaceTime`).

        **Raises**

        `ProblemError` for any other product.
        """
        if isinstance(other, AbstractDomain) and other.time is not None and not other.space_coords:
            return NotImplemented  # a time interval: `TimeInterval.__rmul__` builds space x time
        raise unsupported_product(self, other)

    def __or__(self, other: object):
        raise self._no_csg("|", other)

    def __sub__(self, other: object):
        raise self._no_csg("-", other)

    def __and__(self, other: object):
        raise self._no_csg("&", other)

    def _no_csg(self, op: str, other: object) -> ProblemError:
        return ProblemError(
            f"{self!r} {op} {other!r}: unions, differences and intersections are not defined "
            f"for shapes over a `Vector` (drawn by rejection from a bounding box, almost no "
            f"point would survive in high dimensions). Fix: pose the problem on one `Ball` "
            f"or `Cube`, or use separate 2-D/3-D shapes with `|`, `-`, `&`."
        )

    def contains(
        self, points: np.ndarray, region: str = "interior", *, tol: float = 1e-9
    ) -> np.ndarray:
        """Which points lie in `region` (closed), up to `tol`; as `AbstractDomain.contains`,
        without making the d component symbols or listing them in the error.

        **Raises**

        - `ProblemError`: unknown region, or `points` of the wrong shape.
        """
        where = f"{self!r}.contains"
        array = np.asarray(points, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self._x.dim:
            raise ProblemError(
                f"{where}: points have shape {array.shape}, expected (n, {self._x.dim}), one "
                f"column per component of `{self._x}`. Fix: pass an array of that shape."
            )
        return self._inside(array, self._resolve(region, where), float(tol))

    def grid(self, n_per_axis: int | Mapping[str, int]) -> dict[str, np.ndarray]:
        """Evenly spaced axes over the bounding box, for at most 3 components.

        **Raises**

        - `ProblemError`: more than 3 components (a tensor grid in d dimensions has
          `count ** d` points), or any error of `AbstractDomain.grid`.
        """
        if self._x.dim > _GRID_MAX_DIM:
            raise ProblemError(
                f"{self!r}.grid: a grid in {self._x.dim} dimensions is not meaningful (it "
                f"would have count ** {self._x.dim} points). Expected at most {_GRID_MAX_DIM} "
                f'components. Fix: sample points instead, `domain.sample("interior", 4096, '
                f"rng)`, or evaluate on a 2-D slice of your own."
            )
        return super().grid(n_per_axis)

    def _draw(
        self, region: str, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if method == "uniform":
            return self._uniform(region, n, rng)
        dimension = self._dimension(region)
        if dimension > _SOBOL_MAX_DIM:
            raise ProblemError(
                f"{self!r}.sample: method={method!r} draws {dimension} joint quasi-random "
                f"coordinates for the {region}, but SciPy's Sobol sequence has at most "
                f"{_SOBOL_MAX_DIM} dimensions. Fix: `method='uniform'` (in this many "
                f"dimensions quasi-random points have no advantage over independent ones)."
            )
        return self._map(region, _unit(n, dimension, rng, method))


class VectorBall(AbstractVectorShape):
    """The closed ball $|x - c| \\le r$ in d dimensions: `pk.Ball(x, center, radius)`.

    Built by `pk.Ball` when its first argument is a `Vector` (it is not an instance of the
    3-D `Ball`). The boundary is the sphere (alias `"sphere"`), with outward normals
    $(x - c)/r$. Interior draws are a uniform direction (a normalised Gaussian) times the
    radius $r U^{1/d}$; Sobol draws map through the inverse normal CDF ($d + 1$ coordinates
    in the interior, $d$ on the sphere, at most 21,201).

    Volume $\\pi^{d/2} r^d / \\Gamma(d/2 + 1)$ and area $(d/r)\\,$volume are computed through
    logarithms: exact, but 0.0 or inf once they leave the float range (d in the hundreds).

    **Arguments**

    - `x`: a `Vector` (`pk.Vector("x", d)`).
    - `center`: one number (every component) or `d` numbers. Default `0`.
    - `radius`: positive. Default `1`.
    - `name`: optional part name of the sphere.

    **Raises**

    - `ProblemError`: `x` is not a `Vector`, a center of the wrong length, `radius <= 0`.
    """

    def __init__(self, x: Vector, center: object = 0, radius: object = 1, *, name=None) -> None:
        where = f"Ball({x}, center={_short(center)}, radius={radius})"
        self._x = _vector(x, where, "Ball")
        self._center_number, self._c = _center(center, x.dim, where)
        self._radius = check_positive(radius, where, "radius")
        self._r = float(self._radius)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        center = _center_text(self._center_number, self._c)
        return (
            f"Ball({self._x} ({self._x.dim} components), center={center}, "
            f"radius={_text(self._radius)}{_named(self._name)})"
        )

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.broadcast_to(self._c, (self._x.dim,))
        return c - self._r, c + self._r

    def _key(self) -> tuple:
        return (self._x, _center_key(self._c), self._radius, self._name)

    def _aliases(self) -> dict[str, str]:
        return {"sphere": "boundary", **super()._aliases()}

    def _measure(self, region: str) -> Measure:
        d, r = self._x.dim, self._r
        log_volume = d / 2 * np.log(np.pi) + d * np.log(r) - gammaln(d / 2 + 1)
        if region == "interior":
            return Measure(_exp(log_volume), True)
        return Measure(_exp(np.log(d) - np.log(r) + log_volume), True)

    def _dimension(self, region: str) -> int:
        return self._x.dim + 1 if region == "interior" else self._x.dim

    def ball_distance(self, region: str) -> tuple[PieceDistance, ...]:
        """The sphere's distance function $(r^2 - |x - c|^2) / (2r)$ for exact Dirichlet
        conditions (`pinnkit.domain.distance.part_distances`), on the vector's columns."""
        if region != "boundary":
            raise ProblemError(
                f'{self!r}: exact conditions hold on the sphere (`on="boundary"`), not '
                f'on `{region}`. Fix: `on="boundary"`, or drop `exact=True`.'
            )
        center = tuple(np.broadcast_to(self._c, (self._x.dim,)).tolist())
        return (PieceDistance("sphere", tuple(range(self._x.dim)), (*center, self._r)),)

    def _uniform(self, region: str, n: int, rng: np.random.Generator):
        direction = _normalised(rng.standard_normal((n, self._x.dim)))
        if region == "interior":
            return self._place(direction, rng.uniform(size=n)), None
        normals = direction.copy()
        return self._place(direction, None), normals

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        # The radius takes the first unit coordinate, where Sobol points are best spread.
        if region == "interior":
            return self._place(_directions(unit[:, 1:]), unit[:, 0]), None
        direction = _directions(unit)
        return self._place(direction.copy(), None), direction

    def _place(self, direction: np.ndarray, radial: np.ndarray | None) -> np.ndarray:
        """`c + r u^(1/d) direction` (on the sphere when `radial` is None), in place."""
        scale = self._r if radial is None else self._r * radial ** (1.0 / self._x.dim)
        direction *= np.reshape(scale, (-1, 1))
        direction += self._c
        return direction

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        distance = np.linalg.norm(points - self._c, axis=1)
        if region == "interior":
            return distance <= self._r + tol
        return np.abs(distance - self._r) <= tol


class Cube(AbstractVectorShape):
    """The cube $[low, high]^d$ over a `Vector` coordinate: `pk.Cube(x, 0, 1)`.

    The boundary is its $2d$ faces, drawn uniformly in area (a face uniformly at random, the
    other components uniform), with outward normals $\\pm e_k$; the faces have no part names
    of their own. Sobol draws use the first coordinate to choose the face ($d$ coordinates,
    at most 21,201). Volume $(high - low)^d$ and area $2d\\,(high - low)^{d-1}$ are computed
    through logarithms (0.0 or inf once out of the float range).

    **Arguments**

    - `x`: a `Vector` (`pk.Vector("x", d)`).
    - `low`, `high`: numbers with `low < high`. Default `0` and `1`.
    - `name`: optional part name of the whole boundary.

    **Raises**

    - `ProblemError`: `x` is not a `Vector`, an end is not a number, or `low >= high`.
    """

    def __init__(self, x: Vector, low: object = 0, high: object = 1, *, name=None) -> None:
        where = f"Cube({x}, low={low}, high={high})"
        self._x = _vector(x, where, "Cube")
        self._low = _number(low, where, "lower end")
        self._high = _number(high, where, "upper end")
        if not bool(self._low < self._high):
            fix = (
                f"swap them, `Cube({x}, {_text(self._high)}, {_text(self._low)})`"
                if bool(self._low > self._high)
                else f"widen it, e.g. `Cube({x}, {_text(self._low)}, {_text(self._low + 1)})`"
            )
            raise ProblemError(
                f"{where}: the range is [{_text(self._low)}, {_text(self._high)}], expected "
                f"low < high. Fix: {fix}."
            )
        self._lo, self._hi = float(self._low), float(self._high)
        self._name = check_name(name, where)

    def __repr__(self) -> str:
        return (
            f"Cube({self._x} ({self._x.dim} components), low={_text(self._low)}, "
            f"high={_text(self._high)}{_named(self._name)})"
        )

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        d = self._x.dim
        return np.full(d, self._lo), np.full(d, self._hi)

    def _key(self) -> tuple:
        return (self._x, self._low, self._high, self._name)

    def _measure(self, region: str) -> Measure:
        d, log_width = self._x.dim, np.log(self._hi - self._lo)
        if region == "interior":
            return Measure(_exp(d * log_width), True)
        return Measure(_exp(np.log(2 * d) + (d - 1) * log_width), True)

    def _dimension(self, region: str) -> int:
        return self._x.dim

    def _uniform(self, region: str, n: int, rng: np.random.Generator):
        return self._map(region, rng.uniform(size=(n, self._x.dim)))

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        lo, width = self._lo, self._hi - self._lo
        points = lo + width * unit
        if region == "interior":
            return points, None
        n, d = unit.shape
        rows = np.arange(n)
        face = np.minimum((unit[:, 0] * (2 * d)).astype(np.int64), 2 * d - 1)
        axis, high = face // 2, face % 2 == 1
        # The first unit coordinate chose the face; component 0 takes over the coordinate
        # that the face fixes, so every free component comes from its own unit coordinate.
        points[:, 0] = lo + width * unit[rows, axis]
        points[rows, axis] = np.where(high, self._hi, lo)
        normals = np.zeros((n, d))
        normals[rows, axis] = np.where(high, 1.0, -1.0)
        return points, normals

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        lo, hi = self._lo, self._hi
        inside = np.all((points >= lo - tol) & (points <= hi + tol), axis=1)
        if region == "interior":
            return inside
        on = (np.abs(points - lo) <= tol) | (np.abs(points - hi) <= tol)
        return inside & np.any(on, axis=1)


def _short(value: object) -> str:
    """A center as written, shortened for messages when it is a long sequence."""
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"<ndarray of shape {value.shape}>"
    if isinstance(value, (tuple, list)) and len(value) > 4:
        return f"<{type(value).__name__} of length {len(value)}>"
    return repr(value)


def _center_key(center: np.ndarray) -> tuple:
    """What makes two centers equal: one value when every component agrees (so `center=0`
    and `center=numpy.zeros(d)` are the same ball), else the bytes of the array."""
    if center.ndim == 0 or np.all(center == center[0]):
        return (float(center.flat[0]),)
    return (center.tobytes(),)
