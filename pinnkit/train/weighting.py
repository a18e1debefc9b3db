"""Loss weighting strategies: causal temporal weights and gradient-norm balancing.

A strategy maps loss terms and its own small state to weights and a new state; it never
steps the optimiser and keeps nothing between calls except the state it returns.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from pinnkit.errors import ConfigError

__all__ = [
    "AbstractWeighting",
    "Causal",
    "CausalState",
    "CausalWeighting",
    "Balance",
    "BalanceState",
    "BalanceWeighting",
]


class AbstractWeighting(abc.ABC):
    """Decides loss weights from the current loss terms.

    A weighting is a pure function of its inputs: `weights(terms, state) -> (weights,
    state)`. `terms` maps names to loss tensors (what each strategy expects is stated on
    it), `weights` maps the same names to weights, and `state` is a small frozen dataclass
    of plain values (and tensors) that the trainer checkpoints, so that a resumed run
    continues exactly. Weights carry no gradient: they are computed under `torch.no_grad()`
    and the optimiser only ever sees $\\sum_k w_k L_k$ with $w_k$ held constant.

    Contract: a strategy never steps the optimiser, never mutates the model, and keeps no
    state other than what it returns.
    """

    @abc.abstractmethod
    def init(self) -> Any:
        """The state before the first step."""

    @abc.abstractmethod
    def weights(self, terms: Mapping[str, Tensor], state: Any) -> tuple[Mapping, Any]:
        """Weights for `terms` and the state after this step."""

    @abc.abstractmethod
    def state_dict(self, state: Any) -> dict:
        """`state` as plain values and tensors (for a `weights_only` checkpoint)."""

    @abc.abstractmethod
    def load_state_dict(self, data: Mapping) -> Any:
        """The state that `state_dict` wrote."""


# -- causal weighting ---------------------------------------------------------------------


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

    def build(self, problem) -> CausalWeighting:
        """The strategy for `problem`'s time interval and coordinate order.

        **Raises**

        `ConfigError` when the problem has no time coordinate.
        """
        domain = problem.domain
        if domain.time is None:
            raise ConfigError(
                f"causal: problem {problem.name!r} has no time coordinate (domain "
                f"{domain!r}), so there is no time to be causal in. Fix: drop it "
                "(`config.replace(causal=None)` or `--set causal=null`), or pose the problem "
                "on `space * pk.TimeInterval(t, 0, 1)`."
            )
        index = list(domain.coords).index(domain.time)
        lo, hi = domain.bounds
        return CausalWeighting(
            chunks=int(self.chunks),
            epsilons=self.schedule or (float(self.epsilon),),
            threshold=float(self.threshold),
            time_index=index,
            patience=int(self.patience),
            t0=float(lo[index]),
            t1=float(hi[index]),
        )


@dataclass(frozen=True)
class CausalState:
    """`epsilon_index`: position in the epsilon schedule. `min_weight`: $\\min_i w_i$ of
    the last step (the convergence indicator; logged, not needed to continue).
    `steps_at_epsilon`: Adam steps since the schedule last advanced."""

    epsilon_index: int = 0
    min_weight: float = 1.0
    steps_at_epsilon: int = 0


class CausalWeighting(AbstractWeighting):
    """Causal weights over time chunks (see `Causal` for the formula); build with
    `Causal(...).build(problem)`.

    `terms` are per-chunk losses, term name -> `(chunks,)` tensor from `chunk_losses`; the
    weights are one `(chunks,)` tensor per term, shared by all equations (the paper's
    $L_i$ is the whole residual at time chunk $i$, so the chunk losses are summed over
    the equations before the cumulative sum).
    """

    def __init__(
        self,
        *,
        chunks: int,
        epsilons: Sequence[float],
        threshold: float,
        time_index: int,
        patience: int = 5000,
        t0: float,
        t1: float,
    ):
        self.chunks = chunks
        self.epsilons = tuple(epsilons)
        self.threshold = threshold
        self.patience = patience
        self.time_index = time_index
        self.t0, self.t1 = t0, t1

    def init(self) -> CausalState:
        return CausalState()

    def epsilon(self, state: CausalState) -> float:
        return self.epsilons[state.epsilon_index]

    def chunk_losses(self, residual: Tensor, times: Tensor) -> Tensor:
        """Mean squared `residual` per time chunk, `(chunks,)`, differentiable; 0 where a
        chunk holds no point.

        **Arguments**

        - `residual`: `(batch,)` residual at the interior points.
        - `times`: `(batch,)` their time coordinate.
        """
        sums, counts = self.chunk_sums(residual, times)
        return sums / counts.clamp_min(1)

    def chunk_sums(self, residual: Tensor, times: Tensor) -> tuple[Tensor, Tensor]:
        """Summed squared `residual` per time chunk (differentiable) and the number of points
        in each chunk, both `(chunks,)`; `chunk_losses` is their ratio. Several processes
        add these up before dividing, so that their chunk losses are those of the combined
        batch (`pinnkit.train.distributed`)."""
        edges = torch.linspace(
            self.t0, self.t1, self.chunks + 1, dtype=times.dtype, device=times.device
        )[1:-1]
        index = torch.bucketize(times.detach().contiguous(), edges, right=True)
        square = residual.square()
        sums = square.new_zeros(self.chunks).index_add(0, index, square)
        counts = square.new_zeros(self.chunks).index_add(0, index, torch.ones_like(square))
        return sums, counts.detach()

    def weights(
        self, terms: Mapping[str, Tensor], state: CausalState, *, advance: bool = True
    ) -> tuple[dict[str, Tensor], CausalState]:
        """$w_i = \\exp(-\\epsilon \\sum_{k<i} L_k)$ from the chunk losses summed over `terms`.

        `advance=False` keeps the epsilon index (the L-BFGS polish: the objective should
        not change its $\\epsilon$ inside a line search).
        """
        with torch.no_grad():
            total = sum(v.detach() for v in terms.values())
            before = torch.cumsum(total, 0) - total  # sum over k < i, exclusive
            w = torch.exp(-self.epsilon(state) * before)
            min_weight = float(w.min())
        index, steps = state.epsilon_index, state.steps_at_epsilon
        if advance:
            steps += 1
            if min_weight > self.threshold and index + 1 < len(self.epsilons):
                index, steps = index + 1, 0
        return {k: w for k in terms}, CausalState(index, min_weight, steps)

    def stalled(self, state: CausalState) -> str | None:
        """A one-line warning when the schedule has stayed at one epsilon for `patience`
        steps with more values to go, else None."""
        if state.epsilon_index + 1 >= len(self.epsilons) or state.steps_at_epsilon < self.patience:
            return None
        return (
            f"causal: the epsilon schedule has stayed at epsilon={self.epsilon(state):g} for "
            f"{state.steps_at_epsilon} steps (min weight {state.min_weight:.3f}, needs > "
            f"{self.threshold:g} to advance); the residual is not getting small enough. "
            "Try a larger network or more points, or a fixed larger epsilon "
            "(`--set causal.schedule=[] --set causal.epsilon=10`)."
        )

    def loss(self, chunk_loss: Tensor, weights: Tensor) -> Tensor:
        """$\\frac{1}{M}\\sum_i w_i L_i$ (gradient through $L_i$ only)."""
        return (weights.detach() * chunk_loss).sum() / self.chunks

    def state_dict(self, state: CausalState) -> dict:
        return dataclasses.asdict(state)

    def load_state_dict(self, data: Mapping) -> CausalState:
        return CausalState(
            int(data["epsilon_index"]),
            float(data["min_weight"]),
            int(data.get("steps_at_epsilon", 0)),
        )


# -- gradient-norm balancing --------------------------------------------------------------


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

    def build(
        self, parameters: Sequence[Tensor], *, reduce: Callable | None = None
    ) -> BalanceWeighting:
        """The strategy over `parameters` (the model's and the problem's learned ones);
        `reduce` as in `BalanceWeighting`."""
        return BalanceWeighting(
            parameters, every=int(self.every), alpha=float(self.alpha), reduce=reduce
        )


@dataclass(frozen=True)
class BalanceState:
    """`lambdas`: term name -> $\\lambda_k$. `calls`: steps taken (updates happen when
    `calls % every == 0`)."""

    lambdas: Mapping[str, float] = dataclasses.field(default_factory=dict)
    calls: int = 0


class BalanceWeighting(AbstractWeighting):
    """Gradient-norm balancing (see `Balance`); build with `Balance(...).build(parameters)`.

    `terms` are scalar losses with their graphs (term name -> 0-d tensor); the weights are
    the $\\lambda_k$ as floats (1 for a term not seen before). `reduce`, when given, maps
    each term's list of parameter gradients to the list whose norm is taken (several
    processes sum their contributions over ranks with it; `pinnkit.train.distributed`).
    """

    def __init__(
        self,
        parameters: Sequence[Tensor],
        *,
        every: int,
        alpha: float,
        reduce: Callable | None = None,
    ):
        self.parameters = [p for p in parameters if p.requires_grad]
        self.every = every
        self.alpha = alpha
        self.reduce = reduce

    def init(self) -> BalanceState:
        return BalanceState()

    def gradient_norms(self, terms: Mapping[str, Tensor]) -> dict[str, float]:
        """$\\lVert \\nabla_\\theta L_k \\rVert_2$ for each term (graphs are kept)."""
        norms = {}
        for name, term in terms.items():
            grads = torch.autograd.grad(term, self.parameters, retain_graph=True, allow_unused=True)
            if self.reduce is not None:
                grads = self.reduce(grads)
            norms[name] = math.sqrt(
                sum(float(g.detach().square().sum()) for g in grads if g is not None)
            )
        return norms

    def weights(
        self, terms: Mapping[str, Tensor], state: BalanceState
    ) -> tuple[dict[str, float], BalanceState]:
        lambdas = {k: float(state.lambdas.get(k, 1.0)) for k in terms}
        if state.calls % self.every == 0:
            norms = self.gradient_norms(terms)
            total = sum(norms.values())
            for k, g in norms.items():
                # A term with no gradient (or all of them zero) keeps its weight.
                if g > 0 and math.isfinite(total):
                    lambdas[k] = self.alpha * lambdas[k] + (1 - self.alpha) * total / g
        return lambdas, BalanceState(lambdas, state.calls + 1)

    def current(self, state: BalanceState) -> dict[str, float]:
        """The weights now, without an update (the L-BFGS polish)."""
        return dict(state.lambdas)

    def state_dict(self, state: BalanceState) -> dict:
        return {"lambdas": dict(state.lambdas), "calls": int(state.calls)}

    def load_state_dict(self, data: Mapping) -> BalanceState:
        return BalanceState({k: float(v) for k, v in data["lambdas"].items()}, int(data["calls"]))
