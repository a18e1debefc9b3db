"""The pinnkit error hierarchy and the shared "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "PinnkitError",
    "ProblemError",
    "CompileError",
    "ConfigError",
    "TrainingError",
    "RunError",
    "DiscoveryError",
    "DiscoveryInputError",
    "PinnkitWarning",
    "did_you_mean",
]


class PinnkitError(Exception):
    """Base class of every error pinnkit raises on purpose."""


class ProblemError(PinnkitError, ValueError):
    """A problem file or `Problem` is malformed (symbols, domains, conditions, data)."""


class CompileError(PinnkitError, ValueError):
    """A valid problem uses something the SymPy -> torch compiler cannot translate."""


class ConfigError(PinnkitError, ValueError):
    """A configuration value or a `--set` key is wrong."""


class RunError(PinnkitError, ValueError):
    """A run directory cannot be used as asked: a file in it is damaged or not pinnkit's,
    its problem or configuration changed since it was written, another process holds it,
    it is not trusted to run its code, or it has not finished."""


class TrainingError(PinnkitError, RuntimeError):
    """Training failed in a way the NaN guard could not recover from."""


class DiscoveryError(PinnkitError, RuntimeError):
    """Symbolic discovery of a hidden term failed."""


class DiscoveryInputError(DiscoveryError, ValueError):
    """Discovery was asked for something the run cannot give: a run without Hidden terms, a
    term name the problem does not have. A `ValueError` too, so the CLI exits 2 (bad input)."""


class PinnkitWarning(UserWarning):
    """Something in a run deserves attention but does not stop it (e.g. a stalled causal
    epsilon schedule); the same text goes to the run's `summary.json` under `notes`."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return `" Did you mean `x`?"` for the closest candidate, or `""` when none is close."""
    candidates = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(name), candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if str(name).lower() in lowered:
            close = [lowered[str(name).lower()]]
    return f" Did you mean `{close[0]}`?" if close else ""
