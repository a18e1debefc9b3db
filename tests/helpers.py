"""Shared tolerances and utilities of the compile and problem tests.

Every tolerance is a named constant with its reason (STYLE.md §8); tests never write their own
epsilon ladders. The utilities build "models" from SymPy expressions, sample a batch for every
region a compiled problem needs, and evaluate the residuals SymPy's own way for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch
from torch import nn

import pinnkit as pk
from pinnkit.compile import Batch, CompiledProblem, compile_problem
from pinnkit.config import Config, Lagrangian
from pinnkit.problem import Normal, Parameter, Problem, field_name

#: A warnings filter for tests that fit a few steps to data on purpose: the end-of-run note
#: that the fit has not followed the observations (`pinnkit.train.report.missed_data_notes`).
UNFOLLOWED = "ignore:data:pinnkit.errors.PinnkitWarning"

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

# A perturbed residual must be clearly nonzero for the comparison with SymPy to mean
# anything: well above EXACT_RTOL, well below the PERTURBATION-sized values it is made of.
NONTRIVIAL = 1e-3
# Points are computed in float64 from bounds of order 1, so they hit faces and the unit circle
# to within a few ulps; 1e-12 leaves ample room and still catches any real misplacement.
ON_SURFACE_ATOL = 1e-12

#: The two engines of `pinnkit.compile.engine` the exactness tests run on.
ENGINES = ("autograd", "func")


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
    "Sine": sp.sin,
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


def assert_engines_agree(problem, model, batches, engines):
    """Residuals and their parameter gradients from each engine match autograd's."""
    reverse = compile_problem(problem, dtype=torch.float64, engine="autograd")
    a = reverse.residuals(model, batches)

    def gradients(compiled, residuals):
        loss = sum(r.square().mean() for r in residuals.values())
        leaves = [*model.parameters(), *compiled.parameters()]
        return torch.autograd.grad(loss, leaves, allow_unused=True)

    reference = gradients(reverse, a)
    for engine in engines:
        other = compile_problem(problem, dtype=torch.float64, engine=engine)
        other.load_state_dict(reverse.state_dict())
        b = other.residuals(model, batches)
        assert a.keys() == b.keys()
        for term in a:
            assert relative_difference(b[term], a[term]) <= ENGINE_RTOL, (engine, term)
        for ga, gb in zip(reference, gradients(other, b)):
            assert (ga is None) == (gb is None)
            if ga is not None:
                assert relative_difference(gb, ga) <= ENGINE_GRAD_RTOL, engine


def seeded_rng(seed: int = 0) -> np.random.Generator:
    """A NumPy generator with a given seed, for the domain tests (several seeds per test)."""
    return np.random.default_rng(seed)


# -- the bare heat problem that the tests of pinnkit.problem vary ----------------------------

_x, _t = sp.symbols("x t")
_u = sp.Function("u")(_x, _t)
HEAT = sp.Eq(_u.diff(_t), _u.diff(_x, 2))
LINE_TIME = pk.Interval(_x, 0, 1) * pk.TimeInterval(_t, 0, 1)


def heat(**kwargs) -> Problem:
    """The heat equation on [0, 1] x [0, 1], with any part replaced through `kwargs` (no
    conditions: unlike `heat_problem`, it is for the validation tests, not for training)."""
    parts = {"domain": LINE_TIME, "fields": [_u], "equations": [HEAT]}
    return pk.Problem(**{**parts, **kwargs})


# -- the tiny training configuration of the trainer tests ------------------------------------

TINY = pk.Config(
    steps=60,
    lbfgs=pk.LBFGS(steps=20),
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=64, boundary=16, initial=16),
    log_every=10,
    eval_every=20,
    checkpoint_every=20,
    progress=False,
)


# -- Hidden terms: the two-field system of the compile tests, the small Fisher-KPP problem ---

_v = sp.Function("v")(_x, _t)
_D = pk.Parameter("D", init=0.3)
HIDDEN_DOMAIN = pk.Interval(_x, 0, 1) * pk.TimeInterval(_t, 0, 1)


