"""A Van der Pol oscillator whose damping law of position and velocity is unknown (not seen
before).

    x'' - d(x, x') + x = 0,  x(0) = 1,  x'(0) = 0,  d = 1.5 (1 - x^2) x'

Only x observed (80 times on [0, 12], 1% noise). Measured 2026-12-07 (float32, one thread of
the 2-core CPU, two runs at a time): fit 28 s, 4,225 solution-network parameters, relative
L2 1.1e-2; discovery 45 s chose `-1.5*x**2*x_t + 1.5*x_t` (the two coefficients tied into
one constant and rounded to 3/2; standard error 0.0016 from the trajectory refit of the
second-order ODE).
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
ts = np.linspace(0, 12, 1201)
sol = solve_ivp(
    lambda s, y: [y[1], 1.5 * (1 - y[0] ** 2) * y[1] - y[0]],
    (0, 12),
    [1.0, 0.0],
    t_eval=ts,
    rtol=1e-11,
    atol=1e-12,
)
reference = pk.reference.Grid({"t": ts}, {"x": sol.y[0]}, method="cubic")
to = np.linspace(0, 12, 80)
obs = noisy(reference.evaluate({"t": to})["x"], 0.01, np.random.default_rng(3))
problem = pk.Problem(
    name="vanderpol_hidden",
    domain=pk.TimeInterval(t, 0, 12),
    fields=[X],
    equations={"motion": sp.Eq(X.diff(t, 2) - d(X, X.diff(t)) + X, 0)},
    conditions=[pk.Initial(X, 1, name="x0"), pk.Initial(X.diff(t), 0, name="v0")],
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
