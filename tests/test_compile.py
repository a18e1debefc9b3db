"""Tests of `pinnkit.compile`: manufactured-solution exactness over every case and engine,
engine agreement (values and parameter gradients), the derivative plan, the op table, and
the residuals of Parameters, periodic conditions and data.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import (
    OP_TABLE,
    AutoEngine,
    AutogradEngine,
    Batch,
    ForwardEngine,
    Partial,
    TaylorEngine,
    build_plan,
    compile_problem,
    make_engine,
)
from pinnkit.compile.codegen import generate
from pinnkit.errors import CompileError, ConfigError
from pinnkit.models import build_model
from pinnkit.models.mlp import ACTIVATIONS
from tests.cases import CASES
from tests.helpers import (
    ENGINE_GRAD_RTOL,
    ENGINE_RTOL,
    EXACT_RTOL,
    SympyModel,
    assert_residuals_match,
    network_solution,
    perturbation,
    relative_difference,
    sample_batches,
    sympy_residuals,
)

ENGINES = ("autograd", "func")
x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")
# A perturbed residual must be clearly nonzero for the comparison with SymPy to mean
# anything: well above EXACT_RTOL, well below the PERTURBATION-sized values it is made of.
NONTRIVIAL = 1e-3
# Central finite differences in float64 with step 1e-6 on functions of order 1: truncation
# ~1e-12, round-off ~1e-10; 1e-7 bounds both with margin.
FINITE_DIFFERENCE_STEP = 1e-6
FINITE_DIFFERENCE_RTOL = 1e-7
# Points per op-table check: a grid over each op's safe range, endpoints included.
OP_POINTS = 9


# -- manufactured solutions ------------------------------------------------------------------


def _perturbed(case) -> dict[str, sp.Expr]:
    problem = _problem(case.name)
    return {
        name: case.solution[name] + perturbation(problem.coords, i)
        for i, name in enumerate(problem.field_names)
    }


@functools.cache
def _problem(name: str) -> pk.Problem:
    return CASES[name].build()


@functools.cache
def _batches_and_expected(name: str):
    """Sampled batches of a case and SymPy's residuals of its perturbed solution there.

    Cached: SymPy's `doit()` and `lambdify` are the slow part, and both engines share them.
    """
    problem = _problem(name)
    compiled = compile_problem(problem, dtype=torch.float64)
    batches = sample_batches(compiled, np.random.default_rng(0))
    params = {k: v.item() for k, v in compiled.parameter_values().items()}
    return batches, sympy_residuals(problem, _perturbed(CASES[name]), batches, params)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_solution_has_zero_residuals(name, engine):
    case = CASES[name]
    problem = _problem(name)
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, expected = _batches_and_expected(name)
    residuals = compiled.residuals(SympyModel.of(problem, case.solution), batches)
    zeros = {k: np.zeros_like(v) for k, v in expected.items()}
    assert_residuals_match(residuals, zeros, rtol=case.rtol)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_perturbed_residuals_match_sympy(name, engine):
    """The real exactness test: with a wrong solution every residual is nonzero, and equals
    SymPy's evaluation of the residual expression with that solution substituted."""
    case = CASES[name]
    problem = _problem(name)
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, expected = _batches_and_expected(name)
    residuals = compiled.residuals(SympyModel.of(problem, _perturbed(case)), batches)
    for term, values in expected.items():
        assert np.max(np.abs(values)) > NONTRIVIAL, f"{term} is trivially zero"
    assert_residuals_match(residuals, expected, rtol=case.rtol)


# The Taylor engine propagates through networks only, so its exactness test uses a tiny
# network whose SymPy form (`network_solution`) SymPy differentiates exactly. These cases
# cover mixed partials, orders 1-3, normals and Neumann conditions; the rest (order 4,
# several fields, periodic terms) run with `-m slow` (SymPy's derivatives of a network take
# about a second per case).
TAYLOR_FAST_CASES = ("burgers", "disk_neumann", "kdv", "mixed_derivatives")
# One activation per case, cycled, so every activation with a NumPy form is checked (GELU's
# erf has none; it is checked against autograd below).
MIRROR_ACTIVATIONS = ("tanh", "sin", "sigmoid", "silu", "softplus")


