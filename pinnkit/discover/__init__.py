"""Symbolic discovery of hidden terms: `discover(run) -> Discovery`, backends (offline default,
PySR) and their Pareto fronts, the physics-aware choice (`select`) and substitution back into
the Problem (`substitute`, `export`).

`backend(name, **options)` resolves a backend by name (the CLI's `--backend`); `offline` is
the default because it needs nothing beyond PyPI and recovered the common hidden terms best
in `benchmarks/discovery/backends.py`.
"""

from __future__ import annotations

from types import MappingProxyType

from pinnkit.discover import julia
from pinnkit.discover.base import (
    AbstractBackend,
    Candidate,
    Front,
    complexity,
    is_same_form,
    make_front,
    mean_squared_error,
    snap_constants,
)
from pinnkit.discover.julia import JuliaStatus, julia_status
from pinnkit.discover.offline import Library, Offline
from pinnkit.discover.pysr import PySR
from pinnkit.discover.substitute import Discovery, Formula, substitute
from pinnkit.errors import ConfigError, did_you_mean

__all__ = [
    "AbstractBackend",
    "Candidate",
    "Front",
    "complexity",
    "is_same_form",
    "make_front",
    "mean_squared_error",
    "snap_constants",
    "julia",
    "JuliaStatus",
    "julia_status",
    "Library",
    "Offline",
    "PySR",
    "BACKENDS",
    "DEFAULT_BACKEND",
    "backend",
    "discover",
    "Discovery",
    "Formula",
    "substitute",
]

BACKENDS = MappingProxyType({"offline": Offline, "pysr": PySR})
DEFAULT_BACKEND = "offline"


def backend(name: str = DEFAULT_BACKEND, **options) -> AbstractBackend:
    """The backend called `name` (a key of `BACKENDS`), built with `options`.

    `backend("pysr", niterations=100)` is `PySR(niterations=100)`. Building never runs
    anything: PySR's availability is checked when it fits.

    Raises:
        ConfigError: for an unknown name or option, with the valid ones.
    """
    if name not in BACKENDS:
        raise ConfigError(
            f"discovery backend `{name}` is unknown; expected one of {sorted(BACKENDS)}."
            f"{did_you_mean(name, BACKENDS)} Fix: `--backend {DEFAULT_BACKEND}` (the default)."
        )
    cls = BACKENDS[name]
    valid = [f for f in cls.__dataclass_fields__ if f != "name"]
    for key in options:
        if key not in valid:
            raise ConfigError(
                f"discovery backend `{name}` has no option `{key}`; valid options: "
                f"{', '.join(valid)}.{did_you_mean(key, valid)}"
            )
    return cls(**options)


from pinnkit.discover.pipeline import discover  # noqa: E402  (it resolves names through `backend`)
