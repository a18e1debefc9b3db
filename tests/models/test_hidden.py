"""The hidden-term networks (`HiddenNet`): sized by their specs, the output scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.errors import ConfigError
from tests.helpers import hidden_system

# -- specs, state and training ---------------------------------------------------------------


def test_config_specs_size_the_networks():
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    compiled = compile_problem(
        problem,
        hidden=pk.HiddenNet(width=8, depth=1),
        hidden_terms={"g": pk.HiddenNet(width=4, depth=3, activation="sin")},
    )
    f_layers = [m for m in compiled.hidden["f"].body if isinstance(m, nn.Linear)]
    g_layers = [m for m in compiled.hidden["g"].body if isinstance(m, nn.Linear)]
    assert [tuple(m.weight.shape) for m in f_layers] == [(8, 1), (1, 8)]
    assert [tuple(m.weight.shape) for m in g_layers] == [(4, 3), (4, 4), (4, 4), (1, 4)]
    with pytest.raises(ConfigError, match=r"'q' is not a Hidden term of the problem"):
        compile_problem(problem, hidden_terms={"q": pk.HiddenNet()})


def test_output_scale_multiplies_the_network_and_is_checked():
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))

    def build(**specs):
        return compile_problem(
            problem,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(3),
            hidden_terms=specs,
        )

    plain, scaled = build(), build(g=pk.HiddenNet(scale=10.0))
    inputs = torch.rand(5, 3, dtype=torch.float64)
    assert torch.allclose(scaled.hidden["g"](inputs), 10 * plain.hidden["g"](inputs))
    assert torch.equal(scaled.hidden["f"](inputs[:, :1]), plain.hidden["f"](inputs[:, :1]))
    assert "scale=10" in repr(scaled.hidden["g"]) and "scale" not in repr(plain.hidden["g"])
    config = pk.Config(hidden_terms={"g": pk.HiddenNet(scale=10.0)})
    assert pk.Config.from_json(config.to_json()) == config
    for bad in (0, -2.0, float("inf"), "10", True):
        with pytest.raises(
            ConfigError, match=r"hidden.scale=.*(out of range.*> 0|expected a number)"
        ):
            pk.HiddenNet(scale=bad)
