"""A pendulum with unknown damping, only the angle observed (not seen before).

    theta' = omega,  omega' = -9.81 sin(theta) + d(omega),  d = -omega/4

Measured 2026-12-07 (1% noise, 60 observations, float32, one thread of the 2-core CPU): with
this file's plain network the fit stays flat (relative L2 1.0; the damping network absorbs the
swing) and `pinnkit fit` notes that the observations were not followed; with
`fourier=pk.Fourier(features=32, sigma=2.0)` added to the config: fit 37 s, relative L2 3.7e-3,
discovery 29 s chose `-0.2517*omega`.
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
th, w = sp.Function("theta")(t), sp.Function("omega")(t)
d = pk.Hidden("d")
ts = np.linspace(0, 6, 1201)
sol = solve_ivp(
    lambda _t, y: [y[1], -9.81 * np.sin(y[0]) - 0.25 * y[1]],
    (0, 6),
    [1.0, 0.0],
    t_eval=ts,
    rtol=1e-11,
    atol=1e-12,
)
reference = pk.reference.Grid({"t": ts}, {"theta": sol.y[0], "omega": sol.y[1]}, method="cubic")
to = np.linspace(0, 6, 60)
obs = noisy(reference.evaluate({"t": to})["theta"], 0.01, np.random.default_rng(11))
problem = pk.Problem(
    name="pendulum_hidden",
    domain=pk.TimeInterval(t, 0, 6),
    fields=[th, w],
    equations={
        "angle": sp.Eq(th.diff(t), w),
        "rate": sp.Eq(w.diff(t), -sp.Float(9.81) * sp.sin(th) + d(w)),
    },
    conditions=[pk.Initial(th, 1, name="th0"), pk.Initial(w, 0, name="w0")],
    data=pk.Data({t: to}, {th: obs}),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=800),
    lbfgs=pk.LBFGS(steps=500),
)