def _taylor_cases():
    for name in sorted(CASES):
        marks = () if name in TAYLOR_FAST_CASES else (pytest.mark.slow,)
        yield pytest.param(name, "taylor", marks=marks, id=f"{name}-taylor")
        yield pytest.param(name, "compile", marks=pytest.mark.slow, id=f"{name}-compile")


@functools.cache
def _network_and_expected(name: str):
    """A tiny network for case `name`, its sampled batches, and SymPy's residuals of it."""
    problem = _problem(name)
    index = sorted(CASES).index(name)
    activation = MIRROR_ACTIVATIONS[index % len(MIRROR_ACTIVATIONS)]
    config = pk.Config(model=pk.MLP(width=2, depth=2, activation=activation, init="default"))
    model = build_model(problem, config, torch.Generator().manual_seed(index)).double()
    compiled = compile_problem(problem, dtype=torch.float64)
    batches = sample_batches(compiled, np.random.default_rng(0))
    params = {k: v.item() for k, v in compiled.parameter_values().items()}
    expected = sympy_residuals(problem, network_solution(model, problem), batches, params)
    return model, batches, expected


@pytest.mark.parametrize(("name", "variant"), list(_taylor_cases()))
def test_taylor_residuals_of_a_network_match_sympy(name, variant):
    """Taylor mode (eager, and under torch.compile) gives SymPy's residuals of a network."""
    model, batches, expected = _network_and_expected(name)
    compiled = compile_problem(
        _problem(name), dtype=torch.float64, engine="taylor", compile=variant == "compile"
    )
    graphs = _compiled_graphs() if variant == "compile" else 0
    residuals = compiled.residuals(model, batches)
    assert_residuals_match(residuals, expected, rtol=CASES[name].rtol)
    if variant == "compile":
        # torch runs eagerly, silently, past its recompile limit: check a graph was built.
        assert _compiled_graphs() > graphs


def _compiled_graphs() -> int:
    """Graphs torch.compile has built in this process (imported here: importing dynamo
    takes seconds, which the fast tests should not pay)."""
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def test_cases_cover_the_advertised_features():
    problems = [_problem(name) for name in CASES]
    conditions = [c for p in problems for c in p.conditions]
    assert {len(p.coords) for p in problems} >= {1, 2, 3}
    assert any(p.domain.time is not None and len(p.coords) == 1 for p in problems)  # an ODE
    assert any(isinstance(p.domain, pk.Disk) for p in problems)
    assert any(len(p.fields) >= 3 for p in problems)
    assert any(p.data for p in problems)
    assert any(c.periodic is not None for c in conditions)
    assert any(c.expr.has(pk.Normal(x)) for c in conditions)
    assert any(p.log for q in problems for p in q.parameters)
    assert any(not p.log for q in problems for p in q.parameters)
    orders = {
        sum(int(k) for _, k in d.variable_count)
        for p in problems
        for e in p.equations
        for d in e.residual.atoms(sp.Derivative)
    }
    assert orders >= {1, 2, 3, 4}


# -- engines ---------------------------------------------------------------------------------


def _mlp(problem, generator):
    config = pk.Config(model=pk.MLP(width=16, depth=2, init="default"))
    return build_model(problem, config, generator).double()


@pytest.mark.parametrize(
    "name", ["kuramoto_sivashinsky", "mixed_derivatives", "stokes_2d", "oscillator", "disk_neumann"]
)
def test_engines_agree_on_a_random_network(name, generator, float64):
    problem = _problem(name)
    model = _mlp(problem, generator)
    batches, _ = _batches_and_expected(name)
    _assert_engines_agree(problem, model, batches, ["func", "taylor"])


