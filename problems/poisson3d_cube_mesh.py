"""Poisson's equation on a cube read from an STL mesh, exact zero boundary condition.

    -(u_xx + u_yy + u_zz) = 3 pi^2 sin(pi x) sin(pi y) sin(pi z)   inside [0, 1]^3
    u = 0                                                           on the surface (exact)

The exact solution is u = sin(pi x) sin(pi y) sin(pi z). The solid is `meshes/cube.stl`
beside this file: the unit cube as 12 triangles, made once with trimesh 5.2.0 by
`m = trimesh.creation.box(extents=[1, 1, 1]); m.apply_translation([0.5] * 3);
m.export("cube.stl")`. The condition is exact (`exact=True`): the model is phi N, with phi
the mesh triangles' distance functions joined (`pinnkit.domain.distance`, "triangles"), so
u = 0 holds on the surface to round-off and the network learns the rest; unlike the
ellipsoid case (`poisson3d_mesh.py`), whose boundary values are the solution itself (an
exact condition would hand the solution to the model), the zero condition gives nothing
away. Verified before training: the 12 triangles close the cube (volume 1, area 6).
Measured, with the soft condition beside it: see benchmarks/accuracy/geometry.md.
"""

from pathlib import Path

import sympy as sp

import pinnkit as pk

x, y, z = sp.symbols("x y z")
u = sp.Function("u")(x, y, z)
exact = sp.sin(sp.pi * x) * sp.sin(sp.pi * y) * sp.sin(sp.pi * z)

MESH = Path(__file__).resolve().parent / "meshes" / "cube.stl"

problem = pk.Problem(
    name="poisson3d_cube_mesh",
    domain=pk.Mesh(MESH, (x, y, z), name="wall"),
    fields=[u],
    equations={"poisson": u.diff(x, 2) + u.diff(y, 2) + u.diff(z, 2) + 3 * sp.pi**2 * exact},
    conditions=[pk.Dirichlet(u, 0, on="wall", name="bc_wall", exact=True)],
    reference=pk.reference.Exact({u: exact}),
)

config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    optimizer=pk.Adam(learning_rate=1e-3),
    sampling=pk.Sampling(interior=1000, boundary=500),
    lbfgs=pk.LBFGS(steps=300),
)

# The recipe of the other geometry cases: a small network, 500 float32 Adam steps, then
# float64 SSBroyden on twice the points.
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
