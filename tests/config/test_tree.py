"""Tests of the `Config` tree: JSON round trip, unknown spec types, the top-level switches
and the rules that tie its parts together.
"""

from __future__ import annotations

import pytest

import pinnkit as pk
from pinnkit.config import Config, apply_overrides
from pinnkit.errors import ConfigError


def test_compile_is_refused_with_the_lagrangian_pinn():
    with pytest.raises(ConfigError, match="compile=True does not apply to the Lagrangian"):
        pk.Config(compile=True, lagrangian=pk.Lagrangian())


def test_json_round_trip_of_a_full_config():
    config = pk.Config(
        steps=123,
        model=pk.MLP(width=7, depth=3, activation="sin"),
        fourier=pk.Fourier(features=16, sigma=2.0),
        weights={"eq0": 3.0},
        lbfgs=pk.LBFGS(steps=5),
        sampling=pk.Sampling(method="sobol"),
    )
    assert pk.Config.from_json(config.to_json()) == config


def test_unknown_spec_type_in_json():
    with pytest.raises(pk.ConfigError, match="unknown spec type 'MLPP'"):
        pk.Config.from_dict({"type": "Config", "model": {"type": "MLPP"}})


def test_config_switch():
    config = apply_overrides(Config(), ["exact_initial=true"])
    assert config.exact_initial is True
    assert Config.from_json(config.to_json()) == config
