"""Diffusive predator-prey with both interactions unknown (not seen before).

    u_t = u_xx/100 + u + p(u, v),  v_t = v_xx/100 - 3v/5 + r(u, v),  Neumann ends
    p = -0.8 u v,  r = u v / 2

Measured 2026-12-07 (1% noise, 20 x 4 observations of each species, float32, one thread of the
2-core CPU): fit 63 s, relative L2 8.0e-3 and 1.1e-2; discovery 493 s chose `-0.7998*u*v` and
`u*v/2`.
"""

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


x, t = sp.symbols("x t")
u, v = sp.Function("u")(x, t), sp.Function("v")(x, t)
p, r = pk.Hidden("p"), pk.Hidden("r")
n = 201
xs = np.linspace(0, 1, n)
h = xs[1] - xs[0]


def lap(w):
    out = np.empty_like(w)
    out[1:-1] = w[2:] - 2 * w[1:-1] + w[:-2]
    out[0], out[-1] = 2 * (w[1] - w[0]), 2 * (w[-2] - w[-1])
    return out / h**2


def rhs(_t, y):
    a, b = y[:n], y[n:]
    return np.concatenate([0.01 * lap(a) + a - 0.8 * a * b, 0.01 * lap(b) - 0.6 * b + 0.5 * a * b])


u0 = sp.Rational(1, 2) + sp.cos(sp.pi * x) / 4
v0 = 1 + sp.sin(sp.pi * x) / 2
start = np.concatenate([sp.lambdify(x, u0)(xs) * np.ones(n), sp.lambdify(x, v0)(xs) * np.ones(n)])
ts = np.linspace(0, 4, 81)
sol = solve_ivp(rhs, (0, 4), start, t_eval=ts, rtol=1e-9, atol=1e-11)
reference = pk.reference.Grid({"x": xs, "t": ts}, {"u": sol.y[:n], "v": sol.y[n:]}, method="cubic")
xo = np.tile(np.linspace(0, 1, 20), 4)
to = np.repeat([1.0, 2.0, 3.0, 4.0], 20)
clean = reference.evaluate({"x": xo, "t": to})
rng = np.random.default_rng(13)
problem = pk.Problem(
    name="predprey_pde_hidden",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 4),
    fields=[u, v],
    equations={
        "prey": sp.Eq(u.diff(t), u.diff(x, 2) / 100 + u + p(u, v)),
        "predator": sp.Eq(v.diff(t), v.diff(x, 2) / 100 - sp.Rational(3, 5) * v + r(u, v)),
    },
    conditions=[
        pk.Initial(u, u0, name="u0"),
        pk.Initial(v, v0, name="v0"),
        pk.Neumann(u, 0, name="nu"),
        pk.Neumann(v, 0, name="nv"),
    ],
    data=pk.Data(
        {x: xo, t: to}, {u: noisy(clean["u"], 0.01, rng), v: noisy(clean["v"], 0.01, rng)}
    ),
    reference=reference,
)
config = pk.Config(
    steps=4000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=1500, boundary=100, initial=100),
    lbfgs=pk.LBFGS(steps=500),
)
