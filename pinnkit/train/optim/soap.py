"""The SOAP first phase: `pytorch_optimizer.SOAP` (Vyas et al., arXiv 2409.11321; the
`pytorch-optimizer` package, Apache-2.0), made from a `pk.SOAP` spec.

pinnkit writes none of SOAP's maths: this module imports the library lazily (it is the
optional extra `pinnkit[soap]`), passes the spec's settings, and leaves the rest at the
library's defaults. The trainer sets `group["lr"]` before every step, as it does for Adam,
so the step decay and the NaN guard's halving apply unchanged. The optimiser's
`state_dict()` holds tensors, lists of tensors and plain numbers only, so checkpoints load
with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import torch

from pinnkit.config import SOAP as SOAPSpec
from pinnkit.errors import ConfigError

__all__ = ["make_soap", "require", "MISSING"]

#: The message when `pytorch_optimizer` cannot be imported.
MISSING = (
    "optimizer=pk.SOAP(...): the `pytorch-optimizer` package, which provides SOAP, is not "
    'installed. Fix: `pip install "pinnkit[soap]"` (or `pip install pytorch-optimizer`), '
    "or train with `optimizer=pk.Adam(...)`."
)


def require() -> None:
    """Check that `pytorch_optimizer` can be imported, without importing it (the trainer's
    callers check before writing anything).

    **Raises**

    `ConfigError` (`MISSING`) when it cannot.
    """
    if importlib.util.find_spec("pytorch_optimizer") is None:
        raise ConfigError(MISSING)


def make_soap(params: Sequence[torch.Tensor], spec: SOAPSpec) -> torch.optim.Optimizer:
    """`pytorch_optimizer.SOAP` over `params` with the settings of `spec`.

    **Raises**

    `ConfigError` (`MISSING`) when `pytorch_optimizer` is not installed.
    """
    try:
        from pytorch_optimizer import SOAP
    except ImportError:
        raise ConfigError(MISSING) from None
    return SOAP(
        params,
        lr=float(spec.learning_rate),
        betas=tuple(spec.betas),
        weight_decay=float(spec.weight_decay),
        precondition_frequency=int(spec.precondition_frequency),
        eps=float(spec.eps),
    )
