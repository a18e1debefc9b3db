"""The CLI's `--set dotted.key=value` edits of a `Config`.

Values are parsed as data (JSON numbers, strings, lists, booleans, null), never evaluated
as code.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pinnkit.config.tree import OPTIONAL_SPECS, Config, spec_from_dict
from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["apply_overrides", "parse_value"]


def parse_value(text: str) -> Any:
    """Parse a command-line value as data: JSON first (`3`, `1e-3`, `[1, 2]`, `true`,
    `null`, `"s"`), then `True`/`False`/`None`, else the raw string. Never evaluated."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def _coerce(value: Any, current: Any, key: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int) and not isinstance(value, bool):
        if isinstance(value, int | float):
            return value  # the spec's check takes a whole float as its integer, or refuses it
    elif isinstance(current, float) and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return float(value)
    elif isinstance(current, str):
        if isinstance(value, str):
            return value
    elif isinstance(current, (dict,)):
        if isinstance(value, dict):
            return value
    elif current is None:
        return value
    else:
        return value
    raise ConfigError(
        f"--set {key}={value!r}: expected a value like {current!r} "
        f"({type(current).__name__}), found {type(value).__name__}."
    )


def _takes_text(spec: Any, name: str) -> bool:
    """Whether field `name` of the dataclass `spec` is annotated to take a string too
    (`scale: float | str`), whatever its current value."""
    annotation = next(f.type for f in dataclasses.fields(spec) if f.name == name)
    return "str" in str(annotation).replace(" ", "").split("|")


def apply_overrides(config: Config, overrides: list[str] | dict[str, Any]) -> Config:
    """Apply `dotted.key=value` overrides (or a dict of them) to a config.

    **Raises**

    `ConfigError` naming the key, the valid keys at that level and the closest match.
    """
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        config = _set(config, key.split("."), value, key)
    return config


def _split(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(
            f"--set {text!r}: expected `dotted.key=value`, e.g. `--set model.width=128`."
        )
    key, _, raw = text.partition("=")
    return key.strip(), parse_value(raw.strip())


def _set(obj: Any, path: list[str], value: Any, full: str) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        if rest and dataclasses.is_dataclass(obj.get(head)):  # hidden_terms.f.width
            return {**obj, head: _set(obj[head], rest, value, full)}
        if rest:
            raise ConfigError(f"--set {full}: {head!r} holds plain values; nothing below it.")
        return {**obj, head: value}
    names = [f.name for f in dataclasses.fields(obj)]
    if head not in names:
        level = ".".join(full.split(".")[: -len(path)]) or "config"
        raise ConfigError(
            f"--set {full}: {level} has no key {head!r}.{did_you_mean(head, names)} "
            f"Valid keys there: {', '.join(names)}."
        )
    current = getattr(obj, head)
    if rest:
        if current is None and head in OPTIONAL_SPECS:
            current = OPTIONAL_SPECS[head]()
        if not (dataclasses.is_dataclass(current) or isinstance(current, dict)):
            raise ConfigError(f"--set {full}: {head!r} is a plain value; nothing below it.")
        new = _set(current, rest, value, full)
    elif dataclasses.is_dataclass(current) or (current is None and head in OPTIONAL_SPECS):
        if value is None and head in OPTIONAL_SPECS:
            new = None
        elif isinstance(value, dict):
            new = spec_from_dict(
                {"type": (OPTIONAL_SPECS.get(head) or type(current)).__name__, **value}, full
            )
        else:
            raise ConfigError(
                f"--set {full}={value!r}: {head!r} is a group of settings; set one of its keys "
                f"(e.g. `--set {head}.<key>=...`) or give a JSON object."
            )
    elif isinstance(value, str) and _takes_text(obj, head):
        new = value  # a field that takes a number or a word (`model.scale=data`): its check
    else:
        new = _coerce(value, current, full)
    try:
        return dataclasses.replace(obj, **{head: new})
    except ConfigError as err:
        raise ConfigError(f"--set {full}: {err}") from None
