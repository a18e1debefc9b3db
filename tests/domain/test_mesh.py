"""`pk.Mesh`: closed surfaces (STL, OBJ) and Gmsh meshes (2-D triangles, 3-D tetrahedra) as
domains: samples inside and on the boundary, outward normals, exact measures, uniformity,
named physical groups, CSG and space-time, the inside test against brute-force ray parity,
exact Dirichlet conditions in 2-D, one short fit, and every error.

The meshes are made here: trimesh's icosphere and box exported to STL and OBJ, and Gmsh files
written as MSH 2.2 and 4.1 text (no gmsh program needed).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import PinnkitWarning, ProblemError

trimesh = pytest.importorskip("trimesh")
pytest.importorskip("meshio")

x, y, z, t = sp.symbols("x y z t")

# Measures are sums over the file's own simplices: exact up to round-off.
MEASURE_RTOL = 1e-12
# Points drawn on a facet lie on it to round-off of the unit-sized coordinates.
ON_ATOL = 1e-12
# Uniformity: with n draws a share p is seen n p +- 4 sqrt(n p) times (about 4 sigma).
SIGMAS = 4.0


# -- mesh files -------------------------------------------------------------------------------

GMSH_TYPES = {"line": 1, "triangle": 2, "tetra": 4}


def write_msh(path, points, blocks, names) -> None:
    """MSH 2.2 ASCII: `blocks` is a list of (type, cells (0-based), physical tag per cell);
    `names` maps a group name to (tag, dimension)."""
    lines = ["$MeshFormat", "2.2 0 8", "$EndMeshFormat", "$PhysicalNames", str(len(names))]
    lines += [f'{dim} {tag} "{name}"' for name, (tag, dim) in names.items()]
    lines += ["$EndPhysicalNames", "$Nodes", str(len(points))]
    points = np.column_stack([points, np.zeros((len(points), 3 - points.shape[1]))])
    lines += [
        f"{i + 1} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}" for i, p in enumerate(points)
    ]
    elements = [
        (GMSH_TYPES[kind], tag, cell)
        for kind, cells, tags in blocks
        for cell, tag in zip(cells, tags)
    ]
    lines += ["$EndNodes", "$Elements", str(len(elements))]
    for i, (kind, tag, cell) in enumerate(elements):
        nodes = " ".join(str(int(c) + 1) for c in cell)
        lines.append(f"{i + 1} {kind} 2 {tag} {tag} {nodes}")
    lines.append("$EndElements")
    path.write_text("\n".join(lines) + "\n")


def write_msh41(path, points, blocks, names) -> None:
    """MSH 4.1 ASCII of the same arguments as `write_msh`: one entity per physical group (its
    tag the group's), every node listed under the last block's entity."""
    dims = {tag: dim for tag, dim in names.values()}
    counts = [sum(1 for d in dims.values() if d == k) for k in range(4)]
    lines = ["$MeshFormat", "4.1 0 8", "$EndMeshFormat", "$PhysicalNames", str(len(names))]
    lines += [f'{dim} {tag} "{name}"' for name, (tag, dim) in names.items()]
    lines += ["$EndPhysicalNames", "$Entities", " ".join(map(str, counts))]
    for k in range(1, 4):  # tag, bounding box, its physical tag, no bounding entities
        lines += [f"{tag} 0 0 0 1 1 1 1 {tag} 0" for tag, d in dims.items() if d == k]
    lines += ["$EndEntities", "$Nodes"]
    points = np.column_stack([points, np.zeros((len(points), 3 - points.shape[1]))])
    n = len(points)
    last = blocks[-1][2][0]
    lines += [f"1 {n} 1 {n}", f"{dims[last]} {last} 0 {n}", *map(str, range(1, n + 1))]
    lines += [f"{float(p[0])!r} {float(p[1])!r} {float(p[2])!r}" for p in points]
    groups = [(kind, tag, [c for c, g in zip(cells, tags) if g == tag])
              for kind, cells, tags in blocks for tag in dict.fromkeys(tags)]  # fmt: skip
    total = sum(len(cells) for *_, cells in groups)
    lines += ["$EndNodes", "$Elements", f"{len(groups)} {total} 1 {total}"]
    number = 0
    for kind, tag, cells in groups:
        lines.append(f"{dims[tag]} {tag} {GMSH_TYPES[kind]} {len(cells)}")
        for cell in cells:
            number += 1
            lines.append(" ".join(str(int(v)) for v in (number, *(c + 1 for c in cell))))
    lines.append("$EndElements")
    path.write_text("\n".join(lines) + "\n")


def square_msh(path, n=6, flip=False, writer=write_msh):
    """The unit square in n x n cells of two triangles; sides tagged inlet (x = 0), outlet
    (x = 1) and wall (y = 0 and y = 1). `writer`: `write_msh` (MSH 2.2) or `write_msh41`."""
    grid = np.linspace(0.0, 1.0, n + 1)
    points = np.array([(a, b) for b in grid for a in grid])
    index = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)  # [row = y, column = x]
    triangles = []
    for i in range(n):
        for j in range(n):
            a, b, c, d = index[i, j], index[i, j + 1], index[i + 1, j + 1], index[i + 1, j]
            triangles += [(a, b, c), (a, c, d)] if not flip else [(a, c, b), (a, d, c)]
    lines, tags = [], []
    for k in range(n):
        lines += [(index[k, 0], index[k + 1, 0]), (index[k, n], index[k + 1, n])]
        lines += [(index[0, k], index[0, k + 1]), (index[n, k], index[n, k + 1])]
        tags += [1, 2, 3, 3]
    names = {"inlet": (1, 1), "outlet": (2, 1), "wall": (3, 1), "plate": (4, 2)}
    blocks = [("line", lines, tags), ("triangle", triangles, [4] * len(triangles))]
    writer(path, points, blocks, names)
    return path


def cube_msh(path, n=3, writer=write_msh):
    """The unit cube in n^3 cubes of six tetrahedra (Kuhn); the face z = 0 tagged "floor"."""
    grid = np.linspace(0.0, 1.0, n + 1)
    points = np.array([(a, b, c) for c in grid for b in grid for a in grid])
    index = np.arange((n + 1) ** 3).reshape(n + 1, n + 1, n + 1)  # [z, y, x]
    tets = []
    for i, j, k in np.ndindex(n, n, n):
        corner = lambda dx, dy, dz: index[i + dz, j + dy, k + dx]  # noqa: E731
        for order in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            step, path_ = [0, 0, 0], [corner(0, 0, 0)]
            for axis in order:
                step[axis] = 1
                path_.append(corner(*step))
            tets.append(path_)
    floor = [
        tri
        for tet in tets
        for tri in ((tet[0], tet[1], tet[2]), (tet[0], tet[1], tet[3]), (tet[0], tet[2], tet[3]))
        if all(points[v, 2] == 0 for v in tri)
    ]
    blocks = [("triangle", floor, [1] * len(floor)), ("tetra", tets, [2] * len(tets))]
    writer(path, points, blocks, {"floor": (1, 2), "body": (2, 3)})
    return path


@pytest.fixture
def sphere(tmp_path):
    surface = trimesh.creation.icosphere(subdivisions=2)
    path = tmp_path / "sphere.stl"
    surface.export(path)
    return path, trimesh.load(path, force="mesh")


def brute_parity(points, triangles, direction=(0.31, 0.52, 0.79)):
    """Even-odd count of a ray along `direction` (not the library's axis, and generic, so no
    ray meets an edge) against every triangle (Moller-Trumbore)."""
    d = np.array(direction)
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    e1, e2 = b - a, c - a
    h = np.cross(d, e2)
    det = (e1 * h).sum(-1)
    s = points[:, None, :] - a[None]
    u = (s * h).sum(-1) / det
    q = np.cross(s, e1[None])
    v = (q @ d) / det
    w = (q * e2[None]).sum(-1) / det
    hit = (u >= 0) & (v >= 0) & (u + v <= 1) & (w > 0)
    return hit.sum(axis=1) % 2 == 1


def on_triangles(points, triangles, atol):
    """Whether each point lies on one of the triangles (barycentric test in its plane)."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    normal = np.cross(b - a, c - a)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    rel = points[:, None] - a[None]
    plane = np.abs((rel * normal[None]).sum(-1)) <= atol
    inside = np.ones_like(plane)
    for p, q in ((a, b), (b, c), (c, a)):
        inside &= (np.cross(q - p, points[:, None] - p[None]) * normal[None]).sum(-1) >= -atol
    return np.any(plane & inside, axis=1)


# -- closed surfaces --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".stl", ".obj"])
def test_sphere_samples_inside_and_on_its_triangles(tmp_path, rng, suffix):
    surface = trimesh.creation.icosphere(subdivisions=2)
    path = tmp_path / f"sphere{suffix}"
    surface.export(path)
    loaded = trimesh.load(path, force="mesh")
    mesh = pk.Mesh(path, (x, y, z), name="wall")
    assert mesh.regions == ("interior", "boundary", "wall")
    inner = mesh.sample("interior", 2000, rng).points
    assert np.linalg.norm(inner, axis=1).max() <= 1.0
    assert brute_parity(inner, loaded.triangles).all()
    for method in ("uniform", "sobol"):
        sample = mesh.sample("wall", 500, rng, method=method)
        assert on_triangles(sample.points, loaded.triangles, ON_ATOL).all()
        np.testing.assert_allclose(np.linalg.norm(sample.normals, axis=1), 1.0, rtol=1e-12)
        assert ((sample.normals * sample.points).sum(axis=1) > 0.9).all()  # outward
    assert mesh.contains(sample.points, "wall").all()
    volume, area = mesh.measure(), mesh.measure("boundary")
    assert volume.exact and area.exact
    assert volume.value == pytest.approx(loaded.volume, rel=MEASURE_RTOL)
    assert area.value == pytest.approx(loaded.area, rel=MEASURE_RTOL)


def test_cube_measures_are_exact_and_inverted_faces_are_turned_out(tmp_path, rng):
    box = trimesh.creation.box()
    box.faces = box.faces[:, ::-1]  # inward normals: the volume sign turns them out
    path = tmp_path / "cube.stl"
    box.export(path)
    mesh = pk.Mesh(path, (x, y, z))
    assert mesh.measure().value == pytest.approx(1.0, rel=MEASURE_RTOL) and mesh.measure()[1]
    assert mesh.measure("boundary").value == pytest.approx(6.0, rel=MEASURE_RTOL)
    sample = mesh.sample("boundary", 600, rng)
    outward = sample.normals * np.sign(sample.points)
    assert np.allclose(outward.sum(axis=1), 1.0)
    faces = np.argmax(np.abs(sample.points) >= 0.5 - 1e-12, axis=1)
    assert np.bincount(faces, minlength=3).min() >= 150  # two faces per axis: 200 expected


def test_boundary_draws_are_uniform_in_area(sphere, rng):
    path, loaded = sphere
    mesh = pk.Mesh(path, (x, y, z))
    n = 40000
    points = mesh.sample("boundary", n, rng).points
    upper = np.mean(points[:, 2] > 0.5)
    triangles = loaded.triangles
    centroid_z = triangles.mean(axis=1)[:, 2]
    share = loaded.area_faces[centroid_z > 0.5].sum() / loaded.area
    # Facets are either fully above or below z = 0.5 up to those that cross it; compare with
    # the area of the crossing ones as slack.
    crossing = (triangles[:, :, 2].max(axis=1) > 0.5) & (triangles[:, :, 2].min(axis=1) < 0.5)
    slack = loaded.area_faces[crossing].sum() / loaded.area
    assert abs(upper - share) <= slack + SIGMAS * math.sqrt(share / n)


def test_interior_draws_are_uniform_in_volume(sphere, rng):
    path, loaded = sphere
    mesh = pk.Mesh(path, (x, y, z))
    n = 20000
    points = mesh.sample("interior", n, rng, method="sobol").points
    share = np.mean(points[:, 0] > 0)
    assert abs(share - 0.5) <= SIGMAS * math.sqrt(0.25 / n)


def test_inside_test_matches_brute_force_ray_parity(sphere, rng):
    path, loaded = sphere
    mesh = pk.Mesh(path, (x, y, z))
    points = rng.uniform(-1.3, 1.3, size=(4000, 3))
    expected = brute_parity(points, loaded.triangles)
    assert np.array_equal(mesh.contains(points, tol=0.0), expected)
    # Rays along the library's axis through vertices and edges: ties broken consistently
    vertices = np.asarray(loaded.vertices)
    edges = vertices[loaded.edges_unique].mean(axis=1)
    ties = np.vstack([vertices, edges]) * np.array([0.0, 0.9, 0.9])
    assert np.array_equal(mesh.contains(ties, tol=0.0), brute_parity(ties, loaded.triangles))
    distance = mesh._sdf(points)
    exact = np.min(
        [_triangle_distances(points, tri) for tri in loaded.triangles], axis=0
    )  # brute force
    near = exact <= 1e-3 * mesh._size()
    np.testing.assert_allclose(np.abs(distance[near]), exact[near], atol=1e-14)
    assert (np.abs(distance) >= exact - 1e-14).all()


def _triangle_distances(points, tri):
    samples = trimesh.triangles.closest_point(np.repeat(tri[None], len(points), 0), points)
    return np.linalg.norm(points - samples, axis=1)


def test_a_shell_inside_another_bounds_a_void(tmp_path, rng):
    outer = trimesh.creation.icosphere(subdivisions=1, radius=2.0)
    inner = trimesh.creation.icosphere(subdivisions=1, radius=1.0)
    path = tmp_path / "hollow.stl"
    trimesh.util.concatenate([outer, inner]).export(path)
    mesh = pk.Mesh(path, (x, y, z))
    assert mesh.measure().value == pytest.approx(outer.volume - inner.volume, rel=1e-6)
    radius = np.linalg.norm(mesh.sample("interior", 1000, rng).points, axis=1)
    assert radius.min() >= 0.9
    sample = mesh.sample("boundary", 1000, rng)
    radial = (sample.normals * sample.points).sum(axis=1)
    small = np.linalg.norm(sample.points, axis=1) < 1.5
    assert (radial[small] < 0).all() and (radial[~small] > 0).all()


def test_mesh_in_csg_and_space_time(sphere, rng):
    path, _ = sphere
    domain = pk.Box((x, -1.5, 1.5), (y, -1.5, 1.5), (z, -1.5, 1.5)) - pk.Mesh(
        path, (x, y, z), name="hole"
    )
    points = domain.sample("interior", 2000, rng).points
    assert (np.linalg.norm(points, axis=1) >= 0.9).all()
    assert (np.abs(points) <= 1.5).all()
    hole = domain.sample("hole", 500, rng)
    assert ((hole.normals * hole.points).sum(axis=1) < 0).all()  # into the hole
    spacetime = pk.Mesh(path, (x, y, z)) * pk.TimeInterval(t, 0, 2)
    sample = spacetime.sample("boundary", 100, rng)
    assert sample.points.shape == (100, 4) and (sample.normals[:, 3] == 0).all()
    assert spacetime.measure().value == pytest.approx(2 * pk.Mesh(path, (x, y, z)).measure()[0])


# -- Gmsh meshes ------------------------------------------------------------------------------


@pytest.mark.parametrize("flip", [False, True])
def test_square_msh_groups_are_parts(tmp_path, rng, flip):
    mesh = pk.Mesh(square_msh(tmp_path / "square.msh", flip=flip), (x, y))
    assert {"inlet", "outlet", "wall", "x = 0", "y = 1"} <= set(mesh.regions)
    assert mesh.part("left") == "x = 0"
    inlet = mesh.sample("inlet", 200, rng)
    assert np.all(inlet.points[:, 0] == 0) and np.all(inlet.normals == [-1.0, 0.0])
    wall = mesh.sample("wall", 400, rng).points
    assert np.all((wall[:, 1] == 0) | (wall[:, 1] == 1))
    assert mesh.measure() == pk.domain.Measure(pytest.approx(1.0, rel=MEASURE_RTOL), True)
    assert mesh.measure("wall").value == pytest.approx(2.0, rel=MEASURE_RTOL)
    assert mesh.measure("boundary").value == pytest.approx(4.0, rel=MEASURE_RTOL)
    inner = mesh.sample("interior", 4000, rng, method="sobol").points
    assert np.all((inner >= 0) & (inner <= 1))
    assert abs(np.mean(inner[:, 0] < 0.25) - 0.25) <= SIGMAS * math.sqrt(0.1875 / 4000)
    assert len(mesh._pieces()) == 4  # one straight piece per side
    probe = rng.uniform(-0.5, 1.5, size=(2000, 2))
    inside = np.all((probe >= 0) & (probe <= 1), axis=1)
    assert np.array_equal(mesh.contains(probe, tol=0.0), inside)
    assert mesh.contains(np.array([[0.0, 0.3], [0.5, 0.5]]), "inlet").tolist() == [True, False]


def test_cube_msh_tetrahedra(tmp_path, rng):
    mesh = pk.Mesh(cube_msh(tmp_path / "cube.msh"), (x, y, z))
    assert mesh.measure().value == pytest.approx(1.0, rel=MEASURE_RTOL)
    assert mesh.measure("boundary").value == pytest.approx(6.0, rel=MEASURE_RTOL)
    assert mesh.measure("floor").value == pytest.approx(1.0, rel=MEASURE_RTOL)
    assert "z = 0" in mesh.regions
    floor = mesh.sample("floor", 300, rng)
    assert np.all(floor.points[:, 2] == 0) and np.all(floor.normals == [0.0, 0.0, -1.0])
    inner = mesh.sample("interior", 3000, rng).points
    assert np.all((inner >= 0) & (inner <= 1))
    assert abs(np.mean(inner[:, 2] > 0.5) - 0.5) <= SIGMAS * math.sqrt(0.25 / 3000)
    sample = mesh.sample("boundary", 600, rng)
    centered = sample.points - 0.5
    assert np.allclose((sample.normals * centered).sum(axis=1), 0.5)


def test_msh_4_1_reads_as_msh_2_2(tmp_path, rng):
    # Gmsh's current format (what `gmsh -save` writes today), from the same meshes as the MSH
    # 2.2 files above: the same parts, measures and samples.
    for made, coords in ((square_msh, (x, y)), (cube_msh, (x, y, z))):
        old = made(tmp_path / f"{made.__name__}.msh")
        new = made(tmp_path / f"{made.__name__}_41.msh", writer=write_msh41)
        assert new.read_text().startswith("$MeshFormat\n4.1 ")
        a, b = pk.Mesh(old, coords), pk.Mesh(new, coords)
        assert set(a.regions) == set(b.regions)
        for region in a.regions:
            assert b.measure(region).value == pytest.approx(a.measure(region).value, rel=1e-12)
        seed = int(rng.integers(1 << 30))
        first = a.sample("boundary", 300, np.random.default_rng(seed))
        second = b.sample("boundary", 300, np.random.default_rng(seed))
        np.testing.assert_allclose(second.points, first.points, atol=1e-12)
        np.testing.assert_allclose(second.normals, first.normals, atol=1e-12)


def test_exact_dirichlet_on_a_2d_mesh(tmp_path, generator, rng):
    torch = pytest.importorskip("torch")
    from pinnkit.build import build_model

    u = sp.Function("u")(x, y)
    problem = pk.Problem(
        domain=pk.Mesh(square_msh(tmp_path / "square.msh"), (x, y)),
        fields=[u],
        equations={"laplace": u.diff(x, 2) + u.diff(y, 2)},
        conditions=[pk.Dirichlet(u, x, on="boundary", exact=True)],
    )
    model = build_model(problem, pk.Config(model=pk.MLP(width=8, depth=2)), generator).double()
    points = problem.domain.sample("boundary", 400, rng).points
    with torch.no_grad():
        out = model(torch.tensor(points))[:, 0].numpy()
    np.testing.assert_allclose(out, points[:, 0], atol=1e-10)


def _prism(path, outline, height: float) -> str:
    """An STL prism: the polygon `outline` (counter-clockwise) extruded along z."""
    n = len(outline)
    vertices = [(px, py, 0.0) for px, py in outline] + [(px, py, height) for px, py in outline]
    faces = [(0, j + 1, j) for j in range(1, n - 1)]  # bottom, outward down (fan from 0)
    faces += [(n, n + j, n + j + 1) for j in range(1, n - 1)]  # top
    faces += [(j, (j + 1) % n, n + (j + 1) % n) for j in range(n)]
    faces += [(j, n + (j + 1) % n, n + j) for j in range(n)]
    mesh = trimesh.Trimesh(np.array(vertices), np.array(faces), process=False)
    assert mesh.is_watertight and mesh.volume > 0
    mesh.export(str(path))
    return str(path)


def test_exact_dirichlet_on_a_polyhedral_3d_mesh(tmp_path, generator, rng):
    # A hexagonal prism's 20 triangles lie in 8 planes: each face's plane leaves the solid
    # on one side, so their plane functions, joined, hold u = g to round-off on every sampled
    # boundary point, and the joined function is positive inside.
    torch = pytest.importorskip("torch")
    from pinnkit.build import build_model
    from pinnkit.domain.distance import evaluate, join, part_distances

    hexagon = [(math.cos(k * math.pi / 3), math.sin(k * math.pi / 3)) for k in range(6)]
    domain = pk.Mesh(_prism(tmp_path / "hex.stl", hexagon, 0.5), (x, y, z), name="wall")
    w = sp.Function("w")(x, y, z)
    g = x + y * z
    problem = pk.Problem(
        domain=domain,
        fields=[w],
        equations={"laplace": w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2)},
        conditions=[pk.Dirichlet(w, g, on="wall", exact=True)],
    )
    specs = part_distances(domain, "wall")
    assert len(specs) == 8 and {s.kind for s in specs} == {"plane"}
    inside = domain.sample("interior", 500, rng).points
    joined = join([evaluate(s, inside, np.sqrt) for s in specs], 1e-12, np.maximum)
    assert np.all(joined > 0) and np.max(joined) > 0.05
    model = build_model(problem, pk.Config(model=pk.MLP(width=8, depth=2)), generator).double()
    points = domain.sample("boundary", 400, rng).points
    with torch.no_grad():
        out = model(torch.tensor(points))[:, 0].numpy()
    np.testing.assert_allclose(out, points[:, 0] + points[:, 1] * points[:, 2], atol=1e-10)


