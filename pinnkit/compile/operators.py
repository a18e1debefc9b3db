"""Vector differential operators (`pinnkit.compile.plan.Operator`) evaluated whole over a
block of input columns, exactly or by unbiased stochastic estimators, never expanded over
the dimensions.

The methods, for a block of dimension d:

- `"exact"`: the Laplacian $\\sum_i \\partial^2_{e_i} u$ from second-order Taylor jets
  along every unit vector (`pinnkit.compile.directional`), in chunks of directions; the
  biharmonic from fourth-order jets along $e_i$ and $e_i \\pm e_j$ ($d^2$ directions, since
  $\\partial^4_{e_i + e_j} u + \\partial^4_{e_i - e_j} u = 2 u_{iiii} + 12 u_{iijj} +
  2 u_{jjjj}$); $|\\nabla u|^2$ and $x \\cdot \\nabla u$ from one reverse-mode gradient
  (exact whatever the method asked: they cost one backward pass).
- `"stde"`, the Stochastic Taylor Derivative Estimator (Shi, Hu, Lin, Kawaguchi, NeurIPS
  2024): for the Laplacian, `samples` distinct coordinates $i \\in S$ drawn uniformly without
  replacement and $\\frac{d}{|S|} \\sum_{i \\in S} \\partial^2_{e_i} u$ (sparse second-order
  jets); for the biharmonic, Gaussian directions $v \\sim N(0, I_d)$, whose fourth-order jets
  satisfy $E[\\partial^4_v u] = 3 \\Delta^2 u$ (Isserlis), so the estimate is their mean / 3.
- `"hutchinson"` (Laplacian only): Rademacher directions $v$ and $v^T H v$ by Hessian-vector
  products in reverse mode (Hutchinson's trace estimator with first-order autodiff, as
  compared in Hu, Shi, Karniadakis, Kawaguchi, "Hutchinson trace estimation for
  high-dimensional and high-order PINNs", 2024).

Every estimator is unbiased. The random directions are shared by the points of a batch (one
broadcast row each, which keeps the first layer of Taylor mode cheap) and drawn from one
NumPy generator seeded by the caller, operator by operator in order, so the same seed
gives the same values (a resumed run stays exact). The caller varies the seed per step.
Inside `torch.func` transforms (the per-row Jacobians of Levenberg-Marquardt) the jet-based
methods work (NumPy draws the directions: torch's random functions are refused under
`vmap`); the gradient kinds and Hutchinson use `torch.autograd.grad` and are refused there
with a `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.compile.directional import directional_jets
from pinnkit.compile.plan import OPERATOR_LABELS, Operator
from pinnkit.errors import CompileError, ConfigError, did_you_mean

__all__ = ["evaluate_operators", "choose_method", "describe_operator", "METHODS"]

#: The methods each operator kind supports (`choose_method` refuses others).
METHODS = {
    "laplacian": ("exact", "stde", "hutchinson"),
    "biharmonic": ("exact", "stde"),
    "grad_norm2": ("exact",),
    "x_dot_grad": ("exact",),
    "hessian_trace": ("exact", "stde", "hutchinson"),
}
#: Under `method="auto"`, the largest dimensions evaluated exactly: d second-order jets for
#: the Laplacian, d^2 fourth-order ones for the biharmonic.
EXACT_LAPLACIAN_MAX_DIM = 64
EXACT_BIHARMONIC_MAX_DIM = 8
#: Elements of one chunk's tangent tensor (directions x points x width x order): 4M, 32 MB
#: in float64, so that a layer's transient jets stay moderate whatever the dimension.
CHUNK_ELEMENTS = 2**22
#: The network width assumed when the model has no `nn.Linear` layer to read it from.
DEFAULT_WIDTH = 64

UNSUPPORTED_METHOD = (
    "operator {label}: method {method!r} is not supported for a {kind}; supported: "
    "{supported} (or 'auto').{hint} Fix: use one of them, e.g. method='{first}'."
)


def choose_method(kind: str, dim: int, requested: str = "auto") -> tuple[str, str]:
    """The method to evaluate an operator of `kind` over `dim` dimensions by, and why.

    **Arguments**

    - `kind`: an `Operator` kind (`"laplacian"`, `"grad_norm2"`, `"biharmonic"`,
      `"x_dot_grad"`).
    - `dim`: the vector's dimension.
    - `requested`: `"auto"`, or a method to honour.

    **Returns**

    `(method, why)`. Under `"auto"`: the Laplacian is exact up to
    `EXACT_LAPLACIAN_MAX_DIM` dimensions, else STDE; the biharmonic exact up to
    `EXACT_BIHARMONIC_MAX_DIM`, else STDE; the gradient kinds are always exact (as they are
    whatever is requested).

    **Raises**

    `CompileError` for an unknown kind; `ConfigError` (key phrase "is not supported for")
    for an unknown method or one the kind does not support (Hutchinson for the biharmonic).
    """
    if kind not in METHODS:
        raise CompileError(
            f"no vector operator kind {kind!r}; kinds are {sorted(METHODS)}."
            f"{did_you_mean(kind, METHODS)}"
        )
    label = OPERATOR_LABELS[kind].format(f="u", x="x")
    if kind in ("grad_norm2", "x_dot_grad"):
        if requested not in ("auto", "exact", "stde", "hutchinson"):
            _refuse(kind, label, requested)
        return "exact", "one reverse-mode gradient gives it exactly, at the cost of a backward pass"
    if requested == "auto":
        second = kind in ("laplacian", "hessian_trace")
        limit = EXACT_LAPLACIAN_MAX_DIM if second else EXACT_BIHARMONIC_MAX_DIM
        count = f"{dim} directions" if second else f"{dim * dim} directions"
        if dim <= limit:
            return "exact", f"dim {dim} <= {limit}: exact jets along {count}"
        return "stde", f"dim {dim} > {limit}: exact jets would need {count}; STDE samples them"
    if requested not in METHODS[kind]:
        _refuse(kind, label, requested)
    return requested, f"method {requested!r} requested"


def _refuse(kind: str, label: str, method: str):
    supported = METHODS[kind]
    hint = did_you_mean(method, (*supported, "auto"))
    if kind == "biharmonic" and method == "hutchinson":
        hint = " Hutchinson's estimator is a trace estimator of second derivatives only."
    raise ConfigError(
        UNSUPPORTED_METHOD.format(
            label=label,
            method=method,
            kind=kind,
            supported=", ".join(repr(m) for m in supported),
            hint=hint,
            first=supported[-1],
        )
    )


def describe_operator(op: Operator) -> str:
    """One line saying how `op` is evaluated, e.g. `"lap_x(u): STDE, 16 of 1000 coordinate
    directions (sparse second-order jets), unbiased"` (for `pinnkit check`)."""
    method, _ = choose_method(op.kind, op.dim, op.method)
    d = op.dim
    if op.kind in ("grad_norm2", "x_dot_grad"):
        how = f"exact, one reverse-mode gradient over {d} dimensions"
    elif op.kind == "laplacian" and method == "exact":
        how = f"exact, second-order jets along each of the {d} coordinate directions"
    elif op.kind == "laplacian" and method == "stde":
        how = (
            f"STDE, {min(op.samples, d)} of {d} coordinate directions "
            "(sparse second-order jets), unbiased"
        )
    elif op.kind == "laplacian":
        how = (
            f"Hutchinson, {op.samples} Rademacher directions over {d} dimensions "
            "(Hessian-vector products by reverse mode), unbiased"
        )
    elif op.kind == "hessian_trace":
        how = {
            "exact": f"exact, second-order jets along the {d} eigenvectors of A",
            "stde": f"STDE, {op.samples} eigenvectors of A drawn with probability |eigenvalue| "
            "(second-order jets), unbiased",
            "hutchinson": f"Hutchinson, {op.samples} Rademacher directions z, (A z) . (H z) by "
            "reverse mode, unbiased",
        }[method]
    elif method == "exact":
        how = f"exact, fourth-order jets along {d * d} directions (e_i and e_i +- e_j)"
    else:
        how = (
            f"STDE, {op.samples} Gaussian directions over {d} dimensions "
            "(fourth-order jets, E[d4_v u] = 3 bilap u), unbiased"
        )
    return f"{op.label()}: {how}"


def evaluate_operators(
    model: nn.Module,
    points: Tensor,
    fields: tuple[str, ...],
    operators: Sequence[Operator],
    seed: int | None = None,
) -> dict[Operator, Tensor]:
    """Evaluate vector operators of the model's fields at `points`.

    **Arguments**

    - `model`: maps points (N, n_coords) to fields (N, len(fields)).
    - `points`: (N, n_coords); each operator reads its block of columns
      `op.start .. op.start + op.dim - 1`, the other columns (time) are left alone.
    - `fields`: the model's output column names, in order.
    - `operators`: what to evaluate; `method="auto"` resolves by `choose_method`.
    - `seed`: seeds the one `numpy.random.Generator` all random
      directions come from, operator by operator in order (0 when None).

    **Returns**

    One (N,) tensor per operator, differentiable with respect to the model's parameters.
    A stochastic method's value is an unbiased estimate; STDE's Laplacian with `samples`
    >= `dim` is the exact value.

    **Raises**

    `CompileError` for a field not in `fields` or columns outside the points;
    `ConfigError` for an unsupported method or fewer than one sample for a stochastic one.
    """
    # NumPy draws: torch's random functions are refused inside `torch.func.vmap` (the
    # per-row Jacobians of Levenberg-Marquardt), and the directions do not depend on the
    # points anyway.
    generator = np.random.default_rng(0 if seed is None else int(seed))
    context = _Context(model, points.detach(), generator)
    transformed = torch._C._functorch.is_functorch_wrapped_tensor(points)
    out: dict[Operator, Tensor] = {}
    for op in operators:
        column = _check(op, fields, points)
        method, _ = choose_method(op.kind, op.dim, op.method)
        if transformed and (method == "hutchinson" or op.kind in ("grad_norm2", "x_dot_grad")):
            raise ConfigError(
                f"operator {op.label()}: evaluated inside a torch.func transform (the "
                "per-row Jacobians of a LevenbergMarquardt stage), where its reverse-mode "
                "gradients cannot run. Fix: an `pk.SSBroyden` stage instead, or for a "
                'Laplacian `pk.Operators(method="stde")` or `"exact"`.'
            )
        if method != "exact" and op.samples < 1:
            raise ConfigError(
                f"operator {op.label()}: method {method!r} needs samples >= 1; got "
                f"{op.samples}. Fix: give the operator a number of random directions per "
                "evaluation (16 is a usual start), or use method='exact'."
            )
        out[op] = _EVALUATORS[op.kind, method](context, op, column)
    return out


def _check(op: Operator, fields: tuple[str, ...], points: Tensor) -> int:
    if op.field not in fields:
        raise CompileError(
            f"operator {op.label()}: field {op.field!r} is not one of the model's outputs "
            f"{list(fields)}.{did_you_mean(op.field, fields)}"
        )
    if op.start < 0 or op.dim < 1 or op.start + op.dim > points.shape[1]:
        raise CompileError(
            f"operator {op.label()}: columns {op.start}..{op.start + op.dim - 1} are outside "
            f"the points' {points.shape[1]} columns; the vector's start and dim must match "
            "the points' column layout."
        )
    return fields.index(op.field)


class _Context:
    """What the operators of one evaluation share: the points, the generator, and one
    forward pass with gradients per field column (reverse mode, kept for the graph)."""

    def __init__(self, model: nn.Module, points: Tensor, generator: np.random.Generator):
        self.model, self.points, self.generator = model, points, generator
        self._leaf: Tensor | None = None
        self._out: Tensor | None = None
        self._gradients: dict[int, Tensor] = {}
        self.width = max(
            (m.out_features for m in model.modules() if isinstance(m, nn.Linear)),
            default=DEFAULT_WIDTH,
        )

    def leaf(self) -> Tensor:
        if self._leaf is None:
            self._leaf = self.points.clone().requires_grad_(True)
            with torch.enable_grad():
                self._out = self.model(self._leaf)
        return self._leaf

    def gradient(self, column: int) -> Tensor:
        """(N, n_coords): the gradient of field `column` at every point, with its graph."""
        if column not in self._gradients:
            leaf = self.leaf()
            with torch.enable_grad():
                self._gradients[column] = _grad(self._out[:, column].sum(), leaf)
        return self._gradients[column]

    def chunk(self, order: int) -> int:
        return max(1, CHUNK_ELEMENTS // (order * len(self.points) * self.width))


def _grad(total: Tensor, leaf: Tensor) -> Tensor:
    """d total / d leaf with its graph; zeros where total does not depend on the leaf."""
    grad = None
    if total.requires_grad:
        (grad,) = torch.autograd.grad(total, leaf, create_graph=True, allow_unused=True)
    return grad if grad is not None else torch.zeros_like(leaf)


def _jet_sum(
    context: _Context, op: Operator, column: int, order: int, count: int, rows: Callable
) -> Tensor:
    """$\\sum_j \\partial^{order}_{v_j} u$ (N,) over `count` directions, `rows(a, b)` giving
    directions a to b - 1 over the block (b - a, dim), through `directional_jets` in chunks."""
    points = context.points
    size = context.chunk(order)
    total = points.new_zeros(len(points))
    for a in range(0, count, size):
        b = min(count, a + size)
        directions = points.new_zeros(b - a, points.shape[1])
        directions[:, op.start : op.start + op.dim] = rows(a, b)
        jets = directional_jets(context.model, points, directions, order)
        total = total + jets[order - 1, :, :, column].sum(0)
    return total


def _unit_rows(indices: Tensor, dim: int, like: Tensor) -> Callable:
    """`rows` for `_jet_sum`: the unit vectors $e_i$ of the block, i in `indices`."""

    def rows(a: int, b: int) -> Tensor:
        out = like.new_zeros(b - a, dim)
        out[torch.arange(b - a, device=like.device), indices[a:b]] = 1.0
        return out

    return rows


def _laplacian_exact(context: _Context, op: Operator, column: int) -> Tensor:
    indices = torch.arange(op.dim, device=context.points.device)
    rows = _unit_rows(indices, op.dim, context.points)
    return _jet_sum(context, op, column, 2, op.dim, rows)


def _laplacian_stde(context: _Context, op: Operator, column: int) -> Tensor:
    """Sparse STDE: $\\frac{d}{s} \\sum_{i \\in S} u_{x_i x_i}$, S of size s drawn uniformly
    without replacement, so each coordinate is in S with probability s / d (unbiased)."""
    samples = min(op.samples, op.dim)
    device = context.points.device
    chosen = torch.as_tensor(context.generator.permutation(op.dim)[:samples], device=device)
    rows = _unit_rows(chosen, op.dim, context.points)
    return _jet_sum(context, op, column, 2, samples, rows) * (op.dim / samples)


def _laplacian_hutchinson(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\frac{1}{s} \\sum_k v_k^T H v_k$, Rademacher $v_k$, each $H v_k$ a second reverse
    pass through the gradient's graph (Hessian-vector product)."""
    points = context.points
    signs = torch.as_tensor(
        context.generator.integers(0, 2, (op.samples, op.dim)), device=points.device
    )
    directions = (2 * signs - 1).to(points.dtype)
    block = slice(op.start, op.start + op.dim)
    leaf = context.leaf()
    total = points.new_zeros(len(points))
    with torch.enable_grad():  # also under `no_grad` (validation): the products need graphs
        gradient = context.gradient(column)[:, block]
        for v in directions:
            hessian_v = _grad((gradient * v).sum(), leaf)[:, block]
            total = total + (hessian_v * v).sum(-1)
    return total / op.samples


