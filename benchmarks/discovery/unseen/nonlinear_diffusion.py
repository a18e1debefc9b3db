"""Nonlinear diffusion with an unknown diffusivity law (not seen before): a miss.

    u_t = (D(u) u_x)_x,  D = 0.05 + 0.1 u^2,  u(x, 0) = sin(pi x) + sin(3 pi x)/2,  u = 0 at ends

The Hidden term is differentiated in x (the chain rule gives D'(u), the network differentiated
in its input). Measured 2026-12-07 (1% noise, 100 observations, one thread of the 2-core CPU,
2,241 network parameters):

- this config (float32): fit 43 s, relative L2 2.8e-2 (most of the error in the first 0.1 of
  the window, where the sin(3 pi x) mode decays); discovery 155 s chose
  `0.0519*exp(0.6524*u)` (weight 0.89; `0.03293*u + 0.054` 0.11): miss; with causal
  weighting (`pk.Causal(chunks=32)`) or 4x the points, relative L2 2.7e-2 either way and
  `0.04879*exp(0.8258*u)`, `0.0505*exp(0.7311*u)`: misses;
- with `stages=(pk.LevenbergMarquardt(steps=200, resample_every=20),)` (float64): fit 181 s,
  relative L2 2.1e-3, and the hidden network's samples put `0.09836*u**2 + 0.05048` on the
  front (1.6% and 1.0% off); but its PINN refit let the constants drift to fix the equation
  at t < 0.01, which no fit held (met 800x worse on discovery's fresh points than in
  training, 95% of that at 1% of the points: discovery now says so), and discovery (274 s)
  chose `0.06216*u**3 + 0.04028*u + 0.04706`: miss. The observations themselves decide:
  fitted by maximum likelihood through a method-of-lines solver (201 nodes), the truth's form
  comes out 0.05024 + 0.1001 u^2 at chi-square 116.5, `a exp(b u)` 147.0, `a + b u` 217.0.
  With `pk.discover(run, refit=2000)` (1,001 s) the truth's form is 9.6 ahead of every other
  in the criterion and confirmed (misfit growth +3.9 noise units), but not admitted: its
  refit's loss, the layer again, is 3.9x the trained run's (admitted at 2x); the same pick.
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
    """The solution by the method of lines: 401 nodes, fluxes at the midpoints, BDF at tight
    tolerance, on 201 times."""
    xs = np.linspace(0, 1, 401)
    h = xs[1] - xs[0]
    ts = np.linspace(0, 1, 201)

    def rhs(_, v):
        w = np.concatenate([[0.0], v, [0.0]])
        mid = 0.5 * (w[1:] + w[:-1])
        flux = 0.05 * (1 + 2 * mid**2) * (w[1:] - w[:-1]) / h
        return (flux[1:] - flux[:-1]) / h

    start = np.sin(np.pi * xs[1:-1]) + 0.5 * np.sin(3 * np.pi * xs[1:-1])
    sol = solve_ivp(rhs, (0, 1), start, t_eval=ts, method="BDF", rtol=1e-10, atol=1e-12)
    values = np.zeros((401, 201))
    values[1:-1] = sol.y
    return pk.reference.Grid({"x": xs, "t": ts}, {"u": values}, method="cubic")


x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
D = pk.Hidden("D")
reference = reference_grid()
xo = np.tile(np.linspace(0.02, 0.98, 25), 4)
to = np.repeat([0.1, 0.3, 0.6, 1.0], 25)
obs = noisy(reference.evaluate({"x": xo, "t": to})["u"], 0.01, np.random.default_rng(17))
problem = pk.Problem(
    name="nonlinear_diffusion",
    domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"diffusion": sp.Eq(u.diff(t), (D(u) * u.diff(x)).diff(x))},
    conditions=[
        pk.Initial(u, sp.sin(sp.pi * x) + sp.sin(3 * sp.pi * x) / 2, name="u0"),
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
