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

from pinnkit.config import Balance, Causal
from pinnkit.errors import ConfigError

__all__ = [
    "AbstractWeighting",
    "CausalState",
    "CausalWeighting",
    "causal_weighting",
    "BalanceState",
    "BalanceWeighting",
    "balance_weighting",
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
class CausalState:
    """`epsilon_index`: position in the epsilon schedule. `min_weight`: $\\min_i w_i$ of
    the last step (the convergence indicator; logged, not needed to continue).
    `steps_at_epsilon`: Adam steps since the schedule last advanced."""

    epsilon_index: int = 0
    min_weight: float = 1.0
    steps_at_epsilon: int = 0


class CausalWeighting(AbstractWeighting):
    """Causal weights over time chunks (see `Causal` for the formula); build with
    `causal_weighting(spec, problem)`.

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
class BalanceState:
    """`lambdas`: term name -> $\\lambda_k$. `calls`: steps taken (updates happen when
    `calls % every == 0`)."""

    lambdas: Mapping[str, float] = dataclasses.field(default_factory=dict)
    calls: int = 0


class BalanceWeighting(AbstractWeighting):
    """Gradient-norm balancing (see `Balance`); build with `balance_weighting(spec, parameters)`.

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


def causal_weighting(spec: Causal, problem) -> CausalWeighting:
    """The causal strategy `spec` describes, for `problem`'s time interval and coordinate order.

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
        chunks=int(spec.chunks),
        epsilons=spec.schedule or (float(spec.epsilon),),
        threshold=float(spec.threshold),
        time_index=index,
        patience=int(spec.patience),
        t0=float(lo[index]),
        t1=float(hi[index]),
    )


def balance_weighting(
    spec: Balance, parameters: Sequence[Tensor], *, reduce: Callable | None = None
) -> BalanceWeighting:
    """The balancing strategy `spec` describes, over `parameters` (the model's and the
    problem's learned ones); `reduce` as in `BalanceWeighting`."""
    return BalanceWeighting(
        parameters, every=int(spec.every), alpha=float(spec.alpha), reduce=reduce
    )
