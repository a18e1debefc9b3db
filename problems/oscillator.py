"""Underdamped harmonic oscillator: a second-order ODE in time alone, u(0) = 1, u'(0) = 0.

    u'' + 2 zeta omega u' + omega^2 u = 0,  t in [0, 1],  omega = 20, zeta = 0.1
    u(0) = 1,  u'(0) = 0

Exact solution, with omega_d = omega sqrt(1 - zeta^2):

    u(t) = exp(-zeta omega t) (cos(omega_d t) + zeta omega / omega_d sin(omega_d t))

about three damped periods on [0, 1]. The set-up (omega_0 = 20, d = zeta omega = 2) is Ben
Moseley's "So, what is a physics-informed neural network?" (2021). The ODE residual is of
size omega^2 = 400 while u is of size 1, so the ODE term gets a small weight, as in that
post (1e-4), and the derivative condition, of size omega, a weight of 1e-1. With Adam at
1e-3 for 4000 steps the network stays near a damped non-solution (error 0.24); a larger
step (5e-3) for longer, then L-BFGS, fits the three periods.

Default config (seed 0, 2 CPU cores, ~40 s): relative L2 4.5e-4 (seeds 1, 2: 2.5e-3, 1.5e-3).
"""

import sympy as sp

import pinnkit as pk

t = sp.symbols("t")
u = sp.Function("u")(t)
omega, zeta = 20, sp.Rational(1, 10)
omega_d = omega * sp.sqrt(1 - zeta**2)
exact = sp.exp(-zeta * omega * t) * (
    sp.cos(omega_d * t) + zeta * omega / omega_d * sp.sin(omega_d * t)
)

problem = pk.Problem(
    name="oscillator",
    domain=pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"oscillator": sp.Eq(u.diff(t, 2) + 2 * zeta * omega * u.diff(t) + omega**2 * u, 0)},
    conditions=[
        pk.Initial(u, 1, name="initial_u"),
        pk.Initial(u.diff(t), 0, name="initial_u_t"),
    ],
    reference=pk.reference.Exact({u: exact}),
)

config = pk.Config(
    steps=8000,
    model=pk.MLP(width=32, depth=3),
    optimizer=pk.Adam(learning_rate=5e-3, decay_rate=0.9, decay_steps=1000),
    sampling=pk.Sampling(interior=200, initial=1),
    lbfgs=pk.LBFGS(steps=2000),
    weights={"oscillator": 1e-4, "initial_u_t": 1e-1},
)

# `pinnkit fit problems/oscillator.py --config accurate`: float32 Adam on a smaller network
# (901 parameters), then Levenberg-Marquardt in float64 on twice the points. Measured: see
# benchmarks/accuracy/frontier.md.
configs = {
    "accurate": config.replace(
        steps=3000,
        model=pk.MLP(width=20, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.LevenbergMarquardt(steps=400, points=2.0),),
        log_every=50,
        eval_every=100,
    ),
}
