"""Symbolic discovery of hidden terms: `discover(run) -> Discovery`, backends (offline default,
PySR) and their Pareto fronts, the physics-aware choice (`select`) and substitution back into
the Problem (`substitute`, `export`).

`backend(name, **options)` resolves a backend by name (the CLI's `--backend`); `offline` is
the default because it needs nothing beyond PyPI and recovered the common hidden terms best
in `benchmarks/discovery/backends.py`.
"""

from __future__ import annotations

from pinnkit.discover import julia
from pinnkit.discover.base import (
    AbstractBackend,
    Candidate,
    Front,
    complexity,
    make_front,
    mean_squared_error,
)
from pinnkit.discover.discovery import Discovery
from pinnkit.discover.exact import is_same_form, snap_constants
from pinnkit.discover.julia import JuliaStatus, julia_status
from pinnkit.discover.offline import Library, Offline
from pinnkit.discover.pipeline import discover
from pinnkit.discover.pysr import PySR
from pinnkit.discover.registry import BACKENDS, DEFAULT_BACKEND, backend
from pinnkit.discover.substitute import Formula, substitute

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