def _assert_engines_agree(problem, model, batches, engines):
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


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("features", ["plain", "fourier", "periodic", "exact_initial"])
def test_taylor_agrees_with_autograd_through_every_supported_module(
    activation, features, generator, float64
):
    """Every activation, input feature and the exact-initial wrapper, on a 4th-order
    problem (Kuramoto-Sivashinsky); the periodic embedding needs `Periodic(exact=True)`,
    so that variant uses a 3rd-order problem with a mixed partial and exact periodicity."""
    name = "kuramoto_sivashinsky"
    problem = _problem(name)
    batches, _ = _batches_and_expected(name)
    options = {
        "plain": {},
        "fourier": {"fourier": pk.Fourier(features=3)},
        "periodic": {},
        "exact_initial": {"exact_initial": True},
    }[features]
    if features == "periodic":
        problem = _exactly_periodic()
        compiled = compile_problem(problem, dtype=torch.float64)
        batches = sample_batches(compiled, np.random.default_rng(0))
    config = pk.Config(
        model=pk.MLP(width=6, depth=2, activation=activation, init="default"), **options
    )
    model = build_model(problem, config, generator).double()
    _assert_engines_agree(problem, model, batches, ["taylor"])


def _exactly_periodic() -> pk.Problem:
    u = u_(x, t)
    return pk.Problem(
        domain=pk.Interval(x, 0, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t) + u * u.diff(x) + u.diff(x, 3), u.diff(x, t))],
        conditions=[pk.Initial(u, sp.cos(sp.pi * x)), pk.Periodic(x, exact=True)],
    )


def test_engines_return_the_closure_with_row_shaped_tensors(generator, float64):
    u = u_(x, t)
    plan, _, _ = build_plan([u.diff(x, 2, t)], coords=(x, t), fields=(u,))
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    points = torch.rand(5, 2, generator=generator)
    for engine in (AutogradEngine(), ForwardEngine(), TaylorEngine()):
        values = engine.evaluate(model, points, plan)
        assert list(values) == list(plan.closure)
        assert all(v.shape == (5,) for v in values.values())


@pytest.mark.parametrize("features", ["plain", "periodic", "exact_initial"])
def test_taylor_evaluates_many_jobs_as_it_evaluates_each(features, generator, float64):
    """Jobs sharing passes through the network (derivative rows first, value-only rows
    riding along) give what each job gives on its own, in the order asked."""
    u = u_(x, t)
    interior, _, _ = build_plan([u.diff(x, 3), u.diff(t)], coords=(x, t), fields=(u,))
    neumann, _, _ = build_plan([u.diff(x)], coords=(x, t), fields=(u,))
    values, _, _ = build_plan([u], coords=(x, t), fields=(u,))
    problem = _exactly_periodic()
    options = {"periodic": {}, "exact_initial": {"exact_initial": True}}.get(features, {})
    if features != "periodic":
        problem = _problem("burgers")
    config = pk.Config(model=pk.MLP(width=6, depth=2, init="default"), **options)
    model = build_model(problem, config, generator).double()
    jobs = [
        (torch.rand(3, 2, generator=generator, dtype=torch.float64), plan)
        for plan in (values, interior, neumann, values, interior, neumann)
    ]
    engine = TaylorEngine()
    together = engine.evaluate_many(model, jobs)
    for (points, plan), got in zip(jobs, together):
        alone = engine.evaluate(model, points, plan)
        assert list(got) == list(plan.closure)
        for p in plan.closure:
            torch.testing.assert_close(got[p], alone[p], rtol=1e-13, atol=1e-14)


