"""The Lagrangian PINN's residuals: the symbolic advection split on several equations (and
clear errors where it cannot be made), the chain-rule residuals against SymPy, gradients of
a learned velocity constant, and a tiny fit."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile.lagrangian import split_advection
from pinnkit.config import Config, Lagrangian
from pinnkit.errors import ProblemError
from tests.helpers import EXACT_RTOL, SympyModel, build_lagrangian, lagrangian_problem

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
nu, c = sp.symbols("nu c")


def _split(lhs, rhs=0):
    return split_advection(sp.Eq(lhs, rhs).lhs - sp.Eq(lhs, rhs).rhs, u, x, t)


@pytest.mark.parametrize(
    ("lhs", "rhs", "velocity", "rest"),
    [
        (u.diff(t) + 50 * u.diff(x), 0, 50, 0),  # convection
        (u.diff(t) + u * u.diff(x), nu * u.diff(x, 2), u, nu * u.diff(x, 2)),  # Burgers
        (u.diff(t) + (u**2 / 2).diff(x), nu * u.diff(x, 2), u, nu * u.diff(x, 2)),  # conservative
        (u.diff(t), -u * u.diff(x) + nu * u.diff(x, 2), u, nu * u.diff(x, 2)),  # moved to the right
        (2 * u.diff(t) + 4 * sp.sin(x) * u.diff(x), u * (1 - u), 2 * sp.sin(x), u * (1 - u) / 2),
        (u.diff(t) + 6 * u * u.diff(x) + u.diff(x, 3), 0, 6 * u, -u.diff(x, 3)),  # KdV
        (u.diff(t) + c * t * u.diff(x), 0, c * t, 0),  # time-dependent velocity, a constant
        (u.diff(t), nu * u.diff(x, 2), 0, nu * u.diff(x, 2)),  # no advection: a = 0
    ],
)
def test_split_advection_finds_velocity_and_rest(lhs, rhs, velocity, rest):
    split = _split(lhs, rhs)
    assert sp.simplify(split.velocity - velocity) == 0
    assert sp.simplify(split.rest - rest) == 0
    # Putting the pieces back gives the original equation (up to the u_t coefficient).
    back = u.diff(t) + split.velocity * u.diff(x) - split.rest
    original = lhs - rhs
    assert sp.simplify(back * original.diff(u.diff(t)) - original) == 0


@pytest.mark.parametrize(
    ("lhs", "phrase"),
    [
        (u.diff(x, 2) + 1, "no u_t term"),  # steady
        (u.diff(t, 2) - u.diff(x, 2), "cannot be expressed along characteristics"),  # wave
        (u.diff(t) + u.diff(x) ** 2, "nonlinear in u_x"),  # Hamilton-Jacobi
        (u.diff(t) + u.diff(x, 2) * u.diff(x), "depends on higher derivatives"),
        (u.diff(t) ** 2 + u.diff(x), "nonlinear in u_t"),
        (u.diff(t) + u.diff(x, t), "cannot be expressed along characteristics"),
    ],
)
def test_split_advection_names_what_prevents_the_rewrite(lhs, phrase):
    with pytest.raises(ProblemError, match=phrase) as err:
        _split(lhs)
    assert "Lagrangian rewrite of" in str(err.value)
    assert "u_t + a(u, x, t) u_x = R" in str(err.value)


def test_unsupported_problems_get_a_clear_error():
    burgers = sp.Eq(u.diff(t) + u * u.diff(x), 0.01 * u.diff(x, 2))
    y = sp.Symbol("y")
    w = sp.Function("w")(x, y, t)
    two_d = pk.Problem(
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)) * pk.TimeInterval(t, 0, 1),
        fields=[w],
        equations=[sp.Eq(w.diff(t) + w.diff(x), 0)],
        conditions=[pk.Initial(w, 0)],
    )
    cases = [
        (two_d, "not 1-D space x time"),
        (
            lagrangian_problem(burgers, conditions=[pk.Initial(u, sp.sin(x))]),
            "no periodic condition",
        ),
        (lagrangian_problem(burgers, conditions=[pk.Periodic(x)]), "no initial condition"),
        (
            lagrangian_problem(burgers, conditions=[pk.Initial(u, sp.sin(x)), pk.Dirichlet(u, 0)]),
            "is not supported",
        ),
        (
            lagrangian_problem(burgers, data=pk.Data({x: [1.0], t: [0.5]}, {u: [0.1]}, name="obs")),
            "data sets are not supported",
        ),
    ]
    for problem, phrase in cases:
        with pytest.raises(ProblemError, match=phrase):
            build_lagrangian(problem)


def test_chain_rule_residuals_match_sympy(float64):
    """Branches replaced by known functions of (xi, t): the residuals of Burgers with
    viscosity (second x-derivative by the chain rule twice) match SymPy's."""
    xi = sp.Symbol("xi")
    viscosity = 0.05
    problem = lagrangian_problem(sp.Eq(u.diff(t) + u * u.diff(x), viscosity * u.diff(x, 2)))
    residuals, model = build_lagrangian(problem)
    n_x = 0.3 * sp.sin(xi) * sp.cos(t)  # position correction N_X
    n_u = 0.2 * sp.cos(xi + t) + 0.1 * t  # state correction N_U
    model.position = SympyModel((xi, t), [n_x])
    model.state = SympyModel((xi, t), [n_u])
    big_x = xi + t * (sp.sin(xi) + n_x)  # the baseline velocity is u0(xi) = sin(xi)
    big_u = sp.sin(xi) + t * n_u
    u_x = big_u.diff(xi) / big_x.diff(xi)
    u_xx = u_x.diff(xi) / big_x.diff(xi)
    expected = {
        "pde": big_u.diff(t) - viscosity * u_xx,
        "pde_characteristics": big_x.diff(t) - big_u,
    }
    rng = np.random.default_rng(2)
    pts = np.stack([rng.uniform(0, 2 * np.pi, 40), rng.uniform(0, 1, 40)], 1)
    got = residuals.residuals(model, {"interior": pk.compile.Batch(torch.as_tensor(pts))})
    for name, expr in expected.items():
        want = sp.lambdify((xi, t), expr, "numpy")(pts[:, 0], pts[:, 1])
        np.testing.assert_allclose(got[name].detach().numpy(), want, rtol=EXACT_RTOL, atol=1e-12)


