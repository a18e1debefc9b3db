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

# `pinnkit fit problems/burgers.py --config accurate`: float32 Adam, then a float64
# self-scaled Broyden stage on one fixed set of scrambled Sobol points six times the sampling
# counts (12,000 interior). Measured (CPU, 1 thread each, two runs sharing the 2-core machine,
# 3,297 parameters): relative L2 against Cole-Hopf 5.3e-6 / 1.3e-5 / 5.2e-6 for seeds 0 / 1 / 2
# (median 5.3e-6) in 677 / 604 / 586 s; with 2x the points (uniform) the error stopped at
# 2e-4..5e-4 while the loss fell to 1e-10: the points must resolve the front.
configs = {
    "accurate": config.replace(
        steps=4_000,
        lbfgs=pk.LBFGS(),
        sampling=pk.Sampling(interior=2000, boundary=100, initial=200, method="sobol"),
        stages=(pk.SSBroyden(steps=2_000, points=6.0),),
        log_every=250,
        eval_every=250,
    ),
}
