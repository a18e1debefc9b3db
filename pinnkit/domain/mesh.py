"""`Mesh`: a domain read from a mesh file, a closed surface (STL, OBJ, PLY, OFF) bounding a 3-D
solid or a Gmsh `.msh` of triangles (2-D) or tetrahedra (3-D) with named physical groups.

Libraries. Files are read by **trimesh** (surfaces: STL ASCII and binary, OBJ, PLY, OFF) and
**meshio** (Gmsh MSH 2.2 and 4.1, ASCII and binary), both MIT-licensed, pure-Python wheels on
PyPI that need only NumPy (meshio also `rich`), and both imported inside the functions that
read (`pip install "pinnkit[mesh]"`). They are used for reading only: trimesh's inside test
and signed distance need its optional compiled `rtree`, and a brute-force generalised winding
number in NumPy took 2.1 s per 10^4 points on a 1,280-face sphere, so the geometry is done
here (`pinnkit.domain._facets`, NumPy and SciPy): on that sphere, 10^5 points take 0.3 s for
the inside test and 0.7 s for the distance (2-core CPU, shared, measured 2026-12); meshes of
long thin triangles are slower (1.3 s for a 1,152-face capsule).

- **Inside test**: the even-odd rule, a ray along the first axis against the boundary facets
  binned on a grid over their shadow; ties on shared edges are broken by a fixed symbolic
  perturbation, so the sign is exact off the boundary.
- **Signed distance** (`_sdf`): that sign times the distance to the nearest boundary facet,
  found through a k-d tree of facet part centroids (large facets split) and exact where
  proven nearest, and always within 1e-3 of the size of the surface; farther out it may
  exceed the true distance by less than the largest part's radius. Its zero set is exact.
- **Sampling**: the interior of a `.msh` is drawn exactly (a simplex by its share of the
  measure, then uniform in it); a surface's interior by rejection from its bounding box.
  Boundary points are uniform in area on the facets, with outward normals from the facets
  (surfaces are oriented by the sign of their volume; a shell nested in another bounds a void).
- **Measures** are exact: sums over simplices (a surface's volume by the divergence theorem).
- **Parts**: each physical group of boundary elements (lines in 2-D, triangles in 3-D) is a
  part named by its Gmsh name, so `Dirichlet(u, 0, on="inlet")` works; `name=` names the whole
  boundary. A 3-D group is one boundary piece (its triangles sampled by area); in 2-D each
  straight run of boundary segments in one group is a piece with a segment distance function,
  so `Dirichlet(..., exact=True)` works on 2-D meshes, and on 3-D meshes of a convex
  polyhedron with flat faces (coplanar triangles merged, at most `MAX_PLANES` planes: the
  faces' planes); curved 3-D meshes have none that trains well (`pinnkit.domain.distance`).
  Flat axis-aligned pieces are also parts `"x = 0"`.
  Zero-measure elements are kept for connectivity, never sampled, and counted in a
  `PinnkitWarning`.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import numpy as np
import sympy as sp

from pinnkit.domain._facets import Facets, sample_simplices, simplex_measures
from pinnkit.domain._mesh_files import SURFACE_SUFFIXES, MeshData, read_gmsh, read_surface
from pinnkit.domain.base import Measure, _symbol
from pinnkit.domain.csg import Shape
from pinnkit.domain.distance import FACE_TOLERANCE, MAX_PLANES, PieceDistance
from pinnkit.domain.sampling import _allocate, _unit
from pinnkit.domain.shapes import _named, check_name
from pinnkit.domain.solid import Piece, _collect, plane_label
from pinnkit.errors import ProblemError

__all__ = ["Mesh"]

# Two boundary segments in a row join one straight piece when the sine of their angle is below
# this (round-off of coordinates written with ~16 digits).
_COLLINEAR = 1e-12


class Mesh(Shape):
    """A solid or plane region read from a mesh file.

    ```python
    x, y, z = sympy.symbols("x y z")
    part = pk.Mesh("part.stl", (x, y, z), name="wall")     # a closed surface: a 3-D solid
    plate = pk.Mesh("plate.msh", (x, y))                   # Gmsh triangles, groups as parts
    domain = pk.Box((x, -2, 2), (y, -2, 2), (z, -2, 2)) - part
    ```

    Regions: `"interior"`, `"boundary"`, each physical group of boundary elements of a `.msh`
    (by its name, or its number when unnamed), `name=` if given, and flat axis-aligned parts
    as `"x = 0"` (aliases `"left"`, ... on the bounding box). See the module docstring for
    how points are drawn and tested.

    **Arguments**

    - `path`: a `.stl`, `.obj`, `.ply` or `.off` file holding one closed surface (3-D), or a
      Gmsh `.msh` file of first-order triangles (2-D, points with z = 0) or tetrahedra (3-D).
    - `coords`: the coordinate symbols, one per dimension of the mesh, in the file's axis order.
    - `name`: optional part name of the whole boundary.

    **Raises**

    - `ProblemError`: a missing, unknown or unreadable file; coordinates that are not distinct
      symbols or whose count is not the mesh's dimension; an open, non-manifold or
      inconsistently oriented surface; a `.msh` without triangles or tetrahedra, with
      higher-order elements, not conforming, or with a boundary group inside the domain;
      a physical group name that cannot be a part name; trimesh or meshio not installed.
    """

    def __init__(self, path: str | Path, coords, *, name: str | None = None) -> None:
        where = f"Mesh({str(path)!r}, {coords!r})"
        if not isinstance(coords, (tuple, list)) or not coords:
            raise ProblemError(
                f"{where}: coords is `{coords!r}`, expected a tuple of coordinate symbols. "
                f"Fix: `pk.Mesh(path, (x, y, z))`."
            )
        symbols = tuple(_symbol(c, where, "coordinate") for c in coords)
        if len(set(symbols)) != len(symbols):
            raise ProblemError(
                f"{where}: coordinates repeat, expected distinct symbols. "
                f'Fix: `x, y, z = sympy.symbols("x y z")`.'
            )
        self._path, self._coords = str(path), symbols
        self._name = check_name(name, where)
        self._data = _read(Path(path), len(symbols), where)
        self._digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        vertices = self._data.vertices
        self._bounds = (vertices.min(axis=0), vertices.max(axis=0))
        self._boundary = Facets(vertices, self._data.facets, self._size())
        self._piece_list, self._piece_facets = _build_pieces(self, self._data, where)

    def __repr__(self) -> str:
        coords = ", ".join(map(str, self._coords))
        return f"Mesh({self._path!r}, ({coords}){_named(self._name)})"

    @property
    def space_coords(self) -> tuple[sp.Symbol, ...]:
        return self._coords

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._bounds

    def _key(self) -> tuple:
        return (self._path, self._digest, self._coords, self._name)

    # -- geometry -------------------------------------------------------------------------

    @cached_property
    def _cell_measures(self) -> np.ndarray | None:
        cells = self._data.cells
        return None if cells is None else simplex_measures(self._data.vertices[cells])

    def _volume(self) -> Measure:
        if self._cell_measures is not None:
            return Measure(float(self._cell_measures.sum()), True)
        corners = self._boundary.corners - self._data.vertices.mean(axis=0)
        triple = np.einsum("ij,ij->i", corners[:, 0], np.cross(corners[:, 1], corners[:, 2]))
        return Measure(float(triple.sum() / 6), True)

    def _sdf(self, points: np.ndarray) -> np.ndarray:
        distance = self._boundary.distance(points)
        return np.where(self._boundary.contains(points), -distance, distance)

    def _inside(self, points: np.ndarray, region: str, tol: float) -> np.ndarray:
        """As `Solid`'s, but distances are measured only near the boundary (a grid of 10^6
        points in the bounding box mostly lies far from it)."""
        near = self._boundary.near(points, tol)
        if region == "interior":
            return near | self._boundary.contains(points)
        if region == "boundary":
            return near
        mask = np.zeros(len(points), dtype=bool)
        for piece in self._region_pieces(region):
            mask |= self._piece_on(piece.index, points, tol)
        return near & mask

    def _pieces(self) -> tuple[Piece, ...]:
        return self._piece_list

    def _piece_points(self, index: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._piece_facets[index].sample(unit)

    def _piece_on(self, index: int, points: np.ndarray, tol: float) -> np.ndarray:
        return self._piece_facets[index].near(points, tol)

    def _piece_distance(self, index: int) -> PieceDistance | tuple | None:
        """2-D: the piece's segment. 3-D: the planes of its flat faces, each a "plane" with
        the inward normal of this solid (`part_distances` orients them and checks that each
        leaves the domain on one side), or None for a curved surface (more than
        `MAX_PLANES` planes: `pinnkit.domain.distance`)."""
        facets = self._piece_facets[index]
        if len(self._coords) != 2:
            planes = facets.planes(FACE_TOLERANCE, MAX_PLANES)
            if planes is None:
                return None
            columns = tuple(range(3))
            return tuple(
                PieceDistance("plane", columns, (*map(float, -normal), *map(float, anchor)))
                for normal, anchor in planes
            )
        start, end = facets.corners[0]
        return PieceDistance("segment", (0, 1), (*map(float, start), *map(float, end)))

    # -- sampling -------------------------------------------------------------------------

    def _draw(
        self, region: str, n: int, rng: np.random.Generator, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Interior: exact through the elements, or rejection for a surface; boundary parts:
        pieces by their measure, uniform on each (no rejection: they are the boundary)."""
        d = len(self._coords)
        if region == "interior":
            if self._cell_measures is not None:
                corners = self._data.vertices[self._data.cells]
                cumulative = np.cumsum(self._cell_measures)
                return sample_simplices(corners, cumulative, _unit(n, d, rng, method))[0], None
            lo, hi = self.bounds
            share = self._volume().value / float(np.prod(hi - lo))

            def propose(m: int) -> np.ndarray:
                points = lo + (hi - lo) * _unit(m, d, rng, method)
                return points[self._boundary.contains(points)]

            return _collect(propose, n, share, f"{self!r}: the interior")[0], None
        pieces = self._region_pieces(region)
        counts = _allocate(n, np.array([p.measure for p in pieces]))
        drawn = [
            self._piece_points(piece.index, _unit(int(k), piece.dimension, rng, method))
            for piece, k in zip(pieces, counts)
            if k
        ]
        order = rng.permutation(n)
        points = np.concatenate([p for p, _ in drawn])[order]
        return points, np.concatenate([v for _, v in drawn])[order]


