"""The reference-solution interface: `AbstractReference` and its input checks.

A reference solution maps named coordinates to named field values, with NumPy only, so that
error reports and plots can compare a trained network with a classical solution.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

import numpy as np

from pinnkit.errors import ProblemError, did_you_mean

__all__ = ["AbstractReference"]


class AbstractReference(abc.ABC):
    """A classical solution of a problem, evaluated at arbitrary points.

    Concrete references set two attributes and implement `evaluate` (and `grid` or `points`
    when they have natural evaluation points):

    - `fields`: the names of the fields given, e.g. `("u",)`;
    - `coords`: the coordinate names expected, e.g. `("x", "t")`, in a fixed order.

    Contract of `evaluate`: the coordinate arrays broadcast against each other, and every
    returned array is `float64` with the broadcast shape. Extra coordinate names are ignored;
    a missing one raises `ProblemError`.
    """

    fields: tuple[str, ...]
    coords: tuple[str, ...]

    @abc.abstractmethod
    def evaluate(self, coords: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Field values at points.

        **Arguments**

        - `coords`: one array per coordinate name in `self.coords`; the arrays broadcast.

        **Returns**

        A dict from field name to a `float64` array of the broadcast shape.

        **Raises**

        - `ProblemError`: a coordinate is missing, or a point lies outside the reference's range.
        """

    def grid(self) -> dict[str, np.ndarray] | None:
        """The natural evaluation grid.

        **Returns**

        One 1-D axis array per coordinate name, in `self.coords` order, or `None` when the
        reference has no natural grid (a closed form, say).
        """
        return None

    def points(self) -> dict[str, np.ndarray] | None:
        """The points where the reference is known exactly, for errors measured without
        interpolation (`Points` has them; error reports use them instead of a grid).

        **Returns**

        One 1-D array per coordinate name, all of one length (the points), or `None` when
        the reference has no points of its own.
        """
        return None

    def _broadcast_coords(self, coords: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Check `coords` names every coordinate; return float64 arrays broadcast together."""
        missing = [name for name in self.coords if name not in coords]
        if missing:
            given = ", ".join(f"`{name}`" for name in coords) or "none"
            hint = did_you_mean(missing[0], [str(name) for name in coords])
            raise ProblemError(
                f"{type(self).__name__}.evaluate: missing coordinate(s) "
                f"{', '.join(f'`{name}`' for name in missing)}; given {given}, expected "
                f"{', '.join(f'`{name}`' for name in self.coords)}.{hint} "
                f"Fix: pass every coordinate, e.g. "
                f"`reference.evaluate({{{', '.join(f'{n!r}: ...' for n in self.coords)}}})`."
            )
        arrays = [np.asarray(coords[name], dtype=np.float64) for name in self.coords]
        try:
            return list(np.broadcast_arrays(*arrays))
        except ValueError as error:
            shapes = ", ".join(f"`{n}` {a.shape}" for n, a in zip(self.coords, arrays))
            raise ProblemError(
                f"{type(self).__name__}.evaluate: coordinate arrays do not broadcast "
                f"({shapes}). Fix: give arrays of one shape, or shapes that broadcast."
            ) from error
