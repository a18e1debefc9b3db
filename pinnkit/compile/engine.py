"""Derivative engines: the interface (`AbstractEngine`) that evaluates a derivative plan on a
batch of points, and its plain-autograd and torch.func forward-mode implementations.

Taylor mode is `pinnkit.compile.taylor`; the `"auto"` choice between engines is
`pinnkit.compile.auto`. The engines agree to round-off (tests check this).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from pinnkit.compile.plan import DerivativePlan, Partial

__all__ = ["AbstractEngine", "AutogradEngine", "ForwardEngine"]


class AbstractEngine(abc.ABC):
    """Computes every partial of a `DerivativePlan` for a batch of points.

    Contract: `evaluate(model, points, plan)` returns one tensor of shape `(batch,)` per
    partial in `plan.closure`, differentiable with respect to the model's parameters
    (so the residual loss can be back-propagated). Rows are independent: the model must
    map each point on its own (no batch normalisation), which is what makes the
    derivative of a batch sum equal to each point's own derivative.
    """

    name: str

    @abc.abstractmethod
    def evaluate(
        self, model: nn.Module, points: Tensor, plan: DerivativePlan
    ) -> dict[Partial, Tensor]:
        """Field values and derivatives at `points` (batch, n_coords)."""

    def evaluate_many(
        self, model: nn.Module, jobs: Sequence[tuple[Tensor, DerivativePlan]]
    ) -> list[dict[Partial, Tensor]]:
        """`evaluate` for several (points, plan) pairs, in order. Engines that can share
        passes through the network between them (Taylor mode) override this; the results
        are the same."""
        return [self.evaluate(model, points, plan) for points, plan in jobs]

    def prepare(self, model: nn.Module, plans: Sequence[DerivativePlan]) -> None:
        """Build now whatever `evaluate_many` keeps per tuple of plans (for jobs with these
        plans, in this order), so that a traced call (torch.compile) finds it built."""


class AutogradEngine(AbstractEngine):
    """Reverse mode: one `torch.autograd.grad` call per partial that has children.

    One backward pass from a partial yields its derivative in *every* coordinate at once,
    so `u_x` and `u_t` come from one call, and `u_xx`, `u_xt` from the next.
    """

    name = "autograd"

    def evaluate(self, model, points, plan):
        points = points.detach().requires_grad_(True)
        with torch.enable_grad():
            out = model(points)
            values: dict[Partial, Tensor] = {}
            zero = (0,) * len(plan.coords)
            for j, f in enumerate(plan.fields):
                values[Partial(f, zero)] = out[:, j]
            gradients: dict[Partial, Tensor] = {}
            for partial in plan.closure:
                if partial.order == 0:
                    continue
                parent = partial.parent()
                if parent not in gradients:
                    grad = None  # a parent that is constant in the points has zero gradient
                    if values[parent].requires_grad:
                        (grad,) = torch.autograd.grad(
                            values[parent].sum(), points, create_graph=True, allow_unused=True
                        )
                    gradients[parent] = grad if grad is not None else torch.zeros_like(points)
                values[partial] = gradients[parent][:, partial.direction()]
        return {p: values[p] for p in plan.closure}


class ForwardEngine(AbstractEngine):
    """Forward mode with `torch.func.jvp`: nested Jacobian-vector products along chains.

    Each needed partial lies on a chain of coordinate directions (`u -> u_x -> u_xx`); one
    nested `jvp` per chain returns every level of it, so shared prefixes cost nothing extra.
    No `vmap` is needed because rows are independent: the tangent is the unit vector of the
    coordinate on every row.
    """

    name = "func"

    def evaluate(self, model, points, plan):
        points = points.detach()
        values: dict[Partial, Tensor] = {}
        zero = (0,) * len(plan.coords)
        for chain in _chains(plan):
            levels = _nested(model, points, [p.direction() for p in chain[1:]])
            for partial, value in zip(chain, levels):
                column = plan.fields.index(partial.field)
                values.setdefault(partial, value[:, column])
        if not values:
            out = model(points)
            for j, f in enumerate(plan.fields):
                values[Partial(f, zero)] = out[:, j]
        for j, f in enumerate(plan.fields):
            if Partial(f, zero) not in values:
                values[Partial(f, zero)] = model(points)[:, j]
        return {p: values[p] for p in plan.closure}


def _chains(plan: DerivativePlan) -> list[list[Partial]]:
    """Cover the closure by root-to-leaf chains of the parent tree (one per leaf)."""
    parents = {p.parent() for p in plan.closure if p.order > 0}
    leaves = [p for p in plan.closure if p not in parents]
    chains = []
    for leaf in sorted(leaves, key=lambda p: -p.order):
        chain = [leaf]
        while chain[-1].parent() is not None:
            chain.append(chain[-1].parent())
        chains.append(chain[::-1])
    return chains


def _nested(model: nn.Module, points: Tensor, directions: list[int]) -> list[Tensor]:
    """[f, D_d1 f, D_d1 D_d2 f, ...] at `points` by nested forward-mode products."""

    def level(depth: int):
        if depth == 0:
            return lambda p: (model(p),)
        inner = level(depth - 1)
        tangent = torch.zeros_like(points)
        tangent[:, directions[depth - 1]] = 1.0

        def fn(p):
            primal, dual = torch.func.jvp(inner, (p,), (tangent,))
            return (*primal, dual[-1])

        return fn

    return list(level(len(directions))(points))
