"""Approximate distance functions (ADFs) to boundary parts, for exact Dirichlet conditions.

Sukumar & Srivastava, "Exact imposition of boundary conditions with distance functions in
physics-informed deep neural networks", CMAME 389 (2022): a field $u = g + \\phi N$ holds
$u = g$ on a part where $\\phi = 0$, whatever the network $N$. Each boundary piece has a
function that vanishes on it, is positive in the domain near it and has unit normal slope
there (normalised to first order):

- a point of a 1-D domain: the distance $|x - a|$, oriented inward;
- a flat piece (a box face, a polygon side) whose line or plane leaves the whole domain on
  one side (checked on seeded points): the distance to that line or plane, smooth;
- any other segment (a side of a notch): the trimmed segment function
  $\\phi = \\sqrt{f^2 + ((\\sqrt{t^2 + f^4} - t)/2)^2}$ with $f$ the signed distance to its
  line and $t = ((L/2)^2 - |x - x_c|^2)/L$, zero on the segment only (their eq. 14);
- a circle or sphere: $(R^2 - |x - c|^2)/(2R)$, an ellipse $(1 - \\sum (\\Delta x_i/a_i)^2)
  \\min(a)/2$, with the sign of the side the domain is on (holes: outside).

Pieces are joined by the R-equivalence of order 1, $1/\\phi = \\sum_i 1/\\phi_i$, which
vanishes on every piece and keeps the unit slope. Each piece's function is clamped below at
`FLOOR` times the domain's size before the reciprocal, so points on the boundary (and corners,
where two pieces vanish) give $\\phi \\approx$ `FLOOR`, not 0/0. The formulas are written once
for any array type: NumPy here, PyTorch in `pinnkit.models.boundary` (pass its `sqrt` and
`clamp`). Flat faces in 3-D that cut into the domain and cylinders have no function here
yet. NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinnkit.errors import ProblemError

__all__ = ["FLOOR", "PieceDistance", "part_distances", "evaluate", "join"]

#: Lower clamp of every piece's distance, relative to the domain's size: on the boundary the
#: joined function is ~FLOOR * size instead of 0, so u = g + FLOOR * size * N there.
FLOOR = 1e-12


@dataclass(frozen=True)
class PieceDistance:
    """The distance function of one boundary piece: `kind` (`"point"`, `"plane"`,
    `"segment"`, `"sphere"`, `"ellipse"`), the coordinates' column indices, its numbers and the side
    (`sign`, +1 when the domain is inside the primitive near the piece)."""

    kind: str
    columns: tuple[int, ...]
    data: tuple[float, ...]
    sign: float = 1.0


def evaluate(piece: PieceDistance, points, sqrt):
    """The piece's distance function at `points` (`(n, d)` NumPy or torch), unclamped."""
    if piece.kind == "sphere":
        *center, radius = piece.data
        squared = _squared_distance(points, piece.columns, center)
        return piece.sign * (radius**2 - squared) / (2 * radius)
    c = [points[:, i] for i in piece.columns]
    if piece.kind == "point":
        return piece.sign * (c[0] - piece.data[0])
    if piece.kind == "plane":  # data: the inward unit normal, then a point of the plane
        d = len(c)
        return sum(piece.data[i] * (c[i] - piece.data[d + i]) for i in range(d))
    if piece.kind == "segment":
        x1, y1, x2, y2 = piece.data
        length = float(np.hypot(x2 - x1, y2 - y1))
        f = ((c[0] - x1) * (y2 - y1) - (c[1] - y1) * (x2 - x1)) / length
        xc, yc = (x1 + x2) / 2, (y1 + y2) / 2
        t = ((length / 2) ** 2 - (c[0] - xc) ** 2 - (c[1] - yc) ** 2) / length
        trim = (sqrt(t * t + f**4) - t) / 2
        return sqrt(f * f + trim * trim)
    if piece.kind == "ellipse":
        cx, cy, a, b = piece.data
        level = 1 - ((c[0] - cx) / a) ** 2 - ((c[1] - cy) / b) ** 2
        return piece.sign * level * min(a, b) / 2
    raise AssertionError(f"unknown distance kind {piece.kind}; a bug in pinnkit")


