"""A steady reaction whose law is unknown (not seen before).

    -u'' + g(u) = 10,  u(0) = 0,  u(1) = 1,  g = 3 u^3

Measured 2026-12-07 (1% noise, 40 observations, float32, 2,209 solution-network parameters,
one thread of the 2-core CPU): fit 29 s, relative L2 5.7e-3; discovery 37 s chose `3*u**3`
(on the front of the integral regression through the repeated integral,
`pinnkit.discover.line_integral`). Before that regression and the boundary-value refit it
chose `8.407*u - 4.857`.
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
    lambda s, y: np.vstack([y[1], 3 * y[0] ** 3 - 10]),
    lambda a, b: np.array([a[0], b[0] - 1]),
    xs,
    np.zeros((2, xs.size)),
    tol=1e-10,
    max_nodes=100000,
)
reference = pk.reference.Grid({"x": xs}, {"u": sol.sol(xs)[0]}, method="cubic")
xo = np.linspace(0.02, 0.98, 40)
obs = noisy(reference.evaluate({"x": xo})["u"], 0.01, np.random.default_rng(3))
problem = pk.Problem(
    name="steady_cubic_hidden",
    domain=pk.Interval(x, 0, 1),
    fields=[u],
    equations={"steady": sp.Eq(-u.diff(x, 2) + g(u), 10)},
    conditions=[
        pk.Dirichlet(u, 0, on="x = 0", name="left"),
        pk.Dirichlet(u, 1, on="x = 1", name="right"),
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
