"""Heat conduction with an unknown nonlinear sink (not seen before).

    u_t = 0.05 u_xx + s(u),  s = -2 u^3,  u(x, 0) = 1.5 sin(pi x),  u = 0 at x = 0, 1

114 observations (19 points at 6 times), 1% noise. Measured 2026-12-07 (float32, one
thread of the 2-core CPU, two runs at a time): fit 22 s, 2,241 parameters, relative L2
4.9e-3; discovery 79 s chose `-2.015*u**3` (0.75% off; standard error 0.0088).
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
    """The solution by the method of lines: 401 nodes, second differences, BDF at tight
    tolerance, on 201 times."""
    xs = np.linspace(0, 1, 401)
    h = xs[1] - xs[0]
    ts = np.linspace(0, 2, 201)

    def rhs(_, v):
        w = np.concatenate([[0.0], v, [0.0]])
        return 0.05 * (w[2:] - 2 * w[1:-1] + w[:-2]) / h**2 - 2 * v**3

    sol = solve_ivp(
        rhs, (0, 2), 1.5 * np.sin(np.pi * xs[1:-1]), t_eval=ts, method="BDF", rtol=1e-10, atol=1e-12
    )
    values = np.zeros((401, 201))
    values[1:-1] = sol.y
    return pk.reference.Grid({"x": xs, "t": ts}, {"u": values}, method="cubic")


x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
s = pk.Hidden("s")
reference = reference_grid()
xo = np.tile(np.linspace(0.05, 0.95, 19), 6)
to = np.repeat([0.1, 0.3, 0.6, 1.0, 1.5, 2.0], 19)
obs = noisy(reference.evaluate({"x": xo, "t": to})["u"], 0.01, np.random.default_rng(17))
problem = pk.Problem(
    name="cubic_sink_hidden",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 2),
    fields=[u],
    equations={"heat": sp.Eq(u.diff(t), sp.Rational(1, 20) * u.diff(x, 2) + s(u))},
    conditions=[
        pk.Initial(u, sp.Rational(3, 2) * sp.sin(sp.pi * x), name="u0"),
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
