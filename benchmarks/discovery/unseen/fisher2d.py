"""2-D Fisher-KPP with the reaction unknown (a case discovery had not seen).

    u_t = 0.01 (u_xx + u_yy) + f(u),  f = 1.5 u (1 - u),  Neumann walls

Measured 2026-12-07 (1% noise, 108 observations, float32, one thread of the 2-core CPU): fit
67 s, relative L2 1.3e-2; discovery 248 s chose `-1.485*u**2 + 1.49*u`.
"""

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import pinnkit as pk


def noisy(values, level, rng):
    """`values` plus Gaussian noise of `level` x their RMS."""
    values = np.asarray(values, float)
    return values + level * np.sqrt(np.mean(values**2)) * rng.standard_normal(values.shape)


x, y, t = sp.symbols("x y t")
u = sp.Function("u")(x, y, t)
f = pk.Hidden("f")
n = 61
xs = np.linspace(0, 1, n)
h = xs[1] - xs[0]
XX, YY = np.meshgrid(xs, xs, indexing="ij")
u0e = sp.Rational(1, 10) + sp.Rational(7, 10) * sp.exp(
    -30 * ((x - sp.Rational(3, 10)) ** 2 + (y - sp.Rational(2, 5)) ** 2)
)
start = sp.lambdify((x, y), u0e, "numpy")(XX, YY)


def rhs(_t, w):
    W = np.pad(w.reshape(n, n), 1, mode="reflect")
    lap = W[2:, 1:-1] + W[:-2, 1:-1] + W[1:-1, 2:] + W[1:-1, :-2] - 4 * W[1:-1, 1:-1]
    Wc = w.reshape(n, n)
    return (0.01 * lap / h**2 + 1.5 * Wc * (1 - Wc)).ravel()


ts = np.linspace(0, 1.5, 31)
sol = solve_ivp(rhs, (0, 1.5), start.ravel(), t_eval=ts, rtol=1e-9, atol=1e-11)
reference = pk.reference.Grid(
    {"x": xs, "y": xs, "t": ts}, {"u": sol.y.reshape(n, n, -1)}, method="linear"
)
rng = np.random.default_rng(6)
g = np.linspace(0.05, 0.95, 6)
GX, GY = np.meshgrid(g, g, indexing="ij")
times = [0.5, 1.0, 1.5]
xo = np.tile(GX.ravel(), 3)
yo = np.tile(GY.ravel(), 3)
to = np.repeat(times, 36)
obs = noisy(reference.evaluate({"x": xo, "y": yo, "t": to})["u"], 0.01, rng)
problem = pk.Problem(
    name="fisher2d_hidden",
    domain=pk.Rectangle((x, 0, 1), (y, 0, 1)) * pk.TimeInterval(t, 0, 1.5),
    fields=[u],
    equations={"fisher": sp.Eq(u.diff(t), (u.diff(x, 2) + u.diff(y, 2)) / 100 + f(u))},
    conditions=[pk.Initial(u, u0e, name="u0"), pk.Neumann(u, 0, name="walls")],
    data=pk.Data({x: xo, y: yo, t: to}, {u: obs}),
    reference=reference,
)
config = pk.Config(
    steps=3000,
    model=pk.MLP(width=32, depth=3),
    hidden=pk.HiddenNet(width=16, depth=2),
    sampling=pk.Sampling(interior=2000, boundary=200, initial=300),
    lbfgs=pk.LBFGS(steps=500),
)
