"""The residuals as one weighted vector $r(\\theta)$ with $\\|r\\|^2$ the loss, and its
Jacobian $J = \\partial r / \\partial \\theta$ over every trained tensor, in blocks of rows
(what Gauss-Newton and Levenberg-Marquardt stages solve with).

For each term $k$ of weight $w_k \\ne 0$ with $n_k$ residual rows, $r_k = \\sqrt{w_k / n_k}\\,
\\mathrm{residual}_k$, stacked in `term_names` order, so $\\|r\\|^2 = \\sum_k w_k
\\operatorname{mean}(\\mathrm{residual}_k^2)$, the trainer's loss with fixed weights. $\\theta$
is `list(model.parameters()) + list(residuals.parameters())` flattened in that order (the
trainer's parameter list): the model, then the learned constants (raw: logarithms for
`log=True`) and the Hidden networks.

**How $J$ is computed.** Each residual row depends on one point only (the engines'
contract), so a row of $J$ is the parameter gradient of one point's residual: for a
`CompiledProblem`, `torch.func.vmap` over the points of `torch.func.jacrev` over the
parameters (through `functional_call`) of the residuals at that single point, one region at a
time, `chunk` points per call. `torch.autograd.grad` on the points does not run inside
torch.func transforms, so the autograd engine cannot be used there: the Jacobian is taken
through a shallow copy of the residuals with the Taylor engine (pure forward operations, the
fastest), or the torch.func engine for models Taylor mode cannot propagate through; the
engines agree to round-off (`ENGINE_RTOL` in the tests), and the copy shares every tensor
with the original, which is never changed. Any other `AbstractResiduals` (the Lagrangian
rewrite) falls back to `torch.autograd.grad(..., is_grads_batched=True)` with one-hot
cotangents on the whole batch, `chunk` rows per call: correct for any residuals, but each
row costs a backward pass over the whole batch.

Measured on the Burgers problem (3 x 20 tanh MLP, 921 parameters; 2000 interior, 200
initial and 100 boundary points; 2300 x 921 $J$; float64, 2 threads on the 2-core CPU
while other jobs ran on it (load average 5-9), so the times are the best of 3 and spread
by up to 5x between runs; the two slowest rows are one chunk's time times the chunks;
the script was not kept):

| method | ms |
|---|---|
| vmap(grad) per point, Taylor engine, all points in one call | 563 |
| vmap(jacrev) per point, Taylor engine, 512 points per call (`jacobian`; default 1024) | 773 |
| vmap(grad) per point, Taylor engine, 512 points per call | 790 |
| vmap(grad) per point, torch.func engine, 512 points per call | 4,146 |
| autograd.grad, is_grads_batched, one-hot rows, residuals of 64 points at a time, Taylor | 7,739 |
| the same with the autograd engine | 9,061 |
| the same on 256-point batches, Taylor | 12,030 |
| autograd.grad, is_grads_batched, whole batch, 256 rows per call (autograd) | ~100,000 |
| forward mode: jvp over 64 parameter directions per call (vmap), Taylor | ~37,000 |
| the same through the torch.func engine | ~48,000 |

Per-point reverse mode wins because it costs about one backward pass per point, while
batched one-hot cotangents cost one backward pass over the whole batch per row, and
forward mode one forward pass over the whole batch per parameter. `jacobian` itself
(vmap(jacrev), 1024 points per call) measured 680 ms through the Taylor copy of
autograd-engine residuals, while one loss gradient took 36 ms in the same run: $J$ costs
about 15-20 loss gradients here.

Does not yet support: `compile=True` inside the Jacobian (the copy runs eagerly), and
data-parallel runs (each rank would form its own rows; $J^T J$ and $J^T r$ would then be
summed over ranks).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pinnkit.compile.base import AbstractResiduals, Batch
from pinnkit.compile.compiled import CompiledProblem
from pinnkit.compile.engine import ForwardEngine
from pinnkit.compile.taylor import TaylorEngine, supports_taylor

__all__ = [
    "Rows",
    "trained_parameters",
    "residual_vector",
    "jacobian",
    "jacobian_rows",
]

#: Rows of $J$ computed per call (points per `vmap` call, or one-hot rows per batched
#: backward in the fallback): on Burgers 3 x 20 the Jacobian block of 1024 points takes
#: ~7 MB (float64), and the per-point intermediates a few times that.
DEFAULT_CHUNK = 1024


@dataclass(frozen=True)
class Rows:
    """A block of rows of the weighted residual vector and its Jacobian.

    - `index`: (b,) positions of the rows in `residual_vector`'s order.
    - `residual`: (b,) the rows of $r$ (times the sketch scale, if any).
    - `jacobian`: (b, n_params) the rows of $J$ (same scale), detached.
    """

    index: Tensor
    residual: Tensor
    jacobian: Tensor


def trained_parameters(residuals: AbstractResiduals, model: nn.Module) -> list[Tensor]:
    """The tensors $J$ differentiates by, in its column order: the model's parameters,
    then the residuals' (learned constants, Hidden networks)."""
    return list(model.parameters()) + list(residuals.parameters())