def test_exact_dirichlet_on_a_polyhedral_mesh_trains_at_least_as_well_as_soft(tmp_path):
    # A 12-triangle STL cube, -Lap u = 3 pi^2 u, u = 0 on its faces: with the faces' planes
    # the model starts on the boundary values and only the equation is left to fit.
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    domain = pk.Mesh(_prism(tmp_path / "cube.stl", square, 1.0), (x, y, z), name="wall")
    w = sp.Function("w")(x, y, z)
    solution = sp.sin(sp.pi * x) * sp.sin(sp.pi * y) * sp.sin(sp.pi * z)
    config = pk.Config(
        steps=150, model=pk.MLP(width=12, depth=2), lbfgs=pk.LBFGS(steps=0), seed=0,
        sampling=pk.Sampling(interior=96, boundary=96, resample_every=0), progress=False,
    )  # fmt: skip
    errors = {}
    for exact in (True, False):
        problem = pk.Problem(
            domain=domain,
            fields=[w],
            equations={
                "poisson": w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2) + 3 * sp.pi**2 * solution
            },
            conditions=[pk.Dirichlet(w, 0, on="wall", exact=exact)],
            reference=pk.reference.Exact({w: solution}),
        )
        errors[exact] = pk.fit(problem, config, out=None).rel_l2["w"]
    assert errors[True] <= errors[False], errors  # measured: 0.96 exact, 3.6 soft