def test_taylor_passes_group_jobs_by_plan():
    """One pass per distinct derivative plan, the value-only jobs in the first one (or in a
    plain forward pass of their own through `exact_initial`)."""
    u = u_(x, t)
    interior, _, _ = build_plan([u.diff(x, 2), u.diff(t)], coords=(x, t), fields=(u,))
    faces, _, _ = build_plan([u.diff(x)], coords=(x, t), fields=(u,))
    values, _, _ = build_plan([u], coords=(x, t), fields=(u,))
    engine = TaylorEngine()
    plans = (interior, values, values, faces, faces)
    passes = engine._passes(plans, keep_apart=False)
    assert [p.members for p in passes] == [(0, 1, 2), (3, 4)]
    assert passes[0].schedule is engine.schedule(interior) and passes[0].derivative == 1
    apart = engine._passes(plans, keep_apart=True)
    assert [p.members for p in apart] == [(0,), (3, 4), (1, 2)]
    assert apart[2].schedule is None
    assert [p.members for p in engine._passes((values, values), keep_apart=False)] == [(0, 1)]


def test_mean_squares_are_the_residuals_mean_squares(rng):
    problem = _problem("burgers")
    compiled = compile_problem(problem, dtype=torch.float64, engine="taylor")
    model = build_model(problem, pk.Config(), torch.Generator().manual_seed(0)).double()
    batches = sample_batches(compiled, rng)
    residuals = compiled.residuals(model, batches)
    means = compiled.mean_squares(model, batches)
    assert means.keys() == residuals.keys()
    for k, r in residuals.items():
        torch.testing.assert_close(means[k], r.square().mean())


@pytest.mark.parametrize("engine", [AutogradEngine(), ForwardEngine()], ids=ENGINES)
def test_engines_differentiate_a_model_linear_in_the_points(engine):
    """u_x of a linear map does not depend on the points (nor, here, on any parameter), so
    autograd has no graph to differentiate for u_xx: the engine must give zeros, not fail."""
    u = u_(x, t)
    plan, _, _ = build_plan([u.diff(x, 2), u.diff(x, t)], coords=(x, t), fields=(u,))
    model = SympyModel((x, t), [3 * x - t])
    points = torch.rand(4, 2, dtype=torch.float64)
    values = engine.evaluate(model, points, plan)
    torch.testing.assert_close(values[Partial("u", (1, 0))], torch.full((4,), 3.0).double())
    torch.testing.assert_close(values[Partial("u", (2, 0))], torch.zeros(4).double())
    torch.testing.assert_close(values[Partial("u", (1, 1))], torch.zeros(4).double())


def test_taylor_differentiates_a_model_linear_in_the_points():
    u = u_(x, t)
    plan, _, _ = build_plan([u.diff(x, 2), u.diff(x, t)], coords=(x, t), fields=(u,))
    model = torch.nn.Sequential(torch.nn.Linear(2, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[3.0, -1.0]]))
    values = TaylorEngine().evaluate(model, torch.rand(4, 2, dtype=torch.float64), plan)
    torch.testing.assert_close(values[Partial("u", (1, 0))], torch.full((4,), 3.0).double())
    torch.testing.assert_close(values[Partial("u", (2, 0))], torch.zeros(4).double())
    torch.testing.assert_close(values[Partial("u", (1, 1))], torch.zeros(4).double())


def test_taylor_rejects_what_it_cannot_propagate_and_auto_falls_back(generator):
    problem = _problem("burgers")
    config = pk.Config(model=pk.MLP(width=4, depth=1), gaussians=pk.Gaussians())
    model = build_model(problem, config, generator)
    plan = compile_problem(problem).groups[0].plan
    points = torch.rand(5, 2)
    with pytest.raises(ConfigError, match="cannot propagate.*model.gaussians.*engine=auto"):
        TaylorEngine().evaluate(model, points, plan)
    auto = AutoEngine()
    assert auto.choose(model, plan)[0] == "autograd"
    assert "gaussians" in auto.choose(model, plan)[1]
    values = auto.evaluate(model, points, plan)
    expected = AutogradEngine().evaluate(model, points, plan)
    assert all(torch.equal(values[p], expected[p]) for p in plan.closure)
    plain = build_model(problem, pk.Config(model=pk.MLP(width=4, depth=1)), generator)
    assert AutoEngine(compile=True).choose(plain, plan)[0] == "taylor"
    compiled = compile_problem(problem, compile=True)
    with pytest.raises(ConfigError, match="compile=True needs.*region 'interior'"):
        compiled.residuals(model, {r: Batch(points) for r in compiled.sample_regions})


