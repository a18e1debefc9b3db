"""Taylor-mode derivative engine: forward propagation of exactly the partials a plan needs.

Every layer carries a `Jet`: the value `(batch, width)` and one stacked tensor of tangents
`(K, batch, width)`, the partial derivatives with respect to the input coordinates, one row
per multi-index of the plan's downward closure (every multi-index below a needed one;
`u_xt` needs `u_x` and `u_t`). An affine layer maps all K tangent rows with one matmul (the
derivatives of an affine map are linear) and the value with its own, the only one the bias
touches; until the first activation the tangents are the same at every point and stay one
broadcast row (`Jet`). An elementwise
activation $h = \\sigma(z)$ uses the multivariate Faà di Bruno formula

$$\\partial^{\\alpha} h = \\sum_{\\pi \\in \\Pi(\\alpha)} \\sigma^{(|\\pi|)}(z)
    \\prod_{B \\in \\pi} \\partial^{B} z,$$

the sum over the set partitions $\\pi$ of the $|\\alpha|$ derivatives of $\\alpha$
(Hardy, "Combinatorics of partial derivatives", 2006). Partitions with the same blocks
(as multi-indices) are merged with an integer count once per plan, so `u_xxx` costs
`3 z_x z_xx` rather than three products. The activation's derivatives come from the
ODEs it satisfies ($\\tanh' = 1 - \\tanh^2$, $s' = s - s^2$, ...), differentiated by
Leibniz's rule, so any order works (`pinnkit.compile._activations`).

There is no double backward: the residual is an ordinary function of the parameters, and
its gradient is one reverse pass through this forward computation, which is what makes the
engine fast for the small, deep-in-order networks of PINNs. It works on the networks that
`pinnkit.models.build_model` assembles from `Linear` layers, the activations of
`pinnkit.models.mlp`, input normalisation, the periodic embedding, Fourier features and the
exact-initial-value wrapper. Physics-Informed Gaussians and other modules are not supported
(`ConfigError`, or autograd under `engine="auto"`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from pinnkit.compile._activations import activation_derivatives, sin_derivatives
from pinnkit.compile._linear import linear
from pinnkit.compile.boundary_jets import blend_jets, leibniz
from pinnkit.compile.engine import AbstractEngine
from pinnkit.compile.plan import DerivativePlan, Partial
from pinnkit.compile.schedule import Schedule, build_schedule
from pinnkit.errors import ConfigError
from pinnkit.models.boundary import ExactBoundary
from pinnkit.models.constraints import ExactInitial
from pinnkit.models.field import FieldModel

__all__ = ["TaylorEngine", "UnsupportedModule", "supports_taylor"]

#: Raised (as `ConfigError`) when `engine="taylor"` meets a module it cannot propagate
#: through (key phrase: "cannot propagate").
UNSUPPORTED = (
    'engine "taylor" cannot propagate derivatives through {where} ({what}); it supports '
    "the networks `pk.MLP` builds (Linear layers with tanh, sin, sigmoid, silu, gelu or "
    "softplus), input normalisation, the periodic embedding, Fourier features and "
    "`exact_initial`. Fix: `--set engine=auto` (autograd for such models) or "
    "`--set engine=autograd`."
)


class UnsupportedModule(Exception):
    """Internal: a module the Taylor engine cannot propagate through (`where`, `what`)."""

    def __init__(self, where: str, what: str):
        super().__init__(where, what)
        self.where, self.what = where, what


# -- propagation -----------------------------------------------------------------------------


class Jet(NamedTuple):
    """A quantity and its partials: `value` (batch, width), `tangents` (K, rows, width).

    `rows` is the batch or fewer: then the tangents belong to the first `rows` points and
    the rest carry values only (`TaylorEngine.evaluate_many` puts points that need no
    derivatives last, so one pass serves both). Until the first activation the tangents
    are the same at every point (the coordinates' unit derivatives through affine maps)
    and are kept as (K, 1, width), broadcast: the first layer's tangent matmul and its
    gradient then cost nothing (on KdV 4 x 128 they took 11% of a compiled step, MKL
    running a (128 x 70000) @ (70000 x 2) weight gradient at 1.4 GFLOP/s).
    """

    value: Tensor
    tangents: Tensor
    rows: int

    def full(self) -> Jet:
        """The same jet with the tangents expanded to every one of their `rows`."""
        k, _, width = self.tangents.shape
        return Jet(self.value, self.tangents.expand(k, self.rows, width), self.rows)


def _fdb_products(partials: tuple[Tensor, ...], schedule: Schedule) -> list[Tensor]:
    """Per term of `schedule.terms`, the product of its tangent rows (without its count);
    `partials` are the tangent rows, `tangents.unbind(0)`."""
    out = []
    for term in schedule.terms:
        prod = partials[term.factors[0]]
        for r in term.factors[1:]:
            prod = prod * partials[r]
        out.append(prod)
    return out


def _compose(derivatives: list[Tensor], z: Jet, partials, products, schedule: Schedule) -> Jet:
    """Jet of $\\sigma(z)$ from $z$'s jet (its tangent rows `partials`:
    `z.tangents.unbind(0)`) and $\\sigma^{(m)}(z)$, m = 0..max_order.

    Row r of the result is $\\sigma'(z) z_r$ plus its Faà di Bruno terms (first-order rows
    have none), and one stack assembles them. The rows are read through one `unbind`, whose
    backward is one stack too: indexing row by row made every row's backward write a zeroed
    copy of the whole stack (eager KdV 4 x 128: a third of the step), and an in-place add
    on a slice would make autograd copy the stack as well.
    """
    if schedule.size == 0:
        return Jet(derivatives[0], z.tangents, z.rows)
    if z.rows != z.value.shape[0]:  # the points after `rows` carry values only
        derivatives = [derivatives[0], *(d[: z.rows] for d in derivatives[1:])]
    out = [derivatives[1] * partial for partial in partials]
    for term, prod in zip(schedule.terms, products):
        d = derivatives[term.blocks]
        out[term.target] = torch.addcmul(out[term.target], d, prod, value=term.count)
    return Jet(derivatives[0], torch.stack(out), z.rows)


def _elementwise(fn, z: Jet, schedule: Schedule) -> Jet:
    derivatives = fn(z.value, schedule.max_order)
    partials = z.tangents.unbind(0)
    return _compose(derivatives, z, partials, _fdb_products(partials, schedule), schedule)


#: Output widths up to which an affine layer is a broadcast product and a sum instead of a
#: matmul (see `_linear`).
NARROW = 4


def _linear(z: Jet, weight: Tensor, bias: Tensor | None) -> Jet:
    """One matmul for every tangent row; the bias shifts the value only. (Stacking value and
    tangents into one matmul measured no faster under torch.compile, and copies in eager.)
    Large float32 products on the CPU go through oneDNN (`pinnkit.compile._linear`).

    A narrow layer (at most `NARROW` outputs: a PINN's output layer) is a broadcast product
    and a sum: as a matmul its backward is an outer product, (rows x 1) @ (1 x width), that
    MKL runs at about 1 GFLOP/s (a tenth of the example's compiled step on 2 cores).
    """
    if weight.shape[0] <= NARROW:
        value = (z.value.unsqueeze(-2) * weight).sum(-1)
        value = value + bias if bias is not None else value
        return Jet(value, (z.tangents.unsqueeze(-2) * weight).sum(-1), z.rows)
    return Jet(linear(z.value, weight, bias), linear(z.tangents, weight), z.rows)


def _sequential(net: nn.Sequential, z: Jet, schedule: Schedule, where: str) -> Jet:
    for i, layer in enumerate(net):
        if isinstance(layer, nn.Linear):
            z = _linear(z, layer.weight, layer.bias)
            continue
        fn = activation_derivatives(layer)
        if fn is None:
            raise UnsupportedModule(f"{where}[{i}]", type(layer).__name__)
        z = _elementwise(fn, z, schedule)
    return z


def _cos_sin(angles: Jet, schedule: Schedule) -> list[Jet]:
    """Jets of cos(angles) and sin(angles), sharing the Faà di Bruno products."""
    partials = angles.tangents.unbind(0)
    products = _fdb_products(partials, schedule)
    n = schedule.max_order
    return [
        _compose(sin_derivatives(angles.value, n, phase=1), angles, partials, products, schedule),
        _compose(sin_derivatives(angles.value, n), angles, partials, products, schedule),
    ]


def _cat(jets: list[Jet]) -> Jet:
    if len({j.tangents.shape[1] for j in jets}) > 1:  # some broadcast, some not
        jets = [j.full() for j in jets]
    return Jet(
        torch.cat([j.value for j in jets], dim=-1),
        torch.cat([j.tangents for j in jets], dim=-1),
        jets[0].rows,
    )


def _field_model(
    model, points: Tensor, schedule: Schedule, where: str, rows: int, directions=None
) -> Jet:
    """Jets through `pinnkit.models.FieldModel` (normalise, periodic, Fourier, body, and
    the output map `offset + scale * body` of `MLP.scale`)."""
    raw = _input_jet(points, schedule, rows, directions)
    scale, center = model.normalize.scale, model.normalize.center
    z = Jet((raw.value - center) * scale, raw.tangents * scale, rows)
    if model.periodic is not None:
        emb = model.periodic
        angles = Jet(
            (raw.value[:, emb.axes, None] * emb.omegas).flatten(1),
            (raw.tangents[..., emb.axes, None] * emb.omegas).flatten(2),
            rows,
        )
        kept = Jet(z.value[:, emb.keep], z.tangents[..., emb.keep], rows)
        z = _cat([kept, *_cos_sin(angles, schedule)])
    if model.fourier is not None:
        matrix = (2 * math.pi) * model.fourier.matrix
        z = _cat(_cos_sin(Jet(z.value @ matrix, z.tangents @ matrix, rows), schedule))
    if model.gaussians is not None:
        raise UnsupportedModule(f"{where}.gaussians", "Physics-Informed Gaussians")
    if not isinstance(model.body, nn.Sequential):
        raise UnsupportedModule(f"{where}.body", type(model.body).__name__)
    out = _sequential(model.body, z, schedule, f"{where}.body")
    if not model.affine:
        return out
    return Jet(model.offset + model.scale * out.value, out.tangents * model.scale, out.rows)


def _input_jet(points: Tensor, schedule: Schedule, rows: int, directions=None) -> Jet:
    """The coordinates' own jet: unit first derivatives, zero higher ones (on the first
    `rows` points; one broadcast row, as they are the same everywhere). With `directions`
    (K, n_coords), the schedule's K coordinates are pseudo-coordinates along those rows
    (`pinnkit.compile.directional`): first-order row j is `directions[j]`."""
    tangents = points.new_zeros((schedule.size, 1, points.shape[1]))
    if directions is not None:
        targets, coords = zip(*schedule.first)
        tangents[list(targets), 0, :] = directions[list(coords)].to(points.dtype)
        return Jet(points, tangents, rows)
    for row, coord in schedule.first:
        tangents[row, :, coord] = 1.0
    return Jet(points, tangents, rows)


def _exact_initial(model, points: Tensor, schedule: Schedule, where: str) -> Jet:
    """Jet of $u = u_0(x) + \\tau N$ with $\\tau = (t - t_0) / T$ (`ExactInitial`)."""
    inner = _propagate(model.inner, points, schedule, f"{where}.inner", len(points))
    tau = ((points[:, model.it] - model.t0) / model.span)[:, None]
    # d^a (tau N) = tau d^a N + a_t / T d^(a - e_t) N, since tau is linear in t.
    targets, sources, factors = [], [], []
    for r, a in enumerate(schedule.indices):
        if a[model.it] > 0:
            lower = list(a)
            lower[model.it] -= 1
            targets.append(r)
            sources.append(schedule.row(tuple(lower)))
            factors.append(a[model.it] / model.span)
    full = torch.cat([inner.value.unsqueeze(0), inner.tangents])
    shift = torch.zeros(len(schedule.indices), len(schedule.indices), dtype=full.dtype)
    shift[targets, sources] = torch.tensor(factors, dtype=full.dtype)
    wrapped = full * tau + torch.einsum("ij,jbf->ibf", shift.to(full.device), full)
    initial = _initial_jets(model, points, schedule)  # (K + 1, batch, n_initial)
    columns = list(full.unbind(-1))
    for i, j in enumerate(model.columns):
        columns[j] = wrapped[..., j] + initial[..., i]
    out = torch.stack(columns, dim=-1)
    return Jet(out[0], out[1:], len(points))


def _initial_jets(model, points: Tensor, schedule: Schedule) -> Tensor:
    """Partials (K + 1, batch, n) of the initial values $u_0$ (functions of the space
    coordinates without parameters), by nested forward-mode products."""
    space = model.space

    def values(p: Tensor) -> Tensor:
        out = model._initial(*[p[:, i] for i in space])
        return torch.stack(
            [torch.as_tensor(v, dtype=p.dtype, device=p.device).expand(p.shape[0]) for v in out],
            dim=-1,
        )

    rows = []
    for a in schedule.indices:
        directions = [i for i, k in enumerate(a) for _ in range(k)]
        if a[model.it] > 0:
            rows.append(None)
        else:
            rows.append(_nested_derivative(values, points.detach(), directions))
    zero = torch.zeros_like(rows[0])
    return torch.stack([r if r is not None else zero for r in rows])


def _exact_boundary(model, points: Tensor, schedule: Schedule, where: str) -> Jet:
    """Jet of $u = G + \\phi N$ (`ExactBoundary`): Leibniz's rule
    $\\partial^a(\\phi N) = \\sum_{b \\le a} \\binom{a}{b}\\,
    \\partial^b \\phi\\, \\partial^{a-b} N$ over the schedule's downward-closed multi-indices,
    with the jets of $\\phi$ and $G$ (no parameters) from nested forward-mode products."""
    inner = _propagate(model.inner, points, schedule, f"{where}.inner", len(points))
    full = torch.cat([inner.value.unsqueeze(0), inner.tangents])  # (K + 1, batch, F)
    jets = blend_jets(model, points.detach(), schedule)  # (K + 1, batch, 2 * n_exact)
    columns = list(full.unbind(-1))
    for i, (j, _) in enumerate(model.fields):
        phi, blend, net = jets[..., 2 * i], jets[..., 2 * i + 1], full[..., j]
        rows = []
        for r, a in enumerate(schedule.indices):
            total = blend[r]
            for b, coefficient in leibniz(a):
                lower = tuple(x - y for x, y in zip(a, b))
                total = total + coefficient * phi[schedule.row(b)] * net[schedule.row(lower)]
            rows.append(total)
        columns[j] = torch.stack(rows)
    out = torch.stack(columns, dim=-1)
    return Jet(out[0], out[1:], len(points))


def _nested_derivative(fn, points: Tensor, directions: list[int]) -> Tensor:
    if not directions:
        return fn(points)
    tangent = torch.zeros_like(points)
    tangent[:, directions[-1]] = 1.0
    inner = directions[:-1]
    return torch.func.jvp(lambda p: _nested_derivative(fn, p, inner), (points,), (tangent,))[1]


def _propagate(
    model: nn.Module, points: Tensor, schedule: Schedule, where: str, rows: int, directions=None
) -> Jet:
    """The jet of `model` at `points`, with tangents on the first `rows` of them (expanded
    to every one of them: a model without activations keeps them broadcast); `directions`
    as in `_input_jet` (networks only, not the exact wrappers)."""
    if isinstance(model, (ExactInitial, ExactBoundary)):
        if rows != len(points) or directions is not None:
            raise AssertionError(
                "value-only rows or directions through an exact wrapper; this is a bug in pinnkit"
            )
        if isinstance(model, ExactBoundary):
            return _exact_boundary(model, points, schedule, where)
        return _exact_initial(model, points, schedule, where)
    if isinstance(model, FieldModel):
        return _field_model(model, points, schedule, where, rows, directions).full()
    if isinstance(model, nn.Sequential):
        z = _input_jet(points, schedule, rows, directions)
        return _sequential(model, z, schedule, where).full()
    raise UnsupportedModule(where, type(model).__name__)


def supports_taylor(model: nn.Module) -> str | None:
    """None when the Taylor engine can propagate through `model`, else why not."""

    def check(module, where):
        if isinstance(module, (ExactInitial, ExactBoundary)):
            return check(module.inner, f"{where}.inner")
        if isinstance(module, FieldModel):
            if module.gaussians is not None:
                return f"{where}.gaussians (Physics-Informed Gaussians)"
            return check(module.body, f"{where}.body")
        if isinstance(module, nn.Sequential):
            for i, layer in enumerate(module):
                if not isinstance(layer, nn.Linear) and activation_derivatives(layer) is None:
                    return f"{where}[{i}] ({type(layer).__name__})"
            return None
        return f"{where} ({type(module).__name__})"

    return check(model, "model")


class TaylorEngine(AbstractEngine):
    """Forward Taylor-mode propagation of the plan's partials through the network.

    See the module docstring for the maths. The per-plan structure (multi-indices, merged
    Faà di Bruno terms) is built once per plan and kept on the engine; it depends on the
    plan only, never on points or parameters.

    **Raises**

    `ConfigError` (key phrase "cannot propagate") from `evaluate` for a model with a module
    it does not know, naming the module and the fix.
    """

    name = "taylor"

    def __init__(self):
        self._schedules: dict[DerivativePlan, Schedule] = {}
        self._plans_passes: dict[tuple, list[_Pass]] = {}

    def schedule(self, plan: DerivativePlan) -> Schedule:
        if plan not in self._schedules:
            self._schedules[plan] = build_schedule(plan)
        return self._schedules[plan]

    def evaluate(self, model, points, plan):
        return self.evaluate_many(model, [(points, plan)])[0]

    def evaluate_many(self, model, jobs):
        """The jobs in as few passes through the network as their plans allow: jobs with
        the same plan go through as one batch, and the jobs that need values only ride along
        with the first pass as extra rows that carry no tangents (`Jet`). So the regions of
        a problem cost one matmul per layer for the values and one for the tangents, not
        one each per region, and no point carries a tangent its plan does not need. (With
        an `exact_initial` model, whose jet keeps values and tangents together, the
        value-only jobs make a plain forward pass of their own.)"""
        keep_apart = isinstance(model, (ExactInitial, ExactBoundary))
        out: list = [None] * len(jobs)
        for step in self._passes(tuple(plan for _, plan in jobs), keep_apart):
            parts = [jobs[i][0] for i in step.members]
            points = parts[0] if len(parts) == 1 else torch.cat(parts)
            if step.schedule is None:  # values only: the plain forward pass
                value, tangents = model(points), None
            else:
                rows = sum(p.shape[0] for p in parts[: step.derivative])
                try:
                    jet = _propagate(model, points, step.schedule, "model", rows)
                except UnsupportedModule as err:
                    raise ConfigError(UNSUPPORTED.format(where=err.where, what=err.what)) from None
                value, tangents = jet.value, jet.tangents
            start = 0
            for i, part, outputs in zip(step.members, parts, step.outputs):
                stop = start + part.shape[0]
                out[i] = {
                    p: value[start:stop, column]
                    if row == 0
                    else tangents[row - 1, start:stop, column]
                    for p, row, column in outputs
                }
                start = stop
        return out

    def prepare(self, model, plans):
        self._passes(tuple(plans), isinstance(model, (ExactInitial, ExactBoundary)))

    def _passes(self, plans: tuple[DerivativePlan, ...], keep_apart: bool) -> list[_Pass]:
        """The passes for jobs with these plans (see `_Pass`); kept per tuple of plans."""
        key = (plans, keep_apart)
        if key not in self._plans_passes:
            by_plan: dict[DerivativePlan, list[int]] = {}
            values_only = []
            for i, plan in enumerate(plans):
                if plan.max_order > 0:
                    by_plan.setdefault(plan, []).append(i)
                else:
                    values_only.append(i)
            groups = [(members, [], self.schedule(plan)) for plan, members in by_plan.items()]
            if values_only and groups and not keep_apart:
                groups[0] = (groups[0][0], values_only, groups[0][2])
            elif values_only:
                groups.append(([], values_only, None))
            self._plans_passes[key] = [
                _Pass(
                    tuple(derivative + values),
                    len(derivative),
                    schedule,
                    tuple(
                        schedule.outputs
                        if j < len(derivative)
                        else tuple((p, 0, plans[i].fields.index(p.field)) for p in plans[i].closure)
                        for j, i in enumerate(derivative + values)
                    ),
                )
                for derivative, values, schedule in groups
            ]
        return self._plans_passes[key]


@dataclass(frozen=True)
class _Pass:
    """One pass of `TaylorEngine.evaluate_many`: the jobs it carries (`members`, the first
    `derivative` of them with tangents), the `schedule` (None: a plain forward pass), and
    per member each partial of its plan's closure with its (row, column) in the jet (row 0
    the value)."""

    members: tuple[int, ...]
    derivative: int
    schedule: Schedule | None
    outputs: tuple[tuple[tuple[Partial, int, int], ...], ...]
