"""Shared fixtures: seeded generators and a float64 default dtype (STYLE.md §8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

SEED = 0


def pytest_configure(config):
    # torch 2.13 loads its forward-mode decompositions through `torch.jit.script` on the first
    # `torch.func.jvp` of a process, which warns that `torch.jit.script` is deprecated (a
    # DeprecationWarning; a FutureWarning from torch 2.14). The warning is torch's own, not
    # pinnkit's; every other warning stays an error.
    config.addinivalue_line("filterwarnings", "ignore:`torch.jit.script` is deprecated")


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory):
    """pinnkit's record of trusted runs (`pinnkit.integrity`) in a folder of the test
    session's own, never the user's cache; subprocesses inherit it."""
    import os

    previous = os.environ.get("PINNKIT_CACHE")
    os.environ["PINNKIT_CACHE"] = str(tmp_path_factory.mktemp("pinnkit-cache"))
    yield
    if previous is None:
        os.environ.pop("PINNKIT_CACHE", None)
    else:
        os.environ["PINNKIT_CACHE"] = previous


@pytest.fixture
def generator() -> torch.Generator:
    """A fresh `torch.Generator` seeded with `SEED`; tests never touch the global seed."""
    return torch.Generator().manual_seed(SEED)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh NumPy generator seeded with `SEED`, for sampling domain points."""
    return np.random.default_rng(SEED)


@pytest.fixture
def float64():
    """Make float64 torch's default dtype for one test, restoring the previous default."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield torch.float64
    finally:
        torch.set_default_dtype(previous)
