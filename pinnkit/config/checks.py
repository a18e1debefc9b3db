"""Type and range checks of config values, the same whether a value comes from Python, a
problem file, `--set` or a run's `config.json`.

Every spec calls `check_fields` first in its `__post_init__` with a rule per numeric or
boolean field: a `Count` (a whole number in a range), a `Real` (a finite number in a range)
or a `Flag` (true or false). A value of the wrong type or out of range raises one
`ConfigError` naming the key, the value, the allowed range and a fix; nothing is clamped.
A whole number given as a float (`1e4` from `--set steps=1e4`) is taken as that integer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from pinnkit.errors import ConfigError

__all__ = ["Count", "Real", "Flag", "check_fields", "config_key", "MAX_STEPS", "MAX_COUNT"]

#: The most steps any phase may ask for: 1e9 steps would take years; a larger number is a typo.
MAX_STEPS = 10**9
#: The most points, units, features or candidates any count may ask for.
MAX_COUNT = 10**9

#: Where a spec sits in a config tree, for the key named in messages (`--set KEY=...`).
KEYS = {
    "MLP": "model",
    "Fourier": "fourier",
    "Gaussians": "gaussians",
    "HiddenNet": "hidden",
    "Lagrangian": "lagrangian",
    "Adam": "optimizer",
    "SOAP": "optimizer",
    "LBFGS": "lbfgs",
    "SSBroyden": "stages[k]",
    "LevenbergMarquardt": "stages[k]",
    "Sampling": "sampling",
    "Causal": "causal",
    "Balance": "balance",
    "RAR": "rar",
}


def config_key(spec, name: str) -> str:
    """The key of field `name` of `spec` as `--set` spells it (`optimizer.learning_rate`)."""
    owner = KEYS.get(type(spec).__name__)
    return f"{owner}.{name}" if owner else name


def _kind(value) -> str:
    return "true/false" if isinstance(value, bool) else type(value).__name__


def _fix(key: str, default, fix: str | None) -> str:
    return fix or f"Fix: e.g. `--set {key}={default}` (the default)."


def _bound(value: float) -> str:
    return f"{value:,}" if abs(value) < 1e6 else f"{value:.0e}"


@dataclass(frozen=True)
class Count:
    """A whole number in `[low, high]`."""

    low: int = 1
    high: int = MAX_COUNT

    def check(self, value, key: str, default, fix: str | None = None) -> int:
        number = value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            number = int(value)
        if not isinstance(number, int) or isinstance(number, bool):
            raise ConfigError(
                f"{key}={value!r}: expected a whole number, found a {_kind(value)}. "
                + _fix(key, default, fix)
            )
        if not self.low <= number <= self.high:
            raise ConfigError(
                f"{key}={value!r} is out of range: it must be a whole number from {self.low} "
                f"to {_bound(self.high)}. " + _fix(key, default, fix)
            )
        return number


@dataclass(frozen=True)
class Real:
    """A finite number in the range from `low` to `high`, each end open or closed."""

    low: float = 0.0
    high: float = math.inf
    low_open: bool = True
    high_open: bool = False

    def describe(self) -> str:
        low = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        if math.isinf(self.high):
            return f"a finite number {low}"
        high = f"< {self.high:g}" if self.high_open else f"<= {self.high:g}"
        return f"a finite number {low} and {high}"

    def check(self, value, key: str, default, fix: str | None = None) -> float | int:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(
                f"{key}={value!r}: expected a number, found a {_kind(value)}. "
                + _fix(key, default, fix)
            )
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        if not (math.isfinite(value) and above and below):
            raise ConfigError(
                f"{key}={value!r} is out of range: it must be {self.describe()}. "
                + _fix(key, default, fix)
            )
        return value


@dataclass(frozen=True)
class Flag:
    """True or false."""

    def check(self, value, key: str, default, fix: str | None = None) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(
                f"{key}={value!r}: expected true or false, found a {_kind(value)}. "
                + (fix or f"Fix: e.g. `--set {key}={str(default).lower()}`.")
            )
        return value


def check_fields(spec, rules: Mapping[str, Count | Real | Flag]) -> None:
    """Check (and, for a whole number given as a float, normalise) the fields of the frozen
    dataclass `spec` named in `rules`.

    **Raises**

    `ConfigError` for the first field of the wrong type or out of its range.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    for name, rule in rules.items():
        value = getattr(spec, name)
        checked = rule.check(value, config_key(spec, name), defaults.get(name))
        if checked is not value:
            object.__setattr__(spec, name, checked)