@pytest.mark.parametrize(
    ("name", "engine"),
    [("kdv", "taylor"), ("kuramoto_sivashinsky", "taylor"), ("poisson_3d", "autograd")],
)
def test_auto_takes_taylor_mode_for_high_orders_in_few_inputs(name, engine, generator):
    """The measured rule (`AutoEngine`): Taylor mode for u_xxx in (x, t), autograd for a
    3-D Laplacian, whose seven Taylor rows cost more than autograd's five passes."""
    problem = _problem(name)
    model = build_model(problem, pk.Config(model=pk.MLP(width=4, depth=1)), generator)
    plan = compile_problem(problem).groups[0].plan
    choice, why = AutoEngine().choose(model, plan)
    assert choice == engine and "partials" in why and "passes" in why


def test_compile_is_refused_with_the_lagrangian_pinn():
    with pytest.raises(ConfigError, match="compile=True does not apply to the Lagrangian"):
        pk.Config(compile=True, lagrangian=pk.Lagrangian())


@pytest.mark.parametrize("engine", ENGINES)
def test_compile_needs_the_taylor_engine(engine):
    with pytest.raises(ConfigError, match="compile=True needs.*engine=taylor"):
        compile_problem(_problem("burgers"), engine=engine, compile=True)


def test_make_engine():
    assert isinstance(make_engine("auto"), AutoEngine)
    assert isinstance(make_engine("taylor"), TaylorEngine)
    assert isinstance(make_engine("func"), ForwardEngine)
    with pytest.raises(ConfigError, match="engine 'fnc' is unknown.*Did you mean `func`"):
        make_engine("fnc")


# -- the derivative plan ---------------------------------------------------------------------


def test_plan_deduplicates_partials_shared_by_equations():
    u = u_(x, t)
    plan, rewritten, symbols = build_plan(
        [u.diff(t) + u * u.diff(x), u.diff(x) ** 2 - u.diff(x, 2)], coords=(x, t), fields=(u,)
    )
    u_x = Partial("u", (1, 0))
    assert plan.needed.count(u_x) == 1
    assert all(r.has(symbols[u_x]) for r in rewritten)
    assert not any(r.has(sp.Derivative) or r.has(u) for r in rewritten)
    assert sorted(plan.describe().split(", ")) == ["u", "u_t", "u_x", "u_xx"]
    assert [p.order for p in plan.needed] == [0, 1, 1, 2]
    assert plan.max_order == 2


def test_plan_closure_contains_every_intermediate():
    u = u_(x, y, t)
    plan, _, _ = build_plan([u.diff(x, 2, y, 1, t, 1)], coords=(x, y, t), fields=(u,))
    (target,) = plan.needed
    assert plan.label(target) == "u_xxyt"
    assert set(plan.needed) <= set(plan.closure)
    for partial in plan.closure:
        parent = partial.parent()
        assert parent is None or parent in plan.closure
    assert [p.order for p in plan.closure] == [0, 1, 2, 3, 4]
    assert plan.closure.index(target.parent()) < plan.closure.index(target)


def test_plan_extra_partials_and_fields():
    u, v = u_(x, t), sp.Function("v")(x, t)
    extra = [Partial("v", (0, 1))]
    plan, rewritten, _ = build_plan([u.diff(x)], coords=(x, t), fields=(u, v), extra=extra)
    assert plan.fields == ("u", "v") and plan.coords == ("x", "t")
    assert Partial("v", (0, 1)) in plan.needed


