"""Kovasznay flow: steady incompressible Navier-Stokes at Re = 20, fields u, v, p.

    u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    u_x + v_y = 0,     (x, y) in [-0.5, 1] x [-0.5, 1.5]

Exact solution (Kovasznay 1948), with lambda = Re/2 - sqrt(Re^2/4 + 4 pi^2):

    u = 1 - exp(lambda x) cos(2 pi y)
    v = lambda / (2 pi) exp(lambda x) sin(2 pi y)
    p = (1 - exp(2 lambda x)) / 2

u and v are given on the whole boundary from the exact solution; the pressure, fixed only up
to a constant by the equations, is given on the outflow x = 1. The set-up follows DeepXDE's
`examples/pinn_forward/Kovasznay_flow.py` (Lu et al. 2021) and Jin et al.'s NSFnets (2021).

Default config (seed 0, 2 CPU cores, ~210 s): relative L2 2.2e-3 (u), 7.9e-3 (v), 3.9e-3 (p).
"""

import sympy as sp

import pinnkit as pk

x, y = sp.symbols("x y")
u = sp.Function("u")(x, y)
v = sp.Function("v")(x, y)
p = sp.Function("p")(x, y)
Re = 20
lam = sp.Rational(Re, 2) - sp.sqrt(sp.Rational(Re**2, 4) + 4 * sp.pi**2)
u_exact = 1 - sp.exp(lam * x) * sp.cos(2 * sp.pi * y)
v_exact = lam / (2 * sp.pi) * sp.exp(lam * x) * sp.sin(2 * sp.pi * y)
p_exact = (1 - sp.exp(2 * lam * x)) / 2


def _laplacian(f):
    return f.diff(x, 2) + f.diff(y, 2)


problem = pk.Problem(
    name="kovasznay",
    domain=pk.Rectangle((x, -0.5, 1), (y, -0.5, 1.5)),
    fields=[u, v, p],
    equations={
        "momentum_x": u * u.diff(x) + v * u.diff(y) + p.diff(x) - _laplacian(u) / Re,
        "momentum_y": u * v.diff(x) + v * v.diff(y) + p.diff(y) - _laplacian(v) / Re,
        "continuity": u.diff(x) + v.diff(y),
    },
    conditions=[
        pk.Dirichlet(u, u_exact, on="boundary", name="bc_u"),
        pk.Dirichlet(v, v_exact, on="boundary", name="bc_v"),
        pk.Dirichlet(p, p_exact, on="right", name="bc_p_outflow"),
    ],
    reference=pk.reference.Exact({u: u_exact, v: v_exact, p: p_exact}),
)

config = pk.Config(
    steps=3000,
    model=pk.MLP(width=50, depth=4),
    optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.9, decay_steps=500),
    sampling=pk.Sampling(interior=2000, boundary=400),
    lbfgs=pk.LBFGS(steps=2000),
)

# `pinnkit fit problems/kovasznay.py --config accurate`: float32 Adam on a smaller network
# (2,043 parameters), then Levenberg-Marquardt in float64 on the same sampling counts
# (Levenberg-Marquardt reached u 4e-5 in 150 iterations where SSBroyden on a 5,200-parameter
# network had 5.5e-3 after 250). Measured: see benchmarks/accuracy/frontier.md.
configs = {
    "accurate": config.replace(
        steps=2000,
        model=pk.MLP(width=30, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.LevenbergMarquardt(steps=400),),
        log_every=50,
        eval_every=100,
    ),
}
