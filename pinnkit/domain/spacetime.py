"""Time: `TimeInterval` (an ODE domain, or the time factor) and `SpaceTime` (space x time).

NumPy and SymPy only.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.domain.base import AbstractDomain, Measure, _text, unsupported_product
from pinnkit.domain.sampling import _unit
from pinnkit.domain.shapes import _check_axes
from pinnkit.errors import ProblemError

__all__ = ["SpaceTime", "TimeInterval"]


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

    def __mul__(self, other: object) -> SpaceTime:
        """Time comes last: `time * space` is refused.

        **Raises**

        `ProblemError` always (`space * TimeInterval(t, 0, 1)` is the product).
        """
        raise unsupported_product(self, other)

    def __rmul__(self, space: object) -> SpaceTime:
        """`space * TimeInterval(t, 0, 1)` is a `SpaceTime`.

        **Raises**

        `ProblemError` when `space` is not a space domain (time, space-time, not a domain).
        """
        if not isinstance(space, AbstractDomain) or isinstance(space, (TimeInterval, SpaceTime)):
            raise unsupported_product(space, self)
        return SpaceTime(space, self)

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

    def _measure(self, region: str) -> Measure:
        return Measure(float(self._t1 - self._t0) if region == "interior" else 1.0, True)

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
    def space_signature(self) -> tuple[sp.Symbol, ...]:
        return self._space.space_signature

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

    def __mul__(self, other: object) -> SpaceTime:
        """No product of a space-time domain is defined.

        **Raises**

        `ProblemError` always.
        """
        raise unsupported_product(self, other)

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

    def _measure(self, region: str) -> Measure:
        if region in ("initial", "final"):
            return self._space._measure("interior")
        space = self._space._measure(region)
        return Measure(space.value * self._time._measure("interior").value, space.exact)

    def _draw(
        self, region: str, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if getattr(self._space, "_exact_map", True):
            return super()._draw(region, n, rng, method)
        # A space drawn by rejection: space and time are drawn apart (Sobol in each) and paired
        # at random, so each factor keeps its own low discrepancy.
        space_region = "interior" if region in ("initial", "final") else region
        space, normals = self._space._draw(space_region, n, rng, method)
        if region in ("initial", "final"):
            time, _ = self._time._map(region, np.empty((n, 0)))
            return np.hstack([space, time]), None
        time, _ = self._time._map("interior", _unit(n, 1, rng, method)[rng.permutation(n)])
        if normals is not None:
            normals = np.hstack([normals, np.zeros((n, 1))])
        return np.hstack([space, time]), normals

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
