"""`LossTerms`: named scalar loss terms and their fixed weights; the weighted total is formed
here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

__all__ = ["LossTerms"]


class LossTerms:
    """Named mean-square residuals with their weights: $L = \\sum_k w_k L_k$.

    **Arguments**

    - `terms`: term name -> scalar tensor (mean square of that residual).
    - `weights`: term name -> weight (missing names weigh 1).
    """

    def __init__(self, terms: Mapping[str, Tensor], weights: Mapping[str, float]):
        self.terms = dict(terms)
        self.weights = {k: float(weights.get(k, 1.0)) for k in self.terms}

    def total(self) -> Tensor:
        """The weighted sum, differentiable. Terms of weight 0 are left out (a NaN in one
        does not reach the total); a weight of 1 adds the term itself (no multiply, no
        backward node: a few microseconds of a small model's step), which changes no
        value."""
        parts = [
            self.terms[k] if w == 1 else w * self.terms[k]
            for k, w in self.weights.items()
            if w != 0
        ]
        if not parts:
            return torch.zeros((), device=self._device(), dtype=self._dtype())
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def values(self) -> dict[str, float]:
        """Each term as a Python float (unweighted)."""
        return {k: float(v.detach()) for k, v in self.terms.items()}

    def total_value(self) -> float:
        return float(sum(self.weights[k] * v for k, v in self.values().items()))

    def first_nonfinite(self) -> str | None:
        """Name of the first term that is NaN or infinite, or None."""
        for k, v in self.terms.items():
            if not torch.isfinite(v.detach()).all():
                return k
        return None

    def _device(self):
        return next(iter(self.terms.values())).device if self.terms else None

    def _dtype(self):
        return next(iter(self.terms.values())).dtype if self.terms else None
