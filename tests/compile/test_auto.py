"""Tests of the engine choice (`AutoEngine`, `make_engine`): what Taylor mode cannot
propagate falls back to autograd, and the measured rule picks Taylor mode for high orders in
few inputs.
"""

from __future__ import annotations

import pytest
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import (
    AutoEngine,
    AutogradEngine,
    Batch,
    ForwardEngine,
    TaylorEngine,
    compile_problem,
    make_engine,
)
from pinnkit.errors import ConfigError
from tests.cases import case_problem


def test_taylor_rejects_what_it_cannot_propagate_and_auto_falls_back(generator):
    problem = case_problem("burgers")
    config = pk.Config(model=pk.MLP(width=4, depth=1), gaussians=pk.Gaussians())
    model = build_model(problem, config, generator)
    plan = compile_problem(problem).groups[0].plan
    points = torch.rand(5, 2)
    with pytest.raises(ConfigError, match="cannot propagate.*model.gaussians.*engine=auto"):
        TaylorEngine().evaluate(model, points, plan)
    auto = AutoEngine()
    assert auto.choose(model, plan)[0] == "autograd"
    assert "gaussians" in auto.choose(model, plan)[1]
    values = auto.evaluate(model, points, plan)
    expected = AutogradEngine().evaluate(model, points, plan)
    assert all(torch.equal(values[p], expected[p]) for p in plan.closure)
    plain = build_model(problem, pk.Config(model=pk.MLP(width=4, depth=1)), generator)
    assert AutoEngine(compile=True).choose(plain, plan)[0] == "taylor"
    compiled = compile_problem(problem, compile=True)
    with pytest.raises(ConfigError, match="compile=True needs.*region 'interior'"):
        compiled.residuals(model, {r: Batch(points) for r in compiled.sample_regions})


@pytest.mark.parametrize(
    ("name", "engine"),
    [("kdv", "taylor"), ("kuramoto_sivashinsky", "taylor"), ("poisson_3d", "autograd")],
)
def test_auto_takes_taylor_mode_for_high_orders_in_few_inputs(name, engine, generator):
    """The measured rule (`AutoEngine`): Taylor mode for u_xxx in (x, t), autograd for a
    3-D Laplacian, whose seven Taylor rows cost more than autograd's five passes."""
    problem = case_problem(name)
    model = build_model(problem, pk.Config(model=pk.MLP(width=4, depth=1)), generator)
    plan = compile_problem(problem).groups[0].plan
    choice, why = AutoEngine().choose(model, plan)
    assert choice == engine and "partials" in why and "passes" in why


def test_make_engine():
    assert isinstance(make_engine("auto"), AutoEngine)
    assert isinstance(make_engine("taylor"), TaylorEngine)
    assert isinstance(make_engine("func"), ForwardEngine)
    with pytest.raises(ConfigError, match="engine 'fnc' is unknown.*Did you mean `func`"):
        make_engine("fnc")
