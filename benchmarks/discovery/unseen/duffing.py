"""A damped Duffing oscillator with the restoring force unknown (not seen before).

    x'' + 0.4 x' + g(x) = 0,  g = 2x + x^3/2,  x(0) = 1.5, x'(0) = 0

Measured 2026-12-07 (2% noise, 60 observations, float32, one thread of the 2-core CPU): fit
41 s, relative L2 8.4e-3; discovery 52 s chose `x**3/2 + 2*x` (weight 0.95; at 5% noise the
same, weight 0.88).
"""

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


t = sp.Symbol("t")
x = sp.Function("x")(t)
g = pk.Hidden("g")
ts = np.linspace(0, 10, 1001)
sol = solve_ivp(
    lambda _t, y: [y[1], -0.4 * y[1] - 2 * y[0] - 0.5 * y[0] ** 3],
    (0, 10),
    [1.5, 0],
    t_eval=ts,
    rtol=1e-11,
    atol=1e-12,
)
reference = pk.reference.Grid({"t": ts}, {"x": sol.y[0]}, method="cubic")
to = np.linspace(0, 10, 60)
obs = noisy(reference.evaluate({"t": to})["x"], 0.02, np.random.default_rng(7))
problem = pk.Problem(
    name="duffing_hidden",
    domain=pk.TimeInterval(t, 0, 10),
    fields=[x],
    equations={"motion": sp.Eq(x.diff(t, 2) + sp.Rational(2, 5) * x.diff(t) + g(x), 0)},
    conditions=[pk.Initial(x, sp.Rational(3, 2), name="x0"), pk.Initial(x.diff(t), 0, name="v0")],
    data=pk.Data({t: to}, {x: obs}),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=500),
    lbfgs=pk.LBFGS(steps=500),
)
