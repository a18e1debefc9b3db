"""Shared tolerances and utilities of the compile and problem tests.

Every tolerance is a named constant with its reason (STYLE.md §8); tests never write their own
epsilon ladders. The utilities build "models" from SymPy expressions, sample a batch for every
region a compiled problem needs, and evaluate the residuals SymPy's own way for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp
import torch
from torch import nn

from pinnkit.compile import Batch, CompiledProblem
from pinnkit.problem import Normal, Parameter, Problem, field_name

# Manufactured-solution exactness in float64 (DESIGN.md, CompiledProblem contract). The
# residuals are sums of terms of order 1-100 (a fourth derivative of sin(2x) is 16 sin(2x));
# their round-off is ~1e-14 of the largest term, so 1e-10 of the residual's own scale is
# four orders of margin and still fails on any wrong sign, factor or derivative.
EXACT_RTOL = 1e-10
# Pointwise relative error is meaningless where a residual crosses zero, so differences are
# measured against the residual's scale: max(1, max |expected|) over the batch.
EXACT_SCALE_FLOOR = 1.0
# The two engines compute the same derivatives in a different order of floating-point
# operations (reverse vs forward mode). Through a random tanh MLP in float64, over every case
# in tests/cases.py (derivatives up to fourth order), they agree to 3e-16 of the residual's
# scale (measured); 1e-12 leaves a wide margin for other BLAS builds and wider networks.
ENGINE_RTOL = 1e-12
# Parameter gradients of a loss back-propagated through both engines: one more level of
# differentiation; measured 5e-16 over every case, bounded like the residuals themselves.
ENGINE_GRAD_RTOL = 1e-12
# Size of the perturbation added to an exact solution: large enough that every residual is
# clearly nonzero (>> EXACT_RTOL), small enough to stay in the safe range of log/sqrt terms.
PERTURBATION = 0.3
# Points per sampled region in the exactness tests: enough to cover faces and corners, few
# enough that the whole compile test file runs in a few seconds on 2 CPU cores.
POINTS_PER_REGION = 24
# Inverting the Lagrangian characteristics X(xi, t) = x by regula falsi in float64 reaches
# round-off (measured ~1e-15); 1e-9 fails on any wrong bracket or period shift.
INVERSION_ATOL = 1e-9
# Slow variant tests (tests/test_variants.py): on its own case, with the same budget, a
# variant must at least halve plain training's relative L2 error. The measured ratios are 0.1
# to 0.4 (seed 0; figures in each test), so 0.5 separates "helps" from seed noise.
BEATS_PLAIN = 0.5
# ... and plain training must visibly fail there (the cases are chosen so that it does;
# measured 0.22 to 1.03), or the comparison would say nothing.
PLAIN_FAILS = 0.2
# Two processes (gloo, float64) against one process on their combined batch, after 30 Adam
# steps and 10 L-BFGS iterations: the same sums are formed in a different order (per-rank
# means, then their mean; per-rank gradients, then their sum), so the runs differ by
# round-off, measured at 4e-15 relative in every loss term and 5e-16 in the parameters. 1e-9
# leaves room for other BLAS builds and still fails on any real mistake (gradients averaged
# over ranks instead of summed moved a loss term by 9%, measured; a rank drawing another's
# points changes the batch itself).
DISTRIBUTED_RTOL = 1e-9


def perturbation(coords: Sequence[sp.Symbol], index: int) -> sp.Expr:
    """A smooth, non-polynomial, non-periodic bump, different for each field `index`."""
    phase = sp.Rational(2 * index + 1, 7)
    arg = sum(sp.Rational(11 + 3 * k + index, 10) * c for k, c in enumerate(coords))
    return PERTURBATION * (sp.sin(arg + phase) + sp.Rational(1, 2) * sp.cos(arg / 3 - phase) ** 2)


def _floats(expr: sp.Expr) -> sp.Expr:
    """`expr` with exact constants (`sqrt(11)`) as floats: lambdify's torch printer would
    print them as torch calls on Python numbers, which torch rejects."""
    return expr.replace(
        lambda e: isinstance(e, sp.Expr) and e.is_number and not e.is_Number,
        lambda e: sp.Float(e.evalf(17), 17),
    )


class SympyModel(nn.Module):
    """A "network" whose outputs are given SymPy expressions of the coordinates.

    `forward(points)` maps (batch, n_coords) to (batch, n_fields), column `j` being
    `expressions[j]` evaluated by `sympy.lambdify(..., modules="torch")`. It is made of plain
    torch operations, so both autograd and `torch.func.jvp` differentiate it. A `scale`
    parameter (value 1) multiplies every output, so the model has parameters and losses built
    from it can be back-propagated.
    """

    def __init__(self, coords: Sequence[sp.Symbol], expressions: Sequence[sp.Expr]):
        super().__init__()
        self.coords = tuple(coords)
        self.expressions = tuple(_floats(sp.sympify(e)) for e in expressions)
        self.functions = [sp.lambdify(self.coords, e, modules="torch") for e in self.expressions]
        self.scale = nn.Parameter(torch.ones((), dtype=torch.float64))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        columns = points.unbind(-1)
        zero = torch.zeros_like(columns[0])
        # `+ zero` broadcasts constant expressions (lambdify returns a Python float for them).
        return torch.stack([fn(*columns) + zero for fn in self.functions], dim=-1) * self.scale

    @classmethod
    def of(cls, problem: Problem, solution: Mapping[str, sp.Expr]) -> SympyModel:
        """The model of `solution` (field name -> expression) in the problem's column order."""
        return cls(problem.coords, [solution[name] for name in problem.field_names])


