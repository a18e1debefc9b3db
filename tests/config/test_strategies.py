"""Tests of the strategy specs (`Causal`, `Balance`, `RAR`): validation, JSON round trip,
`--set` into an unset strategy.
"""

from __future__ import annotations

import pytest

import pinnkit as pk
from pinnkit.config import RAR, Balance, Causal, Config, apply_overrides


def test_rar_spec_validation():
    with pytest.raises(pk.ConfigError, match="add=20 must be <= candidates=10"):
        RAR(candidates=10, add=20)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"chunks": 0}, "chunks"),
        ({"schedule": (1.0, 0.1)}, "increase"),
        ({"epsilon": -1.0}, "> 0"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_causal_spec_validation(kwargs, match):
    with pytest.raises(pk.ConfigError, match=match):
        Causal(**kwargs)


def test_balance_spec_validation():
    with pytest.raises(pk.ConfigError, match="alpha"):
        Balance(alpha=1.0)


def test_strategy_specs_round_trip_through_json():
    config = Config(
        causal=Causal(chunks=8, schedule=(0.01, 1.0)), balance=Balance(every=10), rar=pk.RAR()
    )
    assert Config.from_json(config.to_json()) == config
    assert isinstance(Config.from_json(config.to_json()).causal.schedule, tuple)


def test_set_reaches_into_an_unset_strategy():
    config = apply_overrides(Config(), ["causal.chunks=16", "causal.schedule=[0.1, 1, 10]"])
    assert config.causal == Causal(chunks=16, schedule=(0.1, 1.0, 10.0))
    config = apply_overrides(config, ["balance.alpha=0.5", "causal=null"])
    assert config.causal is None and config.balance == Balance(alpha=0.5)
    with pytest.raises(pk.ConfigError, match="Did you mean `chunks`"):
        apply_overrides(Config(), ["causal.chunk=16"])
