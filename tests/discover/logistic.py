"""A logistic-growth problem with its growth term Hidden, observed with noise, and the
maximum-likelihood fit of its two constants (the ODE integrated by SciPy): the ground truth of
the refit tests (`test_refit.py`, `test_trajectory.py`)."""

from __future__ import annotations

import numpy as np
import sympy as sp

import pinnkit as pk

t = sp.Symbol("t")
X = sp.Function("x")(t)
V = sp.Symbol("x")
RATE, CAPACITY, START, T_END = 1.2, 2.0, 0.2, 8.0


def observations(level: float = 0.01, n: int = 40):
    """The logistic solution at n equispaced times with Gaussian noise of `level` x its RMS."""
    times = np.linspace(0.0, T_END, n)
    exact = CAPACITY / (1 + (CAPACITY / START - 1) * np.exp(-RATE * times))
    rng = np.random.default_rng(3)
    noisy = exact + level * np.sqrt(np.mean(exact**2)) * rng.standard_normal(n)
    return times, noisy


def direct_fit(times, noisy) -> np.ndarray:
    """(a, b) of x' = a x - b x^2 fitted to the observations by integrating the ODE from the
    known start: the maximum-likelihood estimate under Gaussian noise."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares

    def misfit(p):
        sol = solve_ivp(
            lambda _t, y: p[0] * y - p[1] * y**2,
            (0.0, T_END),
            [START],
            t_eval=times,
            rtol=1e-10,
            atol=1e-12,
        )
        return sol.y[0] - noisy

    return least_squares(misfit, [RATE, RATE / CAPACITY], x_scale="jac").x


def logistic_run() -> tuple[pk.Run, np.ndarray]:
    """The trained run (seed 0) and the direct fit (a, b) of its observations."""
    times, noisy = observations()
    f = pk.Hidden("f")
    problem = pk.Problem(
        name="logistic_hidden",
        domain=pk.TimeInterval(t, 0, T_END),
        fields=[X],
        equations={"growth": sp.Eq(X.diff(t), f(X))},
        conditions=[pk.Initial(X, sp.Float(START), name="initial")],
        data=pk.Data({t: times}, {X: noisy}),
    )
    config = pk.Config(
        steps=2500,
        seed=0,
        progress=False,
        model=pk.MLP(width=24, depth=2, scale="data"),
        hidden=pk.HiddenNet(width=12, depth=2),
        optimizer=pk.Adam(learning_rate=3e-3, decay_rate=0.9, decay_steps=500),
        sampling=pk.Sampling(interior=300, initial=1),
        lbfgs=pk.LBFGS(steps=300),
    )
    return pk.fit(problem, config, out=None), direct_fit(times, noisy)