#: SymPy forms of the activations of `pinnkit.models.mlp` (for `network_solution`).
SYMPY_ACTIVATIONS = {
    "Tanh": sp.tanh,
    "_Sine": sp.sin,
    "Sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "SiLU": lambda z: z / (1 + sp.exp(-z)),
    "GELU": lambda z: z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
    "Softplus": lambda z: sp.log(1 + sp.exp(z)),
}


def network_solution(model: nn.Module, problem: Problem) -> dict[str, sp.Expr]:
    """The SymPy expression of a `FieldModel` with an MLP body (no input features), field
    name -> expression in the coordinates, with the float64 weights as SymPy Floats: SymPy
    then differentiates the network exactly, which is what the Taylor engine is checked
    against."""
    z = [
        sp.Float(float(s)) * (c - sp.Float(float(m)))
        for c, m, s in zip(problem.coords, model.normalize.center, model.normalize.scale)
    ]
    for layer in model.body:
        if isinstance(layer, nn.Linear):
            w = layer.weight.detach().double().numpy()
            b = layer.bias.detach().double().numpy()
            z = [
                sum(sp.Float(float(w[i, j])) * z[j] for j in range(len(z))) + sp.Float(float(b[i]))
                for i in range(w.shape[0])
            ]
        else:
            fn = SYMPY_ACTIVATIONS[type(layer).__name__]
            z = [fn(v) for v in z]
    return dict(zip(problem.field_names, z))


def sample_batches(
    compiled: CompiledProblem, rng: np.random.Generator, n: int = POINTS_PER_REGION
) -> dict[str, Batch]:
    """A float64 `Batch` for every region the compiled problem samples."""
    domain = compiled.problem.domain
    out = {}
    for region in compiled.sample_regions:
        sample = domain.sample(compiled.domain_region(region), n, rng)
        normals = None if sample.normals is None else torch.as_tensor(sample.normals)
        out[region] = Batch(torch.as_tensor(sample.points), normals)
    return out


def _replace_fields(expr: sp.Expr, problem: Problem, solution: Mapping[str, sp.Expr]) -> sp.Expr:
    """`expr` with every field function replaced by its solution expression, then `doit()`."""
    for field in problem.fields:
        lam = sp.Lambda(problem.coords, solution[field_name(field)])
        expr = expr.replace(field.func, lam)
    return expr.doit()


def _evaluate(expr: sp.Expr, symbols: Sequence[sp.Symbol], columns: Sequence[np.ndarray]):
    n = len(columns[0])
    value = sp.lambdify(symbols, expr, modules="numpy")(*columns)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))


