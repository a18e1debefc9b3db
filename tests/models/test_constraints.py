"""Exact initial conditions (`Config(exact_initial=True)`): the model holds u0 at t0, the
initial loss term vanishes, and problems it cannot serve get a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import Batch, compile_problem
from pinnkit.config import Config
from pinnkit.errors import ConfigError, PinnkitWarning
from pinnkit.models.constraints import initial_values

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
v = sp.Function("v")(x, t)


#: float64 round-off of u0 + 0 * N.
ROUND_OFF = 1e-14


def wave() -> pk.Problem:
    """Two fields; u has an initial value, v only an initial time derivative."""
    return pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0.5, 2.5),
        fields=[u, v],
        equations=[sp.Eq(u.diff(t, 2), u.diff(x, 2)), sp.Eq(v.diff(t), u)],
        conditions=[
            pk.Initial(u, sp.sin(sp.pi * x) * sp.exp(x), name="u0"),
            pk.Initial(v.diff(t), 0, name="v_t0"),
            pk.Dirichlet(u, 0),
        ],
    )


def test_initial_values_reads_value_conditions_only():
    values = initial_values(wave())
    assert list(values) == ["u"]
    assert sp.simplify(values["u"] - sp.sin(sp.pi * x) * sp.exp(x)) == 0


def test_model_holds_the_initial_value_and_the_initial_term_vanishes(generator, rng):
    problem = wave()
    config = Config(exact_initial=True, model=pk.MLP(width=8, depth=2))
    model = build_model(problem, config, generator).double()
    xs = rng.uniform(0, 1, 50)
    at_start = torch.as_tensor(np.stack([xs, np.full(50, 0.5)], 1))
    out = model(at_start).detach().numpy()
    np.testing.assert_allclose(out[:, 0], np.sin(np.pi * xs) * np.exp(xs), atol=ROUND_OFF)
    compiled = compile_problem(problem, dtype=torch.float64)
    r = compiled.residuals(
        model,
        {"initial": Batch(at_start), "interior": Batch(at_start), "boundary": Batch(at_start)},
    )
    assert float(r["u0"].detach().abs().max()) < ROUND_OFF
    assert float(r["v_t0"].detach().abs().max()) > 0  # v is not constrained
    later = at_start.clone()
    later[:, 1] = 1.7
    assert float((model(later)[:, 0] - model(at_start)[:, 0]).detach().abs().max()) > 1e-3


def test_errors_name_the_fix():
    steady = pk.Problem(
        domain=pk.Interval(x, 0, 1),
        fields=[sp.Function("w")(x)],
        equations=[sp.Eq(sp.Function("w")(x).diff(x, 2), 1)],
        conditions=[pk.Dirichlet(sp.Function("w")(x), 0)],
    )
    with pytest.raises(ConfigError, match="exact_initial=false"):
        build_model(steady, Config(exact_initial=True), torch.Generator())
    a = pk.Parameter("a", init=1.0)
    learned = pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), a * u.diff(x, 2))],
        conditions=[pk.Initial(u, a * x)],
    )
    with pytest.raises(ConfigError, match="depends on"):
        build_model(learned, Config(exact_initial=True), torch.Generator())


@pytest.mark.parametrize(
    ("u0", "kink"),
    [
        (x**2 * sp.cos(sp.pi * x), True),  # Allen-Cahn's: slope +2 at x = -1, -2 at x = 1
        (x, True),  # a jump in the value itself
        (sp.cos(sp.pi * x), False),  # KdV's: smooth across the wrap
    ],
)
def test_an_initial_value_with_a_kink_across_the_period_is_warned_of(u0, kink):
    problem = pk.Problem(
        domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), sp.Rational(1, 100) * u.diff(x, 2))],
        conditions=[pk.Initial(u, u0), pk.Periodic(x, exact=True)],
    )
    config = Config(exact_initial=True, harmonics=1)
    if kink:
        with pytest.warns(PinnkitWarning, match="not periodic in x.*exact_initial=false"):
            build_model(problem, config, torch.Generator())
    else:
        build_model(problem, config, torch.Generator())  # warnings are errors in the suite
