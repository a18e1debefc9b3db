"""An SIR epidemic with the incidence unknown (not seen before).

    S' = -h(S, I),  I' = h(S, I) - I/5,  h = 0.6 S I

Measured 2026-12-07 (1% noise, 50 times, both observed, float32, one thread of the 2-core CPU):
fit 28 s, relative L2 3.8e-3 and 4.7e-3; discovery 38 s chose `0.6011*I*S` (at 5% noise
`0.6054*I*S`).
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
S, infected = sp.Function("S")(t), sp.Function("I")(t)
h = pk.Hidden("h")
ts = np.linspace(0, 40, 2001)
sol = solve_ivp(
    lambda _t, y: [-0.6 * y[0] * y[1], 0.6 * y[0] * y[1] - 0.2 * y[1]],
    (0, 40),
    [0.99, 0.01],
    t_eval=ts,
    rtol=1e-11,
    atol=1e-13,
)
reference = pk.reference.Grid({"t": ts}, {"S": sol.y[0], "I": sol.y[1]}, method="cubic")
to = np.linspace(0, 40, 50)
clean = reference.evaluate({"t": to})
rng = np.random.default_rng(5)
problem = pk.Problem(
    name="sir_hidden",
    domain=pk.TimeInterval(t, 0, 40),
    fields=[S, infected],
    equations={
        "susceptible": sp.Eq(S.diff(t), -h(S, infected)),
        "infected": sp.Eq(infected.diff(t), h(S, infected) - sp.Rational(1, 5) * infected),
    },
    conditions=[
        pk.Initial(S, sp.Rational(99, 100), name="S0"),
        pk.Initial(infected, sp.Rational(1, 100), name="I0"),
    ],
    data=pk.Data(
        {t: to}, {S: noisy(clean["S"], 0.01, rng), infected: noisy(clean["I"], 0.01, rng)}
    ),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=800),
    lbfgs=pk.LBFGS(steps=500),
)
