"""RAR: added points cluster at a planted residual peak, the schedule and cap hold, the state
round-trips; resume is exact with every strategy enabled."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import Batch, compile_problem
from pinnkit.runs import load_checkpoint, read_metrics
from pinnkit.train.adaptive import RAR
from tests.helpers import heat_problem

x, t = sp.symbols("x t")
v = sp.Function("v")(x)
u = sp.Function("u")(x, t)

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
    rar = RAR(every=3, candidates=2000, add=50).build(
        _score(problem), dtype=torch.float64, device=torch.device("cpu")
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
    rar = RAR(every=1, candidates=100, add=30, max_points=70).build(
        _score(problem), dtype=torch.float64, device=torch.device("cpu")
    )
    state = rar.init()
    for _ in range(6):
        points, state = rar.sample(problem.domain, rng, state)
    assert points.shape == (70, 1)
    restored = rar.load_state_dict(rar.state_dict(state))
    assert restored.calls == state.calls and torch.equal(restored.points, state.points)


def test_rar_spec_validation():
    with pytest.raises(pk.ConfigError, match="add <= candidates"):
        RAR(candidates=10, add=20)


STRATEGIES = pk.Config(
    steps=20,
    lbfgs=pk.LBFGS(steps=6),
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=48, boundary=8, initial=8, resample_every=3),
    log_every=5,
    eval_every=10,
    checkpoint_every=10,
    progress=False,
    causal=pk.Causal(chunks=4, schedule=(0.1, 1.0, 10.0), threshold=0.5),
    balance=pk.Balance(every=4),
    rar=pk.RAR(every=6, candidates=200, add=10),
)


class _Crash(Exception):
    pass


def test_resume_is_exact_with_every_strategy(tmp_path):
    """Crash mid-Adam (after RAR, balancing and causal states have moved), resume, and end
    exactly where an uninterrupted run ends; the polish afterwards uses the restored state."""

    def crash(step, row):
        if step == 15:
            raise _Crash

    whole = pk.fit(heat_problem(), STRATEGIES, directory=tmp_path / "whole")
    with pytest.raises(_Crash):
        pk.fit(heat_problem(), STRATEGIES, directory=tmp_path / "cut", callback=crash)
    resumed = pk.resume(tmp_path / "cut", problem=heat_problem())
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    strategies = load_checkpoint(tmp_path / "cut")["strategies"]
    assert strategies["rar"]["points"].shape == (30, 2)  # refined at steps 6, 12, 18
    assert strategies["balance"]["calls"] == 20
    rows, expected = read_metrics(tmp_path / "cut"), read_metrics(tmp_path / "whole")
    for key in ("causal_min_weight", "causal_epsilon", "balance", "rar_points"):
        assert [r[key] for r in rows] == [r[key] for r in expected], key
    assert [r["rar_points"] for r in rows] == [0, 10, 20, 30, 30, 30]