def test_exact_dirichlet_on_a_non_convex_polyhedral_mesh_is_refused(tmp_path):
    # An L-shaped prism: the inner corner's faces have planes that cut into the solid, where
    # their plane functions would vanish; refused, naming the face.
    outline = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
    domain = pk.Mesh(_prism(tmp_path / "ell.stl", outline, 1.0), (x, y, z), name="wall")
    w = sp.Function("w")(x, y, z)
    with pytest.raises(ProblemError, match="flat face .* whose plane cuts into the domain"):
        pk.Problem(
            domain=domain,
            fields=[w],
            equations={"laplace": w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2)},
            conditions=[pk.Dirichlet(w, 0, on="wall", exact=True)],
        )


def test_laplace_on_a_msh_square_fits(tmp_path):
    u = sp.Function("u")(x, y)
    problem = pk.Problem(
        domain=pk.Mesh(square_msh(tmp_path / "square.msh"), (x, y)),
        fields=[u],
        equations={"laplace": u.diff(x, 2) + u.diff(y, 2)},
        conditions=[pk.Dirichlet(u, x, on="boundary")],
        reference=pk.reference.Exact({u: x}),
    )
    config = pk.Config(
        steps=20, model=pk.MLP(width=8, depth=2), lbfgs=pk.LBFGS(steps=0), seed=0,
        sampling=pk.Sampling(interior=64, boundary=32),
    )  # fmt: skip
    run = pk.fit(problem, config, out=None)
    assert np.isfinite(run.rel_l2["u"])