def sympy_residuals(
    problem: Problem,
    solution: Mapping[str, sp.Expr],
    batches: Mapping[str, Batch],
    parameters: Mapping[str, float],
) -> dict[str, np.ndarray]:
    """Every residual of `problem` evaluated by SymPy alone, with `solution` as the fields.

    Each residual expression gets the solution substituted for the fields, `doit()` takes
    the derivatives symbolically, and NumPy evaluates the result at the batch's points (and
    normals, and the given Parameter values). Periodic terms are formed from SymPy's
    derivatives at both ends, in the order of the compiled plan (by order, then field), and
    data terms as prediction minus observation.
    """
    coords = problem.coords
    out: dict[str, np.ndarray] = {}

    def at(points: np.ndarray, normals: np.ndarray | None, expr: sp.Expr) -> np.ndarray:
        expr = _replace_fields(expr, problem, solution)
        params = [s for s in expr.free_symbols if isinstance(s, Parameter)]
        expr = expr.subs({p: parameters[p.name] for p in params})
        norms = sorted((s for s in expr.free_symbols if isinstance(s, Normal)), key=str)
        columns = [points[:, i] for i in range(len(coords))]
        columns += [normals[:, coords.index(s.coord)] for s in norms]
        return _evaluate(expr, [*coords, *norms], columns)

    def batch_arrays(region: str):
        batch = batches[region]
        normals = None if batch.normals is None else batch.normals.numpy()
        return batch.points.detach().numpy(), normals

    for eq in problem.equations:
        out[eq.name] = at(*batch_arrays("interior"), eq.residual)
    for cond in problem.conditions:
        if cond.periodic is None:
            out[cond.name] = at(*batch_arrays(cond.on), cond.expr)
        elif not cond.exact:
            out[cond.name] = _periodic_residual(problem, cond, solution, batch_arrays, at)
    for data in problem.data:
        points = np.stack([data.coords[c.name] for c in coords], axis=1)
        parts = [at(points, None, sp.Function(f)(*coords)) - v for f, v in data.values.items()]
        out[data.name] = np.concatenate(parts)
    return out


def _periodic_residual(problem, cond, solution, batch_arrays, at) -> np.ndarray:
    points, _ = batch_arrays("periodic:" + cond.periodic.name)
    axis = problem.coords.index(cond.periodic)
    low, high = points.copy(), points.copy()
    low[:, axis], high[:, axis] = cond.bounds
    fields = sorted(cond.fields, key=field_name)
    parts = []
    for k in range(cond.order + 1):
        for f in fields:
            quantity = f.diff(cond.periodic, k) if k else f
            parts.append(at(low, None, quantity) - at(high, None, quantity))
    return np.concatenate(parts)


def assert_residuals_match(
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, np.ndarray],
    *,
    rtol: float = EXACT_RTOL,
) -> None:
    """Same term names, shapes, and values within `rtol` of each residual's scale."""
    assert sorted(actual) == sorted(expected)
    for name, want in expected.items():
        got = actual[name].detach().numpy()
        assert got.shape == want.shape, name
        scale = max(EXACT_SCALE_FLOOR, float(np.max(np.abs(want))))
        error = float(np.max(np.abs(got - want))) / scale
        assert error <= rtol, f"{name}: relative error {error:.3e} > {rtol:.0e}"


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max(1, max |b|): the measure the engine-agreement tolerances bound."""
    scale = max(EXACT_SCALE_FLOOR, float(b.detach().abs().max()))
    return float((a - b).detach().abs().max()) / scale


def heat_problem(**kwargs) -> Problem:
    """u_t = u_xx / 10 on [0, 1] x [0, 1], u(x, 0) = sin(pi x), u = 0 at both ends, with its
    exact solution as reference: the small problem the trainer and strategy tests train."""
    import pinnkit as pk

    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    exact = sp.exp(-(sp.pi**2) * t / 10) * sp.sin(sp.pi * x)
    return pk.Problem(
        name="heat",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), sp.Rational(1, 10) * u.diff(x, 2))],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
        reference=pk.reference.Exact({u: exact}),
        **kwargs,
    )


class KnownFunction(nn.Module):
    """Stands in for a trained hidden-term network: `forward(inputs)` applies `fn` to the
    input columns, so a test knows exactly what the Hidden term computes."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, inputs):
        return self.fn(*inputs.unbind(-1))
