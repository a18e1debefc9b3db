"""Poisson's equation in 3-D on an ellipsoid read from an STL mesh, manufactured solution.

    -(u_xx + u_yy + u_zz) = 3 sin(x) sin(y) cos(z)   inside the solid
    u = sin(x) sin(y) cos(z)                           on its surface ("wall", soft)

The exact solution is u = sin(x) sin(y) cos(z) (cos, not sin: the figures slice at z = 0,
where sin(z) vanishes). The solid is `meshes/ellipsoid.stl` beside this file: an
icosphere (1,280 triangles) stretched to semi-axes 1.5, 1 and 0.75, 64 KB, made once with
trimesh 5.2.0 by `m = trimesh.creation.icosphere(subdivisions=3);
m.apply_scale([1.5, 1.0, 0.75]); m.export("ellipsoid.stl")`. `pk.Mesh` reads it (trimesh,
`pip install "pinnkit[mesh]"`): interior points by rejection with the mesh's inside test,
boundary points uniform in area on the triangles, and the polyhedron's exact volume 4.672.
Measured: see benchmarks/accuracy/geometry.md.
"""

from pathlib import Path

import sympy as sp

import pinnkit as pk

x, y, z = sp.symbols("x y z")
u = sp.Function("u")(x, y, z)
exact = sp.sin(x) * sp.sin(y) * sp.cos(z)

MESH = Path(__file__).resolve().parent / "meshes" / "ellipsoid.stl"

problem = pk.Problem(
    name="poisson3d_mesh",
    domain=pk.Mesh(MESH, (x, y, z), name="wall"),
    fields=[u],
    equations={"poisson": u.diff(x, 2) + u.diff(y, 2) + u.diff(z, 2) + 3 * exact},
    conditions=[pk.Dirichlet(u, exact, on="wall", name="bc_wall")],
    reference=pk.reference.Exact({u: exact}),
)

config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    optimizer=pk.Adam(learning_rate=1e-3),
    sampling=pk.Sampling(interior=1000, boundary=500),
    lbfgs=pk.LBFGS(steps=300),
)

# `pinnkit fit problems/poisson3d_mesh.py --config accurate`: a small network (30 x 3), 500
# float32 Adam steps, then float64 SSBroyden on twice the points (the recipe of the PINNacle
# cases). Measured: see benchmarks/accuracy/geometry.md.
configs = {
    "accurate": config.replace(
        steps=500,
        model=pk.MLP(width=30, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=2000, points=2),),
        log_every=100,
        eval_every=100,
    ),
}
