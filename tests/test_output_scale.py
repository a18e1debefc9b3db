"""`pk.MLP(scale=...)`: each field is `offset + scale * output`, a number or from the data."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model, output_affine
from pinnkit.errors import ConfigError

t = sp.Symbol("t")
u, v = sp.Function("u")(t), sp.Function("v")(t)


def _problem():
    ts = np.linspace(0, 1, 20)
    return pk.Problem(
        name="scaled",
        domain=pk.TimeInterval(t, 0, 1),
        fields=[u, v],
        equations={"u": sp.Eq(u.diff(t), -u), "v": sp.Eq(v.diff(t), u)},
        conditions=[pk.Initial(u, 100), pk.Initial(v, 0)],
        data=pk.Data({t: ts}, {u: 100 + 10 * np.sin(ts)}),
    )


def test_data_scale_is_each_observed_fields_mean_and_spread():
    problem = _problem()
    ts = np.linspace(0, 1, 20)
    observed = 100 + 10 * np.sin(ts)
    affine = output_affine(problem, pk.MLP(scale="data"))
    assert affine["offset"] == pytest.approx([observed.mean(), 0.0])
    assert affine["scale"] == pytest.approx([observed.std(), 1.0])  # v is not observed
    assert output_affine(problem, pk.MLP(scale=50)) == {"offset": [0.0, 0.0], "scale": [50.0, 50.0]}
    assert output_affine(problem, pk.MLP()) == {}


def test_the_scaled_model_is_the_plain_one_mapped_and_its_state_dict_unchanged():
    problem = _problem()
    plain = build_model(
        problem, pk.Config(model=pk.MLP(width=8, depth=2)), torch.Generator().manual_seed(0)
    )
    config = pk.Config(model=pk.MLP(width=8, depth=2, scale="data"))
    scaled = build_model(problem, config, torch.Generator().manual_seed(0))
    assert plain.state_dict().keys() == scaled.state_dict().keys()
    points = torch.linspace(0, 1, 7).unsqueeze(1)
    affine = output_affine(problem, config.model)
    expected = torch.tensor(affine["offset"]) + torch.tensor(affine["scale"]) * plain(points)
    assert torch.allclose(scaled(points), expected.float(), rtol=1e-6)
    scaled.double()
    assert scaled(points.double()).dtype == torch.float64


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "auto", True])
def test_a_bad_scale_is_one_clear_error(bad):
    with pytest.raises(
        ConfigError, match=r"model.scale=.* must be a finite number > 0 or \"data\""
    ):
        pk.MLP(scale=bad)


def test_the_residuals_see_the_scaled_fields_in_every_engine():
    """The Taylor engine evaluates the field model layer by layer: it must apply the output
    map too, or training fits `body` while `predict` reads `offset + scale * body` (a fit of
    x ~ 10 then predicted 27)."""
    from pinnkit.build import build_residuals
    from pinnkit.compile import Batch

    problem = _problem()
    config = pk.Config(model=pk.MLP(width=8, depth=2, scale="data"), dtype="float64")
    model = build_model(problem, config, torch.Generator().manual_seed(0)).double()
    points = torch.linspace(0, 1, 9, dtype=torch.float64).unsqueeze(1)
    affine = output_affine(problem, config.model)
    for engine in ("taylor", "autograd"):
        compiled = build_residuals(
            problem, config.replace(engine=engine), dtype=torch.float64, generator=torch.Generator()
        )
        batches = {"interior": Batch(points), "initial": Batch(points[:1] * 0)}
        residual = compiled.residuals(model, batches)["u"]
        values = model(points)
        slope = torch.autograd.functional.jacobian(lambda p: model(p)[:, 0].sum(), points)[:, 0]
        assert torch.allclose(residual, slope + values[:, 0], atol=1e-10), engine
    # The scaled model starts near the observed mean, not near 0.
    start = float(model(points)[:, 0].detach().mean())
    assert abs(start - affine["offset"][0]) < 3 * affine["scale"][0]
