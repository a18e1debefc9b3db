"""Poisson-Boltzmann (screened Poisson) equation on a square with four holes (PINNacle).

PINNacle's Poisson-Boltzmann 2-D case.

    -(u_xx + u_yy) + k^2 u = f,   k = 8,
    f = A (mu1^2 + x^2 + mu2^2 + y^2) sin(mu1 pi x) sin(mu2 pi y),   A = 10, mu = (1, 4),
    in [-1, 1]^2 minus the disks (0.5, 0.5; 0.2), (0.4, -0.4; 0.4), (-0.2, -0.7; 0.1),
    (-0.6, 0.5; 0.3) (center; radius)
    u = 0.2 on the square's sides ("outer"),  u = 1 on the circles ("holes")

Both conditions are exact (`exact=True`, built into the model through distance functions).
The reference is the COMSOL solution PINNacle ships (`poisson_boltzmann2d.dat`, 3,236 mesh
nodes; Hao et al., "PINNacle", NeurIPS 2024 Datasets and Benchmarks, MIT licence), read from
`../shared/data/pinnacle/` beside the checkout or from `$PINNKIT_DATA/pinnacle/`. Verified
against the data before training: the 200 nodes on the square have u = 0.2 and the 172 nodes
on the circles (|r - R| < 1e-6) have u = 1, exactly; PINNacle's `PoissonBoltzmann2D`
(src/pde/poisson.py) poses this equation, geometry and these values.
"""

import os
from pathlib import Path

import sympy as sp

import pinnkit as pk

x, y = sp.symbols("x y")
u = sp.Function("u")(x, y)
k, A, mu1, mu2 = 8, 10, 1, 4
f = A * (mu1**2 + x**2 + mu2**2 + y**2) * sp.sin(mu1 * sp.pi * x) * sp.sin(mu2 * sp.pi * y)
HOLES = [((0.5, 0.5), 0.2), ((0.4, -0.4), 0.4), ((-0.2, -0.7), 0.1), ((-0.6, 0.5), 0.3)]
domain = pk.Rectangle((x, -1, 1), (y, -1, 1), name="outer")
for center, radius in HOLES:
    domain = domain - pk.Disk(x, y, center, radius, name="holes")
DATA = Path(os.environ.get("PINNKIT_DATA", Path(__file__).resolve().parents[2] / "shared/data"))

problem = pk.Problem(
    name="poisson_boltzmann_holes",
    domain=domain,
    fields=[u],
    equations={"poisson_boltzmann": -(u.diff(x, 2) + u.diff(y, 2)) + k**2 * u - f},
    conditions=[
        pk.Dirichlet(u, sp.Rational(1, 5), on="outer", name="bc_outer", exact=True),
        pk.Dirichlet(u, 1, on="holes", name="bc_holes", exact=True),
    ],
    reference=pk.reference.comsol(DATA / "pinnacle/poisson_boltzmann2d.dat", ("x", "y"), ("u",)),
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
