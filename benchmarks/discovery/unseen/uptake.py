"""Steady diffusion with a saturating uptake, closed at one end (not seen before).

    -u'' + g(u) = 20,  u'(0) = 0 (Neumann),  u(1) = 1/2,  g = 4 u/(1 + u)

Measured 2026-12-07 (1% noise, 40 observations, float32, 2,209 solution-network parameters,
one thread of the 2-core CPU): fit 38 s, relative L2 2.3e-3; discovery 69 s chose the
constant `3.512` (standard error 0.024): u runs over [0.5, 8.75], where the uptake is near
its plateau, and fitted by maximum likelihood through the boundary-value solver the constant
fits the observations better than the truth's form (deviance -233.8 against -230.8 for
`4.043*u/(u + 1)`): beyond the data.
"""

import numpy as np
import sympy as sp
from scipy.integrate import solve_bvp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


x = sp.Symbol("x")
u = sp.Function("u")(x)
g = pk.Hidden("g")
xs = np.linspace(0, 1, 401)
sol = solve_bvp(
    lambda s, y: np.vstack([y[1], 4 * y[0] / (1 + y[0]) - 20]),
    lambda a, b: np.array([a[1], b[0] - 0.5]),
    xs,
    np.zeros((2, xs.size)),
    tol=1e-10,
    max_nodes=100000,
)
reference = pk.reference.Grid({"x": xs}, {"u": sol.sol(xs)[0]}, method="cubic")
xo = np.linspace(0.02, 0.98, 40)
obs = noisy(reference.evaluate({"x": xo})["u"], 0.01, np.random.default_rng(5))
problem = pk.Problem(
    name="uptake_hidden",
    domain=pk.Interval(x, 0, 1),
    fields=[u],
    equations={"steady": sp.Eq(-u.diff(x, 2) + g(u), 20)},
    conditions=[
        pk.Neumann(u, 0, on="x = 0", name="closed"),
        pk.Dirichlet(u, sp.Rational(1, 2), on="x = 1", name="bath"),
    ],
    data=pk.Data({x: xo}, {u: obs}),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=400, boundary=2),
    lbfgs=pk.LBFGS(steps=500),
)