def residual_vector(
    residuals: AbstractResiduals,
    model: nn.Module,
    batches: Mapping[str, Batch],
    weights: Mapping[str, float],
) -> Tensor:
    """The weighted residual vector $r$ whose squared norm is the loss.

    **Arguments**

    - `residuals`, `model`: what is trained.
    - `batches`: region -> points, as for `residuals.residuals` (data regions default to
      their observation points).
    - `weights`: term -> fixed loss weight (`pinnkit.build.loss_weights`; missing terms
      weigh 1). Terms of weight 0 are left out.

    **Returns**

    (rows,) tensor, differentiable: $r_k = \\sqrt{w_k / n_k}\\, \\mathrm{residual}_k$ stacked
    in `residuals.term_names` order.
    """
    values = residuals.residuals(model, batches)
    parts = [
        math.sqrt(w / values[k].numel()) * values[k]
        for k in residuals.term_names
        if (w := float(weights.get(k, 1.0))) != 0
    ]
    return torch.cat(parts)


def jacobian(
    residuals: AbstractResiduals,
    model: nn.Module,
    batches: Mapping[str, Batch],
    weights: Mapping[str, float],
    *,
    chunk: int = DEFAULT_CHUNK,
) -> Tensor:
    """$J = \\partial r / \\partial \\theta$ of `residual_vector`, (rows, n_params).

    Same arguments as `residual_vector`, plus `chunk`: rows computed per call (memory
    bounded by `chunk` times the per-point cost; default `DEFAULT_CHUNK`). The columns are
    `trained_parameters(residuals, model)` flattened in order. For many rows prefer
    `jacobian_rows`, which never holds $J$ whole.
    """
    params = trained_parameters(residuals, model)
    n_params = sum(p.numel() for p in params)
    blocks = list(jacobian_rows(residuals, model, batches, weights, chunk=chunk))
    rows = sum(b.index.numel() for b in blocks)
    out = params[0].new_zeros(rows, n_params) if params else torch.zeros(rows, 0)
    for b in blocks:
        out[b.index] = b.jacobian
    return out


