"""Steady problems in one coordinate with a Hidden term, their solutions from `solve_bvp` at
tight tolerance standing in for trained runs (`Steady`): the cases of
`tests/discover/test_two_point.py` and `tests/discover/test_line_integral.py`."""

from __future__ import annotations

import numpy as np
import sympy as sp

import pinnkit as pk

x = sp.Symbol("x")
U = sp.Function("u")(x)
XS = sp.Symbol("x")  # the Hidden term's input symbol where it is a function of x
US = sp.Symbol("u")  # ... and where it is a function of u
OBSERVED = np.linspace(0.02, 0.98, 40)


def potential_rates(s, y):
    """-u'' + (2 + 8 x^2) u = 10 as a first-order system."""
    return np.vstack([y[1], (2 + 8 * s**2) * y[0] - 10])


def cubic_rates(_s, y):
    """-u'' + 3 u^3 = 10."""
    return np.vstack([y[1], 3 * y[0] ** 3 - 10])


class Steady:
    """A stand-in for a trained run of a steady problem on [0, 1]: `problem` with its Hidden
    term, observations of the solution of `rates` under `ends` (`solve_bvp`'s boundary
    residual) with Gaussian noise of `noise` times their RMS, and that solution as the
    run's prediction."""

    def __init__(self, equation, conditions, rates, ends, noise=0.01, seed=0):
        from scipy.integrate import solve_bvp

        grid = np.linspace(0, 1, 201)
        solution = solve_bvp(rates, ends, grid, np.ones((2, grid.size)), tol=1e-9, max_nodes=10**5)
        assert solution.success
        self._solution = solution.sol
        clean = solution.sol(OBSERVED)[0]
        scale = noise * np.sqrt(np.mean(clean**2))
        rng = np.random.default_rng(seed)
        self.observed = clean + scale * rng.standard_normal(clean.shape)
        self.problem = pk.Problem(
            domain=pk.Interval(x, 0, 1),
            fields=[U],
            equations={"steady": equation},
            conditions=conditions,
            data=pk.Data({x: OBSERVED}, {U: self.observed}),
        )
        self.parameters = {}

    def predict(self, x):
        return {"u": self._solution(np.asarray(x, dtype=float))[0]}


def potential(noise=0.01, seed=0, value=1.0) -> Steady:
    """-u'' + q(x) u = 10, u(0) = u(1) = `value`, q = 2 + 8 x^2 hidden."""
    q = pk.Hidden("q")
    return Steady(
        sp.Eq(-U.diff(x, 2) + q(x) * U, 10),
        [pk.Dirichlet(U, value, name="ends")],
        potential_rates,
        lambda a, b: np.array([a[0] - value, b[0] - value]),
        noise,
        seed,
    )


def cubic(noise=0.01, seed=0) -> Steady:
    """-u'' + g(u) = 10, u(0) = 0, u'(1) = 0 (Neumann), g = 3 u^3 hidden."""
    g = pk.Hidden("g")
    return Steady(
        sp.Eq(-U.diff(x, 2) + g(U), 10),
        [pk.Dirichlet(U, 0, on="x = 0"), pk.Neumann(U, 0, on="x = 1")],
        cubic_rates,
        lambda a, b: np.array([a[0], b[1]]),
        noise,
        seed,
    )
