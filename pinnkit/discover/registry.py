"""The symbolic-regression backends by name (`BACKENDS`) and `backend(name, **options)`, which
resolves one (the CLI's `--backend`); `offline` is the default because it needs nothing beyond
PyPI and recovered the common hidden terms best in `benchmarks/discovery/backends.py`.
"""

from __future__ import annotations

from types import MappingProxyType

from pinnkit.discover.base import AbstractBackend
from pinnkit.discover.offline import Offline
from pinnkit.discover.pysr import PySR
from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "backend"]

BACKENDS = MappingProxyType({"offline": Offline, "pysr": PySR})
DEFAULT_BACKEND = "offline"


def backend(name: str = DEFAULT_BACKEND, **options) -> AbstractBackend:
    """The backend called `name` (a key of `BACKENDS`), built with `options`.

    `backend("pysr", niterations=100)` is `PySR(niterations=100)`. Building never runs
    anything: PySR's availability is checked when it fits.

    **Raises**

    - `ConfigError`: for an unknown name or option, with the valid ones.
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
