"""`pinnkit.discover.sample`: sampling a hidden term over the trained solution, and the
terms a run can be asked for.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.discover.sample import sample_hidden
from pinnkit.errors import DiscoveryError
from tests.discover.planted import SOLUTION, TRUE_F, _problem
from tests.helpers import SympyModel


def test_samples_cover_the_inputs_of_the_trained_solution(planted):
    samples = sample_hidden(planted, samples=1000, trim=0.05)["f"]
    (symbol,) = samples.symbols
    values = samples.inputs[symbol]
    lo, hi = samples.bounds[symbol]
    # u = 1/2 + exp(-t) sin(pi x) / 3 lies in [0.5, 0.834]; trimming keeps the inner 90%.
    assert 0.5 <= lo < hi <= 0.5 + 1 / 3
    assert values.min() >= lo and values.max() <= hi
    assert samples.size <= samples.drawn and samples.size >= 0.8 * samples.drawn
    np.testing.assert_allclose(samples.target, values * (1 - values), rtol=1e-12)


def test_discovery_needs_a_hidden_term():
    problem = _problem(TRUE_F)
    compiled = compile_problem(problem, dtype=torch.float64)
    run = pk.Run(
        problem=problem,
        config=pk.Config(),
        model=SympyModel.of(problem, {"u": SOLUTION}),
        compiled=compiled,
        summary={},
        directory=None,
    )
    with pytest.raises(DiscoveryError, match="has no Hidden term"):
        pk.discover(run)


def test_unknown_term_name_is_reported(planted):
    with pytest.raises(DiscoveryError, match="Did you mean `f`"):
        pk.discover(planted, terms=["ff"])