def _grad_norm2(context: _Context, op: Operator, column: int) -> Tensor:
    gradient = context.gradient(column)[:, op.start : op.start + op.dim]
    return (gradient * gradient).sum(-1)


def _x_dot_grad(context: _Context, op: Operator, column: int) -> Tensor:
    block = slice(op.start, op.start + op.dim)
    return (context.points[:, block] * context.gradient(column)[:, block]).sum(-1)


def _biharmonic_exact(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\Delta^2 u = \\frac{4 - d}{3} \\sum_i u_{iiii} + \\frac{1}{6} \\sum_{i < j}
    (\\partial^4_{e_i + e_j} u + \\partial^4_{e_i - e_j} u)$: the pair sums give
    $2 u_{iiii} + 12 u_{iijj} + 2 u_{jjjj}$, and each $u_{iiii}$ is in d - 1 pairs."""
    d, like = op.dim, context.points
    indices = torch.arange(d, device=like.device)
    single = _jet_sum(context, op, column, 4, d, _unit_rows(indices, d, like))
    first, second = torch.triu_indices(d, d, offset=1, device=like.device)
    pairs = len(first)
    if pairs == 0:
        return single
    rows = like.new_zeros(2 * pairs, d)
    at = torch.arange(pairs, device=like.device)
    rows[at, first] = rows[pairs + at, first] = 1.0
    rows[at, second], rows[pairs + at, second] = 1.0, -1.0
    mixed = _jet_sum(context, op, column, 4, 2 * pairs, lambda a, b: rows[a:b])
    return single * ((4 - d) / 3) + mixed / 6


def _biharmonic_stde(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\frac{1}{3s} \\sum_k \\partial^4_{v_k} u$ with $v_k \\sim N(0, I_d)$: by Isserlis'
    theorem $E[v_i v_j v_k v_l] = \\delta_{ij}\\delta_{kl} + \\delta_{ik}\\delta_{jl} +
    \\delta_{il}\\delta_{jk}$, so $E[\\partial^4_v u] = 3 \\sum_{i,j} u_{iijj}$."""
    points = context.points
    directions = points.new_tensor(context.generator.standard_normal((op.samples, op.dim)))
    total = _jet_sum(context, op, column, 4, op.samples, lambda a, b: directions[a:b])
    return total / (3 * op.samples)


def _eigen(context: _Context, op: Operator) -> tuple[Tensor, Tensor]:
    """The eigenvalues (d,) and unit eigenvectors as rows (d, d) of the operator's matrix,
    on the points' device and dtype."""
    values, vectors = op.matrix.eigen()
    like = context.points
    return like.new_tensor(values), like.new_tensor(vectors.T)


def _hessian_trace_exact(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\operatorname{tr}(A H) = \\sum_k \\lambda_k q_k^T H q_k$ over A's eigenpairs:
    jets along $\\sqrt{|\\lambda_k|} q_k$, the negative ones subtracted."""
    values, vectors = _eigen(context, op)
    total = context.points.new_zeros(len(context.points))
    for sign in (1.0, -1.0):
        keep = sign * values > 0
        rows = vectors[keep] * (sign * values[keep]).sqrt()[:, None]
        if len(rows):
            total = total + sign * _jet_sum(
                context, op, column, 2, len(rows), lambda a, b: rows[a:b]
            )
    return total


def _hessian_trace_stde(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\frac{\\Lambda}{s} \\sum_j \\operatorname{sign}(\\lambda_{k_j}) q_{k_j}^T H q_{k_j}$
    with $k_j$ drawn with probability $|\\lambda_k| / \\Lambda$, $\\Lambda = \\sum |\\lambda|$
    (with replacement): unbiased; for a diagonal A the eigenvectors are coordinate vectors,
    so these are sparse jets, as for the Laplacian."""
    values, vectors = _eigen(context, op)
    weights = values.abs()
    scale = float(weights.sum())
    if scale == 0:
        return context.points.new_zeros(len(context.points))
    probabilities = weights.cpu().double().numpy() / scale
    drawn = context.generator.choice(op.dim, size=op.samples, p=probabilities)
    drawn = torch.as_tensor(drawn, device=values.device)
    rows = vectors[drawn]  # unit eigenvectors
    positive = values[drawn] > 0
    total = context.points.new_zeros(len(context.points))
    for sign, keep in ((1.0, positive), (-1.0, ~positive)):
        chosen = rows[keep]
        if len(chosen):
            total = total + sign * _jet_sum(
                context, op, column, 2, len(chosen), lambda a, b: chosen[a:b]
            )
    return total * (scale / op.samples)


def _hessian_trace_hutchinson(context: _Context, op: Operator, column: int) -> Tensor:
    """$\\frac{1}{s} \\sum_k (A z_k) \\cdot (H z_k)$, Rademacher $z_k$: $E[z z^T] = I$ gives
    $\\operatorname{tr}(A H)$; $H z$ by a second reverse pass."""
    points = context.points
    signs = torch.as_tensor(
        context.generator.integers(0, 2, (op.samples, op.dim)), device=points.device
    )
    directions = (2 * signs - 1).to(points.dtype)
    matrix = points.new_tensor(op.matrix.array)
    block = slice(op.start, op.start + op.dim)
    leaf = context.leaf()
    total = points.new_zeros(len(points))
    with torch.enable_grad():
        gradient = context.gradient(column)[:, block]
        for z in directions:
            hessian_z = _grad((gradient * z).sum(), leaf)[:, block]
            total = total + (hessian_z * (matrix @ z)).sum(-1)
    return total / op.samples


_EVALUATORS = {
    ("hessian_trace", "exact"): _hessian_trace_exact,
    ("hessian_trace", "stde"): _hessian_trace_stde,
    ("hessian_trace", "hutchinson"): _hessian_trace_hutchinson,
    ("laplacian", "exact"): _laplacian_exact,
    ("laplacian", "stde"): _laplacian_stde,
    ("laplacian", "hutchinson"): _laplacian_hutchinson,
    ("grad_norm2", "exact"): _grad_norm2,
    ("x_dot_grad", "exact"): _x_dot_grad,
    ("biharmonic", "exact"): _biharmonic_exact,
    ("biharmonic", "stde"): _biharmonic_stde,
}