@pytest.mark.parametrize(
    ("orders", "coords", "label"),
    [
        ((0, 0), ("x", "t"), "u"),
        ((1, 0), ("x", "t"), "u_x"),
        ((2, 1), ("x", "t"), "u_xxt"),
        ((1, 1, 0), ("x", "y", "t"), "u_xy"),
        ((1, 2), ("r", "theta"), "u_r{theta}{theta}"),
    ],
)
def test_partial_labels(orders, coords, label):
    assert Partial("u", orders).label(coords) == label


def test_partial_parent_and_direction():
    u_xxt = Partial("u", (2, 1))
    assert u_xxt.parent() == Partial("u", (1, 1))
    assert u_xxt.direction() == 0
    assert Partial("u", (0, 0)).parent() is None
    with pytest.raises(ValueError, match="bug in pinnkit"):
        Partial("u", (0, 0)).direction()


# -- code generation -------------------------------------------------------------------------

a, b = sp.symbols("a b", real=True)
# Safe argument ranges (away from poles, branch cuts and domain edges) for every op.
OP_RANGES = {
    sp.sin: [(-3, 3)],
    sp.cos: [(-3, 3)],
    sp.tan: [(-1.2, 1.2)],
    sp.asin: [(-0.95, 0.95)],
    sp.acos: [(-0.95, 0.95)],
    sp.atan: [(-3, 3)],
    sp.atan2: [(-2, 2), (0.5, 2)],
    sp.sinh: [(-3, 3)],
    sp.cosh: [(-3, 3)],
    sp.tanh: [(-3, 3)],
    sp.asinh: [(-3, 3)],
    sp.acosh: [(1.05, 4)],
    sp.atanh: [(-0.95, 0.95)],
    sp.exp: [(-3, 3)],
    sp.log: [(0.1, 5)],
    sp.Abs: [(-2, 2)],
    sp.sign: [(-2, 2)],
    sp.erf: [(-2, 2)],
    sp.erfc: [(-2, 2)],
    sp.sec: [(-1.2, 1.2)],
    sp.csc: [(0.2, 2.9)],
    sp.cot: [(0.2, 2.9)],
    sp.sech: [(-3, 3)],
    sp.csch: [(0.2, 3)],
    sp.coth: [(0.2, 3)],
    sp.Heaviside: [(-2, 2)],
    sp.Max: [(-2, 2), (-1, 1)],
    sp.Min: [(-2, 2), (-1, 1)],
    sp.floor: [(-2.3, 2.3)],
    sp.ceiling: [(-2.3, 2.3)],
}


@pytest.mark.parametrize("op", list(OP_TABLE), ids=lambda op: op.__name__)
def test_op_table_entry_matches_sympy(op):
    assert op in OP_RANGES, f"add a safe argument range for {op.__name__} to OP_RANGES"
    symbols = [a, b][: len(OP_RANGES[op])]
    expr = op(*symbols)
    assert type(expr) is op, "the test expression must not simplify away"
    # An odd number of points puts 0 in the middle of symmetric ranges (sign, Heaviside).
    grids = [np.linspace(lo, hi, OP_POINTS) for lo, hi in OP_RANGES[op]]
    fn, _ = generate([expr], symbols, where=["op"])
    (got,) = fn(*(torch.tensor(g, dtype=torch.float64) for g in grids))
    want = [
        float(expr.subs(dict(zip(symbols, map(sp.Float, values)))).evalf(20))
        for values in zip(*grids)
    ]
    np.testing.assert_allclose(got.numpy(), want, rtol=EXACT_RTOL, atol=EXACT_RTOL)


