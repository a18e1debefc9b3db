"""Tests of `pinnkit.compile.engine`: the autograd and torch.func engines agree on a random
network (values and parameter gradients), return the closure row-shaped, and differentiate a
model linear in the points.
"""

from __future__ import annotations

import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import AutogradEngine, ForwardEngine, Partial, TaylorEngine, build_plan
from tests.cases import case_batches_and_expected, case_problem
from tests.helpers import ENGINES, SympyModel, assert_engines_agree

x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")


# -- engines ---------------------------------------------------------------------------------


def _mlp(problem, generator):
    config = pk.Config(model=pk.MLP(width=16, depth=2, init="default"))
    return build_model(problem, config, generator).double()


@pytest.mark.parametrize(
    "name", ["kuramoto_sivashinsky", "mixed_derivatives", "stokes_2d", "oscillator", "disk_neumann"]
)
def test_engines_agree_on_a_random_network(name, generator, float64):
    problem = case_problem(name)
    model = _mlp(problem, generator)
    batches, _ = case_batches_and_expected(name)
    assert_engines_agree(problem, model, batches, ["func", "taylor"])


def test_engines_return_the_closure_with_row_shaped_tensors(generator, float64):
    u = u_(x, t)
    plan, _, _ = build_plan([u.diff(x, 2, t)], coords=(x, t), fields=(u,))
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    points = torch.rand(5, 2, generator=generator)
    for engine in (AutogradEngine(), ForwardEngine(), TaylorEngine()):
        values = engine.evaluate(model, points, plan)
        assert list(values) == list(plan.closure)
        assert all(v.shape == (5,) for v in values.values())


@pytest.mark.parametrize("engine", [AutogradEngine(), ForwardEngine()], ids=ENGINES)
def test_engines_differentiate_a_model_linear_in_the_points(engine):
    """u_x of a linear map does not depend on the points (nor, here, on any parameter), so
    autograd has no graph to differentiate for u_xx: the engine must give zeros, not fail."""
    u = u_(x, t)
    plan, _, _ = build_plan([u.diff(x, 2), u.diff(x, t)], coords=(x, t), fields=(u,))
    model = SympyModel((x, t), [3 * x - t])
    points = torch.rand(4, 2, dtype=torch.float64)
    values = engine.evaluate(model, points, plan)
    torch.testing.assert_close(values[Partial("u", (1, 0))], torch.full((4,), 3.0).double())
    torch.testing.assert_close(values[Partial("u", (2, 0))], torch.zeros(4).double())
    torch.testing.assert_close(values[Partial("u", (1, 1))], torch.zeros(4).double())
