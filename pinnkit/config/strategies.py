"""Specs of the training strategies: collocation `Sampling`, `Causal` weights, gradient-norm
`Balance` and residual-based adaptive sampling (`RAR`).

Specs are plain frozen data, validated when made; `pinnkit.train` builds the strategies
from them (`pinnkit.train.weighting`, `pinnkit.train.adaptive`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pinnkit.errors import ConfigError

__all__ = ["Sampling", "Causal", "Balance", "RAR"]


@dataclass(frozen=True)
class Sampling:
    """Collocation points per step.

    **Arguments**

    - `interior`: points in the interior (equations; default 2000).
    - `boundary`: points on each boundary region a condition uses (default 200).
    - `initial`: points on the initial slice (default 200).
    - `resample_every`: draw new points every this many steps; 0 keeps one fixed set
      (default 1: fresh points every step, which acts as a regulariser).
    - `method`: `uniform` or `sobol` (scrambled quasi-random; default `uniform`).
    """

    interior: int = 2000
    boundary: int = 200
    initial: int = 200
    resample_every: int = 1
    method: str = "uniform"

    def count(self, region: str) -> int:
        if region == "interior":
            return int(self.interior)
        if region == "initial":
            return int(self.initial)
        return int(self.boundary)


@dataclass(frozen=True)
class Causal:
    """Spec of causal training (Wang, Sankaran, Perdikaris, arXiv 2203.07404).

    The time interval $[t_0, t_1]$ is split into $M$ = `chunks` equal chunks. With $L_i$
    the mean squared equation residual over the interior points in chunk $i$ (summed over
    the equations), the equation loss becomes

    $$L_r = \\frac{1}{M} \\sum_{i=1}^{M} w_i L_i, \\qquad
      w_i = \\exp\\Big(-\\epsilon \\sum_{k<i} L_k\\Big),$$

    so a later time only counts once the residual before it is small, which respects
    causality the way time stepping does. $w_1 = 1$, $0 < w_i \\le 1$, and $w_i$ does not
    increase with $i$. The weights carry no gradient.

    With a `schedule` of increasing $\\epsilon$, training moves to the next $\\epsilon$ once
    $\\min_i w_i$ exceeds `threshold` (the paper's convergence indicator: the residual is
    small over the whole interval); the current index is checkpointed.

    **Arguments**

    - `chunks`: number of time chunks $M$ (default 32).
    - `epsilon`: causality parameter $\\epsilon$ when there is no `schedule` (default 1.0).
    - `schedule`: increasing $\\epsilon$ values, e.g. `(0.01, 0.1, 1.0, 10.0, 100.0)`, or `()`
      to keep `epsilon` fixed (default).
    - `threshold`: $\\min_i w_i$ above which the schedule advances (default 0.99).
    - `patience`: Adam steps at one $\\epsilon$ of a schedule after which training warns that
      the schedule has stalled (`PinnkitWarning`, once per run; default 5000). A stall means
      the residual is not getting small enough for the next $\\epsilon$: a larger network,
      more points or a fixed, larger `epsilon` are the usual remedies.

    Patent note: the authors' repository states that the causal training method is covered
    by a University of Pennsylvania patent for commercial use. This is an independent
    implementation from the paper; commercial users should check the licensing terms with
    the University of Pennsylvania.

    In the L-BFGS polish the weights are recomputed under no_grad at each closure
    evaluation and held constant within it, and $\\epsilon$ does not advance; the objective
    therefore shifts slightly between line-search evaluations as the residual changes.
    Does not yet weight boundary or data terms in time (only the equations are chunked).
    """

    chunks: int = 32
    epsilon: float = 1.0
    schedule: tuple = ()
    threshold: float = 0.99
    patience: int = 5000

    def __post_init__(self):
        object.__setattr__(self, "schedule", tuple(float(e) for e in (self.schedule or ())))
        if int(self.chunks) < 1:
            raise ConfigError(
                f"causal.chunks={self.chunks} must be >= 1. Fix: `pk.Causal(chunks=32)`."
            )
        if not (float(self.epsilon) > 0 and all(e > 0 for e in self.schedule)):
            raise ConfigError(
                f"causal: epsilon={self.epsilon} and every schedule value {self.schedule} must "
                "be > 0. Fix: e.g. `pk.Causal(schedule=(0.01, 0.1, 1.0, 10.0, 100.0))`."
            )
        if any(b <= a for a, b in zip(self.schedule, self.schedule[1:])):
            raise ConfigError(
                f"causal.schedule={list(self.schedule)} must increase strictly. "
                "Fix: e.g. `pk.Causal(schedule=(0.01, 0.1, 1.0, 10.0, 100.0))`."
            )
        if not 0 < float(self.threshold) <= 1:
            raise ConfigError(f"causal.threshold={self.threshold} must be in (0, 1].")
        if int(self.patience) < 1:
            raise ConfigError(f"causal.patience={self.patience} must be >= 1.")


@dataclass(frozen=True)
class Balance:
    """Spec of gradient-norm loss balancing (Wang et al., "An expert's guide to training
    physics-informed neural networks", arXiv 2308.08468, Algorithm 1).

    Every `every` steps, with $g_k = \\lVert \\nabla_\\theta L_k \\rVert$ over all trainable
    parameters,

    $$\\hat\\lambda_k = \\frac{\\sum_j g_j}{g_k}, \\qquad
      \\lambda_k \\leftarrow \\alpha \\lambda_k + (1 - \\alpha) \\hat\\lambda_k,$$

    so every term pulls on the parameters with about the same strength. The $\\lambda_k$
    start at 1, multiply the fixed weights, carry no gradient and are checkpointed.

    **Arguments**

    - `every`: steps between updates (default 100).
    - `alpha`: moving-average factor $\\alpha$ in $[0, 1)$ (default 0.9).

    Terms with a fixed weight of 0 are left out. The polish (L-BFGS) keeps the last
    $\\lambda_k$ fixed.
    """

    every: int = 100
    alpha: float = 0.9

    def __post_init__(self):
        if int(self.every) < 1 or not 0 <= float(self.alpha) < 1:
            raise ConfigError(
                f"balance: every={self.every} must be >= 1 and alpha={self.alpha} in [0, 1). "
                "Fix: `pk.Balance(every=100, alpha=0.9)`."
            )


@dataclass(frozen=True)
class RAR:
    """Spec of residual-based adaptive refinement (Lu et al., "DeepXDE", SIAM Review 2021;
    compared with other residual-based schemes by Wu et al., CMAME 2023).

    Every `every` steps, draw `candidates` uniform interior points, evaluate the equation
    residuals there, and add the `add` points with the largest
    $\\sum_k r_k(x)^2$ to a persistent set. The set is appended to every step's interior
    batch (and to the L-BFGS polish set) and is checkpointed.

    **Arguments**

    - `every`: steps between refinements (default 1000); the first is at step `every`.
    - `candidates`: candidate points per refinement (default 10000).
    - `add`: points added per refinement (default 100).
    - `max_points`: the set stops growing at this size (default 2000, so at most the default
      interior batch is doubled).

    Only the equation residuals (interior points) are refined; boundary and initial
    points are sampled as usual.
    """

    every: int = 1000
    candidates: int = 10_000
    add: int = 100
    max_points: int = 2000

    def __post_init__(self):
        values = (self.every, self.candidates, self.add, self.max_points)
        if min(int(v) for v in values) < 1 or int(self.add) > int(self.candidates):
            raise ConfigError(
                f"rar: every={self.every}, candidates={self.candidates}, add={self.add} and "
                f"max_points={self.max_points} must be >= 1, with add <= candidates. "
                "Fix: e.g. `pk.RAR(every=1000, candidates=10000, add=100)`."
            )
