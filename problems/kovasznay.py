"""Kovasznay flow: steady incompressible Navier-Stokes at Re = 20, fields u, v, p.

    u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    u_x + v_y = 0,     (x, y) in [-0.5, 1] x [-0.5, 1.5]

Exact solution (Kovasznay 1948), with lambda = Re/2 - sqrt(Re^2/4 + 4 pi^2):

    u = 1 - exp(lambda x) cos(2 pi y)
    v = lambda / (2 pi) exp(lambda x) sin(2 pi y)
    p = (1 - exp(2 lambda x)) / 2

u and v are given on the whole boundary from the exact solution, built into the model
(`exact=True`): on each side its trace, a function of that side's own coordinate (the
closed form itself would carry the solution into the domain through the blend of values);
the pressure, fixed only up to a constant by the equations, is given on the outflow x = 1 (a
loss term). The set-up follows DeepXDE's `examples/pinn_forward/Kovasznay_flow.py` (Lu et
al. 2021) and Jin et al.'s NSFnets (2021).

Default config with the velocity conditions as loss terms (seed 0, 2 CPU cores, ~210 s,
2026-11-24): relative L2 2.2e-3 (u), 7.9e-3 (v), 3.9e-3 (p); not yet measured with them exact.
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


SIDES = {"left": (x, -0.5), "right": (x, 1), "bottom": (y, -0.5), "top": (y, 1.5)}

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
        *(
            pk.Dirichlet(f, value.subs(c, at), on=side, name=f"bc_{f.func}_{side}", exact=True)
            for f, value in ((u, u_exact), (v, v_exact))
            for side, (c, at) in SIDES.items()
        ),
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

# `pinnkit fit problems/kovasznay.py --config accurate`: float32 Adam on a small network
# (2,043 parameters), then float64 SSBroyden on twice the points. With the velocity
# conditions exact, one exploratory run (seed 0, one thread, machine shared with another job)
# reached u 2.2e-7, v 1.5e-6 after 3,750 SSBroyden iterations (8.5 min) and u 1.8e-7,
# v 1.2e-6, p 6.5e-7 after 4,000 (9 min). Before, with soft conditions, Levenberg-Marquardt
# reached u 6.3e-6, v 2.7e-5 in 24 min. Measured: see benchmarks/accuracy/frontier.md.
configs = {
    "accurate": config.replace(
        steps=1000,
        model=pk.MLP(width=30, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=6000, points=2),),
        log_every=250,
        eval_every=250,
    ),
}
