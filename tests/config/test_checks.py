"""Type and range checks of every config value (`pinnkit.config.checks`), the same from
Python, `--set` and `config.json`; property-based tests of parsing and `--set`."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pinnkit as pk
from pinnkit.config import apply_overrides, parse_value
from pinnkit.config.checks import MAX_STEPS

# key -> bad values; each must be refused with one ConfigError naming the key.
BAD = {
    "steps": [-1, 1e99, 1.5, "abc", True, None],
    "seed": [-1, 2.5, "x"],
    "harmonics": [0],
    "log_every": [0],
    "eval_every": [-3],
    "checkpoint_every": [0],
    "progress": ["yes", 1],
    "optimizer.learning_rate": [0, -1e-3, math.inf, math.nan, "abc"],
    "optimizer.decay_rate": [0, 1.5],
    "optimizer.decay_steps": [0],
    "lbfgs.steps": [-3],
    "lbfgs.history": [0],
    "lbfgs.points": [0, -1],
    "lbfgs.tolerance": [1, -0.1],
    "sampling.interior": [0, -10, 2.5],
    "sampling.boundary": [0],
    "sampling.initial": [-1],
    "sampling.resample_every": [-1],
    "sampling.method": ["random"],
    "model.width": [0, "wide"],
    "model.depth": [0],
    "model.scale": [0, -2, math.inf],
    "fourier.features": [0],
    "fourier.sigma": [0, math.nan],
    "hidden.scale": [0],
    "causal.chunks": [0],
    "causal.epsilon": [0],
    "causal.threshold": [0, 1.5],
    "balance.alpha": [1, -0.5],
    "rar.add": [0],
}
CASES = [(key, value) for key, values in BAD.items() for value in values]


def _set(key: str, value) -> str:
    return f"{key}={json.dumps(value)}"  # inf and nan as JSON's Infinity and NaN


@pytest.mark.parametrize(("key", "value"), CASES)
def test_a_bad_value_is_refused_through_set(key, value):
    with pytest.raises(pk.ConfigError) as err:
        apply_overrides(pk.Config(), [_set(key, value)])
    assert key.split(".")[-1] in str(err.value)


@pytest.mark.parametrize(("key", "value"), CASES)
def test_a_bad_value_is_refused_in_config_json(key, value):
    """The same value in a run's config.json: one ConfigError naming where it is."""
    data = pk.Config().to_dict()
    head, _, tail = key.rpartition(".")
    node = data
    for part in head.split(".") if head else []:
        if node.get(part) is None:
            node[part] = {"type": {"fourier": "Fourier", "causal": "Causal",
                                   "balance": "Balance", "rar": "RAR"}[part]}  # fmt: skip
        node = node[part]
    node[tail] = value
    with pytest.raises(pk.ConfigError) as err:
        pk.Config.from_dict(data)
    assert tail in str(err.value)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: pk.Config(steps=-1), r"steps=-1 is out of range.*from 0"),
        (lambda: pk.Config(weights={"heat": "abc"}), r"weights.heat='abc': expected a number"),
        (lambda: pk.Config(weights={"heat": -1.0}), r"weights.heat=-1.0 is out of range"),
        (lambda: pk.Config(weights=[1, 2]), r"weights=\[1, 2\]: expected a mapping"),
        (lambda: pk.Adam(learning_rate=math.inf), r"learning_rate=inf is out of range"),
        (lambda: pk.LBFGS(history=0), r"lbfgs.history=0 is out of range"),
        (lambda: pk.Sampling(interior=0), r"sampling.interior=0 is out of range"),
        (lambda: pk.Causal(schedule="fast"), r"causal.schedule='fast': expected a list"),
        (lambda: pk.Causal(schedule=(1.0, math.inf)), r"must\s+be > 0"),
        (lambda: pk.SSBroyden(steps=-5), r"stages\[k\].steps=-5"),
        (lambda: pk.Config(device=3), r"device=3: expected a name"),
    ],
)
def test_python_specs_say_what_and_how_to_fix(make, match):
    with pytest.raises(pk.ConfigError, match=match) as err:
        make()
    assert "Fix:" in str(err.value)


def test_a_whole_float_is_taken_as_its_integer():
    config = apply_overrides(pk.Config(), ["steps=1e4", "sampling.interior=500.0"])
    assert config.steps == 10_000 and isinstance(config.steps, int)
    assert config.sampling.interior == 500 and isinstance(config.sampling.interior, int)
    assert pk.Config(weights={"data": 0}).weights == {"data": 0}  # 0 switches a term off


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_steps_are_accepted_exactly_in_their_range(steps):
    inside = 0 <= steps <= MAX_STEPS
    try:
        config = apply_overrides(pk.Config(), [f"steps={steps}"])
    except pk.ConfigError as err:
        assert not inside
        assert "steps" in str(err)
    else:
        assert inside and config.steps == steps


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_learning_rates_are_finite_and_positive(rate):
    try:
        config = apply_overrides(pk.Config(), [f"optimizer.learning_rate={json.dumps(rate)}"])
    except pk.ConfigError:
        assert not (math.isfinite(rate) and rate > 0)
    else:
        assert math.isfinite(rate) and rate > 0
        assert config.optimizer.learning_rate == rate


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_set_values_are_data_never_code(text):
    """`parse_value` returns JSON data or the raw string, and a `--set` of any text either
    applies or raises `ConfigError`: never another exception."""
    value = parse_value(text)
    assert value is None or isinstance(value, bool | int | float | str | list | dict)
    for key in ("steps", "model.width", "optimizer.learning_rate", "sampling.method", "weights"):
        try:
            apply_overrides(pk.Config(), [f"{key}={text}"])
        except pk.ConfigError:
            pass


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_any_json_in_a_config_field_is_refused_cleanly_or_accepted(value):
    """Whatever JSON value a hand-edited config.json holds in a field, loading it gives a
    `Config` or one `ConfigError`."""
    for key in ("steps", "sampling", "optimizer", "weights", "stages", "hidden_terms"):
        data = pk.Config().to_dict()
        data[key] = value
        try:
            pk.Config.from_dict(data)
        except pk.ConfigError:
            pass
