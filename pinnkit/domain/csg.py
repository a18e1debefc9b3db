"""Constructive solid geometry: unions, differences and intersections of solids.

`a | b`, `a - b` and `a & b` of two `Solid`s in the same coordinates give a `CSG` solid:

    square = pk.Rectangle((x, -0.5, 0.5), (y, -0.5, 0.5), name="outer")
    holes = [pk.Disk(x, y, (cx, cy), 0.1, name="holes") for cx in (-0.3, 0.3) for cy in ...]
    domain = square - holes[0] - holes[1] - ...

Its signed distance is the min (union), max (intersection) or max(a, -b) (difference) of its
operands'; its boundary is every primitive's pieces where they survive (where that combined
distance is 0), with normals flipped on pieces of subtracted solids. The interior is drawn by
rejection from the bounding box; the boundary by choosing pieces in proportion to their
surviving measure (estimated once, seeded) and rejecting what does not survive. Two shapes
that only touch along a face keep that face as boundary: build such a domain from one shape.
NumPy and SymPy only.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from pinnkit.domain.base import AbstractDomain, Measure
from pinnkit.domain.sampling import _unit
from pinnkit.domain.solid import _PIECE_DRAWS, Piece, Solid
from pinnkit.errors import ProblemError

__all__ = ["CSG", "Shape", "combine"]

_WORDS = {"|": "union", "-": "difference", "&": "intersection"}


def combine(op: str, left: Solid, right: object) -> CSG:
    """`left op right` for `op` in `|`, `-`, `&`, checked.

    **Raises**

    `ProblemError` when `right` is not a solid or its coordinates differ from `left`'s.
    """
    where = f"{left!r} {op} {right!r}"
    if not isinstance(right, Solid):
        kind = "a space-time domain" if isinstance(right, AbstractDomain) else type(right).__name__
        raise ProblemError(
            f"{where}: the {_WORDS[op]} needs two space shapes, found {kind}. Expected shapes "
            f"such as Rectangle, Disk, Polygon, Ball. Fix: combine the space shapes first, "
            f"then multiply by time: `(square - disk) * TimeInterval(t, 0, 1)`."
        )
    if left.space_coords != right.space_coords:
        raise ProblemError(
            f"{where}: the shapes have coordinates {left.space_coords} and "
            f"{right.space_coords}, expected the same coordinates in the same order. "
            f"Fix: build both from the same symbols, e.g. `Disk(x, y, ...)` with "
            f"`Rectangle((x, ...), (y, ...))`."
        )
    return CSG(op, left, right)


class Shape(Solid):
    """A solid that combines with others: `a | b` (union), `a - b` (difference), `a & b`
    (intersection). Every primitive and every combination is a `Shape`."""

    def __or__(self, other: object) -> Solid:
        """The union of two solids in the same coordinates."""
        return combine("|", self, other)

    def __sub__(self, other: object) -> Solid:
        """This solid with `other` removed (holes, notches)."""
        return combine("-", self, other)

    def __and__(self, other: object) -> Solid:
        """The intersection of two solids in the same coordinates."""
        return combine("&", self, other)


class CSG(Shape):
    """The union (`|`), difference (`-`) or intersection (`&`) of two solids.

    Regions, part names and normals are those of `Solid`; measures of the interior and of the
    parts are estimated (see `Measure`), since the pieces' overlaps have no closed form here.

    **Arguments**

    - `op`: `"|"`, `"-"` or `"&"`.
    - `left`, `right`: solids in the same coordinates (use the operators instead).

    **Raises**

    - `ProblemError`: the intersection of the bounding boxes is empty.
    """

    def __init__(self, op: str, left: Solid, right: Solid) -> None:
        self._op, self._left, self._right = op, left, right
        if op == "&":
            (lo_a, hi_a), (lo_b, hi_b) = left.bounds, right.bounds
            if np.any(np.maximum(lo_a, lo_b) >= np.minimum(hi_a, hi_b)):
                raise ProblemError(
                    f"{self!r}: the shapes do not overlap, so their intersection is empty. "
                    f"Fix: check centers and sizes, or use `|` for a union."
                )

    def __repr__(self) -> str:
        return f"({self._left!r} {self._op} {self._right!r})"

    @property
    def space_coords(self):
        return self._left.space_coords

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (lo_a, hi_a), (lo_b, hi_b) = self._left.bounds, self._right.bounds
        if self._op == "|":
            return np.minimum(lo_a, lo_b), np.maximum(hi_a, hi_b)
        if self._op == "-":
            return lo_a, hi_a
        return np.maximum(lo_a, lo_b), np.minimum(hi_a, hi_b)

    def _key(self) -> tuple:
        return (self._op, self._left, self._right)

    def _leaves(self) -> tuple[Solid, ...]:
        return self._left._leaves() + self._right._leaves()

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        a, b = self._left._sdf(points), self._right._sdf(points)
        if self._op == "|":
            return np.minimum(a, b)
        if self._op == "&":
            return np.maximum(a, b)
        return np.maximum(a, -b)

    @cached_property
    def _piece_list(self) -> tuple[Piece, ...]:
        right = self._right._pieces()
        if self._op == "-":
            right = tuple(p.flipped() for p in right)
        return self._left._pieces() + right

    def _pieces(self) -> tuple[Piece, ...]:
        return self._piece_list

    def _survival(self, piece: Piece) -> tuple[float, bool]:
        return self._shares[_piece_key(piece)], False

    @cached_property
    def _shares(self) -> dict[tuple[int, int], float]:
        """Surviving share of every piece, from 2^12 seeded Sobol points on it."""
        shares = {}
        for piece in self._pieces():
            rng = np.random.default_rng(piece.index)
            unit = _unit(2**_PIECE_DRAWS, piece.dimension, rng, "sobol")
            points, normals = piece.owner._piece_points(piece.index, unit)
            on = self._on_boundary(points, piece.sign * normals)
            shares[_piece_key(piece)] = float(np.mean(on))
        return shares

    @cached_property
    def _volume_estimate(self) -> Measure:
        return self._estimated_volume()

    def _volume(self) -> Measure:
        return self._volume_estimate

    def opposite(self, part):
        """Periodic conditions need a box: no opposite faces are defined on combined shapes.

        **Raises**

        `ProblemError` always.
        """
        raise ProblemError(
            f"{self!r}: periodic conditions are defined on boxes (Interval, Rectangle, Box), "
            f"not on combined shapes. Fix: pose the problem on a box, or give both sides a "
            f"Dirichlet or Neumann condition."
        )


def _piece_key(piece: Piece) -> tuple:
    """A piece by value (its shape and number), so copies of a domain agree."""
    return (type(piece.owner).__name__, piece.owner._key(), piece.index)
