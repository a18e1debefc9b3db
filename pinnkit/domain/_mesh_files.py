"""Reading and checking mesh files for `pinnkit.domain.mesh`: closed surfaces (STL, OBJ, PLY,
OFF) through trimesh, Gmsh `.msh` through meshio, both imported inside the functions.

Each reader returns a `MeshData` of plain arrays: vertices, the interior simplices (if any),
the boundary facets oriented outward, and each facet's physical group.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pinnkit.domain._facets import Facets, simplex_measures
from pinnkit.errors import PinnkitWarning, ProblemError

__all__ = ["MeshData", "SURFACE_SUFFIXES", "read_gmsh", "read_surface"]

SURFACE_SUFFIXES = (".stl", ".obj", ".ply", ".off")
# A simplex counts as degenerate when its measure is below this share of size^k.
_DEGENERATE = 1e-12
_INTERIOR = {2: "triangle", 3: "tetra"}
_BOUNDARY = {2: "line", 3: "triangle"}


@dataclass(frozen=True, eq=False)
class MeshData:
    """A mesh read from a file: `vertices` `(N, d)`; `cells` `(M, d + 1)` interior simplices
    with positive orientation, or `None` for a surface; `facets` `(m, d)` boundary facets
    oriented outward; `groups[i]` the name of facet `i`'s physical group, or `None`."""

    vertices: np.ndarray
    cells: np.ndarray | None
    facets: np.ndarray
    groups: tuple[str | None, ...]


def library(module: str, where: str):
    """Import an optional library, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ProblemError(
            f"{where}: reading this mesh needs the `{module}` library, which is not installed "
            f'({error}). Fix: `pip install "pinnkit[mesh]"`.'
        ) from None


def _size(vertices: np.ndarray) -> float:
    return float(np.linalg.norm(np.ptp(vertices, axis=0))) or 1.0


def _warn_degenerate(count: int, total: int, kind: str, where: str) -> None:
    if count:
        warnings.warn(
            f"{where}: {count} of {total} {kind} have zero measure; they are kept for the "
            f"mesh's connectivity but never sampled (they bound and fill nothing). Fix: none "
            f"needed; to silence this, remove them in the mesher (Gmsh: `Mesh.Optimize = 1`).",
            PinnkitWarning,
            stacklevel=3,
        )


def read_surface(path: Path, where: str) -> MeshData:
    """A closed triangulated surface (3-D), oriented so that its normals point out.

    **Raises**

    `ProblemError`: unreadable file, no triangles, an open or non-manifold surface, or faces
    that are not oriented consistently.
    """
    trimesh = library("trimesh", where)
    try:
        loaded = trimesh.load(str(path), force="mesh", process=True)
        vertices = np.asarray(loaded.vertices, dtype=np.float64)
        faces = np.asarray(loaded.faces, dtype=np.int64).reshape(-1, 3)
    except Exception as error:  # trimesh raises many types for a bad file
        raise ProblemError(
            f"{where}: the file could not be read as a {path.suffix} surface "
            f"({type(error).__name__}: {error}). Fix: check that it is a valid "
            f"{path.suffix.lstrip('.').upper()} file, e.g. open it in a mesh viewer."
        ) from None
    if len(faces) == 0:
        raise ProblemError(
            f"{where}: the file has no triangles. Fix: export the solid's surface as a "
            f"triangle mesh."
        )
    _check_closed(faces, where)
    faces = _orient_outward(vertices, faces)
    measures = simplex_measures(vertices[faces])
    _warn_degenerate(
        int(np.sum(measures <= _DEGENERATE * _size(vertices) ** 2)), len(faces), "triangles", where
    )
    return MeshData(vertices, None, faces, (None,) * len(faces))


def _check_closed(faces: np.ndarray, where: str) -> None:
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, counts = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    open_edges, crowded = int(np.sum(counts == 1)), int(np.sum(counts > 2))
    if open_edges or crowded:
        found = (
            f"{open_edges} edges belong to one triangle only (holes)"
            if open_edges
            else f"{crowded} edges belong to more than two triangles (non-manifold)"
        )
        raise ProblemError(
            f"{where}: the surface is not watertight: {found}, expected a closed surface "
            f"that bounds a solid. Fix: close it in the CAD or meshing tool, or repair it, e.g. "
            f"`m = trimesh.load(path); trimesh.repair.fill_holes(m); m.export(path)`, and check "
            f"`m.is_watertight`."
        )
    if len(np.unique(directed, axis=0)) != len(directed):
        raise ProblemError(
            f"{where}: the triangles are not oriented consistently (two neighbours run their "
            f"shared edge the same way), so inside and outside are ambiguous. Fix: "
            f"`m = trimesh.load(path); trimesh.repair.fix_winding(m); m.export(path)` (needs "
            f"networkx), or re-export from the CAD tool."
        )


def _orient_outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flip each closed component so that its normals point out of the solid (even-odd
    rule): a component nested in an odd number of others bounds a void."""
    n = len(vertices)
    edges = faces[:, [0, 1, 1, 2]].reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    component = label[faces[:, 0]]
    parts = np.unique(component)
    center = vertices[faces].reshape(-1, 3).mean(axis=0)
    corners = vertices[faces] - center
    signed = np.einsum("ij,ij->i", corners[:, 0], np.cross(corners[:, 1], corners[:, 2])) / 6
    out = faces.copy()
    for part in parts:
        mine = component == part
        depth = 0
        if len(parts) > 1:
            probe = vertices[faces[mine][:1, 0]]
            for other in parts[parts != part]:
                shell = Facets(vertices, faces[component == other], _size(vertices))
                depth += int(shell.contains(probe)[0])
        want = 1.0 if depth % 2 == 0 else -1.0
        if np.sign(signed[mine].sum()) != want:
            out[mine] = out[mine][:, ::-1]
    return out


