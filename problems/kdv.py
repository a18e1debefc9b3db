"""Korteweg-de Vries equation, periodic in x (Raissi et al.'s KdV.mat set-up).

    u_t + u u_x + 0.0025 u_xxx = 0,  x in [-1, 1],  t in [0, 1]
    u(x, 0) = cos(pi x),  u periodic in x (exact periodic embedding)

Zabusky and Kruskal's soliton experiment: the cosine steepens and breaks into a train of
solitons. The reference is `pk.reference.kdv()` (Fourier ETDRK4, 512 modes), which matches
Raissi et al.'s `KdV.mat` to 3e-11 (tests/reference/test_spectral.py).
"""

import sympy as sp

import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)

problem = pk.Problem(
    name="kdv",
    domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"kdv": sp.Eq(u.diff(t) + u * u.diff(x) + sp.Rational(1, 400) * u.diff(x, 3), 0)},
    conditions=[
        pk.Initial(u, sp.cos(sp.pi * x), name="initial"),
        pk.Periodic(x, exact=True),
    ],
    reference=pk.reference.kdv(),
)

config = pk.Config(
    steps=5000,
    model=pk.MLP(width=32, depth=4),
    optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.9, decay_steps=1000),
    sampling=pk.Sampling(interior=4000, initial=256, method="sobol"),
    lbfgs=pk.LBFGS(steps=1000),
    weights={"initial": 10.0},
)

# `pinnkit fit problems/kdv.py --config accurate`: a small network (30 x 3, 2,011
# parameters) with the initial condition built in, float32 Adam (5000 steps), then 6000
# float64 SSBroyden iterations on scrambled Sobol points 6x the sampling counts: relative L2
# 7.9e-5, 7.8e-5 and 3.4e-5 on the reference grid (seeds 0-2, 24-29 min each on one CPU
# thread of a shared 2-core machine); benchmarks/accuracy/frontier.md has the details.
configs = {
    "accurate": config.replace(
        steps=5000,
        model=pk.MLP(width=30, depth=3),
        exact_initial=True,
        weights={},
        sampling=pk.Sampling(interior=2000, initial=256, method="sobol"),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=6000, points=6.0),),
        log_every=250,
        eval_every=250,
    ),
}