def _squared_distance(points, columns: tuple[int, ...], center) -> object:
    """$|x - c|^2$ over `columns`: a loop for a few, one array operation for a block (a
    ball over a `Vector` has thousands)."""
    if len(columns) <= 3:
        return sum((points[:, i] - cc) ** 2 for i, cc in zip(columns, center))
    block = points[:, columns[0] : columns[-1] + 1]
    offset = block.new_tensor(center) if hasattr(block, "new_tensor") else np.asarray(center)
    return ((block - offset) ** 2).sum(1)


def join(values, floor: float, clamp):
    """R-equivalence of order 1 of piece values: $1 / \\sum_i 1/\\max(\\phi_i, floor)$."""
    total = 0
    for value in values:
        total = total + 1 / clamp(value, floor)
    return 1 / total


def part_distances(domain, region: str) -> tuple[PieceDistance, ...]:
    """The pieces' distance functions of a boundary part of `domain` (or its space factor).

    **Raises**

    `ProblemError` when the domain is not a shape (`Solid`), or the part has a piece with
    no distance function (flat faces in 3-D, cylinders), or a piece that only partly
    survives on the boundary while its function is not trimmed (its zero set would cross
    the domain).
    """
    from pinnkit.domain.solid import Solid

    space = getattr(domain, "space", domain)  # space columns come first in every points array
    if hasattr(space, "ball_distance"):  # a ball over a `Vector`
        return space.ball_distance(region)
    if not isinstance(space, Solid):
        raise ProblemError(
            f"{domain!r}: exact Dirichlet conditions need a space shape (Interval, Rectangle, "
            f"Disk, Polygon, ... or their combinations). Fix: drop `exact=True`."
        )
    out, probe = [], None
    for piece in space._region_pieces(region):
        spec = piece.owner._piece_distance(piece.index)
        if piece.dimension > 0 and (
            piece.plane is not None or getattr(spec, "kind", "") == "segment"
        ):
            if probe is None:  # drawn once per part, only when a flat piece needs it
                probe = _probe(space)
            spec = _plane(space, piece, probe) or spec
        if spec is None:
            raise ProblemError(
                f"{domain!r}: the part `{region}` has a piece of {piece.owner!r} without a "
                f"distance function (flat faces in 3-D and cylinders have none yet). Fix: "
                f"drop `exact=True` for this condition (a soft condition works everywhere)."
            )
        if spec.kind in ("sphere", "ellipse") and space._survival(piece)[0] < 1.0:
            raise ProblemError(
                f"{domain!r}: the part `{region}` includes a curve of {piece.owner!r} that only "
                f"partly bounds the domain; its distance function would vanish inside the "
                f"domain too. Fix: drop `exact=True` for this condition, or build the shape "
                f"so that the curve bounds it whole (a hole, an outer circle)."
            )
        sign = 1.0 if spec.kind == "plane" else spec.sign * piece.sign
        out.append(PieceDistance(spec.kind, spec.columns, spec.data, sign))
    return tuple(out)


def _probe(space) -> np.ndarray:
    """4,096 seeded interior and 4,096 boundary points: where a plane must leave the domain."""
    rng = np.random.default_rng(0)
    return np.vstack(
        [space.sample("interior", 4096, rng).points, space.sample("boundary", 4096, rng).points]
    )


def _plane(space, piece, probe: np.ndarray) -> PieceDistance | None:
    """The plane distance of a flat piece whose plane has every `probe` point on its inner
    side (within 1e-9 of the size), else None."""
    unit = np.random.default_rng(0).uniform(size=(1, piece.dimension))
    on, normals = piece.owner._piece_points(piece.index, unit)
    inward, anchor = -piece.sign * normals[0], on[0]
    if np.min((probe - anchor) @ inward) < -1e-9 * space._size():
        return None
    d = len(anchor)
    return PieceDistance("plane", tuple(range(d)), (*map(float, inward), *map(float, anchor)))