def read_gmsh(path: Path, dimension_given: int, where: str) -> MeshData:
    """A Gmsh mesh of triangles (2-D) or tetrahedra (3-D) with its physical groups.

    **Raises**

    `ProblemError`: unreadable file, no triangles or tetrahedra, second-order or quadrilateral
    elements, a 3-D surface without volume, a coordinate count that does not match, a
    non-conforming mesh, or a boundary group with elements inside the domain.
    """
    meshio = library("meshio", where)
    try:
        mesh = meshio.read(str(path), file_format="gmsh")
    except Exception as error:  # meshio raises many types for a bad file
        raise ProblemError(
            f"{where}: the file could not be read as a Gmsh mesh ({type(error).__name__}: "
            f"{error}). Fix: save it from Gmsh in MSH 2.2 or 4.1 format (`gmsh -save_all "
            f"-format msh41 ...`)."
        ) from None
    blocks = _blocks(mesh, where)
    dimension = 3 if "tetra" in blocks else 2 if "triangle" in blocks else 0
    points = np.asarray(mesh.points, dtype=np.float64)
    if dimension == 0:
        raise ProblemError(
            f"{where}: the mesh has no triangles or tetrahedra (found "
            f"{', '.join(sorted(blocks)) or 'no elements'}), so it fills no region. Fix: mesh "
            f"the surface or volume in Gmsh (`gmsh -2` or `gmsh -3`) and save again."
        )
    if dimension == 2 and points.shape[1] > 2 and np.ptp(points[:, 2]) > 0:
        raise ProblemError(
            f"{where}: the mesh has triangles but no tetrahedra, and its points are not in a "
            f"plane: a surface in 3-D, which bounds a solid but does not fill it. Fix: mesh "
            f"the volume (`gmsh -3`), or export the surface as STL and load that."
        )
    if dimension_given != dimension:
        raise ProblemError(
            f"{where}: the mesh is {dimension}-D but {dimension_given} coordinates were given. "
            f"Fix: pass {dimension} symbols, e.g. `{('(x, y)', '(x, y, z)')[dimension - 2]}`."
        )
    vertices = np.ascontiguousarray(points[:, :dimension])
    cells = _oriented(vertices, blocks[_INTERIOR[dimension]][0])
    size = _size(vertices)
    measures = simplex_measures(vertices[cells])
    kind = ("triangles", "tetrahedra")[dimension - 2]
    _warn_degenerate(
        int(np.sum(measures <= _DEGENERATE * size**dimension)), len(cells), kind, where
    )
    facets = _boundary(cells, where)
    groups = _groups(mesh, blocks.get(_BOUNDARY[dimension]), facets, dimension, where)
    return MeshData(vertices, cells, facets, groups)