def jacobian_rows(
    residuals: AbstractResiduals,
    model: nn.Module,
    batches: Mapping[str, Batch],
    weights: Mapping[str, float],
    *,
    chunk: int = DEFAULT_CHUNK,
    sample: int | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[Rows]:
    """The rows of $r$ and $J$ in blocks of at most `chunk` points' rows (see `Rows`).

    Every row is yielded exactly once (not necessarily in order: `Rows.index` says where
    each goes); $J^T J = \\sum_\\text{blocks} J_b^T J_b$, $J^T r$ likewise.

    **Arguments**

    - `residuals`, `model`, `batches`, `weights`: as for `residual_vector`.
    - `chunk`: points (or fallback rows) per call (default `DEFAULT_CHUNK`).
    - `sample`: a row sketch: yield only `sample` rows drawn uniformly without replacement
      from all `R` rows (by `generator`), each scaled by $\\sqrt{R / m}$, so that the
      sketched $J_S^T J_S$, $J_S^T r_S$ and $\\|r_S\\|^2$ are unbiased estimates of the full
      ones. Only the sampled rows' points are differentiated. None (default): every row.
    - `generator`: draws the sketch (required with `sample`).

    **Raises**

    `ValueError` for `sample` without a generator or outside 1..R.
    """
    params = trained_parameters(residuals, model)
    with torch.no_grad():
        layout = _layout(residuals, model, batches, weights)
    total = layout.rows
    keep = None
    scale = 1.0
    if sample is not None:
        if generator is None or not 1 <= sample <= total:
            raise ValueError(
                f"jacobian_rows: sample={sample} needs a generator and 1 <= sample <= "
                f"{total} (the rows). Fix: `sample=min(m, rows), generator=...`."
            )
        device = generator.device
        keep = torch.randperm(total, generator=generator, device=device)[:sample]
        keep = keep.sort().values.to(layout.device)
        scale = math.sqrt(total / sample)
    if isinstance(residuals, CompiledProblem):
        blocks = _per_point(residuals, model, params, layout, keep, chunk)
    else:
        blocks = _batched_rows(residuals, model, params, batches, weights, keep, chunk)
    for b in blocks:
        if scale != 1.0:
            b = Rows(b.index, b.residual * scale, b.jacobian * scale)
        yield b


# -- the layout of r -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    name: str
    region: str
    offset: int  # first row in r
    rows: int  # rows in r
    points: int  # points of its region (rows = points * rows_per_point)
    scale: float  # sqrt(w / rows)


@dataclass(frozen=True)
class _Layout:
    terms: tuple[_Term, ...]
    rows: int
    batches: Mapping[str, Batch]  # every region's batch, data regions included
    device: torch.device


def _layout(residuals, model, batches, weights) -> _Layout:
    """Where each kept term's rows sit in $r$ (from one evaluation of the residuals)."""
    full = dict(batches)
    if isinstance(residuals, CompiledProblem):
        full = {**residuals.data_batches(), **full}
        region_of = {t: g.region for g in residuals.groups for t in g.terms}
    else:
        region_of = {}
    values = residuals.residuals(model, full)
    terms, offset = [], 0
    for k in residuals.term_names:
        w = float(weights.get(k, 1.0))
        if w == 0:
            continue
        n = values[k].numel()
        region = region_of.get(k, "")
        points = full[region].points.shape[0] if region in full else n
        terms.append(_Term(k, region, offset, n, points, math.sqrt(w / n)))
        offset += n
    device = next(iter(values.values())).device
    return _Layout(tuple(terms), offset, full, device)


# -- per-point reverse mode (CompiledProblem) ------------------------------------------------


class _Both(nn.Module):
    """The model and the residuals under one module, so that one `functional_call` swaps
    every trained tensor (names `model.*`, then `residuals.*`, as `trained_parameters`)."""

    def __init__(self, model: nn.Module, residuals: AbstractResiduals):
        super().__init__()
        self.model = model
        self.residuals = residuals

    def forward(self, batches):
        return self.residuals.residuals(self.model, batches)


def _vmappable(residuals: CompiledProblem, model: nn.Module) -> CompiledProblem:
    """`residuals` itself when its engine runs inside torch.func transforms, else a shallow
    copy (sharing every tensor and submodule) with the Taylor engine, or the torch.func
    engine where Taylor mode cannot propagate through `model`."""
    if isinstance(residuals.engine, (TaylorEngine, ForwardEngine)) and not residuals.compile:
        return residuals
    twin = copy.copy(residuals)
    twin.engine = TaylorEngine() if supports_taylor(model) is None else ForwardEngine()
    twin.compile = False
    twin._compiled = {}
    return twin


def _per_point(residuals, model, params, layout: _Layout, keep, chunk) -> Iterator[Rows]:
    both = _Both(model, _vmappable(residuals, model))
    named = dict(both.named_parameters())
    if [id(p) for p in named.values()] != [id(p) for p in params]:
        raise AssertionError("parameters out of trained_parameters' order; a bug in pinnkit")
    theta = {k: v.detach() for k, v in named.items()}
    buffers = dict(both.named_buffers())
    # Every region but the one differentiated gets one point: evaluated once per call,
    # outside the vmap, and not differentiated.
    dummy = {
        r: Batch(b.points[:1], None if b.normals is None else b.normals[:1])
        for r, b in layout.batches.items()
    }
    data = {g.region for g in residuals.groups if g.kind == "data"}
    by_region: dict[str, list[_Term]] = {}
    for term in layout.terms:
        by_region.setdefault(term.region, []).append(term)
    for region, terms in by_region.items():
        batch = layout.batches[region]
        n = batch.points.shape[0]
        device, dtype = batch.points.device, batch.points.dtype
        # Row j of a term belongs to point j % n (periodic terms stack their quantities,
        # data terms their fields, each over all points). Per point, its rows in r:
        per = [t.rows // n for t in terms]
        index = torch.cat(
            [
                t.offset
                + torch.arange(q, device=device)[:, None] * n
                + torch.arange(n, device=device)[None, :]
                for t, q in zip(terms, per)
            ]
        ).T  # (n, rows per point)
        scales = torch.cat(
            [torch.full((q,), t.scale, dtype=dtype, device=device) for t, q in zip(terms, per)]
        )
        chosen = (
            torch.ones_like(index, dtype=torch.bool) if keep is None else torch.isin(index, keep)
        )
        points = torch.nonzero(chosen.any(1)).flatten()
        rowwise = _point_function(both, buffers, dummy, region, terms, per, n, region in data)
        with_normals = batch.normals is not None
        per_point = torch.func.vmap(
            torch.func.jacrev(rowwise, has_aux=True),
            in_dims=(None, 0, 0, 0 if with_normals else None),
        )
        for start in range(0, points.numel(), chunk):
            at = points[start : start + chunk]
            normals = batch.normals[at] if with_normals else None
            jac, value = per_point(theta, batch.points[at], at, normals)
            flat = torch.cat([jac[k].reshape(at.numel(), len(scales), -1) for k in named], dim=2)
            mask = chosen[at]
            yield Rows(
                index[at][mask],
                (value * scales)[mask],
                (flat * scales[None, :, None])[mask],
            )


def _point_function(both, buffers, dummy, region, terms, per, n, is_data):
    """One point's rows of `region`'s terms (unweighted) as a function of the parameters,
    and the same rows detached (jacrev's aux output)."""

    def rowwise(theta, point, at, normal):
        batches = dict(dummy)
        batches[region] = Batch(point[None], None if normal is None else normal[None])
        out = torch.func.functional_call(both, (theta, buffers), (batches,))
        parts = []
        for t, q in zip(terms, per):
            r = out[t.name]
            if is_data:  # this point's prediction minus every target: keep its own
                r = r.view(q, n).index_select(1, at[None]).view(q)
            parts.append(r.reshape(q))
        rows = torch.cat(parts)
        return rows, rows.detach()

    return rowwise


# -- fallback: one-hot cotangents on the whole batch -----------------------------------------


def _batched_rows(residuals, model, params, batches, weights, keep, chunk) -> Iterator[Rows]:
    with torch.enable_grad():
        r = residual_vector(residuals, model, batches, weights)
    rows = torch.arange(r.numel(), device=r.device) if keep is None else keep
    for start in range(0, rows.numel(), chunk):
        at = rows[start : start + chunk]
        onehot = r.new_zeros(at.numel(), r.numel())
        onehot[torch.arange(at.numel(), device=r.device), at] = 1
        grads = torch.autograd.grad(
            r, params, onehot, is_grads_batched=True, retain_graph=True, allow_unused=True
        )
        flat = torch.cat(
            [
                r.new_zeros(at.numel(), p.numel()) if g is None else g.reshape(at.numel(), -1)
                for g, p in zip(grads, params)
            ],
            dim=1,
        )
        yield Rows(at, r[at].detach(), flat)