def test_learned_constant_in_the_velocity_gets_gradients(float64):
    speed = pk.Parameter("c", init=2.0)
    residuals, model = build_lagrangian(lagrangian_problem(sp.Eq(u.diff(t) + speed * u.diff(x), 0)))
    pts = torch.as_tensor(np.stack([np.linspace(0, 6, 30), np.linspace(0, 1, 30)], 1))
    r = residuals.residuals(model, {"interior": pk.compile.Batch(pts)})
    r["pde_characteristics"].square().mean().backward()
    assert residuals.parameters_raw["c"].grad is not None
    assert float(residuals.parameters_raw["c"].grad.abs()) > 0


def test_fit_and_predict_and_describe():
    problem = lagrangian_problem(
        sp.Eq(u.diff(t) + 20 * u.diff(x), 0),
        reference=pk.reference.Exact({u: sp.sin(x - 20 * t)}),
    )
    config = Config(
        steps=30,
        lagrangian=Lagrangian(grid=32),
        model=pk.MLP(width=8, depth=2),
        sampling=pk.Sampling(interior=64),
        progress=False,
        log_every=10,
        eval_every=30,
    )
    run = pk.fit(problem, config)
    assert set(run.summary["loss_terms"]) == {"pde", "pde_characteristics"}
    assert run.rel_l2["u"] < 0.3  # the free-streaming start is close (measured 0.11)
    values = run.predict(x=np.linspace(0, 6, 5), t=0.5)["u"]
    assert values.shape == (5,)
    text = run.compiled.describe()
    assert "velocity a = 20" in text and "Lagrangian" in text