def _blocks(mesh, where: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cells by type, `(connectivity, physical tags)`, blocks of one type joined."""
    tags = mesh.cell_data.get("gmsh:physical")
    out: dict[str, list] = {}
    for i, block in enumerate(mesh.cells):
        if block.type not in ("vertex", "line", "triangle", "tetra"):
            raise ProblemError(
                f"{where}: the mesh has `{block.type}` elements; pinnkit reads first-order "
                f"triangles and tetrahedra (with line and triangle boundary elements). Fix: in "
                f"Gmsh set `Mesh.ElementOrder = 1` and `Mesh.RecombineAll = 0`, then mesh again."
            )
        data = np.asarray(block.data, dtype=np.int64)
        tag = np.asarray(tags[i], dtype=np.int64) if tags is not None else np.zeros(len(data))
        out.setdefault(block.type, []).append((data, tag.astype(np.int64)))
    return {
        kind: (np.concatenate([d for d, _ in parts]), np.concatenate([t for _, t in parts]))
        for kind, parts in out.items()
    }


def _oriented(vertices: np.ndarray, cells: np.ndarray) -> np.ndarray:
    edges = vertices[cells[:, 1:]] - vertices[cells[:, :1]]
    flip = np.linalg.det(edges) < 0
    cells = cells.copy()
    cells[flip, :2] = cells[flip, 1::-1]
    return cells


def _boundary(cells: np.ndarray, where: str) -> np.ndarray:
    """Facets that belong to one cell only, oriented outward (cells positively oriented)."""
    if cells.shape[1] == 3:  # counter-clockwise triangle: edges run with the inside on the left
        faces = cells[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    else:  # positive tetrahedron (a, b, c, d): the faces opposite each vertex, outward
        faces = cells[:, [1, 2, 3, 0, 3, 2, 0, 1, 3, 0, 2, 1]].reshape(-1, 3)
    _, inverse, counts = np.unique(
        np.sort(faces, axis=1), axis=0, return_inverse=True, return_counts=True
    )
    if np.any(counts > 2):
        raise ProblemError(
            f"{where}: {int(np.sum(counts > 2))} element faces are shared by more than two "
            f"elements, so the mesh is not conforming (overlapping elements). Fix: mesh again "
            f"in Gmsh, with `Coherence` on the geometry first."
        )
    return faces[counts[inverse.ravel()] == 1]


def _groups(mesh, block, facets: np.ndarray, dimension: int, where: str):
    """The physical group's name of each boundary facet (None where untagged)."""
    names = {
        int(tag): name for name, (tag, dim) in mesh.field_data.items() if int(dim) == dimension - 1
    }
    groups: list[str | None] = [None] * len(facets)
    if block is None:
        return tuple(groups)
    elements, tags = block
    keys = np.sort(facets, axis=1)
    lookup = {tuple(row): i for i, row in enumerate(keys.tolist())}
    for element, tag in zip(np.sort(elements, axis=1).tolist(), tags.tolist()):
        if tag <= 0:
            continue
        name = names.get(tag, str(tag))
        index = lookup.get(tuple(element))
        if index is None:
            raise ProblemError(
                f"{where}: the physical group `{name}` has elements that are not on the "
                f"boundary of the mesh's {('triangles', 'tetrahedra')[dimension - 2]} (an "
                f"interface inside the domain, or a curve that is not meshed with it). Fix: "
                f"remove it from the physical groups, or make it part of the outer boundary."
            )
        groups[index] = name
    return tuple(groups)
