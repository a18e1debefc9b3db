"""`pinnkit.discover.sample`: sampling a hidden term over the trained solution, and the
terms a run can be asked for.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.discover.sample import sample_hidden
from pinnkit.errors import DiscoveryError
from tests.discover.planted import SOLUTION, TRUE_F, _problem
from tests.helpers import KnownFunction, SympyModel


def test_samples_cover_the_inputs_of_the_trained_solution(planted):
    samples = sample_hidden(planted, samples=1000, trim=0.05)["f"]
    (symbol,) = samples.symbols
    values = samples.inputs[symbol]
    lo, hi = samples.bounds[symbol]
    # u = 1/2 + exp(-t) sin(pi x) / 3 lies in [0.5, 0.834]; trimming keeps the inner 90%.
    assert 0.5 <= lo < hi <= 0.5 + 1 / 3
    assert values.min() >= lo and values.max() <= hi
    assert samples.size <= samples.drawn and samples.size >= 0.8 * samples.drawn
    np.testing.assert_allclose(samples.target, values * (1 - values), rtol=1e-12)


def test_discovery_needs_a_hidden_term():
    problem = _problem(TRUE_F)
    compiled = compile_problem(problem, dtype=torch.float64)
    run = pk.Run(
        problem=problem,
        config=pk.Config(),
        model=SympyModel.of(problem, {"u": SOLUTION}),
        compiled=compiled,
        summary={},
        directory=None,
    )
    with pytest.raises(DiscoveryError, match="has no Hidden term"):
        pk.discover(run)


def test_unknown_term_name_is_reported(planted):
    with pytest.raises(DiscoveryError, match="Did you mean `f`"):
        pk.discover(planted, terms=["ff"])


def test_a_term_only_a_condition_applies_is_sampled_on_that_condition():
    # An unknown flux law at x = 1: g is trained only on u(1, t) = exp(-t), in [1/e, 1];
    # inside, u = x exp(-t) reaches 0, where g's network was never trained.
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    g = pk.Hidden("g")
    problem = pk.Problem(
        name="flux_law",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations={"heat": sp.Eq(u.diff(t), u.diff(x, 2))},
        conditions=[
            pk.Dirichlet(u, 0, on="x = 0"),
            pk.Boundary(u.diff(x) + g(u), on="x = 1", name="flux"),
        ],
    )
    compiled = compile_problem(problem, dtype=torch.float64, generator=torch.Generator())
    compiled.hidden["g"] = KnownFunction(lambda p: 2 * p)
    run = pk.Run(
        problem=problem,
        config=pk.Config(dtype="float64"),
        model=SympyModel.of(problem, {"u": x * sp.exp(-t)}),
        compiled=compiled,
        summary={},
        directory=None,
    )
    samples = sample_hidden(run, samples=500, trim=0.0)["g"]
    values = samples.inputs[sp.Symbol("u")]
    assert samples.drawn == 500
    assert values.min() >= np.exp(-1) - 1e-12 and values.max() <= 1 + 1e-12
    assert values.max() - values.min() > 0.5  # t spread over [0, 1]
    np.testing.assert_allclose(samples.target, 2 * values, rtol=1e-12)
