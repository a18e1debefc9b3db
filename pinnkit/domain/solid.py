"""`Solid`: a space domain that knows its signed distance and its boundary pieces.

Every space primitive (boxes, disks, ellipses, polygons, balls, cylinders) is a `Solid`, and
so are their unions, differences and intersections (`pinnkit.domain.csg`). A solid describes
itself by

- a signed distance `_sdf(points)`: negative inside, zero on the boundary, positive outside
  (exact for most primitives; for an ellipse a function with the same zero set and sign);
- its boundary as `Piece`s: a face of a box, an edge of a polygon, a circle, a sphere, the side
  or a cap of a cylinder. Each piece maps unit-cube draws onto itself uniformly in length or
  area, knows its measure and carries labels: the primitive's `name=` and, for a flat
  axis-aligned piece, its plane (`"x = 0"`).

From these, this module samples regions (rejection from the bounding box for the interior;
pieces chosen by their surviving measure, then rejection for the boundary), tests containment,
names boundary parts and measures them. Primitives whose regions have a measure-preserving
unit-cube map keep it (`_exact_map`). NumPy and SymPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.domain.base import AbstractDomain, Measure, unsupported_product
from pinnkit.domain.sampling import _allocate, _unit
from pinnkit.errors import ProblemError

__all__ = ["Piece", "Solid"]

# A drawn boundary point counts as on the solid's boundary when |sdf| <= _ON_RTOL * size, with
# size the bounding box's diagonal: maps put points on their piece to round-off (1e-16 * size).
_ON_RTOL = 1e-9
# Step off a boundary point, relative to the size, to see which side the solid is on.
_SIDE_RTOL = 1e-6
# Draws used (seeded, so every call agrees) to estimate measures that are not known in closed
# form: the surviving share of a piece (2^12 Sobol points) and a volume (2^16).
_PIECE_DRAWS, _VOLUME_DRAWS = 12, 16
# Aliases of the low/high flat parts of the first, second and third coordinate.
_ALIASES = (("left", "right"), ("bottom", "top"), ("back", "front"))
# Rejection gives up after this many rounds: the region then has (almost) no measure.
_MAX_ROUNDS = 60


@dataclass(frozen=True, eq=False)
class Piece:
    """One smooth piece of a solid's boundary.

    **Arguments**

    - `owner`: the primitive whose `_piece_points(index, unit)` and `_piece_on(index, ...)`
      draw on and test this piece.
    - `index`: the piece's number within its owner.
    - `dimension`: unit-cube coordinates the map needs (0 for a point, d - 1 in d dimensions).
    - `measure`: length or area (1 for a point), exact.
    - `labels`: the part names it belongs to: the owner's `name=` and its plane (`"x = 0"`).
    - `plane`: `(coordinate, value)` when the piece is flat and axis-aligned, else `None`.
    - `sign`: +1, or -1 when the piece bounds a subtracted solid (its normal is flipped).
    """

    owner: Solid
    index: int
    dimension: int
    measure: float
    labels: frozenset
    plane: tuple[sp.Symbol, sp.Expr] | None = None
    sign: float = 1.0

    def flipped(self) -> Piece:
        """The same piece with its normal reversed (it bounds a hole)."""
        return Piece(
            self.owner, self.index, self.dimension, self.measure, self.labels, self.plane,
            -self.sign,
        )  # fmt: skip


def plane_label(symbol: sp.Symbol, value: sp.Expr) -> str:
    """The part name of the flat piece `symbol = value` (`"x = 0"`, `"y = 0.5"`)."""
    from pinnkit.domain.base import _text

    return f"{symbol} = {_text(value)}"


class Solid(AbstractDomain):
    """A space domain with a signed distance and boundary pieces (`Shape` adds `|`, `-`, `&`).

    Regions: `"interior"`, `"boundary"`, every name given with `name=` to a primitive in it,
    and every flat axis-aligned part as `"x = 0"` (aliases `"left"`, `"right"`, `"bottom"`,
    `"top"`, `"back"`, `"front"` for such parts on the bounding box). A name shared by several
    primitives is the union of their boundaries. Normals point out of the solid: on a hole's
    boundary they point into the hole.
    """

    _name: str | None = None
    #: True when `_map` maps the unit cube onto every region preserving measure (boxes, disks);
    #: else regions are drawn by rejection and pieces (`_draw`).
    _exact_map = False

    @property
    def name(self) -> str | None:
        """The boundary's part name given with `name=`, or `None`."""
        return self._name

    @property
    def time(self) -> None:
        return None

    # -- what a solid must define ---------------------------------------------------------

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        """Signed distance (or a function with its zero set and sign) at `(n, d)` points."""
        raise NotImplementedError

    def _pieces(self) -> tuple[Piece, ...]:
        """The boundary's pieces, each with its labels and the sign of its normal."""
        raise NotImplementedError

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points and outward unit normals on piece `index` from unit-cube draws, uniform."""
        raise NotImplementedError

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        """Which `points` lie on piece `index`, within `tol`."""
        raise NotImplementedError

    def _piece_distance(self, index: int):
        """The `PieceDistance` of piece `index` in this shape's own columns (its sign: +1
        inside this shape), or `None` where there is none (`pinnkit.domain.distance`)."""
        return None

    def _volume(self) -> Measure:
        """The interior's measure; solids without a closed form estimate it."""
        return self._estimated_volume()

    def _leaves(self) -> tuple[Solid, ...]:
        """The primitives this solid is built from (itself, for a primitive)."""
        return (self,)

    # -- products -------------------------------------------------------------------------

    def __mul__(self, other: object) -> AbstractDomain:
        """`shape * TimeInterval(t, 0, 1)` is left to `TimeInterval` (a `SpaceTime`).

        **Raises**

        `ProblemError` for any other product.
        """
        if isinstance(other, AbstractDomain) and other.time is not None and not other.space_coords:
            return NotImplemented  # a time interval: `TimeInterval.__rmul__` builds space x time
        raise unsupported_product(self, other)

    # -- regions and parts ----------------------------------------------------------------

    @property
    def regions(self) -> tuple[str, ...]:
        names = dict.fromkeys(["interior", "boundary"])
        for piece in self._surviving():
            names.update(dict.fromkeys(sorted(piece.labels, key=_label_order)))
        return tuple(names)

    def _surviving(self) -> list[Piece]:
        """The pieces with some length or area on the boundary (a face of a subtracted
        shape that lies outside the domain names no part)."""
        return [p for p in self._pieces() if self._survival(p)[0] > 0]

    def _faces(self) -> dict[str, tuple[sp.Symbol, sp.Expr]]:
        faces = {}
        for piece in self._surviving():
            if piece.plane is not None:
                faces.setdefault(plane_label(*piece.plane), piece.plane)
        return faces

    def _aliases(self) -> dict[str, str]:
        faces, aliases = self._faces(), {}
        lo, hi = self.bounds
        for i, (low, high) in enumerate(_ALIASES[: len(self.space_coords)]):
            symbol = self.space_coords[i]
            for alias, value in ((low, lo[i]), (high, hi[i])):
                for name, (s, v) in faces.items():
                    if s == symbol and abs(float(v) - value) <= 1e-12 * max(1.0, abs(value)):
                        aliases[alias] = name
        return aliases

    def _parts_text(self) -> str:
        names = [r for r in self.regions if r not in ("interior", "boundary")]
        if not names:
            return '"boundary" (no named parts: give a primitive `name="wall"`)'
        return ", ".join(f'"{n}"' for n in names)

    def _region_pieces(self, region: str) -> list[Piece]:
        pieces = self._surviving()
        if region == "boundary":
            return pieces
        return [p for p in pieces if region in p.labels]

    def _measure(self, name: str) -> Measure:
        if name == "interior":
            return self._volume()
        total, exact = 0.0, True
        for piece in self._region_pieces(name):
            share, known = self._survival(piece)
            total += piece.measure * share
            exact = exact and known
        return Measure(total, exact)

    # -- sampling -------------------------------------------------------------------------

    def _size(self) -> float:
        lo, hi = self.bounds
        return float(np.linalg.norm(hi - lo))

    def _on_boundary(self, points: np.ndarray, normals: np.ndarray | None = None) -> np.ndarray:
        """Whether each point is on the boundary (its signed distance within round-off of 0);
        with the pieces' outward `normals` there, also whether the solid lies on the inner
        side only (a step of `_SIDE_RTOL` of the size inward is inside, outward outside): a
        hole's cap on the face it is cut from (the opening) or two faces that touch inside a
        union have distance 0 but bound nothing."""
        size = self._size()
        on = np.abs(self._sdf(points)) <= _ON_RTOL * size
        if normals is None:
            return on
        step = _SIDE_RTOL * size * normals
        return on & (self._sdf(points - step) < 0) & (self._sdf(points + step) > 0)

    def _survival(self, piece: Piece) -> tuple[float, bool]:
        """The share of `piece` on this solid's boundary, and whether it is exact (1 for a
        primitive's own pieces)."""
        return 1.0, True

    def _dimension(self, region: str) -> int:
        raise AssertionError("solids without an exact map draw by `_draw`; a bug in pinnkit")

    def _map(self, region: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        raise AssertionError("solids without an exact map draw by `_draw`; a bug in pinnkit")

    def _draw(
        self, region: str, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if self._exact_map:
            return super()._draw(region, n, rng, method)
        if region == "interior":
            return self._draw_interior(n, rng, method), None
        pieces = self._region_pieces(region)
        weights = np.array([p.measure * self._survival(p)[0] for p in pieces])
        if not weights.sum() > 0:
            raise ProblemError(
                f"{self!r}: the part `{region}` does not survive on the boundary (its measure "
                f"is 0). Fix: name a part that is on the boundary: {self._parts_text()}."
            )
        drawn = [
            self._draw_piece(piece, int(k), rng, method)
            for piece, k in zip(pieces, _allocate(n, weights))
            if k
        ]
        points = np.concatenate([d[0] for d in drawn])
        normals = np.concatenate([d[1] for d in drawn])
        order = rng.permutation(n)
        return points[order], normals[order]

    def _draw_interior(self, n: int, rng: np.random.Generator, method: str) -> np.ndarray:
        lo, hi = self.bounds
        share = self._volume().value / float(np.prod(hi - lo))

        def propose(m: int) -> np.ndarray:
            points = lo + (hi - lo) * _unit(m, len(lo), rng, method)
            return points[self._sdf(points) <= 0]

        return _collect(propose, n, share, f"{self!r}: the interior")[0]

    def _draw_piece(
        self, piece: Piece, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray]:
        share = self._survival(piece)[0]

        def propose(m: int) -> tuple[np.ndarray, np.ndarray]:
            unit = _unit(m, piece.dimension, rng, method)
            points, normals = piece.owner._piece_points(piece.index, unit)
            normals = piece.sign * normals
            keep = self._on_boundary(points, normals)
            return points[keep], normals[keep]

        return _collect(propose, n, share, f"{self!r}: a boundary piece")

    def _estimated_volume(self) -> Measure:
        lo, hi = self.bounds
        rng = np.random.default_rng(0)
        points = lo + (hi - lo) * _unit(2**_VOLUME_DRAWS, len(lo), rng, "sobol")
        share = float(np.mean(self._sdf(points) <= 0))
        return Measure(share * float(np.prod(hi - lo)), False)

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        distance = self._sdf(points)
        if region == "interior":
            return distance <= tol
        on = np.abs(distance) <= tol
        if region == "boundary":
            return on
        mask = np.zeros(len(points), dtype=bool)
        for piece in self._region_pieces(region):
            mask |= piece.owner._piece_on(piece.index, points, tol)
        return on & mask


def _collect(propose, n: int, share: float, what: str):
    """Call `propose(m)` (kept points, and normals if any) until `n` are kept; first `n` kept.

    `m` is sized from the expected acceptance `share`, so one round usually suffices.
    """
    kept, have = [], 0
    # An estimated share of 0: not one of the seeded estimate's draws fell in the region.
    for _ in range(_MAX_ROUNDS if share > 0 else 0):
        m = math.ceil((n - have) / max(share, 1e-4) * 1.1) + 16
        drawn = propose(m)
        drawn = drawn if isinstance(drawn, tuple) else (drawn,)
        kept.append(drawn)
        have += len(drawn[0])
        if have >= n:
            return tuple(np.concatenate([k[i] for k in kept])[:n] for i in range(len(drawn)))
    found = (
        f"{have} of {n} points found after {_MAX_ROUNDS} rounds of rejection sampling"
        if share > 0
        else f"none of the {2**_VOLUME_DRAWS:,} seeded points that estimate its measure fell in it"
    )
    raise ProblemError(
        f"{what} has (almost) no measure: {found}. Fix: check the shapes overlap as intended "
        f"(a difference that removes everything, an intersection of disjoint shapes)."
    )


def _label_order(label: str) -> tuple[int, str]:
    """Names given by the user first, then planes (`"x = 0"`)."""
    return (" = " in label, label)