@pytest.mark.parametrize(
    "expr",
    [
        1 / a,
        a**-3,
        sp.sqrt(a),
        1 / sp.sqrt(a),
        a ** sp.Rational(3, 2),
        a**b,
        3 * a**2 - sp.pi * a * b + sp.E,
        sp.exp(-(a**2)) * sp.cos(b) + sp.exp(-(a**2)) * sp.sin(b),  # CSE shares exp(-a^2)
    ],
    ids=str,
)
def test_generated_algebra_matches_sympy(expr):
    values = (np.linspace(0.5, 2.0, OP_POINTS), np.linspace(-1.0, 1.5, OP_POINTS))
    fn, source = generate([expr], [a, b], where=["algebra"])
    (got,) = fn(*(torch.tensor(v, dtype=torch.float64) for v in values))
    want = sp.lambdify([a, b], expr, modules="numpy")(*values)
    np.testing.assert_allclose(got.numpy(), want, rtol=EXACT_RTOL)
    assert source.startswith("def residuals(")


def test_generate_rejects_complex_constants():
    with pytest.raises(CompileError, match='"eq0": the constant `I` is not a real number'):
        generate([a + sp.I], [a], where=['"eq0"'])


def _bessel_problem():
    u = u_(x)
    return pk.Problem(
        domain=pk.Interval(x, 0, 1),
        fields=[u],
        equations={"bessel": sp.Eq(u.diff(x, 2), sp.besselj(0, 4 * x))},
    )


def test_unsupported_function_names_the_extra_ops_hook():
    with pytest.raises(
        CompileError, match=r'(?s)"bessel" uses `besselj\(0, 4\*x\)`.*extra_ops=\{sympy.besselj'
    ):
        compile_problem(_bessel_problem())


def test_extra_ops_make_an_unsupported_function_work(rng):
    def besselj(order, argument):
        assert order == 0.0, "this test only maps J0"
        return torch.special.bessel_j0(argument)

    problem = _bessel_problem()
    compiled = compile_problem(problem, dtype=torch.float64, extra_ops={sp.besselj: besselj})
    batches = sample_batches(compiled, rng)
    # u = 0 leaves the residual -J0(4x). Compared with the mapped function itself: torch's
    # bessel_j0 is only ~1e-9 accurate against SymPy (mpmath), which is torch's business.
    (residual,) = compiled.residuals(SympyModel(problem.coords, [0]), batches).values()
    points = batches["interior"].points[:, 0]
    torch.testing.assert_close(residual, -torch.special.bessel_j0(4 * points))
    assert residual.abs().min() > NONTRIVIAL


# -- Parameters ------------------------------------------------------------------------------


def test_parameters_are_module_parameters():
    compiled = compile_problem(_problem("reaction_diffusion"), dtype=torch.float64)
    state = compiled.state_dict()
    assert set(state) == {"parameters_raw.D", "parameters_raw.k"}
    # log=True stores the logarithm; log=False the value itself.
    assert state["parameters_raw.D"].item() == pytest.approx(np.log(0.05), rel=EXACT_RTOL)
    assert state["parameters_raw.k"].item() == 1.5
    values = compiled.parameter_values()
    assert values["D"].item() == pytest.approx(0.05, rel=EXACT_RTOL)
    assert {name for name, _ in compiled.named_parameters()} == set(state)
    assert compiled.to(torch.float32).parameters_raw["k"].dtype == torch.float32


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["heat_robin", "reaction_diffusion", "oscillator"])
def test_parameters_receive_gradients(name, engine):
    """d(loss)/d(raw parameter) by autograd equals a central finite difference."""
    problem = _problem(name)
    case = CASES[name]
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, _ = _batches_and_expected(name)
    model = SympyModel.of(problem, _perturbed(case))

    def loss():
        return sum(r.square().mean() for r in compiled.residuals(model, batches).values())

    for raw in compiled.parameters_raw.values():
        (grad,) = torch.autograd.grad(loss(), raw)
        assert grad.item() != 0.0
        with torch.no_grad():
            raw += FINITE_DIFFERENCE_STEP
            up = loss().item()
            raw -= 2 * FINITE_DIFFERENCE_STEP
            down = loss().item()
            raw += FINITE_DIFFERENCE_STEP
        estimate = (up - down) / (2 * FINITE_DIFFERENCE_STEP)
        assert grad.item() == pytest.approx(estimate, rel=FINITE_DIFFERENCE_RTOL)


