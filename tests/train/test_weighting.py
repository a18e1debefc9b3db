"""Weighting strategies: causal weights (invariants, chunk losses, epsilon schedule) and
gradient-norm balancing (against a hand computation), and tiny fits that use them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.config import Balance, Causal
from pinnkit.train.weighting import BalanceState, CausalState, balance_weighting, causal_weighting

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
v = sp.Function("v")(x)


def heat(t0=0, t1=2) -> pk.Problem:
    return pk.Problem(
        name="heat",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, t0, t1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), u.diff(x, 2) / 10)],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
    )


def poisson() -> pk.Problem:
    return pk.Problem(
        name="poisson",
        domain=pk.Interval(x, 0, 1),
        fields=[v],
        equations=[sp.Eq(v.diff(x, 2), -1)],
        conditions=[pk.Dirichlet(v, 0)],
    )


def _brute_force_chunks(residual, times, t0, t1, chunks):
    sums, counts = [0.0] * chunks, [0] * chunks
    width = (t1 - t0) / chunks
    for r, s in zip(residual.tolist(), times.tolist()):
        i = min(int((s - t0) // width), chunks - 1)
        sums[i] += r * r
        counts[i] += 1
    return [s / c if c else 0.0 for s, c in zip(sums, counts)]


def test_chunk_losses_match_a_brute_force_computation(generator):
    causal = causal_weighting(Causal(chunks=7), heat())
    assert (causal.t0, causal.t1, causal.time_index) == (0.0, 2.0, 1)
    times = torch.rand(500, generator=generator, dtype=torch.float64) * 2
    residual = torch.randn(500, generator=generator, dtype=torch.float64)
    got = causal.chunk_losses(residual, times)
    expected = _brute_force_chunks(residual, times, 0.0, 2.0, 7)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_empty_chunks_give_zero():
    causal = causal_weighting(Causal(chunks=4), heat())
    times = torch.tensor([0.1, 0.2, 1.9], dtype=torch.float64)  # chunks 1 and 2 are empty
    residual = torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64)
    got = causal.chunk_losses(residual, times)
    assert got.tolist() == [5.0, 0.0, 0.0, 4.0]


def test_causal_weight_invariants(generator):
    causal = causal_weighting(Causal(chunks=16, epsilon=5.0), heat())
    times = torch.rand(400, generator=generator, dtype=torch.float64) * 2
    residual = torch.randn(400, generator=generator, dtype=torch.float64, requires_grad=True)
    chunks = {"eq0": causal.chunk_losses(residual, times)}
    weights, state = causal.weights(chunks, causal.init())
    w = weights["eq0"]
    assert not w.requires_grad and w.grad_fn is None
    assert w[0] == 1.0
    assert bool(((w > 0) & (w <= 1)).all())
    assert bool((w[1:] <= w[:-1]).all()), "weights must not increase in time"
    assert state.min_weight == pytest.approx(float(w.min()))
    expected = torch.exp(-5.0 * torch.cat([torch.zeros(1), torch.cumsum(chunks["eq0"], 0)[:-1]]))
    np.testing.assert_allclose(w.numpy(), expected.detach().numpy(), rtol=1e-12)
    # The gradient flows through the chunk losses only: d/dr of (1/M) sum w_i L_i with w fixed.
    loss = causal.loss(chunks["eq0"], w)
    (grad,) = torch.autograd.grad(loss, residual)
    index = torch.bucketize(times, torch.linspace(0, 2, 17, dtype=torch.float64)[1:-1], right=True)
    counts = torch.bincount(index, minlength=16).to(torch.float64)
    manual = w[index] * 2 * residual.detach() / counts[index] / 16
    np.testing.assert_allclose(grad.numpy(), manual.numpy(), rtol=1e-12)


def test_causal_weights_are_shared_by_the_equations():
    causal = causal_weighting(Causal(chunks=3, epsilon=1.0), heat())
    chunks = {"a": torch.tensor([1.0, 2.0, 3.0]), "b": torch.tensor([0.5, 0.0, 1.0])}
    weights, _ = causal.weights(chunks, causal.init())
    expected = torch.exp(-torch.tensor([0.0, 1.5, 3.5]))
    for w in weights.values():
        torch.testing.assert_close(w, expected)


def test_epsilon_schedule_advances_when_the_weights_are_all_large():
    causal = causal_weighting(Causal(chunks=4, schedule=(0.1, 1.0, 10.0), threshold=0.99), heat())
    small = {"eq0": torch.full((4,), 1e-3)}  # min w = exp(-0.1 * 3e-3) > 0.99
    large = {"eq0": torch.full((4,), 1.0)}  # min w = exp(-0.1 * 3) < 0.99
    state = causal.init()
    assert causal.epsilon(state) == 0.1
    _, state = causal.weights(large, state)
    assert state.epsilon_index == 0
    _, state = causal.weights(small, state)
    assert state.epsilon_index == 1 and causal.epsilon(state) == 1.0
    _, held = causal.weights(small, state, advance=False)  # the L-BFGS polish
    assert held.epsilon_index == 1
    _, state = causal.weights(small, state)  # exp(-1 * 3e-3) > 0.99
    assert causal.epsilon(state) == 10.0
    _, state = causal.weights({"eq0": torch.zeros(4)}, state)
    assert state.epsilon_index == 2, "the last epsilon is kept"
    assert causal.load_state_dict(causal.state_dict(state)) == state


def test_causal_without_time_is_a_config_error():
    with pytest.raises(pk.ConfigError, match="no time coordinate") as info:
        causal_weighting(Causal(), poisson())
    assert "causal=None" in str(info.value)


def test_balance_matches_a_hand_computation():
    theta = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    balance = balance_weighting(Balance(every=2, alpha=0.9), [theta])

    def terms():
        # grad L1 = (6 theta_0, 0) -> norm 6; grad L2 = (0, 2 theta_1) -> norm 4
        return {"one": 3 * theta[0] ** 2, "two": theta[1] ** 2}

    weights, state = balance.weights(terms(), balance.init())
    hat = {"one": 10 / 6, "two": 10 / 4}
    expected = {k: 0.9 * 1.0 + 0.1 * hat[k] for k in hat}
    assert weights == pytest.approx(expected, rel=1e-12)
    assert state.calls == 1
    again, state = balance.weights(terms(), state)  # call 1: no update (every=2)
    assert again == pytest.approx(expected, rel=1e-12)
    third, state = balance.weights(terms(), state)  # call 2: update again
    assert third == pytest.approx({k: 0.9 * expected[k] + 0.1 * hat[k] for k in hat}, rel=1e-12)
    assert balance.current(state) == third
    assert theta.grad is None, "balancing must not touch .grad"
    restored = balance.load_state_dict(balance.state_dict(state))
    assert restored == BalanceState(third, 3)


TINY = pk.Config(
    steps=12,
    lbfgs=pk.LBFGS(steps=4),
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=48, boundary=8, initial=8),
    log_every=4,
    eval_every=4,
    checkpoint_every=4,
    progress=False,
    dtype="float64",
)


def test_tiny_fit_with_causal_logs_the_indicator():
    config = TINY.replace(causal=Causal(chunks=4, schedule=(0.1, 1.0)))
    run = pk.fit(heat(), config, out=None)
    rows = run.summary["_metrics"]
    assert all(0 < r["causal_min_weight"] <= 1 for r in rows)
    assert all(r["causal_epsilon"] in (0.1, 1.0) for r in rows)
    assert all(math.isfinite(v) for v in run.summary["loss_terms"].values())


def test_tiny_fit_with_balance_logs_the_lambdas():
    run = pk.fit(heat(), TINY.replace(balance=Balance(every=3)), out=None)
    rows = run.summary["_metrics"]
    assert set(rows[0]["balance"]) == {"eq0", "initial_u", "bc_u"}
    assert rows[-1]["balance"] != {"eq0": 1.0, "initial_u": 1.0, "bc_u": 1.0}


def test_causal_on_a_problem_without_time_fails_before_training():
    with pytest.raises(pk.ConfigError, match="no time coordinate"):
        pk.fit(poisson(), TINY.replace(causal=Causal()), out=None)


def test_causal_state_is_a_plain_dataclass():
    assert CausalState() == CausalState(0, 1.0)


def test_stalled_schedule_is_reported_after_patience_steps():
    causal = causal_weighting(Causal(chunks=4, schedule=(0.1, 1.0), patience=3), heat())
    large = {"eq0": torch.full((4,), 1.0)}  # min w = exp(-0.1 * 3) < 0.99: never advances
    state = causal.init()
    for _ in range(2):
        _, state = causal.weights(large, state)
        assert causal.stalled(state) is None
    _, held = causal.weights(large, state, advance=False)  # polish steps do not count
    assert held.steps_at_epsilon == 2
    _, state = causal.weights(large, state)
    note = causal.stalled(state)
    assert note is not None and "epsilon=0.1 for 3 steps" in note and "causal.epsilon" in note
    fixed = causal_weighting(Causal(chunks=4, epsilon=1.0, patience=1), heat())
    _, state = fixed.weights(large, fixed.init())
    assert fixed.stalled(state) is None, "a fixed epsilon has nothing to advance to"


def test_a_stalled_schedule_warns_once_and_lands_in_the_summary():
    config = TINY.replace(causal=Causal(chunks=4, schedule=(1e-6, 1.0), patience=2, threshold=1.0))
    with pytest.warns(pk.PinnkitWarning, match="has stayed at epsilon=1e-06") as caught:
        run = pk.fit(heat(), config, out=None)
    assert len([w for w in caught if issubclass(w.category, pk.PinnkitWarning)]) == 1
    assert len(run.summary["notes"]) == 1
