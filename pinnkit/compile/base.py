"""The one residuals interface: `AbstractResiduals`, which `CompiledProblem` and the
Lagrangian PINN's rewrite both implement, and the `Batch` of points it is evaluated on.

Everything above `pinnkit.compile` (the builder, the trainer, runs, discovery, the CLI)
talks to residuals through this interface only.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pinnkit.problem import Problem

__all__ = ["Batch", "AbstractResiduals", "learned_constants", "constant_values"]


@dataclass(frozen=True)
class Batch:
    """Points of one region as tensors: `points` (batch, n_coords), `normals` or None, and
    `seed`: where the residuals draw random directions for stochastic operator estimators
    (the trainer sets a fresh one every step from the run's stream; None draws with 0)."""

    points: Tensor
    normals: Tensor | None = None
    seed: int | None = None

    def to(self, device=None, dtype=None) -> Batch:
        normals = None if self.normals is None else self.normals.to(device=device, dtype=dtype)
        return Batch(self.points.to(device=device, dtype=dtype), normals, self.seed)


class AbstractResiduals(nn.Module, abc.ABC):
    """A problem's residuals as torch: `residuals(model, batches) -> {term: (batch,) tensor}`.

    The loss of a run is $\\sum_k w_k \\operatorname{mean}(r_k^2)$ over the terms $r_k$ this
    object returns; the trainer decides the weights and the points, this object only
    evaluates.

    **Contract**

    - `term_names` lists every term `residuals` returns, in a stable order; the same names
      are the loss terms, the metrics' keys and the keys of `Config.weights`.
    - `sample_regions` lists the regions whose points the trainer draws each step (from
      the domain region `domain_region(region)` names); `data_batches()` gives the fixed
      observation points of the data terms. `residuals` takes a mapping with both.
    - `residuals` and `mean_squares` are pure: they never mutate the model or this module
      and keep no cache between calls; `mean_squares(m, b)[k]` equals
      `residuals(m, b)[k].square().mean()` to round-off.
    - Learned constants (`pk.Parameter`) are `nn.Parameter`s of this module under
      `parameters_raw` (log-parametrised ones as logarithms; `parameter_values()` gives the
      values), and each `pk.Hidden` term's network is a submodule `hidden[name]`, so
      `.to()`, `parameters()` and `state_dict()` cover every trained tensor that is not the
      model's. `hidden_terms[name]` describes the term's inputs; `hidden_values` evaluates
      them (for discovery).
    - `stochastic` is True when some residual is a random estimate (vector operators by
      STDE or Hutchinson): the trainer then gives every step's batches a fresh `seed`.
    - `engine_name` is the derivative engine's name; `engines(model)` the engine each region
      runs with for `model`; `describe(model)` says what will be computed.

    **Arguments**

    - `problem`: the validated `Problem`.
    - `dtype`: of the learned constants.
    - `hidden`: name -> network of each Hidden term (default none).
    - `hidden_terms`: name -> `pinnkit.compile.hidden.HiddenTerm` (default none).
    """

    def __init__(
        self,
        problem: Problem,
        dtype: torch.dtype,
        *,
        hidden: Mapping[str, nn.Module] | None = None,
        hidden_terms: Mapping | None = None,
    ):
        super().__init__()
        self.problem = problem
        self.parameters_raw = learned_constants(problem, dtype)
        self.hidden = nn.ModuleDict(dict(hidden or {}))
        self.hidden_terms = dict(hidden_terms or {})

    @property
    def stochastic(self) -> bool:
        """Whether some residual is a random estimate (drawn from each batch's `seed`)."""
        return False

    def parameter_values(self) -> dict[str, Tensor]:
        """Current values of the learned constants (log-parametrised ones exponentiated)."""
        return constant_values(self.parameters_raw, self.problem)

    @property
    @abc.abstractmethod
    def term_names(self) -> list[str]:
        """Every residual term's name, in a stable order."""

    @property
    @abc.abstractmethod
    def sample_regions(self) -> list[str]:
        """Regions whose points the trainer must sample, in a stable order."""

    @property
    @abc.abstractmethod
    def engine_name(self) -> str:
        """The derivative engine's name (`auto`, `autograd`, ...)."""

    @abc.abstractmethod
    def domain_region(self, region: str) -> str:
        """The domain region `region`'s points are drawn from."""

    @abc.abstractmethod
    def data_batches(self) -> dict[str, Batch]:
        """The fixed observation points of each data term, on this module's device/dtype."""

    @abc.abstractmethod
    def residuals(self, model: nn.Module, batches: Mapping[str, Batch]) -> dict[str, Tensor]:
        """Every term's residual at its region's points: name -> (batch,) tensor."""

    @abc.abstractmethod
    def mean_squares(self, model: nn.Module, batches: Mapping[str, Batch]) -> dict[str, Tensor]:
        """Every term's mean square residual: name -> 0-d tensor."""

    @abc.abstractmethod
    def hidden_values(
        self, model: nn.Module, points: Tensor
    ) -> dict[str, tuple[dict[str, Tensor], Tensor]]:
        """Each Hidden term's inputs and output at `points` (empty without Hidden terms)."""

    @abc.abstractmethod
    def engines(self, model: nn.Module) -> dict[str, str]:
        """The derivative engine each sampled or data region runs with for `model`."""

    @abc.abstractmethod
    def describe(self, model: nn.Module | None = None) -> str:
        """What will be computed, readable (`pinnkit check` prints it)."""


def learned_constants(problem: Problem, dtype: torch.dtype) -> nn.ParameterDict:
    """One `nn.Parameter` per `pk.Parameter` of the problem, at its initial value (the
    logarithm of it for `log=True`)."""
    return nn.ParameterDict(
        {
            p.name: nn.Parameter(torch.tensor(math.log(p.init) if p.log else p.init, dtype=dtype))
            for p in problem.parameters
        }
    )


def constant_values(raw: nn.ParameterDict, problem: Problem) -> dict[str, Tensor]:
    """The learned constants' values from their raw parameters (`learned_constants`)."""
    log = {p.name: p.log for p in problem.parameters}
    return {k: (torch.exp(v) if log[k] else v) for k, v in raw.items()}
