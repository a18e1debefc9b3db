"""Lid-driven cavity flow at Re = 100 (PINNacle's NS2d-C), steady incompressible Navier-Stokes.

    u u_x + v u_y + p_x - (u_xx + u_yy) / 100 = 0
    u v_x + v v_y + p_y - (v_xx + v_yy) / 100 = 0
    u_x + v_y = 0,     (x, y) in [0, 1]^2
    u = 4 x (1 - x), v = 0 on the lid y = 1;  u = v = 0 on the other walls;  p(0, 0) = 0

The velocity conditions are exact (`exact=True`: built into the model through distance
functions); one value, u = 4 x (1 - x) y, holds on the whole boundary, since it vanishes on
the walls and is the lid's profile at y = 1. The pressure is fixed by one observation,
p(0, 0) = 0. The reference is the COMSOL solution PINNacle ships (`lid_driven_a4.dat`, a
101 x 101 grid of nodes; Hao et al., "PINNacle", NeurIPS 2024 Datasets and Benchmarks, MIT
licence), read from `../shared/data/pinnacle/` beside the checkout or from
`$PINNKIT_DATA/pinnacle/`. Verified against the data before training: u = v = 0 exactly at
the 299 wall nodes; on the lid u matches 4 x (1 - x) to 2.7e-4 and v is 0 to 1.3e-4 (COMSOL's
lid nodes); p = 0 at (0, 0). PINNacle's `NS2D_LidDriven` (src/pde/ns.py) poses these
equations with nu = 1/100 and a = 4.
"""

import os
from pathlib import Path

import sympy as sp

import pinnkit as pk

x, y = sp.symbols("x y")
u, v, p = (sp.Function(name)(x, y) for name in "uvp")
nu = sp.Rational(1, 100)
DATA = Path(os.environ.get("PINNKIT_DATA", Path(__file__).resolve().parents[2] / "shared/data"))


def _laplacian(f):
    return f.diff(x, 2) + f.diff(y, 2)


problem = pk.Problem(
    name="lid_driven_cavity",
    domain=pk.Rectangle((x, 0, 1), (y, 0, 1)),
    fields=[u, v, p],
    equations={
        "momentum_x": u * u.diff(x) + v * u.diff(y) + p.diff(x) - nu * _laplacian(u),
        "momentum_y": u * v.diff(x) + v * v.diff(y) + p.diff(y) - nu * _laplacian(v),
        "continuity": u.diff(x) + v.diff(y),
    },
    conditions=[
        pk.Dirichlet(u, 4 * x * (1 - x) * y, name="bc_u", exact=True),
        pk.Dirichlet(v, 0, name="bc_v", exact=True),
    ],
    data=pk.Data({x: [0.0], y: [0.0]}, {p: [0.0]}, name="pressure_gauge"),
    reference=pk.reference.comsol(DATA / "pinnacle/lid_driven_a4.dat", ("x", "y"), ("u", "v", "p")),
)

config = pk.Config(
    steps=4000,
    model=pk.MLP(width=50, depth=4),
    optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.9, decay_steps=500),
    sampling=pk.Sampling(interior=2000),
    lbfgs=pk.LBFGS(steps=1000),
)

configs = {
    "accurate": config.replace(
        steps=500,
        model=pk.MLP(width=30, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=3000, points=2),),
        log_every=100,
        eval_every=100,
    ),
}
