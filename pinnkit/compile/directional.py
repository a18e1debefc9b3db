"""Directional derivatives of a model along a few directions at once, by Taylor mode: the
jets that the vector operators (`pinnkit.compile.operators`) and their stochastic
estimators (STDE) are built from.

The K directions are treated as K pseudo-coordinates: the Taylor engine
(`pinnkit.compile.taylor`) propagates the pure multi-indices $k e_j$ (k = 1..order) through
the network, with the first-order tangent of pseudo-coordinate j equal to the direction
$v_j$ rather than a unit vector. A univariate jet along $v_j$ is exactly
$\\partial^k / \\partial \\epsilon^k \\, u(x + \\epsilon v_j)$, so no mixed terms are carried
(Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator", NeurIPS 2024).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor, nn

from pinnkit.compile.plan import DerivativePlan, Partial
from pinnkit.compile.schedule import Schedule, build_schedule
from pinnkit.compile.taylor import _propagate, supports_taylor
from pinnkit.models.boundary import ExactBoundary
from pinnkit.models.constraints import ExactInitial

__all__ = ["directional_jets", "supports_directional"]


def supports_directional(model: nn.Module) -> str | None:
    """None when `directional_jets` propagates Taylor jets through `model` itself, else why
    not: the exact-value wrappers (an `ExactBoundary` around a network that Taylor mode
    supports still gets Taylor jets, combined with its distance function by Leibniz's
    rule) and every module `supports_taylor` refuses fall back to nested `torch.func.jvp`."""
    if isinstance(model, (ExactInitial, ExactBoundary)):
        return f"model ({type(model).__name__}: exact-value wrapper)"
    return supports_taylor(model)


def directional_jets(model: nn.Module, points: Tensor, directions: Tensor, order: int) -> Tensor:
    """Directional derivatives of `model` along each of `directions`, orders 1 to `order`.

    Returns $\\frac{d^k}{d\\epsilon^k} f(x + \\epsilon v_j)\\big|_{\\epsilon = 0}$ for every
    point x, direction $v_j$ and k = 1..order. The directions are the same for every point
    (one broadcast row each), so the first layer costs O(K D width), not O(K N D width).

    **Arguments**

    - `points`: (N, D), the model's input columns.
    - `directions`: (K, D), one direction per row (not normalised).
    - `order`: the highest derivative order, >= 1.

    **Returns**

    (order, K, N, F) with F the model's outputs; entry [k - 1, j] is the k-th derivative
    along direction j. Differentiable with respect to the model's parameters.

    **Raises**

    `ValueError` for directions of the wrong shape or an order below 1.
    """
    if directions.dim() != 2 or directions.shape[1] != points.shape[1]:
        raise ValueError(
            f"directional_jets: directions have shape {tuple(directions.shape)}; expected "
            f"(K, {points.shape[1]}), one row per direction over the points' columns."
        )
    if order < 1:
        raise ValueError(f"directional_jets: order {order!r}; expected an int >= 1.")
    points = points.detach()
    directions = directions.detach().to(dtype=points.dtype, device=points.device)
    count = directions.shape[0]
    if isinstance(model, ExactBoundary) and supports_directional(model.inner) is None:
        return _exact_boundary_jets(model, points, directions, order)
    if supports_directional(model) is not None:
        return _jvp_jets(model, points, directions, order)
    schedule = _schedule(count, order)
    jet = _propagate(model, points, schedule, "model", len(points), directions)
    # Rows are sorted by order, then by pseudo-coordinate (`_schedule` checks this).
    return jet.tangents.reshape(order, count, *jet.tangents.shape[1:])


def _exact_boundary_jets(model: ExactBoundary, points: Tensor, directions: Tensor, order: int):
    """Jets of $u = G + \\phi N$ (`ExactBoundary`) by Leibniz's rule along each direction,
    $\\partial^k(\\phi N) = \\sum_m \\binom{k}{m} \\partial^m \\phi\\, \\partial^{k-m} N$: the
    network's jets by Taylor mode, those of the parameter-free $\\phi$ and $G$ by nested
    `torch.func.jvp` (a ball's sphere: a quadratic, cheap in any dimension)."""
    count = directions.shape[0]
    jet = _propagate(
        model.inner, points, _schedule(count, order), "model.inner", len(points), directions
    )
    tangents = jet.tangents.reshape(order, count, *jet.tangents.shape[1:])
    inner = torch.cat([jet.value.expand(1, count, *jet.value.shape), tangents])
    blend = _sphere_blend_jets(model, points, directions, order)
    if blend is None:
        blend = _jvp_jets(model.blend, points, directions, order)  # (order, K, N, 2m)
        blend = torch.cat([model.blend(points).expand(1, count, -1, -1), blend])
    columns = list(inner.unbind(-1))
    for i, (j, _) in enumerate(model.fields):
        phi, values, net = blend[..., 2 * i], blend[..., 2 * i + 1], inner[..., j]
        rows = [
            values[k] + sum(math.comb(k, m) * phi[m] * net[k - m] for m in range(k + 1))
            for k in range(1, order + 1)
        ]
        columns[j] = torch.cat([net[:1], torch.stack(rows)])
    return torch.stack(columns, dim=-1)[1:]


def _sphere_blend_jets(model: ExactBoundary, points: Tensor, directions: Tensor, order: int):
    """`(order + 1, K, N, 2m)` jets of $\\phi$ and $G$ in closed form when every exact field
    has one constant value on one sphere (a ball's boundary, the STDE problems), else None:
    along $v$, $\\phi = s (r^2 - |x - c|^2) / (2r)$ has $\\phi' = -s (x - c) \\cdot v / r$,
    $\\phi'' = -s |v|^2 / r$ and no higher derivatives, and $G$ is the constant."""
    pieces = []
    for _, name in model.fields:
        parts = model.parts[name]
        if len(parts) != 1 or len(parts[0].distances) != 1 or parts[0].value.free_symbols:
            return None
        piece = parts[0].distances[0]
        if piece.kind != "sphere" or piece.columns != tuple(
            range(piece.columns[0], piece.columns[-1] + 1)
        ):
            return None
        pieces.append((piece, float(parts[0].value)))
    count, n = directions.shape[0], points.shape[0]
    rows = []
    for piece, value in pieces:
        *center, radius = piece.data
        a, b = piece.columns[0], piece.columns[-1] + 1
        offset = points[:, a:b] - points.new_tensor(center)
        v = directions[:, a:b]
        jets = [((radius**2 - (offset**2).sum(1)) / (2 * radius)).expand(count, n)]
        jets.append(-(v @ offset.T) / radius)
        jets.append(-(v**2).sum(1, keepdim=True).expand(count, n) / radius)
        jets += [jets[0].new_zeros(count, n)] * max(0, order - 2)
        phi = piece.sign * torch.stack(jets[: order + 1])
        values = torch.zeros_like(phi)
        values[0] = value
        rows += [phi, values]
    return torch.stack(rows, dim=-1)


@functools.lru_cache(maxsize=32)
def _schedule(count: int, order: int) -> Schedule:
    """The Taylor schedule of the pure multi-indices k e_j, j < count, k <= order. A pure
    function of its arguments, memoised: building it for thousands of directions is the
    costly part of a small evaluation."""
    coords = tuple(f"e{j}" for j in range(count))

    def index(j: int, k: int) -> tuple[int, ...]:
        return (0,) * j + (k,) + (0,) * (count - j - 1)

    rows = [index(j, k) for k in range(1, order + 1) for j in range(count)]
    needed = tuple(Partial("f", a) for a in rows)
    closure = (Partial("f", (0,) * count), *needed)
    schedule = build_schedule(DerivativePlan(coords, ("f",), needed, closure))
    if list(schedule.indices[1:]) != rows:
        raise AssertionError("directional schedule rows out of order; this is a bug in pinnkit")
    return schedule


def _jvp_jets(model: nn.Module, points: Tensor, directions: Tensor, order: int) -> Tensor:
    """`directional_jets` by nested `torch.func.jvp`, one direction at a time (the fallback
    for models the Taylor engine cannot propagate through, and its check in the tests)."""
    out = []
    for direction in directions:
        tangent = direction.expand_as(points).contiguous()
        levels = _nested_along(model, tangent, order)(points)
        out.append(torch.stack(levels[1:]))
    return torch.stack(out, dim=1)


def _nested_along(model: nn.Module, tangent: Tensor, depth: int):
    """A function of the points returning (f, D f, ..., D^depth f), D along `tangent`."""
    if depth == 0:
        return lambda p: (model(p),)
    inner = _nested_along(model, tangent, depth - 1)

    def fn(p):
        primal, dual = torch.func.jvp(inner, (p,), (tangent,))
        return (*primal, dual[-1])

    return fn
