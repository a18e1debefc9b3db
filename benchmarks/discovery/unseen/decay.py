"""Heat with an unknown diffusivity and an unknown loss term (a case discovery had not seen).

    u_t = D u_xx + s(u),  D = 0.05 (a Parameter),  s = -u/2 (Hidden),  u = 0 at x = 0, 1

Two modes decay at different rates, so D and s are told apart. Measured 2026-12-07 (1% noise,
100 observations, float32, one thread of the 2-core CPU): fit 37 s, relative L2 1.7e-3, D
0.05077; discovery 131 s chose `-u/2`, with D refit to 0.05012 beside it.
"""

import numpy as np
import sympy as sp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
s = pk.Hidden("s")
D = pk.Parameter("D", init=0.1, log=True)
pi = sp.pi
exact = (
    sp.exp(-(sp.Rational(1, 20) * pi**2 + sp.Rational(1, 2)) * t) * sp.sin(pi * x)
    + sp.exp(-(9 * pi**2 / 20 + sp.Rational(1, 2)) * t) * sp.sin(3 * pi * x) / 2
)
f = sp.lambdify((x, t), exact, "numpy")
xo = np.tile(np.linspace(0.02, 0.98, 25), 4)
to = np.repeat([0.1, 0.3, 0.6, 1.0], 25)
obs = noisy(f(xo, to), 0.01, np.random.default_rng(9))
problem = pk.Problem(
    name="decay_hidden",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"heat": sp.Eq(u.diff(t), D * u.diff(x, 2) + s(u))},
    conditions=[pk.Initial(u, exact.subs(t, 0), name="u0"), pk.Dirichlet(u, 0, name="ends")],
    data=pk.Data({x: xo, t: to}, {u: obs}),
    reference=pk.reference.Exact({u: exact}),
)
config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=1000, boundary=100, initial=100),
    lbfgs=pk.LBFGS(steps=500),
)