# -- errors -----------------------------------------------------------------------------------


def test_missing_unknown_and_unreadable_files(tmp_path):
    with pytest.raises(ProblemError, match="no file at"):
        pk.Mesh(tmp_path / "nowhere.stl", (x, y, z))
    (tmp_path / "part.step").write_text("ISO-10303-21;")
    with pytest.raises(ProblemError, match="unknown mesh file type"):
        pk.Mesh(tmp_path / "part.step", (x, y, z))
    (tmp_path / "bad.msh").write_text("$MeshFormat\n9.9 0 8\nnonsense\n")
    with pytest.raises(ProblemError, match="could not be read as a Gmsh mesh"):
        pk.Mesh(tmp_path / "bad.msh", (x, y))
    (tmp_path / "bad.obj").write_text("this is not an obj file\n")
    with pytest.raises(ProblemError, match="could not be read|has no triangles"):
        pk.Mesh(tmp_path / "bad.obj", (x, y, z))


def test_wrong_coordinates(tmp_path, sphere):
    path, _ = sphere
    with pytest.raises(ProblemError, match="closed surface bounding a 3-D solid"):
        pk.Mesh(path, (x, y))
    with pytest.raises(ProblemError, match="the mesh is 2-D but 3 coordinates"):
        pk.Mesh(square_msh(tmp_path / "square.msh"), (x, y, z))
    with pytest.raises(ProblemError, match="the mesh is 3-D but 2 coordinates"):
        pk.Mesh(cube_msh(tmp_path / "cube.msh"), (x, y))
    with pytest.raises(ProblemError, match="coordinates repeat"):
        pk.Mesh(path, (x, x, z))
    with pytest.raises(ProblemError, match="expected a SymPy Symbol"):
        pk.Mesh(path, ("x", y, z))