def _read(path: Path, dimension: int, where: str) -> MeshData:
    if not path.is_file():
        raise ProblemError(
            f"{where}: no file at `{path}` (resolved from {Path.cwd()}). Fix: check the path; "
            f"in a problem file, build it from the file's folder: "
            f'`Path(__file__).parent / "meshes" / "{path.name}"`.'
        )
    suffix = path.suffix.lower()
    if suffix in SURFACE_SUFFIXES:
        if dimension != 3:
            raise ProblemError(
                f"{where}: a {suffix} file is a closed surface bounding a 3-D solid, but "
                f"{dimension} coordinate(s) were given. Fix: pass three, `(x, y, z)`; for a 2-D "
                f"region use a Gmsh `.msh` of triangles, or `pk.Polygon`."
            )
        return read_surface(path, where)
    if suffix == ".msh":
        if dimension not in (2, 3):
            raise ProblemError(
                f"{where}: {dimension} coordinate(s) given, expected 2 (triangles) or 3 "
                f"(tetrahedra). Fix: `(x, y)` or `(x, y, z)`."
            )
        return read_gmsh(path, dimension, where)
    raise ProblemError(
        f"{where}: unknown mesh file type `{path.suffix}`. Expected one of "
        f"{', '.join(SURFACE_SUFFIXES)} (closed surfaces) or .msh (Gmsh). Fix: convert it, "
        f"e.g. `meshio convert {path.name} {path.stem}.msh`."
    )


