"""An oscillator whose damping law of the velocity is unknown (not seen before).

    x'' + d(x') + 4 x = 0,  x(0) = 2,  x'(0) = 0,  d = 0.3 v + 0.5 v^3

Measured 2026-12-07 (1% noise, 60 observations, float32, one thread of the 2-core CPU): with
this config (32 Fourier features of t) fit 49 s, 4,225 solution-network parameters, relative
L2 1.2e-2; discovery 65 s chose `0.4961*x_t**3 + 0.3031*x_t` (standard errors 0.0027 and
0.0035 from the trajectory refit of the second-order ODE, its velocity a state). Without the
Fourier features the fit stopped at relative L2 1.7e-1 (2,209 parameters, 72 s) and
discovery chose `1.038*x_t*Abs(x_t)`.
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
X = sp.Function("x")(t)
d = pk.Hidden("d")
ts = np.linspace(0, 10, 1001)
sol = solve_ivp(
    lambda s, y: [y[1], -0.3 * y[1] - 0.5 * y[1] ** 3 - 4 * y[0]],
    (0, 10),
    [2.0, 0.0],
    t_eval=ts,
    rtol=1e-11,
    atol=1e-12,
)
reference = pk.reference.Grid({"t": ts}, {"x": sol.y[0]}, method="cubic")
to = np.linspace(0, 10, 60)
obs = noisy(reference.evaluate({"t": to})["x"], 0.01, np.random.default_rng(21))
problem = pk.Problem(
    name="damping_hidden",
    domain=pk.TimeInterval(t, 0, 10),
    fields=[X],
    equations={"motion": sp.Eq(X.diff(t, 2) + d(X.diff(t)) + 4 * X, 0)},
    conditions=[pk.Initial(X, 2, name="x0"), pk.Initial(X.diff(t), 0, name="v0")],
    data=pk.Data({t: to}, {X: obs}),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    fourier=pk.Fourier(features=32, sigma=2.0),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=500),
    lbfgs=pk.LBFGS(steps=500),
)
