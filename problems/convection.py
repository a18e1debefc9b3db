"""Fast periodic convection, solved along characteristics (Lagrangian PINN).

    u_t + 50 u_x = 0,  x in [0, 2 pi] periodic,  t in [0, 1],  u(x, 0) = sin x

Exact solution u = sin(x - 50 t): eight periods cross the domain. This is the "failure mode"
case of Krishnapriyan et al. (2021, "Characterizing possible failure modes in
physics-informed neural networks"): a plain PINN trained in float32 reaches only ~1.0
relative L2 here (0.98 in `benchmarks/accuracy/variants.py`), causal weighting 0.96. In
float64 with a long second-order stage the plain PINN solves it too (`--config eulerian`,
below; Xu et al., "FP64 is all you need", arXiv 2505.10949, made the point).

The config trains the Lagrangian PINN (Mojgani, Balajewicz & Hassanzadeh, arXiv
2205.02902): pinnkit splits the equation into u_t + a u_x = R with a = 50 and R = 0 (see
`pinnkit check problems/convection.py`), learns the characteristics X(xi, t) and the state
U(xi, t) along them, and maps back to (x, t) for predictions and errors.

Default config (seed 0, one CPU core shared with other jobs, 198 s): relative L2 8.1e-5.
For a constant velocity the free-streaming start, X = xi + 50 t, is already the exact
characteristic, so the networks only have to stay near zero (20 steps give 1.2e-4). With
`--set lagrangian.baseline=false` the position branch starts at rest and must learn the
displacement itself: 2.4e-4 in 244 s with Adam at lr 1e-2 for 5000 steps
(`convection:lagrangian_at_rest` in the benchmark). `--set lagrangian=null` trains a plain
PINN on the same problem for comparison.
"""

import sympy as sp

import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
speed = 50

problem = pk.Problem(
    name="convection",
    domain=pk.Interval(x, 0, 2 * sp.pi) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations={"convection": sp.Eq(u.diff(t) + speed * u.diff(x), 0)},
    conditions=[pk.Initial(u, sp.sin(x), name="initial"), pk.Periodic(x, exact=True)],
    reference=pk.reference.Exact({u: sp.sin(x - speed * t)}),
)

config = pk.Config(
    steps=3000,
    model=pk.MLP(width=64, depth=4),
    sampling=pk.Sampling(interior=2000),
    lbfgs=pk.LBFGS(steps=500),
    lagrangian=pk.Lagrangian(),
)

# `pinnkit fit problems/convection.py --config accurate`: the Lagrangian PINN on a smaller
# network (32 x 3), float32 Adam, then a float64 SSBroyden stage on twice the points (one
# exploratory run reached 4.0e-7 after 500 SSBroyden iterations). Measured: see
# benchmarks/accuracy/frontier.md.
#
# `--config eulerian`: the plain (Eulerian) PINN, no characteristics: the residual
# u_t + 50 u_x at collocation points, periodicity built into the inputs (cos x, sin x) and
# the initial value into the model (u = sin x + t N(x, t)), a 30 x 3 tanh MLP (2,011
# parameters), 2000 float32 Adam steps (they leave it at ~1.0, the trivial state), then
# 12,000 float64 SSBroyden iterations on 6000 scrambled Sobol points. The error stays near
# 0.7 for the first ~2500 SSBroyden iterations, then falls through 1e-2 (~3500) to 1e-3
# (~6000-7500): a run stopped after 1000 iterations looks like the failure mode.
configs = {
    "eulerian": config.replace(
        steps=2000,
        lagrangian=None,
        exact_initial=True,
        model=pk.MLP(width=30, depth=3),
        sampling=pk.Sampling(interior=2000, method="sobol"),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=12000, points=3.0),),
        log_every=250,
        eval_every=250,
    ),
    "accurate": config.replace(
        model=pk.MLP(width=32, depth=3),
        lbfgs=pk.LBFGS(),
        stages=(pk.SSBroyden(steps=1000, points=2.0),),
        log_every=250,
        eval_every=250,
    ),
}
