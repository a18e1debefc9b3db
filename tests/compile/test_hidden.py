"""Hidden terms in `pinnkit.compile`: exactness on every engine with known functions,
`hidden_values`, input ranges and normalisation, seeded weights and state_dict, and names
torch reserves."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import compile_problem
from pinnkit.errors import CompileError
from tests.helpers import (
    ENGINE_RTOL,
    EXACT_RTOL,
    HIDDEN_DOMAIN,
    KnownFunction,
    SympyModel,
    assert_residuals_match,
    hidden_problem,
    hidden_system,
    network_solution,
    relative_difference,
    sample_batches,
    sympy_residuals,
)

ENGINES = ("autograd", "func")
x, t = sp.symbols("x t")
U, V = sp.Function("u"), sp.Function("v")
u, v = U(x, t), V(x, t)


a, b, c = sp.symbols("a b c")
# The known functions that stand in for the hidden networks in the exactness tests.
F_KNOWN = sp.Lambda(a, a * (1 - a))
G_KNOWN = sp.Lambda((a, b, c), a * b + sp.sin(c))
SOLUTION = {
    "u": sp.exp(-t / 2) * sp.sin(sp.pi * x) + x / 3,
    "v": sp.cos(2 * x + t) / 2 + t * x**2,
}


def _with_known_functions(compiled):
    compiled.hidden["f"] = KnownFunction(lambda p: p * (1 - p))
    compiled.hidden["g"] = KnownFunction(lambda p, q, r: p * q + torch.sin(r))
    return compiled


# -- compile exactness -----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_residuals_match_sympy_with_known_hidden_functions(engine):
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    twin = hidden_system(F_KNOWN, G_KNOWN)  # the same problem with f and g written out
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    compiled = _with_known_functions(compiled)
    batches = sample_batches(compiled, np.random.default_rng(0))
    model = SympyModel.of(problem, SOLUTION)
    expected = sympy_residuals(twin, SOLUTION, batches, {"D": 0.3})
    assert_residuals_match(compiled.residuals(model, batches), expected, rtol=EXACT_RTOL)


@pytest.mark.parametrize("variant", ["taylor", pytest.param("compile", marks=pytest.mark.slow)])
def test_taylor_residuals_of_a_network_match_sympy_with_known_hidden_functions(variant):
    """The Taylor engine (eager and under torch.compile) on a tiny network, against SymPy's
    derivatives of the same network written out (`network_solution`)."""
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    twin = hidden_system(F_KNOWN, G_KNOWN)
    compiled = compile_problem(
        problem, dtype=torch.float64, engine="taylor", compile=variant == "compile"
    )
    compiled = _with_known_functions(compiled)
    batches = sample_batches(compiled, np.random.default_rng(0))
    config = pk.Config(model=pk.MLP(width=2, depth=2, init="default"))
    model = build_model(problem, config, torch.Generator().manual_seed(0)).double()
    expected = sympy_residuals(twin, network_solution(model, problem), batches, {"D": 0.3})
    assert_residuals_match(compiled.residuals(model, batches), expected, rtol=EXACT_RTOL)


def test_engines_agree_through_real_hidden_networks():
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    compiled = {e: compile_problem(problem, dtype=torch.float64, engine=e) for e in ENGINES}
    compiled["func"].load_state_dict(compiled["autograd"].state_dict())
    batches = sample_batches(compiled["autograd"], np.random.default_rng(1))
    model = SympyModel.of(problem, SOLUTION)
    got = {e: c.residuals(model, batches) for e, c in compiled.items()}
    for name in got["autograd"]:
        assert relative_difference(got["func"][name], got["autograd"][name]) <= ENGINE_RTOL


def test_hidden_networks_receive_gradients():
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    compiled = compile_problem(problem, dtype=torch.float64)
    batches = sample_batches(compiled, np.random.default_rng(2))
    residuals = compiled.residuals(SympyModel.of(problem, SOLUTION), batches)
    sum(r.square().mean() for r in residuals.values()).backward()
    for name in ("f", "g"):
        grads = [p.grad for p in compiled.hidden[name].parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)


def test_generated_code_calls_the_hidden_networks():
    compiled = compile_problem(hidden_system(pk.Hidden("f"), pk.Hidden("g")))
    text = compiled.describe()
    assert "_hidden['f'](u)" in text and "_hidden['g']((u ** 2), u_x, x)" in text
    assert "hidden terms" in text and "u_x" in text and "(user)" not in text


# -- hidden_values ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_hidden_values_gives_readable_inputs_and_outputs(engine):
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))
    compiled = _with_known_functions(compile_problem(problem, dtype=torch.float64, engine=engine))
    model = SympyModel.of(problem, SOLUTION)
    points = sample_batches(compiled, np.random.default_rng(4))["interior"].points
    n = points.shape[0]
    with torch.no_grad():
        values = compiled.hidden_values(model, points)
    fields = model(points)
    (f_inputs, f_out), (g_inputs, g_out) = values["f"], values["g"]
    # f is applied to u and to v: rows of both applications, in order of appearance.
    assert list(f_inputs) == ["u"] and f_out.shape == (2 * n,)
    assert torch.allclose(f_inputs["u"], torch.cat([fields[:, 0], fields[:, 1]]), rtol=1e-14)
    assert torch.allclose(f_out, f_inputs["u"] * (1 - f_inputs["u"]), rtol=1e-14)
    assert list(g_inputs) == ["u**2", "u_x", "x"] and g_out.shape == (n,)
    u_x = sp.lambdify((x, t), SOLUTION["u"].diff(x))(*points.numpy().T)
    assert np.allclose(g_inputs["u_x"].numpy(), u_x, rtol=1e-12)
    assert torch.equal(g_inputs["x"], points[:, 0])
    assert g_out.requires_grad is False  # no graph kept under no_grad
    term = compiled.hidden_terms["g"]
    assert term.args == (u**2, u.diff(x), x)
    assert term.labels == ("u**2", "u_x", "x")
    assert compiled.hidden_terms["f"].applications == (pk.Hidden("f")(u), pk.Hidden("f")(v))


def test_hidden_values_is_empty_without_hidden_terms():
    problem = pk.Problem(
        domain=HIDDEN_DOMAIN, fields=[u], equations=[sp.Eq(u.diff(t), u.diff(x, 2))]
    )
    compiled = compile_problem(problem, dtype=torch.float64)
    assert compiled.hidden_values(SympyModel.of(problem, SOLUTION), torch.zeros(3, 2)) == {}
    assert len(compiled.hidden) == 0 and problem.hidden == ()


# -- ranges and normalisation ----------------------------------------------------------------


def test_input_ranges_come_from_domain_data_conditions_and_estimates():
    h = pk.Hidden("h")
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), h(u, u.diff(x), u.diff(x, 2), x, u**2, u.diff(t)))],
        conditions=[pk.Initial(u, sp.Rational(1, 4))],
        data=pk.Data({x: [0.5, 1.0, 1.5], t: [0.5, 0.5, 0.5]}, {u: [0.2, 0.9, 0.5]}),
    )
    term = compile_problem(problem).hidden_terms["h"]
    got = {i.label: (i.bounds, i.source) for i in term.inputs}
    span = 0.9 - 0.2  # union of the data [0.2, 0.9] and the initial value 0.25
    assert got["u"] == (pytest.approx((0.2, 0.9)), "data+conditions")
    assert got["u_x"] == (pytest.approx((-span / 2, span / 2)), "estimate")  # L_x = 2
    assert got["u_xx"] == (pytest.approx((-span / 4, span / 4)), "estimate")
    assert got["u_t"] == (pytest.approx((-span, span)), "estimate")  # L_t = 1
    assert got["x"] == ((0.0, 2.0), "domain")
    assert got["u**2"] == (pytest.approx((0.04, 0.81)), "interval")


def test_input_ranges_defaults_widening_and_user_bounds():
    h = pk.Hidden("h", bounds=[None, (-5, 5)])
    k = pk.Hidden("k", bounds={v: (0, 2)})
    problem = pk.Problem(
        domain=HIDDEN_DOMAIN,
        fields=[u, v],
        equations=[
            sp.Eq(u.diff(t), u.diff(x, 2) + h(u, u.diff(x))),
            sp.Eq(v.diff(t), k(v) + u),
        ],
        conditions=[pk.Dirichlet(u, sp.Rational(3, 10))],  # one value: widened to 0.3 +- 1
    )
    terms = compile_problem(problem).hidden_terms
    assert [(i.bounds, i.source) for i in terms["h"].inputs] == [
        (pytest.approx((-0.7, 1.3)), "conditions"),
        ((-5.0, 5.0), "user"),
    ]
    assert [(i.bounds, i.source) for i in terms["k"].inputs] == [((0.0, 2.0), "user")]
    k_free = pk.Problem(
        domain=HIDDEN_DOMAIN, fields=[v], equations=[sp.Eq(v.diff(t), pk.Hidden("k")(v))]
    )
    (only,) = compile_problem(k_free).hidden_terms["k"].inputs
    assert (only.bounds, only.source) == ((-1.0, 1.0), "default")


def test_normalisation_buffers_map_the_range_to_unit_interval():
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g", bounds=[(0, 4), (-3, 1), None]))
    compiled = compile_problem(problem, dtype=torch.float64)
    module = compiled.hidden["g"]
    assert module.lo.tolist() == [0.0, -3.0, 0.0] and module.hi.tolist() == [4.0, 1.0, 1.0]
    assert module.lo.dtype == torch.float64
    ends = torch.stack([module.lo, module.hi, (module.lo + module.hi) / 2])
    assert module.normalize(ends).tolist() == [[-1.0] * 3, [1.0] * 3, [0.0] * 3]
    state = compiled.state_dict()
    assert torch.equal(state["hidden.g.lo"], module.lo) and "hidden.f.hi" in state


def test_state_dict_round_trip_and_seeded_weights(tmp_path):
    problem = hidden_system(pk.Hidden("f"), pk.Hidden("g"))

    def build(seed):
        generator = torch.Generator().manual_seed(seed)
        return compile_problem(problem, dtype=torch.float64, generator=generator)

    first, again, other = build(1), build(1), build(2)
    inputs = torch.rand(5, 3, dtype=torch.float64)
    assert torch.equal(first.hidden["g"](inputs), again.hidden["g"](inputs))
    assert not torch.equal(first.hidden["g"](inputs), other.hidden["g"](inputs))
    torch.save(first.state_dict(), tmp_path / "state.pt")
    other.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    assert torch.equal(first.hidden["g"](inputs), other.hidden["g"](inputs))


def test_torch_reserved_name_is_a_compile_error():
    problem = hidden_problem(sp.Eq(u.diff(t), pk.Hidden("forward")(u)))
    with pytest.raises(CompileError, match=r'Hidden "forward": torch reserves this name'):
        compile_problem(problem)
