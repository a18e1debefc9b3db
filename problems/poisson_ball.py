"""Inseparable Poisson equation on the unit ball in d dimensions (the STDE paper's test).

    -lap u = g  in the unit ball B^d,   u = 0 on the sphere,
    u(x) = (1 - |x|^2) sum_{i=0}^{d-2} c_i sin(x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)),
    c_i ~ N(0, 1) (seeded),   g = -lap u (in closed form, `two_body`)

Source: Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator: Efficient
amortization for arbitrary differential operators", NeurIPS 2024, after Hu, Shukla,
Karniadakis, Kawaguchi, "Tackling the curse of dimensionality with physics-informed neural
networks", Neural Networks 2024 (the "two-body" exact solution). The solution couples every
neighbouring pair of coordinates, so it cannot be separated dimension by dimension.

`x` is one `pk.Vector`; the Laplacian is one node (`pk.laplacian(u, x)`), evaluated by the
stochastic Taylor derivative estimator above 64 dimensions (`pk.Operators`, 16 random
coordinate directions per step: sparse second-order Taylor jets, unbiased), exactly below.
The source and the exact solution are sums over the components (`sp.Sum`), never expanded.
The condition is built into the model, u = phi N with phi = (1 - |x|^2)/2 (as the STDE paper
does with 1 - |x|^2). Errors are measured at 10,000 seeded points of the ball (fewer above
d = 1,000; `pinnkit.problem.error_points`).

`make(dim)` builds the problem in any dimension (`benchmarks/highdim/`); the file's
problem has `DIM` components.
"""

import sympy as sp

import pinnkit as pk
from pinnkit.problem.highdim import two_body, two_body_coefficients

DIM = 1000


def make(dim: int = DIM, seed: int = 0) -> pk.Problem:
    """The Poisson problem in `dim` dimensions, coefficients drawn with `seed`."""
    x = pk.Vector("x", dim)
    u = sp.Function("u")(x)
    exact, laplacian = two_body(x, two_body_coefficients(dim, seed))
    return pk.Problem(
        name="poisson_ball" if dim == DIM else f"poisson_ball_{dim}d",
        domain=pk.Ball(x),
        fields=[u],
        equations={"poisson": sp.Eq(-pk.laplacian(u, x), -laplacian)},
        conditions=[pk.Dirichlet(u, 0, on="boundary", exact=True)],
        reference=pk.reference.Exact({u: exact}),
    )


problem = make()

config = pk.Config(
    steps=15_000,
    model=pk.MLP(width=128, depth=4),
    optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.5, decay_steps=3000),
    sampling=pk.Sampling(interior=100, boundary=100),
    operators=pk.Operators(method="auto", samples=16),
    lbfgs=pk.LBFGS(steps=0),
    log_every=500,
    eval_every=2000,
)
