"""Tests of `pinnkit.compile.compiled` (`compile_problem`, `CompiledProblem`):
manufactured-solution exactness over every case and engine, mean squares, the residuals of
Parameters, periodic conditions and data, and missing batches.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import Batch, compile_problem
from pinnkit.errors import ConfigError
from tests.cases import CASES, case_batches_and_expected, case_problem, perturbed_solution
from tests.helpers import (
    ENGINES,
    EXACT_RTOL,
    NONTRIVIAL,
    SympyModel,
    assert_residuals_match,
    sample_batches,
    sympy_residuals,
)

x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")


# Central finite differences in float64 with step 1e-6 on functions of order 1: truncation
# ~1e-12, round-off ~1e-10; 1e-7 bounds both with margin.
FINITE_DIFFERENCE_STEP = 1e-6
FINITE_DIFFERENCE_RTOL = 1e-7


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_solution_has_zero_residuals(name, engine):
    case = CASES[name]
    problem = case_problem(name)
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, expected = case_batches_and_expected(name)
    residuals = compiled.residuals(SympyModel.of(problem, case.solution), batches)
    zeros = {k: np.zeros_like(v) for k, v in expected.items()}
    assert_residuals_match(residuals, zeros, rtol=case.rtol)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_perturbed_residuals_match_sympy(name, engine):
    """The real exactness test: with a wrong solution every residual is nonzero, and equals
    SymPy's evaluation of the residual expression with that solution substituted."""
    case = CASES[name]
    problem = case_problem(name)
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, expected = case_batches_and_expected(name)
    residuals = compiled.residuals(SympyModel.of(problem, perturbed_solution(case)), batches)
    for term, values in expected.items():
        assert np.max(np.abs(values)) > NONTRIVIAL, f"{term} is trivially zero"
    assert_residuals_match(residuals, expected, rtol=case.rtol)


def test_cases_cover_the_advertised_features():
    problems = [case_problem(name) for name in CASES]
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


def test_mean_squares_are_the_residuals_mean_squares(rng):
    problem = case_problem("burgers")
    compiled = compile_problem(problem, dtype=torch.float64, engine="taylor")
    model = build_model(problem, pk.Config(), torch.Generator().manual_seed(0)).double()
    batches = sample_batches(compiled, rng)
    residuals = compiled.residuals(model, batches)
    means = compiled.mean_squares(model, batches)
    assert means.keys() == residuals.keys()
    for k, r in residuals.items():
        torch.testing.assert_close(means[k], r.square().mean())


@pytest.mark.parametrize("engine", ENGINES)
def test_compile_needs_the_taylor_engine(engine):
    with pytest.raises(ConfigError, match="compile=True needs.*engine=taylor"):
        compile_problem(case_problem("burgers"), engine=engine, compile=True)


# -- Parameters ------------------------------------------------------------------------------


def test_parameters_are_module_parameters():
    compiled = compile_problem(case_problem("reaction_diffusion"), dtype=torch.float64)
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
    problem = case_problem(name)
    case = CASES[name]
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    batches, _ = case_batches_and_expected(name)
    model = SympyModel.of(problem, perturbed_solution(case))

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
    problem = case_problem(name)
    compiled = compile_problem(problem, dtype=torch.float64)
    with torch.no_grad():
        compiled.parameters_raw["D"].fill_(np.log(0.2))
        compiled.parameters_raw["k"].fill_(-0.7)
    batches, _ = case_batches_and_expected(name)
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
    compiled = compile_problem(case_problem("poisson_1d"), dtype=torch.float64)
    model = SympyModel.of(compiled.problem, CASES["poisson_1d"].solution)
    with pytest.raises(KeyError, match="no points for region 'interior'"):
        compiled.residuals(model, {})
    assert set(compiled.sample_regions) == {"interior", "x = 0", "x = 1"}
