"""Inseparable Allen-Cahn equation on the unit ball in d dimensions (the STDE paper's test).

    lap u + u - u^3 = g  in the unit ball B^d,   u = 0 on the sphere,
    u(x) = (1 - |x|^2) sum_{i=0}^{d-2} c_i sin(x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)),
    c_i ~ N(0, 1) (seeded),   g = lap u + u - u^3 of the exact u (`two_body`)

Source: Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator", NeurIPS 2024 (the
exact solution after Hu, Shukla, Karniadakis, Kawaguchi, Neural Networks 2024). The
nonlinearity is the STDE paper's (Allen-Cahn with unit coefficients). How the Laplacian is
evaluated, the condition built into the model, where errors are measured and `make(dim)`:
as in `poisson_ball.py`.
"""

import sympy as sp

import pinnkit as pk
from pinnkit.problem.highdim import two_body, two_body_coefficients

DIM = 1000


def make(dim: int = DIM, seed: int = 0) -> pk.Problem:
    """The Allen-Cahn problem in `dim` dimensions, coefficients drawn with `seed`."""
    x = pk.Vector("x", dim)
    u = sp.Function("u")(x)
    exact, laplacian = two_body(x, two_body_coefficients(dim, seed))
    return pk.Problem(
        name="allen_cahn_ball" if dim == DIM else f"allen_cahn_ball_{dim}d",
        domain=pk.Ball(x),
        fields=[u],
        equations={
            "allen_cahn": sp.Eq(pk.laplacian(u, x) + u - u**3, laplacian + exact - exact**3)
        },
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