def hidden_system(f, g) -> Problem:
    """Two fields; `f` applied to u and to v, in two equations and a boundary condition;
    `g` to an expression, a derivative and a coordinate; data on u."""
    x, t, u, v, D = _x, _t, _u, _v, _D
    rng = np.random.default_rng(3)
    xs, ts = rng.uniform(0, 1, 7), rng.uniform(0, 1, 7)
    return pk.Problem(
        domain=HIDDEN_DOMAIN,
        fields=[u, v],
        equations={
            "eq_u": sp.Eq(u.diff(t), D * u.diff(x, 2) + f(u) + g(u**2, u.diff(x), x)),
            "eq_v": sp.Eq(v.diff(t), v.diff(x, 2) + f(v) - u * v),
        },
        conditions=[
            pk.Initial(u, sp.sin(sp.pi * x)),
            pk.Initial(v, sp.cos(sp.pi * x) / 2),
            pk.Neumann(u, 0),
            pk.Boundary(f(u) + v, 0, on="left", name="hidden_bc"),
        ],
        data=pk.Data({x: xs, t: ts}, {u: rng.uniform(0.2, 0.9, 7)}),
    )


def small_fisher(**kwargs) -> Problem:
    x, t, u = _x, _t, _u
    f = pk.Hidden("f")
    xs, ts = np.linspace(0, 1, 9), np.full(9, 0.5)
    return pk.Problem(
        name="small_fisher",
        domain=HIDDEN_DOMAIN,
        fields=[u],
        equations=[sp.Eq(u.diff(t), u.diff(x, 2) / 100 + f(u))],
        conditions=[pk.Initial(u, sp.Rational(1, 2) - x / 4), pk.Neumann(u, 0)],
        data=pk.Data({x: xs, t: ts}, {u: 0.6 - xs / 4}),
        **kwargs,
    )


TINY_HIDDEN = pk.Config(
    steps=30,
    lbfgs=pk.LBFGS(steps=10),
    model=pk.MLP(width=8, depth=2),
    hidden=pk.HiddenNet(width=4, depth=1),
    sampling=pk.Sampling(interior=32, boundary=8, initial=8),
    log_every=10,
    eval_every=10,
    checkpoint_every=10,
    progress=False,
    device="cpu",
)


# -- the Lagrangian PINN: a periodic 1-D problem, its config, its residuals and model --------


def lagrangian_problem(equation, *, speed=None, conditions=None, period=2 * sp.pi, **kwargs):
    x, t, u = _x, _t, _u
    return pk.Problem(
        name="lag",
        domain=pk.Interval(x, 0, period) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations={"pde": equation},
        conditions=conditions
        if conditions is not None
        else [pk.Initial(u, sp.sin(x)), pk.Periodic(x, exact=True)],
        **kwargs,
    )


def lagrangian_config(**kwargs):
    return Config(
        lagrangian=Lagrangian(), model=pk.MLP(width=8, depth=2), dtype="float64", **kwargs
    )


def build_lagrangian(problem, config=None, generator=None):
    config = config or lagrangian_config()
    generator = generator or torch.Generator().manual_seed(0)
    built = pk.build(problem, config, generator=generator, device=torch.device("cpu"))
    return built.residuals, built.model.double()


# -- reference data files (the shared data checkout) -----------------------------------------

REFERENCE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def reference_data_file(*parts: str) -> Path:
    path = REFERENCE_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data file {path} is absent (shared data not checked out)")
    return path


def max_and_relative_l2(computed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    difference = computed - expected
    return float(np.abs(difference).max()), float(
        np.linalg.norm(difference) / np.linalg.norm(expected)
    )


def hidden_problem(equation, *, fields=(_u,), conditions=()):
    """One equation on `HIDDEN_DOMAIN`: the problems the Hidden-term errors are raised on."""
    return pk.Problem(
        domain=HIDDEN_DOMAIN, fields=list(fields), equations=[equation], conditions=conditions
    )


# -- interrupting a run at a given step (the resume tests) ------------------------------------


class Crash(Exception):
    """Raised by `crash_at`'s callback: a run stopped as by a kill."""


def crash_at(step: int):
    """A `fit` callback that raises `Crash` once the run has logged `step`."""

    def callback(current, row):
        if current == step:
            raise Crash

    return callback


class NanOnce(nn.Module):
    """`inner` whose `call`-th forward pass (counted from 1) returns NaN: one transient
    failure for the NaN guard to roll back."""

    def __init__(self, inner: nn.Module, call: int = 40):
        super().__init__()
        self.inner, self.call, self.calls = inner, call, 0

    def forward(self, points):
        self.calls += 1
        out = self.inner(points)
        return out * float("nan") if self.calls == self.call else out


def load_script(path, name: str):
    """A benchmark script (not a package module) imported as module `name`."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
