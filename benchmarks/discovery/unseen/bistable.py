"""A bistable reaction-diffusion front whose reaction law is unknown (not seen before).

    u_t = 0.003 u_xx + f(u),  f = 1.5 u (1 - u)(u - 0.3) = -1.5 u^3 + 1.95 u^2 - 0.45 u,
    u(x, 0) = 0.95 sin(pi x),  u = 0 at x = 0, 1

Three terms of different sizes (0.45 to 1.95). Measured 2026-12-07 (1% noise, 150
observations, float32, one thread of the 2-core CPU): fit 35 s, 2,241 network parameters,
relative L2 3.3e-3; discovery 211 s chose `-1.471*u**3 + 1.912*u**2 - 0.4396*u` (the truth's
form, each constant 1.9-2.3% low: 0.8, 1.4 and 1.1 of its standard errors 0.037, 0.028 and
0.0098).
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
    """The front by the method of lines: 401 nodes, second differences, BDF at tight
    tolerance, on 201 times."""
    xs = np.linspace(0, 1, 401)
    h = xs[1] - xs[0]
    ts = np.linspace(0, 3, 201)

    def rhs(_, v):
        w = np.concatenate([[0.0], v, [0.0]])
        return 0.003 * (w[2:] - 2 * w[1:-1] + w[:-2]) / h**2 + 1.5 * v * (1 - v) * (v - 0.3)

    start = 0.95 * np.sin(np.pi * xs[1:-1])
    sol = solve_ivp(rhs, (0, 3), start, t_eval=ts, method="BDF", rtol=1e-10, atol=1e-12)
    values = np.zeros((401, 201))
    values[1:-1] = sol.y
    return pk.reference.Grid({"x": xs, "t": ts}, {"u": values}, method="cubic")


x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
f = pk.Hidden("f")
reference = reference_grid()
xo = np.tile(np.linspace(0.02, 0.98, 25), 6)
to = np.repeat([0.25, 0.75, 1.25, 1.75, 2.25, 3.0], 25)
obs = noisy(reference.evaluate({"x": xo, "t": to})["u"], 0.01, np.random.default_rng(13))
problem = pk.Problem(
    name="bistable_hidden",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 3),
    fields=[u],
    equations={"front": sp.Eq(u.diff(t), sp.Rational(3, 1000) * u.diff(x, 2) + f(u))},
    conditions=[
        pk.Initial(u, sp.Rational(19, 20) * sp.sin(sp.pi * x), name="u0"),
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
