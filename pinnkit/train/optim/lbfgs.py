"""The L-BFGS polish after Adam: torch's L-BFGS with a strong-Wolfe line search, run in
blocks of iterations between the trainer's log lines (Liu & Nocedal 1989).

The polish works on one fixed set of points (drawn when it starts, `LBFGS.points` times the
sampling counts), so that the objective it minimises does not move under it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from pinnkit.config import LBFGS

__all__ = ["make_lbfgs", "lbfgs_block"]


#: torch's L-BFGS tolerances when `LBFGS.tolerance` is 0: at round-off, so that only the
#: iteration count ends a block.
ROUND_OFF_GRADIENT, ROUND_OFF_CHANGE = 1e-12, 1e-15


def make_lbfgs(params: Sequence[torch.Tensor], spec: LBFGS) -> torch.optim.LBFGS:
    """L-BFGS over `params` with `spec.history` curvature pairs; one iteration per `step`
    until `lbfgs_block` sets the block's size. With `spec.tolerance` 0 the tolerances are at
    round-off so that only the iteration count ends a block; otherwise `lbfgs_block` stops
    once an iteration gains less than `spec.tolerance` of the loss at the block's start."""
    optimizer = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=1,
        history_size=int(spec.history),
        tolerance_grad=ROUND_OFF_GRADIENT,
        tolerance_change=ROUND_OFF_CHANGE,
        line_search_fn="strong_wolfe",
    )
    for group in optimizer.param_groups:
        group["relative_tolerance"] = float(spec.tolerance)
    return optimizer


def lbfgs_block(optimizer: torch.optim.LBFGS, closure: Callable, iterations: int) -> None:
    """Run `iterations` L-BFGS iterations (at most 1.25x as many loss evaluations, the
    line search's) with `closure` evaluating the loss and its gradient; fewer when the
    optimizer has a relative tolerance (`make_lbfgs`) and an iteration gains less."""
    for group in optimizer.param_groups:
        group["max_iter"] = iterations
        group["max_eval"] = iterations * 5 // 4 + 1
        tolerance = group.get("relative_tolerance", 0.0)
        if tolerance:
            loss = float(closure().detach())
            if math.isfinite(loss):
                group["tolerance_change"] = max(tolerance * abs(loss), ROUND_OFF_CHANGE)
    optimizer.step(closure)
