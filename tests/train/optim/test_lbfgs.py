"""The L-BFGS polish's block runner: every iteration by default, an early stop with
`LBFGS.tolerance` (relative to the loss at the block's start)."""

from __future__ import annotations

import pytest
import torch

import pinnkit as pk
from pinnkit.errors import ConfigError
from pinnkit.train.optim.lbfgs import lbfgs_block, make_lbfgs


def _least_squares_run(tolerance: float, iterations: int = 2000) -> tuple[float, int]:
    """An ill-conditioned least-squares problem (condition ~1e3 in its columns) minimised in
    float64: L-BFGS creeps on for hundreds of iterations. The final value and the number of
    loss evaluations."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(400, 200, dtype=torch.float64, generator=generator)
    a = a * torch.logspace(0, -3, 200, dtype=torch.float64)
    b = torch.randn(400, dtype=torch.float64, generator=generator)
    x = torch.zeros(200, dtype=torch.float64, requires_grad=True)
    optimizer = make_lbfgs([x], pk.LBFGS(steps=iterations, tolerance=tolerance))
    calls = [0]

    def closure():
        calls[0] += 1
        x.grad = None
        loss = (a @ x - b).square().mean()
        loss.backward()
        return loss

    lbfgs_block(optimizer, closure, iterations)
    return float(closure().detach()), calls[0]


def test_without_a_tolerance_only_the_iteration_count_ends_a_block():
    _, calls = _least_squares_run(0.0)
    assert calls >= 2000  # one evaluation per iteration at least


def test_a_tolerance_stops_once_an_iteration_gains_less():
    # The tolerance is relative to the loss at the block's start. Measured: 1387 evaluations
    # and a loss 0.3% above the full block's (2117 evaluations).
    full, full_calls = _least_squares_run(0.0)
    early, early_calls = _least_squares_run(1e-6)
    assert early_calls < 0.8 * full_calls
    assert full <= early <= full * 1.01


@pytest.mark.parametrize("tolerance", [-1e-9, 1.0, 2.0])
def test_a_tolerance_outside_0_1_is_refused(tolerance):
    with pytest.raises(ConfigError, match=r"lbfgs.tolerance=.* out of range.*>= 0 and < 1"):
        pk.LBFGS(steps=10, tolerance=tolerance)
