"""The L-BFGS polish after Adam: torch's L-BFGS with a strong-Wolfe line search, run in
blocks of iterations between the trainer's log lines (Liu & Nocedal 1989).

The polish works on one fixed set of points (drawn when it starts, `LBFGS.points` times the
sampling counts), so that the objective it minimises does not move under it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from pinnkit.config import LBFGS

__all__ = ["make_lbfgs", "lbfgs_block"]


def make_lbfgs(params: Sequence[torch.Tensor], spec: LBFGS) -> torch.optim.LBFGS:
    """L-BFGS over `params` with `spec.history` curvature pairs; one iteration per `step`
    until `lbfgs_block` sets the block's size. Tolerances are at round-off so that only
    the iteration count ends a block."""
    return torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=1,
        history_size=int(spec.history),
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )


def lbfgs_block(optimizer: torch.optim.LBFGS, closure: Callable, iterations: int) -> None:
    """Run `iterations` L-BFGS iterations (at most 1.25x as many loss evaluations, the
    line search's) with `closure` evaluating the loss and its gradient."""
    for group in optimizer.param_groups:
        group["max_iter"] = iterations
        group["max_eval"] = iterations * 5 // 4 + 1
    optimizer.step(closure)
