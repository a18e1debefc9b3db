"""Steady heat with an unknown source (not seen before).

    -u'' + 2 u = s(x),  u(0) = u(1) = 0,  s = 5 cos(2 x)

Measured 2026-12-07 (1% noise, 40 observations, float32, 2,209 solution-network parameters,
one thread of the 2-core CPU): fit 31 s, relative L2 3.6e-3; discovery 32 s chose
`5.007*cos(2.003*x)` (standard errors 0.021 and 0.0047 from the boundary-value refit,
`pinnkit.discover.two_point`; before it, `4.997*cos(2*x)`).
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
s = pk.Hidden("s")
xs = np.linspace(0, 1, 401)
sol = solve_bvp(
    lambda z, y: np.vstack([y[1], 2 * y[0] - 5 * np.cos(2 * z)]),
    lambda a, b: np.array([a[0], b[0]]),
    xs,
    np.zeros((2, xs.size)),
    tol=1e-10,
    max_nodes=100000,
)
reference = pk.reference.Grid({"x": xs}, {"u": sol.sol(xs)[0]}, method="cubic")
xo = np.linspace(0.02, 0.98, 40)
obs = noisy(reference.evaluate({"x": xo})["u"], 0.01, np.random.default_rng(4))
problem = pk.Problem(
    name="steady_source_hidden",
    domain=pk.Interval(x, 0, 1),
    fields=[u],
    equations={"steady": sp.Eq(-u.diff(x, 2) + 2 * u, s(x))},
    conditions=[pk.Dirichlet(u, 0, name="ends")],
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
