"""Derivatives of the parameter-free parts of an exact-boundary model (`ExactBoundary`):
the jets of the distance function $\\phi$ and of the blended values $G$, and Leibniz's
coefficients that combine them with the network's jet (`pinnkit.compile.taylor`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pinnkit.compile.schedule import Schedule

__all__ = ["blend_jets", "leibniz"]


def blend_jets(model, points: Tensor, schedule: Schedule) -> Tensor:
    """`(K + 1, batch, 2 * n_exact)`: the partials of $\\phi$ and $G$ of each exact field
    (`ExactBoundary.blend`) for every multi-index of the schedule. They have no parameters,
    so they are kept for the last few point sets (`model.jets`). Computed by repeated
    autograd of column sums (the blend is pointwise): one backward pass per column and
    differentiated multi-index (Kovasznay's 8 exact sides, 2,000 points, second order:
    140-180 ms, against 210-230 ms by `vmap(jacfwd)` and 280 ms by nested `jvp`; the
    blend itself takes 1 ms, so closed-form jets of the distance functions are the next
    step); inside `torch.func` transforms (per-point Jacobians), where autograd cannot run,
    by nested `jacfwd` over single points under `vmap`."""
    cached = model.jets.get(points, schedule.indices)
    if cached is not None:
        return cached
    if torch._C._functorch.is_functorch_wrapped_tensor(points):
        jets = _blend_jets_functorch(model, points, schedule)
    else:
        jets = _blend_jets_autograd(model, points, schedule)
    return model.jets.put(points, schedule.indices, jets)


def _blend_jets_autograd(model, points: Tensor, schedule: Schedule) -> Tensor:
    top = max(sum(a) for a in schedule.indices)
    with torch.enable_grad():
        q = points.detach().clone().requires_grad_(True)
        table = {schedule.indices[0]: model.blend(q)}  # index 0 is the value
        gradients: dict = {}
        for a in sorted(schedule.indices[1:], key=sum):
            i = max(j for j, k in enumerate(a) if k)
            parent = a[:i] + (a[i] - 1,) + a[i + 1 :]
            if parent not in gradients:
                values = table[parent]
                gradients[parent] = [
                    torch.autograd.grad(
                        values[:, c].sum(), q, create_graph=sum(a) < top, retain_graph=True
                    )[0]
                    for c in range(values.shape[1])
                ]
            table[a] = torch.stack([g[:, i] for g in gradients[parent]], dim=1)
    return torch.stack([table[a].detach() for a in schedule.indices])


def _blend_jets_functorch(model, points: Tensor, schedule: Schedule) -> Tensor:
    def one(p: Tensor) -> Tensor:
        return model.blend(p[None])[0]

    by_order, fn = [], one
    for _ in range(max(sum(a) for a in schedule.indices) + 1):
        by_order.append(torch.func.vmap(fn)(points))  # (batch, 2m, d, ..., d)
        fn = torch.func.jacfwd(fn)
    rows = []
    for a in schedule.indices:
        index = tuple(i for i, k in enumerate(a) for _ in range(k))
        rows.append(by_order[len(index)][(slice(None), slice(None), *index)])
    return torch.stack(rows)


def leibniz(a: tuple[int, ...]) -> list[tuple[tuple[int, ...], int]]:
    """Every multi-index b <= a with its coefficient prod_i C(a_i, b_i)."""
    out = [((), 1)]
    for k in a:
        out = [(b + (j,), c * math.comb(k, j)) for b, c in out for j in range(k + 1)]
    return out
