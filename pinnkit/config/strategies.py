"""Specs of the training strategies: collocation `Sampling`, `Causal` weights, gradient-norm
`Balance` and residual-based adaptive sampling (`RAR`).

Specs are plain frozen data, validated when made; `pinnkit.train` builds the strategies
from them (`pinnkit.train.weighting`, `pinnkit.train.adaptive`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pinnkit.config.checks import MAX_STEPS, Count, Real, check_fields
from pinnkit.errors import ConfigError, did_you_mean

__all__ = [
    "Sampling",
    "Causal",
    "Balance",
    "RAR",
    "Operators",
    "SAMPLING_METHODS",
    "OPERATOR_METHODS",
]

#: How collocation points are drawn (`pinnkit.domain.sampling`).
SAMPLING_METHODS = ("uniform", "sobol")

#: How vector operators are evaluated (`pinnkit.compile.operators`).
OPERATOR_METHODS = ("auto", "exact", "stde", "hutchinson")


@dataclass(frozen=True)
class Operators:
    """How the vector operators of a problem (`pk.laplacian(u, x)`, ...) are evaluated.

    **Arguments**

    - `method`: `auto` (default: exact for small dimensions, else the stochastic Taylor
      derivative estimator; `pinnkit check` says which and why), `exact`, `stde`
      (stochastic Taylor derivative estimator, Shi et al., NeurIPS 2024: random sparse
      Taylor-mode jets, unbiased) or `hutchinson` (Hutchinson's trace estimator with
      Hessian-vector products, the first-order baseline; Laplacian only).
    - `samples`: random directions per step for the stochastic methods (default 16). They
      are drawn afresh every step from the run's seeded stream, so a resumed run draws the
      same ones.
    """

    method: str = "auto"
    samples: int = 16

    def __post_init__(self):
        check_fields(self, {"samples": Count(high=1_000_000)})
        if self.method not in OPERATOR_METHODS:
            raise ConfigError(
                f"operators.method={self.method!r} is unknown; choose one of "
                f"{', '.join(OPERATOR_METHODS)}.{did_you_mean(str(self.method), OPERATOR_METHODS)}"
            )


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

    def __post_init__(self):
        check_fields(
            self,
            {
                "interior": Count(),
                "boundary": Count(),
                "initial": Count(),
                "resample_every": Count(low=0, high=MAX_STEPS),
            },
        )
        if self.method not in SAMPLING_METHODS:
            raise ConfigError(
                f"sampling.method={self.method!r} is unknown; choose `uniform` or `sobol`."
                f"{did_you_mean(str(self.method), SAMPLING_METHODS)}"
            )

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
        check_fields(
            self,
            {
                "chunks": Count(high=100_000),
                "epsilon": Real(),
                "threshold": Real(high=1.0),
                "patience": Count(high=MAX_STEPS),
            },
        )
        schedule = self.schedule or ()
        if not isinstance(schedule, list | tuple) or not all(
            isinstance(e, int | float) and not isinstance(e, bool) for e in schedule
        ):
            raise ConfigError(
                f"causal.schedule={schedule!r}: expected a list of numbers. "
                "Fix: e.g. `--set causal.schedule=[0.01,0.1,1,10,100]`."
            )
        object.__setattr__(self, "schedule", tuple(float(e) for e in schedule))
        if not all(math.isfinite(e) and e > 0 for e in self.schedule):
            raise ConfigError(
                f"causal: epsilon={self.epsilon} and every schedule value {self.schedule} must "
                "be > 0. Fix: e.g. `pk.Causal(schedule=(0.01, 0.1, 1.0, 10.0, 100.0))`."
            )
        if any(b <= a for a, b in zip(self.schedule, self.schedule[1:])):
            raise ConfigError(
                f"causal.schedule={list(self.schedule)} must increase strictly. "
                "Fix: e.g. `pk.Causal(schedule=(0.01, 0.1, 1.0, 10.0, 100.0))`."
            )


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
        check_fields(
            self,
            {
                "every": Count(high=MAX_STEPS),
                "alpha": Real(high=1.0, low_open=False, high_open=True),
            },
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
        check_fields(
            self,
            {
                "every": Count(high=MAX_STEPS),
                "candidates": Count(),
                "add": Count(),
                "max_points": Count(),
            },
        )
        if self.add > self.candidates:
            raise ConfigError(
                f"rar: add={self.add} must be <= candidates={self.candidates} (the added "
                "points are the worst of the candidates). "
                "Fix: e.g. `pk.RAR(every=1000, candidates=10000, add=100)`."
            )
