"""Tests of the network specs (`Gaussians`, `HiddenNet`, `Lagrangian`, and the choice
between input features): validation, JSON round trip, `--set` overrides.
"""

from __future__ import annotations

import pytest

import pinnkit as pk
from pinnkit.config import Config, Lagrangian, apply_overrides
from pinnkit.errors import ConfigError
from pinnkit.models import FieldModel

# -- config and model wiring -----------------------------------------------------------------


def test_gaussians_spec_validation():
    with pytest.raises(pk.ConfigError, match="'diag' is unknown.*Did you mean `diagonal`"):
        pk.Gaussians(covariance="diag")
    with pytest.raises(pk.ConfigError, match="gaussians.count=0 is out of range.*from 1"):
        pk.Gaussians(count=0)
    with pytest.raises(pk.ConfigError, match="init_scale=0 is out of range.*> 0"):
        pk.Gaussians(init_scale=0)


def test_gaussians_config_json_round_trip_and_overrides():
    config = pk.Config(gaussians=pk.Gaussians(count=100, features=2, covariance="full"))
    assert pk.Config.from_json(config.to_json()) == config
    changed = apply_overrides(pk.Config(), ["gaussians.count=256", "gaussians.covariance=full"])
    assert changed.gaussians == pk.Gaussians(count=256, covariance="full")
    assert isinstance(changed.gaussians.count, int)
    assert apply_overrides(changed, ["gaussians=null"]).gaussians is None
    with pytest.raises(pk.ConfigError, match="Did you mean `count`"):
        apply_overrides(pk.Config(), ["gaussians.cont=3"])


def test_fourier_and_gaussians_together_are_a_config_error(generator):
    with pytest.raises(pk.ConfigError, match="not both.*--set fourier=null"):
        pk.Config(fourier=pk.Fourier(), gaussians=pk.Gaussians())
    with pytest.raises(pk.ConfigError, match="--set gaussians.count: .*not both"):
        apply_overrides(pk.Config(fourier=pk.Fourier()), ["gaussians.count=8"])
    with pytest.raises(pk.ConfigError, match="not both"):
        FieldModel(
            lo=[0.0],
            hi=[1.0],
            n_out=1,
            body=pk.MLP(),
            generator=generator,
            fourier=pk.Fourier(),
            gaussians=pk.Gaussians(),
        )


def test_lagrangian_config_round_trip_and_overrides():
    config = apply_overrides(Config(), ["lagrangian.grid=64", "lagrangian.position.width=16"])
    assert config.lagrangian == Lagrangian(position=pk.MLP(width=16), grid=64)
    assert Config.from_json(config.to_json()) == config
    assert apply_overrides(config, ["lagrangian=null"]).lagrangian is None


def test_hidden_config_round_trip_and_overrides():
    config = pk.Config(
        hidden=pk.HiddenNet(width=8), hidden_terms={"f": pk.HiddenNet(depth=3, width=4)}
    )
    assert pk.Config.from_json(config.to_json()) == config
    changed = apply_overrides(config, ["hidden.width=16", "hidden_terms.f.width=5"])
    assert changed.hidden.width == 16 and changed.hidden_terms["f"] == pk.HiddenNet(5, 3)
    added = apply_overrides(config, ['hidden_terms.g={"depth": 1}'])
    assert added.hidden_terms["g"] == pk.HiddenNet(depth=1)
    assert pk.Config.from_json(added.to_json()) == added
    with pytest.raises(ConfigError, match=r"HiddenNet has no field 'wdth'"):
        apply_overrides(config, ['hidden_terms.g={"wdth": 1}'])
    with pytest.raises(ConfigError, match=r"hidden.activation='relu' is unknown"):
        apply_overrides(config, ["hidden.activation=relu"])
    with pytest.raises(ConfigError, match=r"expected a HiddenNet"):
        pk.Config(hidden_terms={"f": 3})
