"""Tumour growth whose growth law is unknown (Gompertz, not told; not seen before).

    N' = g(N),  N(0) = 0.2,  g = 0.6 N log(3 / N) = 0.6 log(3) N - 0.6 N log(N)

40 observations on [0, 8], 1% noise. Measured 2026-12-07 (float32, one thread of the 2-core
CPU): fit 14 s, 2,209 parameters, relative L2 4.0e-3; with the default library discovery
took 21 s and flagged `-0.03809*exp(N) + 0.2248*cos(N) + 1 - exp(-N)` (weight 0.35 among
five look-alikes; the truth, offered, is chosen): a miss. With
`Offline(library=Library(log_growth=True))` from `pinnkit.discover` (a column N*log(N)) it
took 13 s and chose
`-0.6021*N*log(N) + 0.6583*N` (0.35% and 0.14% off; standard errors 0.0021 and 0.0028).
The refit of the exported problem needs `--set model.scale=data` (log(N) of an untrained
network that takes N <= 0 is not finite).
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
N = sp.Function("N")(t)
g = pk.Hidden("g")
ts = np.linspace(0, 8, 801)
sol = solve_ivp(
    lambda s, y: 0.6 * y * np.log(3 / y), (0, 8), [0.2], t_eval=ts, rtol=1e-11, atol=1e-12
)
reference = pk.reference.Grid({"t": ts}, {"N": sol.y[0]}, method="cubic")
to = np.linspace(0, 8, 40)
obs = noisy(reference.evaluate({"t": to})["N"], 0.01, np.random.default_rng(5))
problem = pk.Problem(
    name="gompertz_hidden",
    domain=pk.TimeInterval(t, 0, 8),
    fields=[N],
    equations={"growth": sp.Eq(N.diff(t), g(N))},
    conditions=[pk.Initial(N, sp.Rational(1, 5), name="N0")],
    data=pk.Data({t: to}, {N: obs}),
    reference=reference,
)
config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=500),
    lbfgs=pk.LBFGS(steps=500),
)