def test_changed_parameters_change_residuals_as_sympy_does():
    name = "reaction_diffusion"
    problem = _problem(name)
    compiled = compile_problem(problem, dtype=torch.float64)
    with torch.no_grad():
        compiled.parameters_raw["D"].fill_(np.log(0.2))
        compiled.parameters_raw["k"].fill_(-0.7)
    batches, _ = _batches_and_expected(name)
    solution = CASES[name].solution
    residuals = compiled.residuals(SympyModel.of(problem, solution), batches)
    expected = sympy_residuals(problem, solution, batches, {"D": 0.2, "k": -0.7})
    assert np.max(np.abs(expected["v"])) > NONTRIVIAL
    assert_residuals_match(residuals, expected)


# -- periodic and data terms -----------------------------------------------------------------


def _periodic_problem(*, exact: bool = False):
    u = u_(x, t)
    return pk.Problem(
        domain=pk.Interval(x, 0, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), u.diff(x, 2))],
        conditions=[pk.Periodic(x, order=1, exact=exact)],
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_periodic_residual(engine, rng):
    problem = _periodic_problem()
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches = sample_batches(compiled, rng)
    n = len(batches["periodic:x"].points)

    periodic = SympyModel(problem.coords, [sp.sin(sp.pi * x) * sp.exp(t) + sp.cos(3 * sp.pi * x)])
    residual = compiled.residuals(periodic, batches)["periodic_x"]
    assert residual.shape == (2 * n,)
    assert residual.abs().max().item() <= EXACT_RTOL

    # u = x t^2: u(0) - u(2) = -2 t^2, and u_x(0) - u_x(2) = 0.
    ramp = SympyModel(problem.coords, [x * t**2])
    residual = compiled.residuals(ramp, batches)["periodic_x"]
    time = batches["periodic:x"].points[:, 1]
    torch.testing.assert_close(residual[:n], -2 * time**2, rtol=EXACT_RTOL, atol=EXACT_RTOL)
    torch.testing.assert_close(residual[n:], torch.zeros(n, dtype=torch.float64))


def test_exact_periodicity_adds_no_loss_term():
    problem = _periodic_problem(exact=True)
    compiled = compile_problem(problem, dtype=torch.float64)
    assert compiled.term_names == ["eq0"]
    assert problem.periodic_embeddings == {"x": (0.0, 2.0)}


@pytest.mark.parametrize("engine", ENGINES)
def test_data_residual_is_prediction_minus_observation(engine):
    u, v = u_(x, t), sp.Function("v")(x, t)
    data = pk.Data({x: [0.1, 0.5, 0.9], t: [0.0, 0.5, 1.0]}, {v: [1.0, 2.0, 3.0], u: [0, 0, 1]})
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u, v],
        equations=[sp.Eq(u.diff(t), v.diff(x, 2)), sp.Eq(v.diff(t), u)],
        data=data,
    )
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    model = SympyModel(problem.coords, [x + t, x**2])
    # Data regions default to their own observation points.
    residuals = compiled.residuals(model, {"interior": Batch(torch.rand(4, 2).double())})
    want = [0.01 - 1, 0.25 - 2, 0.81 - 3, 0.1 - 0, 1.0 - 0, 1.9 - 1]
    np.testing.assert_allclose(residuals["data"].detach().numpy(), want, rtol=EXACT_RTOL)
    assert compiled.data_batches()["data:data"].points.dtype == torch.float64


def test_missing_batch_names_the_regions(rng):
    compiled = compile_problem(_problem("poisson_1d"), dtype=torch.float64)
    model = SympyModel.of(compiled.problem, CASES["poisson_1d"].solution)
    with pytest.raises(KeyError, match="no points for region 'interior'"):
        compiled.residuals(model, {})
    assert set(compiled.sample_regions) == {"interior", "x = 0", "x = 1"}
