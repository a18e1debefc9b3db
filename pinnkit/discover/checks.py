"""Checks of the counts discovery is given (`check_counts`): one rule and one message for
`pk.discover`'s iterations, points and seed and for the offline backend's and its library's
sizes."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

from pinnkit.errors import DiscoveryInputError

__all__ = ["check_counts"]


def check_counts(
    owner: str,
    values: Mapping[str, tuple[object, int]],
    defaults: Mapping[str, object] | None = None,
) -> None:
    """Raise `DiscoveryInputError` unless each value is a whole number (a Python or NumPy
    integer, not a bool) at least its minimum (`{name: (value, minimum)}`); `owner` names the
    caller in the message, and `defaults` (`{name: the default as the message names it}`)
    tells how to fix it by leaving the value out."""
    for name, (value, least) in values.items():
        whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if whole and value >= least:
            continue
        fix = (
            f" The default is {defaults[name]}: leave {name} out to use it."
            if defaults and name in defaults
            else ""
        )
        raise DiscoveryInputError(
            f"{owner}({name}={value!r}): expected a whole number >= {least}.{fix}"
        )
