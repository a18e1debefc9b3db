"""Fixtures of the discover tests: the planted run (`tests/discover/planted.py`) and what
discovery finds in it, each built once for the whole package."""

from __future__ import annotations

import pytest

import pinnkit as pk
from tests.discover.logistic import logistic_run as _logistic_run
from tests.discover.planted import _planted_run


@pytest.fixture(scope="package")
def planted() -> pk.Run:
    return _planted_run()


@pytest.fixture(scope="package")
def found(planted) -> pk.Discovery:
    # The planted model is not an MLP, so it cannot be refit: judge with the solution fixed.
    return pk.discover(planted, samples=1000, refit=0)


@pytest.fixture(scope="package")
def logistic_run():
    """(run, direct fit) of `tests/discover/logistic.py`, trained once."""
    return _logistic_run()
