"""Tests of the NaN guard: rollback and retry, giving up with a clear error, the
non-finite checks over loss terms and every gradient entry.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import pinnkit as pk
from tests.helpers import TINY, NanOnce, heat_problem


class _Exploding(torch.nn.Module):
    """Returns NaN from a given call on, to drive the NaN guard."""

    def __init__(self, inner, after):
        super().__init__()
        self.inner, self.after, self.calls = inner, after, 0

    def forward(self, points):
        self.calls += 1
        out = self.inner(points)
        return out * float("nan") if self.calls > self.after else out


def test_nan_guard_gives_up_with_a_clear_error():
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(lbfgs=pk.LBFGS()))
    trainer.model = _Exploding(trainer.model, after=3 * 15)
    with pytest.raises(pk.TrainingError, match=r"step \d+: loss term 'eq0' is not finite"):
        trainer.run()


def test_a_loss_not_finite_at_the_start_says_where_to_look():
    """Not finite before any step (log(N) of an untrained network that takes N <= 0, as a
    Gompertz term written into an exported problem did): the error names the start, the
    cause and the fix, not a learning rate."""
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(lbfgs=pk.LBFGS()))
    trainer.model = _Exploding(trainer.model, after=0)
    with pytest.raises(pk.TrainingError, match=r"step 0: .* not finite at the start") as err:
        trainer.run()
    assert 'pk.MLP(scale="data")' in str(err.value) and "learning_rate" not in str(err.value)


def test_nan_guard_recovers_from_a_transient_failure(caplog):
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(lbfgs=pk.LBFGS()))
    trainer.model = NanOnce(trainer.model)
    run = trainer.run()
    assert run.summary["steps"] == 60
    assert trainer.lr_scale == 0.5
    assert "rolled back" in caplog.text


class _NanAtPoints(torch.nn.Module):
    """NaN on every batch that contains the first point of the `call`-th forward pass (a
    point where a term has no derivative, like an interior point rounded onto a kink of a
    distance function), whatever the weights."""

    def __init__(self, inner, call: int = 40):
        super().__init__()
        self.inner, self.call, self.calls, self.bad = inner, call, 0, None

    def forward(self, points):
        out = self.inner(points)
        self.calls += 1
        if self.calls == self.call:
            self.bad = points[0].detach().clone()
        if self.bad is None:
            return out
        hit = (points.detach() == self.bad).all(dim=1).any()
        return out * float("nan") if hit else out


def test_nan_guard_redraws_the_points_so_a_bad_point_does_not_fail_every_retry(caplog):
    """Rolled back with the same points, every retry would meet the bad point again and the
    guard would give up; the points are redrawn, so the run goes on."""
    from pinnkit.train import Trainer

    sampling = dataclasses.replace(TINY.sampling, resample_every=0)
    fixed = TINY.replace(lbfgs=pk.LBFGS(), sampling=sampling)
    trainer = Trainer(heat_problem(), fixed)
    trainer.model = _NanAtPoints(trainer.model)
    run = trainer.run()
    assert run.summary["steps"] == 60 and "points redrawn" in caplog.text
    given = Trainer(heat_problem(), fixed)
    given.use_points(given.sampler.sample(given.rng))
    given.model = _NanAtPoints(given.model)
    with pytest.raises(pk.TrainingError, match="is not finite"):  # given points are kept
        given.run()


def test_nan_guard_reads_terms_and_every_gradient_entry():
    from pinnkit.train.guard import nonfinite as _nonfinite
    from pinnkit.train.terms import LossTerms

    a, b = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    terms = LossTerms({"eq": torch.tensor(1.0), "ic": torch.tensor(2.0)}, {})
    a.grad, b.grad = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3e38, 3e38])
    assert _nonfinite(terms, [a, b]) is None  # large but finite: its sum would overflow
    b.grad = torch.tensor([0.0, float("nan")])
    assert _nonfinite(terms, [a, b]) == "gradient"
    bad = LossTerms({"eq": torch.tensor(1.0), "ic": torch.tensor(float("inf"))}, {})
    assert _nonfinite(bad, [a, b]) == "ic"


@pytest.mark.parametrize(
    ("grad_dtype", "term_dtype"),
    [
        (torch.float32, torch.float32),
        (torch.float64, torch.float64),
        (torch.float64, torch.float32),
    ],
)
def test_finiteness_check_sees_every_entry_and_changes_no_gradient(grad_dtype, term_dtype):
    """The fused check (one device and dtype: the first two cases) and the concatenation
    (float64 gradients beside float32 loss terms) agree, and the fused one's in-place scale
    by 1 leaves every gradient bit for bit."""
    from pinnkit.train.guard import all_finite as _all_finite

    values = torch.tensor([1.0, 2.0], dtype=term_dtype)
    grads = [torch.randn(4, 3, dtype=grad_dtype), torch.tensor([3e38, -3e38], dtype=grad_dtype)]
    before = [g.clone() for g in grads]
    assert _all_finite([values, *grads])
    assert all(torch.equal(g, b) for g, b in zip(grads, before, strict=True))
    for bad in (float("nan"), float("inf"), float("-inf")):
        grads[0][2, 1] = bad
        assert not _all_finite([values, *grads])
        grads[0][2, 1] = 0.0
        assert not _all_finite([values.new_tensor([bad, 1.0]), *grads])


def test_lbfgs_only_run_rolls_a_non_finite_step_back_to_the_start(caplog):
    """With `steps=0` no Adam step takes a snapshot; the polish keeps the starting state."""
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(steps=0, lbfgs=pk.LBFGS(steps=6)))
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.model = _Exploding(trainer.model, after=0)
    run = trainer.run()
    assert "non-finite" in caplog.text
    for k, v in trainer.model.inner.state_dict().items():
        assert torch.equal(v, start[k])
    assert run.summary["steps"] == 6


@pytest.mark.parametrize("spec", [pk.Adam(), pk.SOAP(precondition_frequency=2)])
def test_a_second_rollback_restores_the_snapshot_not_the_steps_after_the_first(spec):
    """A step between two rollbacks updates the optimiser's moments in place; the second
    rollback must still restore the snapshot's (for Adam: also its step counters)."""
    import copy

    from pinnkit.train.guard import Guard
    from pinnkit.train.optim import first

    if isinstance(spec, pk.SOAP):
        pytest.importorskip("pytorch_optimizer")
    g = torch.Generator().manual_seed(0)
    model, residuals = torch.nn.Linear(3, 4), torch.nn.Module()
    optimizer = first.make_optimizer(spec, list(model.parameters()))

    def step():
        for p in model.parameters():
            p.grad = torch.randn(p.shape, generator=g)
        first.step(optimizer)

    for _ in range(5):
        step()
    guard = Guard()
    guard.snapshot(model, residuals, optimizer, {})
    expected = copy.deepcopy(optimizer.state_dict())
    guard.rollback("eq0", 5, model, residuals, optimizer)
    step()
    guard.rollback("eq0", 5, model, residuals, optimizer)
    got = optimizer.state_dict()
    for key, state in expected["state"].items():
        for name, value in state.items():  # tensors, numbers, SOAP's lists of matrices
            pairs = zip(_listed(value), _listed(got["state"][key][name]), strict=True)
            assert all(torch.equal(torch.as_tensor(a), torch.as_tensor(b)) for a, b in pairs)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_an_update_that_overflows_the_dtype_is_rolled_back_like_a_non_finite_loss(
    caplog, monkeypatch
):
    """torch raises when an L-BFGS line search's step overflows float32 (ODEBench 57's
    discovery refits met it); the stage keeps the last good state instead of failing."""
    import pinnkit.train.loop as loop
    from pinnkit.train import Trainer

    def overflowing(optimizer, closure, iterations):
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.data.add_(1.0)  # half-applied, as an update that fails midway would be
        raise RuntimeError("value cannot be converted to type float without overflow")

    monkeypatch.setattr(loop, "lbfgs_block", overflowing)
    trainer = Trainer(heat_problem(), TINY.replace(steps=0, lbfgs=pk.LBFGS(steps=6)))
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    assert "overflowed" in caplog.text
    assert all(torch.equal(v, start[k]) for k, v in trainer.model.state_dict().items())
    monkeypatch.setattr(loop, "lbfgs_block", lambda *_: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError, match="x"):
        Trainer(heat_problem(), TINY.replace(steps=0, lbfgs=pk.LBFGS(steps=6))).run()
