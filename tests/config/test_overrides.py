"""Tests of `--set` overrides (`apply_overrides`, `parse_value`): nested values with types,
values parsed as data, clear errors for bad keys and values.
"""

from __future__ import annotations

import pytest

import pinnkit as pk
from pinnkit.config import apply_overrides, parse_value
from pinnkit.errors import ConfigError


def test_overrides_set_nested_values_with_types():
    config = apply_overrides(
        pk.Config(),
        [
            "model.width=128",
            "optimizer.learning_rate=2e-3",
            "sampling.method=sobol",
            "dtype=float64",
            'weights={"eq0": 10}',
            "fourier.sigma=3",
        ],
    )
    assert config.model.width == 128 and isinstance(config.model.width, int)
    assert config.optimizer.learning_rate == 2e-3
    assert config.sampling.method == "sobol"
    assert config.dtype == "float64"
    assert config.weights == {"eq0": 10}
    assert config.fourier == pk.Fourier(sigma=3.0)
    assert apply_overrides(config, ["fourier=null"]).fourier is None


def test_misspelled_key_names_the_level_and_the_closest_key():
    with pytest.raises(pk.ConfigError, match=r"model has no key 'widht'. Did you mean `width`"):
        apply_overrides(pk.Config(), ["model.widht=3"])
    with pytest.raises(pk.ConfigError, match=r"config has no key 'step'. Did you mean `steps`"):
        apply_overrides(pk.Config(), ["step=3"])


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("model.width=wide", "expected a value like 64"),
        ("steps=1.5", "steps=1.5: expected a whole number"),
        ("model=3", "is a group of settings"),
        ("model.width", "expected `dotted.key=value`"),
        ("dtype=float16", "choose `float32` or `float64`"),
        ("model.activation=relu6", "activation='relu6' is unknown"),
    ],
)
def test_bad_values_are_config_errors(override, match):
    with pytest.raises(pk.ConfigError, match=match):
        apply_overrides(pk.Config(), [override])


def test_values_are_parsed_as_data_never_evaluated():
    assert parse_value("__import__('os').system('true')") == "__import__('os').system('true')"
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("True") is True
    assert parse_value("1e-3") == 1e-3


def test_a_field_that_takes_a_number_or_a_word_takes_the_word():
    # MLP.scale is `float | str`: 1.0 by default, or "data" (the note on large fields says so).
    assert apply_overrides(pk.Config(), ["model.scale=data"]).model.scale == "data"
    assert apply_overrides(pk.Config(), ["model.scale=50"]).model.scale == 50.0
    with pytest.raises(ConfigError, match=r"model.scale='date' must be a finite number > 0"):
        apply_overrides(pk.Config(), ["model.scale=date"])
    with pytest.raises(ConfigError, match=r"expected a value like 64 \(int\), found str"):
        apply_overrides(pk.Config(), ["model.width=wide"])
