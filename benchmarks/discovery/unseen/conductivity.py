"""Heat conduction through a rod whose conductivity varies along it, unknown (not seen before).

    u_t = (k(x) u_x)_x,  k = 0.05 + 0.1 x^2,  u(x, 0) = sin(pi x) + sin(2 pi x)/2,  u = 0 at ends

The Hidden term is differentiated in x (the chain rule gives k'(x), the network differentiated
in its input). Measured 2026-12-07 (1% noise, 100 observations, float32, one thread of the
2-core CPU): fit 36 s, 2,241 network parameters, relative L2 4.4e-3; discovery 143 s chose
`0.09899*x**2 + 0.05025` (1.0% and 0.5% off; standard errors 0.0019 and 0.00035), weight 0.76
against `0.2593 - 0.2093*cos(x)` (0.05 + 0.105 x^2 - 0.009 x^4 + ...).
"""

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


def reference_grid():
    """The rod by the method of lines: 401 nodes, fluxes at the midpoints, BDF at tight
    tolerance, on 201 times."""
    xs = np.linspace(0, 1, 401)
    h = xs[1] - xs[0]
    ts = np.linspace(0, 1, 201)
    mid = 0.5 * (xs[1:] + xs[:-1])
    k = 0.05 + 0.1 * mid**2

    def rhs(_, v):
        w = np.concatenate([[0.0], v, [0.0]])
        flux = k * (w[1:] - w[:-1]) / h
        return (flux[1:] - flux[:-1]) / h

    start = np.sin(np.pi * xs[1:-1]) + 0.5 * np.sin(2 * np.pi * xs[1:-1])
    sol = solve_ivp(rhs, (0, 1), start, t_eval=ts, method="BDF", rtol=1e-10, atol=1e-12)
    values = np.zeros((401, 201))
    values[1:-1] = sol.y
    return pk.reference.Grid({"x": xs, "t": ts}, {"u": values}, method="cubic")


x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
k = pk.Hidden("k")
reference = reference_grid()
xo = np.tile(np.linspace(0.02, 0.98, 25), 4)
to = np.repeat([0.1, 0.3, 0.6, 1.0], 25)
obs = noisy(reference.evaluate({"x": xo, "t": to})["u"], 0.01, np.random.default_rng(19))
problem = pk.Problem(
    name="conductivity",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"heat": sp.Eq(u.diff(t), (k(x) * u.diff(x)).diff(x))},
    conditions=[
        pk.Initial(u, sp.sin(sp.pi * x) + sp.sin(2 * sp.pi * x) / 2, name="u0"),
        pk.Dirichlet(u, 0, name="ends"),
    ],
    data=pk.Data({x: xo, t: to}, {u: obs}),
    reference=reference,
)
config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=1000, boundary=100, initial=100),
    lbfgs=pk.LBFGS(steps=500),
)
