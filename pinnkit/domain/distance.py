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
- the triangles of a 3-D mesh's boundary piece (`"triangles"`): each triangle's function is
  the trimmed one above with $f$ the distance to its plane and $t$ the R-conjunction
  ($a + b - \\sqrt{a^2 + b^2}$) of the in-plane distances to its three edges, so it vanishes
  on the triangle only; at each point the `TRIANGLE_NEAREST` (or more) triangles nearest by
  the centroids of their parts (`nearest_triangles`) are joined by the R-equivalence of
  order `TRIANGLE_ORDER`, $(\\sum_i \\phi_i^{-m})^{-1/m}$, which tends to the least of them
  as $m$ grows (order 1 over a surface of many triangles would make $\\phi$ a thin layer:
  1,280 triangles at a distance of 0.5 give 1/2560).

Pieces are joined by the R-equivalence of order 1, $1/\\phi = \\sum_i 1/\\phi_i$, which
vanishes on every piece and keeps the unit slope. Each piece's function is clamped below at
`FLOOR` times the domain's size before the reciprocal, so points on the boundary (and corners,
where two pieces vanish) give $\\phi \\approx$ `FLOOR`, not 0/0. The formulas are written once
for any array type: NumPy here, PyTorch in `pinnkit.models.boundary` (pass its `sqrt` and
`clamp`). A box face in 3-D whose plane cuts into the domain (a notch's wall) is two
triangles of the kind above; boxes of more than three dimensions have no function here yet.
NumPy only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pinnkit.errors import ProblemError

__all__ = [
    "FLOOR",
    "TRIANGLE_ORDER",
    "TRIANGLE_NEAREST",
    "PieceDistance",
    "part_distances",
    "evaluate",
    "join",
    "nearest_triangles",
]

#: Lower clamp of every piece's distance, relative to the domain's size: on the boundary the
#: joined function is ~FLOOR * size instead of 0, so u = g + FLOOR * size * N there.
FLOOR = 1e-12
#: Order m of the R-equivalence that joins a mesh piece's triangles: the joined function is
#: at least the least triangle's times k^(-1/m) over k triangles (0.5 for 16), and its
#: curvature across an edge between two triangles grows with m.
TRIANGLE_ORDER = 4
#: Triangles joined at each point: the nearest by their parts' centroids. A boundary point's
#: own triangle must be among them for the condition to hold there; `part_distances` checks
#: that on sampled boundary points and doubles the number until it does.
TRIANGLE_NEAREST = 16


@dataclass(frozen=True)
class PieceDistance:
    """The distance function of one boundary piece: `kind` (`"point"`, `"plane"`,
    `"segment"`, `"sphere"`, `"ellipse"`, `"tube"`, `"disk"`, `"triangles"`), the coordinates'
    column indices, its numbers and the side (`sign`, +1 when the domain is inside the
    primitive near the piece).
    `"triangles"`: the number of triangles joined at each point, then every triangle's three
    corners."""

    kind: str
    columns: tuple[int, ...]
    data: tuple[float, ...]
    sign: float = 1.0


def evaluate(piece: PieceDistance, points, sqrt, nearest=None):
    """The piece's distance function at `points` (`(n, d)` NumPy or torch), unclamped.
    `nearest`: for `"triangles"`, the triangles to join at each point (`nearest_triangles`;
    None: all of them)."""
    if piece.kind == "triangles":
        return _triangles(piece, points, sqrt, nearest)
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


def _triangles(piece: PieceDistance, points, sqrt, nearest):
    """The joined function of a mesh piece's triangles (module docstring)."""
    frame = _triangle_frame(piece.data)
    torch_like = hasattr(points, "new_tensor")

    def take(values: np.ndarray):
        values = points.new_tensor(values) if torch_like else values
        if nearest is None:
            return values[None]
        index = points.new_tensor(nearest[0]).long() if torch_like else nearest[0]
        return values[index]

    x = points[:, list(piece.columns)][:, None, :]
    f = ((x - take(frame.anchors)) * take(frame.normals)).sum(-1)
    edges = [((x - take(frame.edge_points[:, e])) * take(frame.edge_normals[:, e])).sum(-1)
             for e in range(3)]  # fmt: skip
    t = _conjoin(_conjoin(edges[0], edges[1], sqrt), edges[2], sqrt)
    trim = (sqrt(t * t + f**4) - t) / 2
    # The floor under the root keeps the function differentiable on the triangles themselves.
    phi = sqrt(f * f + trim * trim + frame.floor**2)
    # Scaled by the least (a constant for the derivatives: the join does not depend on it),
    # so no power overflows next to the boundary.
    least = phi.detach().amin(1) if torch_like else phi.min(1)
    powers = (least[:, None] / phi) ** TRIANGLE_ORDER
    if nearest is not None:  # triangles listed twice to fill a row count once
        counted = nearest[1].astype(float)
        powers = powers * (points.new_tensor(counted) if torch_like else counted)
    return least * powers.sum(1) ** (-1.0 / TRIANGLE_ORDER)


def _trimmed(f, t, sqrt):
    """The trimmed function of a piece on the zero set of `f` where `t >= 0` (their eq. 14):
    zero there only, unit slope across it."""
    trim = (sqrt(t * t + f**4) - t) / 2
    return sqrt(f * f + trim * trim)


def _conjoin(a, b, sqrt):
    """R-conjunction of order 0: non-negative exactly where both are."""
    return a + b - sqrt(a * a + b * b)


@dataclass(frozen=True)
class _Frame:
    anchors: np.ndarray  # (m, 3): a corner of each triangle
    normals: np.ndarray  # (m, 3): unit normals
    edge_points: np.ndarray  # (m, 3, 3): a point of each edge
    edge_normals: np.ndarray  # (m, 3, 3): in-plane unit normals of the edges, inward
    floor: float  # FLOOR times the triangles' size


@functools.lru_cache(maxsize=16)
def _triangle_frame(data: tuple[float, ...]) -> _Frame:
    corners = np.asarray(data[1:], dtype=float).reshape(-1, 3, 3)
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    normals = _unit(np.cross(b - a, c - a))
    starts, normals_in = [], []
    for p, q, r in ((a, b, c), (b, c, a), (c, a, b)):
        inward = _unit(np.cross(normals, q - p))
        flip = np.einsum("ij,ij->i", r - p, inward) < 0
        inward[flip] *= -1
        starts.append(p)
        normals_in.append(inward)
    size = float(np.linalg.norm(corners.reshape(-1, 3).max(0) - corners.reshape(-1, 3).min(0)))
    return _Frame(a, normals, np.stack(starts, 1), np.stack(normals_in, 1), FLOOR * size)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def nearest_triangles(piece: PieceDistance, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The `k` triangles (the piece's first number) nearest to each of `points`, for
    `evaluate(..., nearest=)`: `(n, k)` indices and a mask of those that count (fewer than
    `k` when a point's nearest parts belong to fewer triangles). Nearest by the centroids of
    their parts: each triangle split into similar parts no larger than the median triangle
    (`pinnkit.domain._facets.Facets`), so a long thin triangle is found from any point of
    it."""
    tree, owner, _ = _triangle_parts(piece.data)
    k = min(int(piece.data[0]), len(set(owner.tolist())))
    wide = min(4 * k, len(owner))
    _, near = tree.query(points[:, list(piece.columns)], k=wide)
    ids = owner[np.asarray(near).reshape(len(points), wide)]
    order = np.argsort(ids, axis=1, kind="stable")
    ranked = np.take_along_axis(ids, order, 1)
    first = np.ones_like(ranked, dtype=bool)
    first[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    # Each triangle at its first (nearest) place in the row, nearest first.
    places = np.sort(np.where(first, order, wide), axis=1)[:, :k]
    counted = places < wide
    return np.take_along_axis(ids, np.minimum(places, wide - 1), 1), counted


@functools.lru_cache(maxsize=16)
def _triangle_parts(data: tuple[float, ...]):
    from pinnkit.domain._facets import Facets

    corners = np.asarray(data[1:], dtype=float).reshape(-1, 3, 3)
    cells = np.arange(corners.shape[0] * 3).reshape(-1, 3)
    return Facets(corners.reshape(-1, 3), cells, _triangle_frame(data).floor / FLOOR)._tree


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
    no distance function (a face of a box of more than three dimensions), or a piece other
    than a plane that only partly survives on the boundary (its function would vanish inside
    the domain too).
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
                f"distance function (faces of boxes of more than three dimensions have none "
                f"yet). Fix: drop `exact=True` for this condition (a soft condition works "
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
        if spec.kind == "triangles":
            spec = _enough_triangles(space, piece, spec)
        sign = 1.0 if spec.kind == "plane" else spec.sign * piece.sign
        out.append(PieceDistance(spec.kind, spec.columns, spec.data, sign))
    return tuple(out)


def _enough_triangles(space, piece, spec: PieceDistance) -> PieceDistance:
    """`spec` with as many triangles joined at each point (doubled from its own) as it takes
    for the function to vanish, to 1e-9 of the size, at 2,048 seeded points of the piece
    (each point's own triangle among the nearest by centroid)."""
    unit = np.random.default_rng(0).uniform(size=(2048, piece.dimension))
    points, _ = piece.owner._piece_points(piece.index, unit)
    total = (len(spec.data) - 1) // 9
    k = int(spec.data[0])
    while True:
        spec = PieceDistance(spec.kind, spec.columns, (k, *spec.data[1:]), spec.sign)
        values = evaluate(spec, points, np.sqrt, nearest_triangles(spec, points))
        if np.max(values) <= 1e-9 * space._size() or k >= total:
            return spec
        k = min(2 * k, total)


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
