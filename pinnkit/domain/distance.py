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
  \\min(a)/2$, with the sign of the side the domain is on (holes: outside);
- a cylinder's side: the trimmed function with $f = (R^2 - r^2)/(2R)$ and $t$ the slab of its
  height, $((h/2)^2 - (z - z_m)^2)/h$; a cap that its plane does not serve (the plane cuts
  the domain): $f$ the distance to the plane, $t = (R^2 - r^2)/(2R)$;
- a 3-D mesh with flat faces (its triangles in at most `MAX_PLANES` planes, coplanar ones
  merged): the plane of each face, which must leave the domain on one side (a convex
  polyhedron; checked on seeded points, else refused);
- a curved 3-D mesh has none: each triangle's trimmed function joined over the nearest
  triangles (tried on 2026-12-05) holds the condition to round-off, but its Laplacian is
  rough along every edge between triangles (two coplanar triangles joined dip by 2^(-1/m)
  along their shared edge), and it trained far worse than a soft condition (an STL
  ellipsoid, -Lap u = 1, u = 0: relative L2 1.76 against 1.6e-2; a 12-triangle cube:
  4.1e-2 against 1.2e-4 with the `accurate` recipe, which its 6 face planes now serve).

Pieces are joined by the R-equivalence of order 1, $1/\\phi = \\sum_i 1/\\phi_i$, which
vanishes on every piece and keeps the unit slope. Each piece's function is clamped below at
`FLOOR` times the domain's size before the reciprocal, so points on the boundary (and corners,
where two pieces vanish) give $\\phi \\approx$ `FLOOR`, not 0/0. The formulas are written once
for any array type: NumPy here, PyTorch in `pinnkit.models.boundary` (pass its `sqrt` and
`clamp`). A box face in 3-D whose plane cuts into the domain (a notch's wall) has none
yet either (as two triangles it has the same rough edge). NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinnkit.errors import ProblemError

__all__ = [
    "FLOOR",
    "FACE_TOLERANCE",
    "MAX_PLANES",
    "PieceDistance",
    "part_distances",
    "evaluate",
    "join",
]

#: Lower clamp of every piece's distance, relative to the domain's size: on the boundary the
#: joined function is ~FLOOR * size instead of 0, so u = g + FLOOR * size * N there.
FLOOR = 1e-12
#: Triangles of a 3-D mesh lie in one plane when their unit normals differ by at most this
#: and their offsets by this times the size, and a face's plane may have other points of the
#: domain this far (times the size) outside it: the round-off of single-precision (STL)
#: vertices.
FACE_TOLERANCE = 1e-6
#: A 3-D mesh part whose triangles lie in at most this many planes (a polyhedron with flat
#: faces: a cube has 6, an octagonal prism 10) gets its faces' plane functions; a curved
#: surface (an icosphere's 1,280 triangles, 1,280 planes) has no distance function here.
MAX_PLANES = 32


@dataclass(frozen=True)
class PieceDistance:
    """The distance function of one boundary piece: `kind` (`"point"`, `"plane"`,
    `"segment"`, `"sphere"`, `"ellipse"`, `"tube"`, `"disk"`), the coordinates' column
    indices, its numbers and the side (`sign`, +1 when the domain is inside the primitive
    near the piece)."""

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
        return _trimmed(f, t, sqrt)
    if piece.kind in ("tube", "disk"):  # a cylinder's side or cap, trimmed
        cx, cy, radius, *levels = piece.data
        inside = (radius**2 - (c[0] - cx) ** 2 - (c[1] - cy) ** 2) / (2 * radius)
        if piece.kind == "tube":
            z0, z1 = levels
            f, t = inside, ((z1 - z0) ** 2 / 4 - (c[2] - (z0 + z1) / 2) ** 2) / (z1 - z0)
        else:
            f, t = c[2] - levels[0], inside
        return _trimmed(f, t, sqrt)
    if piece.kind == "ellipse":
        cx, cy, a, b = piece.data
        level = 1 - ((c[0] - cx) / a) ** 2 - ((c[1] - cy) / b) ** 2
        return piece.sign * level * min(a, b) / 2
    raise AssertionError(f"unknown distance kind {piece.kind}; a bug in pinnkit")


def _trimmed(f, t, sqrt):
    """The trimmed function of a piece on the zero set of `f` where `t >= 0` (their eq. 14):
    zero there only, unit slope across it."""
    trim = (sqrt(t * t + f**4) - t) / 2
    return sqrt(f * f + trim * trim)


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
    no distance function (a curved 3-D mesh, a 3-D box face whose plane cuts into the
    domain), or a piece other than a plane that only partly survives on the boundary (its
    function would vanish inside the domain too).
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
        if isinstance(spec, tuple):  # a polyhedral mesh's face planes
            probe = _probe(space) if probe is None else probe
            out.extend(_faces(domain, region, space, piece, spec, probe))
            continue
        if piece.dimension > 0 and (
            piece.plane is not None or getattr(spec, "kind", "") == "segment"
        ):
            if probe is None:  # drawn once per part, only when a flat piece needs it
                probe = _probe(space)
            spec = _plane(space, piece, probe) or spec
        if spec is None:
            raise ProblemError(
                f"{domain!r}: the part `{region}` has a piece of {piece.owner!r} without a "
                f"distance function (a curved 3-D mesh, its triangles in more than "
                f"{MAX_PLANES} planes, and 3-D box faces whose plane cuts into the domain have "
                f"none yet). Fix: drop `exact=True` for this condition (a soft condition works "
                f"everywhere)."
            )
        # A plane function's zero set is the plane, which leaves the domain on one side (so
        # where its piece does not survive it is outside the domain); any other function
        # vanishes on its whole piece, inside the domain too where the piece does not survive.
        if spec.kind != "plane" and space._survival(piece)[0] < 1.0:
            what = "curve" if spec.kind in ("sphere", "ellipse") else "side"
            raise ProblemError(
                f"{domain!r}: the part `{region}` includes a {what} of {piece.owner!r} that "
                f"only partly bounds the domain; its distance function would vanish inside "
                f"the domain too. Fix: drop `exact=True` for this condition, or build the "
                f"shape so that the {what} bounds it whole (a hole, an outer circle, a "
                f"`Polygon` of the outline in place of a union of rectangles)."
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


def _faces(domain, region: str, space, piece, planes: tuple, probe: np.ndarray) -> list:
    """The plane functions of a polyhedral mesh piece's faces (`planes`: "plane" specs with
    the mesh's own inward normals), oriented by the piece's sign; each plane must have every
    `probe` point on its inner side (within the mesh's coplanarity tolerance)."""
    out = []
    for plane in planes:
        d = len(plane.columns)
        inward, anchor = piece.sign * np.asarray(plane.data[:d]), np.asarray(plane.data[d:])
        spec = _inner_plane(space, probe, inward, anchor, FACE_TOLERANCE)
        if spec is None:
            raise ProblemError(
                f"{domain!r}: the part `{region}` has a flat face of {piece.owner!r} (through "
                f"{np.round(anchor, 6).tolist()}, normal {np.round(-inward, 6).tolist()}) "
                f"whose plane cuts into the domain (the solid is not convex there), so its "
                f"distance function would vanish inside the domain. Fix: drop `exact=True` "
                f"for this condition (a soft condition works everywhere)."
            )
        out.append(spec)
    return out


def _plane(space, piece, probe: np.ndarray) -> PieceDistance | None:
    """The plane distance of a flat piece whose plane has every `probe` point on its inner
    side (within 1e-9 of the size), else None."""
    unit = np.random.default_rng(0).uniform(size=(1, piece.dimension))
    on, normals = piece.owner._piece_points(piece.index, unit)
    return _inner_plane(space, probe, -piece.sign * normals[0], on[0], 1e-9)


def _inner_plane(space, probe, inward, anchor, tol: float) -> PieceDistance | None:
    """The distance to the plane through `anchor` with normal `inward` when every `probe`
    point is on its inner side (within `tol` times the size), else None."""
    if np.min((probe - anchor) @ inward) < -tol * space._size():
        return None
    d = len(anchor)
    return PieceDistance("plane", tuple(range(d)), (*map(float, inward), *map(float, anchor)))
