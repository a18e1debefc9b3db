"""Viscous Burgers equation in DeepXDE's setting (Raissi et al. 2019, Sec. 3.1.1).

    u_t + u u_x = (0.01/pi) u_xx,  x in [-1, 1],  t in [0, 0.99]
    u(x, 0) = -sin(pi x),  u(-1, t) = u(1, t) = 0

The solution steepens into a near-shock at x = 0; the reference is the Cole-Hopf solution
(pinnkit.reference.burgers), which matches DeepXDE's Burgers.npz to 3e-12.
"""

import sympy as sp

import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
nu = sp.Rational(1, 100) / sp.pi

problem = pk.Problem(
    name="burgers",
    domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 0.99),
    fields=[u],
    equations=[sp.Eq(u.diff(t) + u * u.diff(x), nu * u.diff(x, 2))],
    conditions=[
        pk.Initial(u, -sp.sin(sp.pi * x)),
        pk.Dirichlet(u, 0, on="boundary"),
    ],
    reference=pk.reference.burgers(nu=0.01 / 3.141592653589793),
)

# Adam on fresh points every step, then L-BFGS on a fixed set twice as large: the polish
# takes the error from ~1e-1 to ~2e-3 (measured: 2.3e-3 in 120 s on one CPU thread).
config = pk.Config(
    steps=6_000,
    model=pk.MLP(width=32, depth=4),
    optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.9, decay_steps=1000),
    sampling=pk.Sampling(interior=2000, boundary=100, initial=200),
    lbfgs=pk.LBFGS(steps=3000, points=2.0),
    eval_every=500,
)
