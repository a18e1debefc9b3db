"""Specs of the optimisers a run uses: `Adam` (with step decay), then an optional `LBFGS` polish."""

from __future__ import annotations

from dataclasses import dataclass

from pinnkit.errors import ConfigError

__all__ = ["Adam", "LBFGS"]


@dataclass(frozen=True)
class Adam:
    """Adam with exponential step decay: $\\eta_k = \\eta_0\\, r^{k / s}$.

    **Arguments**

    - `learning_rate`: $\\eta_0$ (default 1e-3).
    - `decay_rate`: $r$ (default 0.9); 1 disables decay.
    - `decay_steps`: $s$ (default 2000).
    """

    learning_rate: float = 1e-3
    decay_rate: float = 0.9
    decay_steps: int = 2000

    def __post_init__(self):
        if not (self.learning_rate > 0 and 0 < self.decay_rate <= 1 and self.decay_steps > 0):
            raise ConfigError(
                f"optimizer: need learning_rate > 0, 0 < decay_rate <= 1, decay_steps > 0; "
                f"found {self.learning_rate}, {self.decay_rate}, {self.decay_steps}."
            )


@dataclass(frozen=True)
class LBFGS:
    """Optional L-BFGS polish after Adam, on a fixed set of points.

    **Arguments**

    - `steps`: L-BFGS iterations (default 0: no polish).
    - `history`: number of stored curvature pairs (default 50).
    - `points`: multiplier on the sampling counts for the fixed polish set (default 1).
    """

    steps: int = 0
    history: int = 50
    points: float = 1.0
