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


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "mlp", r"model='mlp': expected `pk.MLP\(...\)`, e.g."),
        ("model", None, r"model=None: expected `pk.MLP\(...\)`"),
        ("sampling", 1000, r"sampling=1000: expected `pk.Sampling\(...\)`"),
        ("hidden", pk.MLP(), r"hidden=MLP\(.*expected `pk.HiddenNet\(...\)`"),
        ("fourier", 32, r"expected `pk.Fourier\(...\)` or None.*`--set fourier=null`"),
        ("causal", True, r"causal=True: expected `pk.Causal\(...\)` or None"),
        ("operators", None, r"operators=None: expected `pk.Operators\(...\)`"),
    ],
)
def test_a_spec_field_of_the_wrong_kind_is_one_config_error(field, value, message):
    """A string, number or other spec in a spec field used to be accepted and fail later as
    an AttributeError deep in the build."""
    with pytest.raises(ConfigError, match=message):
        pk.Config(**{field: value})


def test_no_lbfgs_is_the_default_spec_without_a_polish():
    config = pk.Config(lbfgs=None)
    assert config.lbfgs == pk.LBFGS() and config.lbfgs.steps == 0
    # on the command line the polish is switched off by its steps
    assert apply_overrides(pk.Config(lbfgs=pk.LBFGS(steps=50)), ["lbfgs.steps=0"]).lbfgs.steps == 0
