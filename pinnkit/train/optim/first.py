"""The optimiser of a run's first phase, from `Config.optimizer`: Adam (`adam.py`) or SOAP
(`soap.py`). Both take one step per batch of fresh points, at the learning rate the trainer
sets in every `param_groups` entry before the step (its decay and the NaN guard's halving).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pinnkit.config import SOAP, Adam
from pinnkit.train.optim import adam, soap

__all__ = ["make_optimizer", "step", "phase_name", "require"]


def make_optimizer(spec: Adam | SOAP, params: Sequence[torch.Tensor]) -> torch.optim.Optimizer:
    """A fresh first-phase optimiser for `spec` over `params` (every trained tensor, in the
    trainer's order).

    **Raises**

    `ConfigError` for SOAP without the `pytorch-optimizer` package.
    """
    if isinstance(spec, SOAP):
        return soap.make_soap(params, spec)
    return adam.make_adam(params, spec.learning_rate)


def step(optimizer: torch.optim.Optimizer) -> None:
    """One update with the gradients in `.grad` (Adam through its fused fast path)."""
    if isinstance(optimizer, torch.optim.Adam):
        adam.step(optimizer)
    else:
        optimizer.step()


def phase_name(spec: Adam | SOAP) -> str:
    """The first phase's name in the metrics (`phase`) and its key in the checkpoint:
    `adam` or `soap`."""
    return "soap" if isinstance(spec, SOAP) else "adam"


def require(spec: Adam | SOAP) -> None:
    """Check, before anything is written, that the optimiser of `spec` can be made.

    **Raises**

    `ConfigError` for SOAP without the `pytorch-optimizer` package.
    """
    if isinstance(spec, SOAP):
        soap.require()
