"""RAR: added points cluster at a planted residual peak, the schedule and cap hold, the state
round-trips.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import Batch, compile_problem
from pinnkit.config import RAR
from pinnkit.train.adaptive import rar_sampler

x, t = sp.symbols("x t")
v = sp.Function("v")(x)


PEAK = 0.7


def peaked_poisson() -> pk.Problem:
    """v'' = f with f sharply peaked at x = 0.7: the zero model's residual is -f."""
    return pk.Problem(
        name="peak",
        domain=pk.Interval(x, 0, 1),
        fields=[v],
        equations=[sp.Eq(v.diff(x, 2), 100 * sp.exp(-400 * (x - PEAK) ** 2))],
        conditions=[pk.Dirichlet(v, 0)],
    )


class _Zero(torch.nn.Module):
    def forward(self, points):
        return 0 * points[:, :1]


def _score(problem):
    compiled = compile_problem(problem, dtype=torch.float64)
    model = _Zero()
    boundary = Batch(torch.zeros((2, 1), dtype=torch.float64))

    def score(points):
        batches = {region: boundary for region in compiled.sample_regions}
        batches["interior"] = Batch(points)
        return compiled.residuals(model, batches)["eq0"].square()

    return score


def test_rar_adds_points_at_a_planted_residual_peak(rng):
    problem = peaked_poisson()
    rar = rar_sampler(
        RAR(every=3, candidates=2000, add=50),
        _score(problem),
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    state = rar.init()
    sizes = []
    for _ in range(7):
        points, state = rar.sample(problem.domain, rng, state)
        sizes.append(points.shape[0])
    assert sizes == [0, 0, 0, 50, 50, 50, 100], "refine at calls 3, 6, ... (not at 0)"
    xs = points[:, 0].numpy()
    assert np.all(np.abs(xs - PEAK) < 0.1), f"added points spread: {xs.min()}..{xs.max()}"
    assert abs(np.median(xs) - PEAK) < 0.02
    assert not points.requires_grad


def test_rar_stops_at_max_points_and_state_round_trips(rng):
    problem = peaked_poisson()
    rar = rar_sampler(
        RAR(every=1, candidates=100, add=30, max_points=70),
        _score(problem),
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    state = rar.init()
    for _ in range(6):
        points, state = rar.sample(problem.domain, rng, state)
    assert points.shape == (70, 1)
    restored = rar.load_state_dict(rar.state_dict(state))
    assert restored.calls == state.calls and torch.equal(restored.points, state.points)
