"""Residual-based adaptive sampling (RAR): add collocation points where the residual is
largest, and keep them.

A sampler strategy maps the domain, the trainer's random generator and its own small state
to points and a new state; it never steps the optimiser.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinnkit.config import RAR
from pinnkit.domain import AbstractDomain

__all__ = ["AbstractSampler", "RARState", "RARSampler", "rar_sampler"]


class AbstractSampler(abc.ABC):
    """Chooses collocation points: `sample(domain, generator, state) -> (points, state)`.

    `generator` is the trainer's `numpy.random.Generator` (seeded from `config.seed` and
    checkpointed), the only source of randomness. `points` is a `(batch, n_coords)` tensor
    in `domain.coords` order; `state` is a small frozen dataclass that the trainer
    checkpoints, so that a resumed run draws and keeps exactly the points an uninterrupted
    one would.

    Contract: a sampler never steps the optimiser and never mutates the model.
    """

    @abc.abstractmethod
    def init(self) -> Any:
        """The state before the first step."""

    @abc.abstractmethod
    def sample(
        self, domain: AbstractDomain, generator: np.random.Generator, state: Any
    ) -> tuple[Tensor, Any]:
        """Points for this step and the state after it."""

    @abc.abstractmethod
    def state_dict(self, state: Any) -> dict:
        """`state` as plain values and tensors (for a `weights_only` checkpoint)."""

    @abc.abstractmethod
    def load_state_dict(self, data: dict) -> Any:
        """The state that `state_dict` wrote."""


@dataclass(frozen=True, eq=False)
class RARState:
    """`points`: the added points `(n, n_coords)` (None before the first refinement).
    `calls`: steps taken (a refinement happens when `calls > 0` and `calls % every == 0`)."""

    points: Tensor | None = None
    calls: int = 0


class RARSampler(AbstractSampler):
    """RAR (see `RAR`); build with `rar_sampler(spec, score, dtype=..., device=...)`.

    `sample` returns the persistent set (empty `(0, n_coords)` before the first
    refinement), which the trainer concatenates to the interior batch.
    """

    def __init__(
        self,
        score: Callable[[Tensor], Tensor],
        *,
        every: int,
        candidates: int,
        add: int,
        max_points: int,
        dtype: torch.dtype,
        device: torch.device,
    ):
        self.score = score
        self.every = every
        self.candidates = candidates
        self.add = add
        self.max_points = max_points
        self.dtype = dtype
        self.device = device

    def init(self) -> RARState:
        return RARState()

    def sample(
        self, domain: AbstractDomain, generator: np.random.Generator, state: RARState
    ) -> tuple[Tensor, RARState]:
        points = state.points
        if points is None:
            points = torch.empty((0, len(domain.coords)), dtype=self.dtype, device=self.device)
        room = self.max_points - points.shape[0]
        if state.calls > 0 and state.calls % self.every == 0 and room > 0:
            points = torch.cat([points, self.refine(domain, generator, min(self.add, room))])
        return points, RARState(points, state.calls + 1)

    def refine(self, domain: AbstractDomain, generator: np.random.Generator, n: int) -> Tensor:
        """The `n` of `candidates` fresh interior points with the largest score."""
        drawn = domain.sample("interior", self.candidates, generator).points
        candidates = torch.as_tensor(drawn, dtype=self.dtype, device=self.device)
        # Residuals need derivatives of the model, so autograd stays on (the polish may run
        # under no_grad); the graph is dropped as soon as the score is detached.
        with torch.enable_grad():
            score = self.score(candidates).detach()
        top = torch.topk(score, n).indices
        return candidates[top]

    def state_dict(self, state: RARState) -> dict:
        data: dict = {"calls": int(state.calls)}
        if state.points is not None:
            data["points"] = state.points.detach()
        return data

    def load_state_dict(self, data: dict) -> RARState:
        points = data.get("points")
        if points is not None:
            points = points.to(device=self.device, dtype=self.dtype)
        return RARState(points, int(data["calls"]))


def rar_sampler(
    spec: RAR, score: Callable[[Tensor], Tensor], *, dtype: torch.dtype, device: torch.device
) -> RARSampler:
    """The RAR strategy `spec` describes; `score(points) -> (batch,)` is $\\sum_k r_k^2$ at
    the points for the current model (the trainer's loss assembly supplies it)."""
    return RARSampler(
        score,
        every=int(spec.every),
        candidates=int(spec.candidates),
        add=int(spec.add),
        max_points=int(spec.max_points),
        dtype=dtype,
        device=device,
    )
