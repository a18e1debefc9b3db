"""Tests of `pinnkit.build`, the one place a Config and a Problem become residuals (behind
`AbstractResiduals`), a model, a device and dtype, and loss weights."""

from __future__ import annotations

import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import AbstractResiduals, LagrangianResiduals
from pinnkit.models.constraints import ExactInitial
from pinnkit.train import Trainer
from tests.helpers import TINY, heat_problem, lagrangian_config, lagrangian_problem


def test_unknown_weight_name_is_a_config_error():
    with pytest.raises(pk.ConfigError, match="Did you mean `bc_u`"):
        pk.fit(heat_problem(), TINY.replace(weights={"bc_v": 2.0}), out=None)


def test_build_gives_residuals_model_device_dtype_and_weights():
    config = TINY.replace(dtype="float64", device="cpu", weights={"bc_u": 3.0})
    built = pk.build(heat_problem(), config)
    assert isinstance(built.residuals, AbstractResiduals)
    assert built.device == torch.device("cpu") and built.dtype == torch.float64
    assert all(p.dtype == torch.float64 for p in built.model.parameters())
    assert set(built.weights) == set(built.residuals.term_names)
    assert built.weights["bc_u"] == 3.0 and built.weights["eq0"] == 1.0


def test_build_is_what_the_trainer_builds():
    """One builder: the same seed gives the trainer's weights, exactly."""
    built = pk.build(heat_problem(), TINY.replace(device="cpu"))
    trainer = Trainer(heat_problem(), TINY.replace(device="cpu"))
    for a, b in zip(built.model.parameters(), trainer.model.parameters()):
        assert torch.equal(a, b)
    assert built.weights == trainer.loss.weights


def test_build_takes_the_lagrangian_residuals_through_the_same_interface():
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    built = pk.build(lagrangian_problem(sp.Eq(u.diff(t) + 2 * u.diff(x), 0)), lagrangian_config())
    assert isinstance(built.residuals, LagrangianResiduals)
    assert isinstance(built.residuals, AbstractResiduals)
    assert built.residuals.engine_name == "autograd (lagrangian)"
    assert built.residuals.hidden_values(built.model, torch.zeros(3, 2)) == {}
    assert "Lagrangian PINN" in built.residuals.describe(built.model)


def test_exact_initial_is_built_around_the_field_model():
    built = pk.build(heat_problem(), TINY.replace(exact_initial=True, device="cpu"))
    assert isinstance(built.model, ExactInitial)
    points = torch.tensor([[0.3, 0.0], [0.7, 0.0]])
    expected = torch.sin(torch.pi * points[:, 0])
    torch.testing.assert_close(built.model(points)[:, 0], expected, rtol=1e-6, atol=1e-6)


def test_unknown_device_is_a_config_error():
    with pytest.raises(pk.ConfigError, match="is not a device"):
        pk.build(heat_problem(), TINY.replace(device="gpu7"))


def test_the_residuals_interface_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        AbstractResiduals(heat_problem(), torch.float32)
