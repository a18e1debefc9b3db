"""Slow: train exact-solution cases and check the relative L2 error against each case's own
threshold (stored with the case in `tests/training_cases.py`, with where it came from)."""

from __future__ import annotations

import pytest
import torch

import pinnkit as pk
from tests.training_cases import CASES


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_training_reaches_the_case_threshold(name):
    case = CASES[name]
    run = pk.fit(case.problem, case.config.replace(seed=0), out=None)
    worst = max(run.rel_l2.values())
    assert worst <= case.threshold, f"{name}: rel. L2 {worst:.2e} > {case.threshold:.0e}"


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_and_float64_both_train(dtype):
    case = CASES["poisson_1d"]
    run = pk.fit(case.problem, case.config.replace(dtype=dtype), out=None)
    assert next(run.model.parameters()).dtype == getattr(torch, dtype)
    assert max(run.rel_l2.values()) <= case.threshold
