"""Loss assembly: the residuals' mean squares, weighted by the fixed weights and the
strategies (causal weights, gradient-norm balancing), on the step's points plus the data
and the RAR points.

`Loss` owns the strategies and their states (small dataclasses, checkpointed). A loss
evaluation proposes new states; `commit()` keeps them once the step they belong to has
succeeded, so a step the NaN guard rolls back leaves no trace in them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.compile import AbstractResiduals, Batch
from pinnkit.config import Config
from pinnkit.domain import AbstractDomain
from pinnkit.problem import Problem
from pinnkit.train.adaptive import RARSampler, rar_sampler
from pinnkit.train.distributed import World
from pinnkit.train.terms import LossTerms
from pinnkit.train.weighting import (
    BalanceWeighting,
    CausalWeighting,
    balance_weighting,
    causal_weighting,
)

__all__ = ["Loss"]


class Loss:
    """The loss of a run: $L = \\sum_k w_k \\lambda_k L_k$ with $L_k$ each term's mean square
    (causally weighted for the equations when `config.causal` is set), $w_k$ the fixed
    weights and $\\lambda_k$ the balancing weights (1 without `config.balance`).

    **Arguments**

    - `problem`, `residuals`: what is trained (the model is passed to each call).
    - `config`: reads `causal`, `balance` and `rar` (the strategy specs).
    - `weights`: the fixed weight of every term (`pinnkit.build.loss_weights`).
    - `params`: every trained tensor (the balancing gradients are taken over them).
    - `world`: the processes of a data-parallel run.
    - `dtype`, `device`: of the RAR points.
    """

    def __init__(
        self,
        problem: Problem,
        residuals: AbstractResiduals,
        config: Config,
        *,
        weights: Mapping[str, float],
        params: Sequence[Tensor],
        world: World,
        dtype: torch.dtype,
        device: torch.device,
    ):
        self.residuals = residuals
        self.weights = dict(weights)
        self.world = world
        self.equation_names = [e.name for e in problem.equations]
        self.data_batches = residuals.data_batches()
        self.causal: CausalWeighting | None = (
            causal_weighting(config.causal, problem) if config.causal is not None else None
        )
        reduce = world.sum_tensors if world.is_distributed else None
        self.balance: BalanceWeighting | None = (
            balance_weighting(config.balance, params, reduce=reduce)
            if config.balance is not None
            else None
        )
        self.rar: RARSampler | None = (
            rar_sampler(config.rar, self.equation_score, dtype=dtype, device=device)
            if config.rar is not None
            else None
        )
        self.states = {name: strategy.init() for name, strategy in self.strategies().items()}
        self._pending: dict = {}
        self._points: dict[str, Batch] = {}  # the sampled points of the current step
        self._model: nn.Module | None = None  # the model of the current step (RAR scores it)

    def strategies(self) -> dict:
        """The strategies in use, by name (`causal`, `balance`, `rar`)."""
        named = {"causal": self.causal, "balance": self.balance, "rar": self.rar}
        return {k: v for k, v in named.items() if v is not None}

    # -- points -------------------------------------------------------------------------------

    def batches(
        self,
        model: nn.Module,
        points: Mapping[str, Batch],
        *,
        domain: AbstractDomain | None = None,
        rng: np.random.Generator | None = None,
    ) -> dict[str, Batch]:
        """The step's batches: `points` (the sampled regions), the data points, and the RAR
        points appended to the interior. With `domain` and `rng` given, RAR takes its step
        first (it may add points where `model`'s residual is largest; its new state is kept
        at once, as the points are). With `rng` and stochastic residuals, the batches get a
        fresh seed for the operator estimators' random directions (without `rng` they keep
        theirs: the second-order stages hold one set of directions, as they hold points)."""
        if rng is not None and self.residuals.stochastic:
            # Fresh random directions for the operator estimators, from the run's stream.
            seed = int(rng.integers(2**62))
            points = {k: dataclasses.replace(b, seed=seed) for k, b in points.items()}
        self._points, self._model = dict(points), model
        if self.rar is not None and domain is not None:
            _, self.states["rar"] = self.rar.sample(domain, rng, self.states["rar"])
        batches = {**points, **self.data_batches}
        added = self.states["rar"].points if self.rar is not None else None
        if added is not None and "interior" in batches:
            interior = batches["interior"]
            batches["interior"] = dataclasses.replace(
                interior, points=torch.cat([interior.points, added])
            )
        return batches

    def equation_score(self, points: Tensor) -> Tensor:
        """$\\sum_k r_k^2$ over the equations at `points` (what RAR ranks candidates by)."""
        batches = {**self._points, **self.data_batches, "interior": Batch(points)}
        residuals = self.residuals.residuals(self._model, batches)
        return sum(residuals[k].detach().square() for k in self.equation_names)

    # -- the loss -----------------------------------------------------------------------------

    def evaluate(
        self, model: nn.Module, batches: Mapping[str, Batch], *, polish: bool = False
    ) -> LossTerms:
        """The loss terms of `model` and their weights at `batches`; the strategies' new
        states wait for `commit()`.

        In the L-BFGS polish (`polish=True`) the causal weights are recomputed under no_grad
        at each closure call and held constant within it (no gradient through them), and
        epsilon does not advance; the balancing weights stay at their last values.
        """
        if self.causal is None:
            local = self.residuals.mean_squares(model, batches)
        else:  # the causal weights need the residuals themselves
            residuals = self.residuals.residuals(model, batches)
            local = {k: r.square().mean() for k, r in residuals.items()}
        # The combined batch's terms: means over ranks of equal-sized per-rank means.
        terms = self.world.mean_terms(local)
        pending: dict = {}
        if self.causal is not None:
            times = batches["interior"].points[:, self.causal.time_index]
            chunks = {k: self._chunk_losses(residuals[k], times) for k in self.equation_names}
            causal, pending["causal"] = self.causal.weights(
                chunks, self.states["causal"], advance=not polish
            )
            terms.update({k: self.causal.loss(chunks[k], causal[k]) for k in chunks})
        weights = self.weights
        if self.balance is not None:
            state = self.states["balance"]
            if polish:
                lambdas = self.balance.current(state)
            else:
                active = {k: v for k, v in terms.items() if self.weights[k] != 0}
                lambdas, pending["balance"] = self.balance.weights(active, state)
            weights = {k: w * lambdas.get(k, 1.0) for k, w in self.weights.items()}
        self._pending = pending
        return LossTerms(terms, weights)

    def commit(self) -> None:
        """Keep the strategy states the last `evaluate` proposed (its step succeeded)."""
        self.states.update(self._pending)

    def _chunk_losses(self, residual: Tensor, times: Tensor) -> Tensor:
        """Causal chunk losses of the combined batch (sums and counts added over ranks)."""
        sums, counts = self.causal.chunk_sums(residual, times)
        return self.world.sum(sums) / self.world.sum(counts).clamp_min(1)

    def convert(self, dtype: torch.dtype) -> None:
        """Hold the data and RAR points in `dtype` (the run changed precision)."""
        self.data_batches = {k: b.to(dtype=dtype) for k, b in self.data_batches.items()}
        if self.rar is not None:
            self.rar.dtype = dtype
            state = self.states["rar"]
            if state.points is not None:
                self.states["rar"] = dataclasses.replace(state, points=state.points.to(dtype))

    # -- what the report reads ----------------------------------------------------------------

    def effective_weights(self) -> dict[str, float]:
        """The fixed weights times the balancing weights (when balancing is on)."""
        if self.balance is None:
            return dict(self.weights)
        lambdas = self.balance.current(self.states["balance"])
        return {k: w * lambdas.get(k, 1.0) for k, w in self.weights.items()}

    def metrics(self) -> dict:
        """The strategies' figures for a metrics line: the causal indicator and epsilon,
        the balancing weights, the number of RAR points."""
        row: dict = {}
        if self.causal is not None:
            state = self.states["causal"]
            row["causal_min_weight"] = state.min_weight
            row["causal_epsilon"] = self.causal.epsilon(state)
        if self.balance is not None:
            row["balance"] = self.balance.current(self.states["balance"])
        if self.rar is not None:
            points = self.states["rar"].points
            row["rar_points"] = 0 if points is None else int(points.shape[0])
        return row

    def stalled(self) -> str | None:
        """The causal schedule's stall note (`CausalWeighting.stalled`), or None."""
        return None if self.causal is None else self.causal.stalled(self.states["causal"])

    # -- checkpoint ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Every strategy's state as plain values and tensors."""
        return {name: s.state_dict(self.states[name]) for name, s in self.strategies().items()}

    def load_state_dict(self, saved: Mapping) -> None:
        """Restore what `state_dict` wrote (strategies it lacks keep their initial state)."""
        for name, strategy in self.strategies().items():
            if name in saved:
                self.states[name] = strategy.load_state_dict(saved[name])