def _build_pieces(mesh: Mesh, data: MeshData, where: str):
    """The boundary's pieces and the facets of each: one per physical group in 3-D, one per
    straight run of segments within a group in 2-D."""
    vertices, facets, size = data.vertices, data.facets, mesh._size()
    groups = np.array([g or "" for g in data.groups], dtype=object)
    for group in sorted(set(data.groups) - {None}):
        check_name(group, f"{where}, physical group `{group}`")
    measures = simplex_measures(vertices[facets])
    keep = measures > 0
    if vertices.shape[1] == 2:
        runs = [(vertices[[a, b]], group) for a, b, group in _runs(vertices, facets, groups, keep)]
        parts = [(Facets(corners, np.array([[0, 1]]), size), group) for corners, group in runs]
    else:
        parts = [
            (Facets(vertices, facets[keep & (groups == group)], size), group)
            for group in sorted(set(groups[keep]))
        ]
    pieces = []
    for index, (part, group) in enumerate(parts):
        labels = {label for label in (group, mesh.name) if label}
        plane = _plane(part, mesh.space_coords)
        if plane is not None:
            labels.add(plane_label(*plane))
        dimension = vertices.shape[1] - 1
        measure = float(part.measures.sum())
        pieces.append(Piece(mesh, index, dimension, measure, frozenset(labels), plane))
    return tuple(pieces), tuple(part for part, _ in parts)


def _runs(vertices: np.ndarray, segments: np.ndarray, groups: np.ndarray, keep: np.ndarray):
    """`(first vertex, last vertex, group)` of each maximal straight run of boundary segments
    of one group (the next segment starts where this one ends, in the same direction)."""
    starting: dict[int, list[int]] = {}
    for i in np.flatnonzero(keep):
        starting.setdefault(int(segments[i, 0]), []).append(int(i))
    direction = vertices[segments[:, 1]] - vertices[segments[:, 0]]
    length = np.linalg.norm(direction, axis=1)
    follower: dict[int, int] = {}
    for i in np.flatnonzero(keep):
        after = starting.get(int(segments[i, 1]), [])
        if len(after) != 1 or groups[after[0]] != groups[i]:
            continue
        j = after[0]
        sine = abs(direction[i, 0] * direction[j, 1] - direction[i, 1] * direction[j, 0])
        if sine <= _COLLINEAR * length[i] * length[j] and direction[i] @ direction[j] > 0:
            follower[int(i)] = j
    followed = set(follower.values())
    runs = []
    for i in np.flatnonzero(keep):
        if int(i) in followed:
            continue
        last = int(i)
        while last in follower:
            last = follower[last]
        runs.append((int(segments[i, 0]), int(segments[last, 1]), groups[i]))
    return runs


def _plane(part: Facets, coords: tuple[sp.Symbol, ...]) -> tuple[sp.Symbol, sp.Expr] | None:
    """`(coordinate, value)` when every facet of the piece lies in one axis-aligned plane."""
    corners = part.corners.reshape(-1, len(coords))
    for axis, symbol in enumerate(coords):
        values = corners[:, axis]
        if values.size and np.all(values == values[0]):
            value = float(values[0])
            return symbol, sp.Integer(int(value)) if value.is_integer() else sp.Float(value)
    return None