def test_open_and_inconsistent_surfaces(tmp_path):
    box = trimesh.creation.box()
    path = tmp_path / "open.stl"
    trimesh.Trimesh(box.vertices, box.faces[1:], process=False).export(path)
    with pytest.raises(ProblemError, match="not watertight.*Fix"):
        pk.Mesh(path, (x, y, z))
    faces = box.faces.copy()
    faces[0] = faces[0][::-1]
    path = tmp_path / "twisted.obj"
    trimesh.Trimesh(box.vertices, faces, process=False).export(path)
    with pytest.raises(ProblemError, match="not oriented consistently"):
        pk.Mesh(path, (x, y, z))


def test_unknown_group_and_bad_elements(tmp_path, rng):
    mesh = pk.Mesh(square_msh(tmp_path / "square.msh"), (x, y))
    with pytest.raises(ProblemError, match="unknown region `inlett`.*Did you mean"):
        mesh.sample("inlett", 10, rng)
    points = np.array([[0, 0], [1, 0], [0, 1], [1, 1.0]])
    path = tmp_path / "lines.msh"
    write_msh(path, points, [("line", [(0, 1), (1, 3)], [1, 1])], {"edge": (1, 1)})
    with pytest.raises(ProblemError, match="no triangles or tetrahedra"):
        pk.Mesh(path, (x, y))
    path = tmp_path / "interface.msh"
    triangles = [(0, 1, 3), (0, 3, 2)]
    blocks = [("line", [(0, 3)], [1]), ("triangle", triangles, [2, 2])]
    write_msh(path, points, blocks, {"cut": (1, 1), "plate": (2, 2)})
    with pytest.raises(ProblemError, match="group `cut` has elements that are not on the boundary"):
        pk.Mesh(path, (x, y))
    path = tmp_path / "surface.msh"
    sphere = trimesh.creation.icosphere(subdivisions=0)
    write_msh(path, sphere.vertices, [("triangle", sphere.faces, [1] * 20)], {"s": (1, 2)})
    with pytest.raises(ProblemError, match="not in a plane"):
        pk.Mesh(path, (x, y, z))
    path = tmp_path / "named.msh"
    blocks = [("line", [(0, 1)], [1]), ("triangle", triangles, [2, 2])]
    write_msh(path, points, blocks, {"x = 0": (1, 1), "plate": (2, 2)})
    with pytest.raises(ProblemError, match="physical group `x = 0`"):
        pk.Mesh(path, (x, y))


