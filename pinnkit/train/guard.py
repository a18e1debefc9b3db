"""The NaN guard: keep the last good state of a run, and roll back to it when a step makes a
loss term or a gradient non-finite.

The loop snapshots after every logged block; a non-finite first-phase step (Adam or SOAP)
restores the snapshot (weights, learned constants, optimiser state) and the loop halves its
step size and redraws the collocation points (unless they were given: `use_points`), since
at a point where a term has no derivative every weight fails. After `MAX_NAN_RETRIES`
failures in a row the guard gives up with a `TrainingError` that names the step, the term
and the last finite values.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Sequence

import torch
from torch import nn

from pinnkit.errors import TrainingError
from pinnkit.train.terms import LossTerms

__all__ = ["Guard", "MAX_NAN_RETRIES", "nonfinite", "overflowed", "all_finite"]

log = logging.getLogger("pinnkit")

#: Consecutive non-finite steps after which the NaN guard gives up.
MAX_NAN_RETRIES = 6


class Guard:
    """Snapshots of the trained state and the rollback to them: the model's and the
    residuals' state (learned constants, Hidden networks) and the optimiser's."""

    def __init__(self):
        self.failures = 0  # non-finite steps in a row
        self._last_good: dict | None = None

    @property
    def has_snapshot(self) -> bool:
        return self._last_good is not None

    def snapshot(
        self,
        model: nn.Module,
        residuals: nn.Module,
        optimizer: torch.optim.Optimizer,
        last_terms: dict[str, float],
    ) -> None:
        """Keep the current state as the last good one (and reset the failure count)."""
        self.failures = 0
        self._last_good = {
            "model": copy.deepcopy(model.state_dict()),
            "compiled": copy.deepcopy(residuals.state_dict()),
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "last_terms": dict(last_terms),
        }

    def rollback(
        self,
        bad: str,
        step: int,
        model: nn.Module,
        residuals: nn.Module,
        optimizer: torch.optim.Optimizer,
    ) -> None:
        """Restore the last good state after a non-finite step (`bad` names the term).

        **Raises**

        `TrainingError` when there is no good state yet, or after `MAX_NAN_RETRIES`
        rollbacks in a row.
        """
        self.failures += 1
        snapshot = self._last_good
        if self.failures > MAX_NAN_RETRIES or snapshot is None:
            last = snapshot["last_terms"] if snapshot else {}
            if step == 0 and snapshot is None:
                what = "the gradient" if bad == "gradient" else f"loss term {bad!r}"
                raise TrainingError(
                    f"step 0: {what} is not finite at the start, before any step: "
                    "it is not defined at the untrained network's values (a log or sqrt of a "
                    "field that is <= 0 there, a division by one that is 0). Fix: start the "
                    'fields near their data (`pk.MLP(scale="data")`, `--set model.scale=data`)'
                    ", or write the term so that it is defined for any value of the field."
                )
            raise TrainingError(
                f"step {step}: loss term {bad!r} is not finite and stayed so after "
                f"{self.failures - 1} rollbacks with a halved step each time. Last finite loss "
                f"terms: {json.dumps(last)}. Try: a smaller `optimizer.learning_rate`, "
                "`--dtype float64`, smaller loss weights, or check the equation's scaling."
            )
        model.load_state_dict(snapshot["model"])
        residuals.load_state_dict(snapshot["compiled"])
        # A copy: `load_state_dict` keeps the given tensors (same dtype and device), and the
        # next steps update them in place, so a second rollback would restore those updates.
        optimizer.load_state_dict(copy.deepcopy(snapshot["optimizer"]))

    def restore_weights(self, model: nn.Module, residuals: nn.Module) -> None:
        """Put back the last good weights and constants only (the L-BFGS polish, which
        stops rather than retries)."""
        model.load_state_dict(self._last_good["model"])
        residuals.load_state_dict(self._last_good["compiled"])


def nonfinite(terms: LossTerms, params: Sequence[torch.Tensor]) -> str | None:
    """The first loss term that is NaN or infinite, "gradient" when only a gradient is, or
    None. One host sync per step: the terms and every gradient are checked together
    (`all_finite`)."""
    values = torch.stack([v.detach() for v in terms.terms.values()])
    grads = [p.grad for p in params if p.grad is not None]
    if all_finite([values, *grads]):
        return None
    return terms.first_nonfinite() or "gradient"


def overflowed(err: RuntimeError) -> str:
    """What to report for torch's refusal of an update too large for the parameters' dtype
    (a line search's step of ~1e39 in float32), as non-finite as a loss of inf; any other
    `RuntimeError` is raised again."""
    if "overflow" not in str(err):
        raise err
    return "the update (it overflowed the parameters' dtype)"


def all_finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every element of `tensors` is finite, with one host sync.

    Where they share one device and dtype this is torch's fused check of gradient scaling
    (`_amp_foreach_non_finite_check_and_unscale_`, one kernel over every tensor, which also
    multiplies them in place by the scale: 1, which changes no value); otherwise, or on a
    torch without it, one `isfinite` over their concatenation. On the Burgers example
    (8 gradients and 3 loss terms) the fused check takes ~7 us, the concatenation ~34 us.
    """
    first = tensors[0]
    fused = getattr(torch, "_amp_foreach_non_finite_check_and_unscale_", None)
    if fused is not None and all(
        t.device == first.device and t.dtype == first.dtype for t in tensors
    ):
        found = torch.zeros(1, device=first.device)
        fused(tensors, found, torch.ones(1, device=first.device))
        return not bool(found)
    flat = [t.reshape(-1).to(first.dtype) for t in tensors]
    return bool(torch.isfinite(torch.cat(flat)).all())