def test_degenerate_elements_are_counted_and_never_sampled(tmp_path, rng):
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.0]])
    # (0, 4, 1) is a zero-area sliver along the bottom side, split by the point (0.5, 0)
    triangles = [(0, 1, 2), (0, 2, 3), (0, 4, 1)]
    path = tmp_path / "sliver.msh"
    write_msh(path, points, [("triangle", triangles, [1, 1, 1])], {"plate": (1, 2)})
    with pytest.warns(PinnkitWarning, match="1 of 3 triangles have zero measure"):
        mesh = pk.Mesh(path, (x, y))
    assert mesh.measure().value == pytest.approx(1.0)
    assert mesh.measure("boundary").value == pytest.approx(4.0)
    inner = mesh.sample("interior", 1000, rng).points
    assert np.all((inner >= 0) & (inner <= 1))


def test_missing_library_names_the_extra(monkeypatch, sphere):
    path, _ = sphere
    monkeypatch.setitem(sys.modules, "trimesh", None)  # `import trimesh` raises ImportError
    with pytest.raises(ProblemError, match=r'pip install "pinnkit\[mesh\]"'):
        pk.Mesh(path, (x, y, z))


def test_exact_dirichlet_on_a_curved_3d_mesh_is_refused_with_the_reason(sphere):
    # Triangles joined have a Laplacian rough along every edge: measured, they trained far
    # worse than a soft condition, so a curved 3-D mesh (its triangles in more than
    # MAX_PLANES planes) has no distance function and says so.
    path, _ = sphere
    w = sp.Function("w")(x, y, z)
    with pytest.raises(ProblemError, match="curved 3-D mesh, its triangles in more than 32"):
        pk.Problem(
            domain=pk.Mesh(path, (x, y, z), name="wall"),
            fields=[w],
            equations={"laplace": w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2)},
            conditions=[pk.Dirichlet(w, 0, on="wall", exact=True)],
        )
