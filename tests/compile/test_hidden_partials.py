"""Derivatives of Hidden terms in the coordinates (`pinnkit.problem.hidden_partials`): the
chain rule's SymPy form, residuals exact against the same problem with known functions on
every engine, the network's weights trained through them, formulas substituted, and the
derivatives that stay refused."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import compile_problem
from pinnkit.discover.substitute import Formula, substitute
from pinnkit.errors import ConfigError, ProblemError
from pinnkit.problem.hidden_partials import HiddenPartial, chain_rule, hidden_partials
from tests.helpers import (
    EXACT_RTOL,
    HIDDEN_DOMAIN,
    KnownFunction,
    SympyModel,
    assert_residuals_match,
    network_solution,
    sample_batches,
    sympy_residuals,
)

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
a, b = sp.symbols("a b")
SOLUTION = {"u": sp.exp(-t / 2) * sp.sin(sp.pi * x) + x / 3}


def _diffusion(D, g) -> pk.Problem:
    """u_t = (D(u) u_x)_x + g(u**2, u_x)_x + D(u)_xx / 10: first and second derivatives of
    a one-input term, an expression argument and a two-input term."""
    return pk.Problem(
        domain=HIDDEN_DOMAIN,
        fields=[u],
        equations={
            "flow": sp.Eq(
                u.diff(t),
                (D(u) * u.diff(x)).diff(x) + g(u**2, u.diff(x)).diff(x) + D(u).diff(x, 2) / 10,
            )
        },
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Boundary(D(u).diff(x), 0, on="left")],
    )


def test_the_chain_rule_writes_partial_derivatives_of_the_term_in_its_arguments():
    D = pk.Hidden("D")
    flux = chain_rule((D(u) * u.diff(x)).diff(x))
    d0 = HiddenPartial(D, (0,))
    assert flux == D(u) * u.diff(x, 2) + d0(u) * u.diff(x) ** 2
    assert chain_rule(sp.Derivative(D(u), x, 2)) == (
        d0(u) * u.diff(x, 2) + HiddenPartial(D, (0, 0))(u) * u.diff(x) ** 2
    )
    assert chain_rule(D(u**2).diff(x)) == 2 * u * u.diff(x) * d0(u**2)  # SymPy's Subs form
    assert HiddenPartial(D, (0,)) == d0 and HiddenPartial(D, (0,)).name == "D_d0"


@pytest.mark.parametrize("engine", ["autograd", "func", "taylor"])
def test_residuals_with_derivatives_of_hidden_terms_match_sympy(engine):
    problem = _diffusion(pk.Hidden("D"), pk.Hidden("g"))
    twin = _diffusion(sp.Lambda(a, 1 + a**2 / 2), sp.Lambda((a, b), a * b + sp.sin(b)))
    assert sorted(p.name for p in hidden_partials(problem)) == ["D_d0", "D_d00", "g_d0", "g_d1"]
    compiled = compile_problem(problem, dtype=torch.float64, engine=engine)
    compiled.hidden["D"] = KnownFunction(lambda p: 1 + p**2 / 2)
    compiled.hidden["g"] = KnownFunction(lambda p, q: p * q + torch.sin(q))
    batches = sample_batches(compiled, np.random.default_rng(0))
    model, solution = SympyModel.of(problem, SOLUTION), SOLUTION
    if engine == "taylor":  # it propagates through the networks pk.MLP builds
        config = pk.Config(model=pk.MLP(width=2, depth=2, init="default"))
        model = build_model(problem, config, torch.Generator().manual_seed(0)).double()
        solution = network_solution(model, problem)
    expected = sympy_residuals(twin, solution, batches, {})
    assert_residuals_match(compiled.residuals(model, batches), expected, rtol=EXACT_RTOL)
    with torch.no_grad():  # evaluation for figures and metrics: the partials still work
        again = compiled.residuals(model, batches)
    assert_residuals_match(again, expected, rtol=EXACT_RTOL)


def test_training_reaches_the_hidden_network_through_its_derivative():
    """In `D(u**2)_x` only the derivative of D appears: its weights get gradients, and D is
    sampled for discovery on the argument its derivative takes."""
    D = pk.Hidden("D")
    problem = pk.Problem(
        domain=HIDDEN_DOMAIN,
        fields=[u],
        equations={"e": sp.Eq(u.diff(t), D(u**2).diff(x))},
        conditions=[pk.Initial(u, sp.sin(sp.pi * x))],
    )
    assert problem.hidden == (D,) and problem.hidden_applications(D) == (D(u**2),)
    compiled = compile_problem(problem, dtype=torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    model = model.double()
    batches = sample_batches(compiled, np.random.default_rng(1))
    loss = compiled.residuals(model, batches)["e"].square().mean()
    weights = list(compiled.hidden["D"].parameters())
    grads = torch.autograd.grad(loss, weights, allow_unused=True)
    assert grads[-1] is None  # the output bias: D's constant, which D' does not see
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads[:-1])
    points = batches["interior"].points
    inputs, output = compiled.hidden_values(model, points)["D"]
    assert list(inputs) == ["u**2"] and output.shape == (len(points),)


def test_a_formula_substituted_for_the_term_is_differentiated_with_it():
    D = pk.Hidden("D")
    problem = _diffusion(D, pk.Hidden("g"))
    s = sp.Symbol("u")
    found = substitute(problem, {"D": Formula((s,), sp.Float(0.05) * (1 + 2 * s**2))})
    (flow,) = found.equations
    want = (sp.Float(0.05) * (1 + 2 * u**2) * u.diff(x)).diff(x)
    want += (sp.Float(0.05) * (1 + 2 * u**2)).diff(x, 2) / 10
    rest = flow.residual - (u.diff(t) - want)
    assert [h.name for h in found.hidden] == ["g"]
    assert sp.simplify(chain_rule(rest) + chain_rule(pk.Hidden("g")(u**2, u.diff(x)).diff(x))) == 0


def test_a_differentiated_composition_of_hidden_terms_is_still_refused():
    f, g = pk.Hidden("f"), pk.Hidden("g")
    with pytest.raises(ProblemError, match=r"Hidden terms are nested in `f\(g\(u\(x, t\)\)\)`"):
        pk.Problem(
            domain=HIDDEN_DOMAIN,
            fields=[u],
            equations={"e": sp.Eq(u.diff(t), f(g(u)).diff(x))},
            conditions=[pk.Initial(u, 0)],
        )


def test_torch_compile_is_refused_with_a_clear_error_before_any_work():
    problem = _diffusion(pk.Hidden("D"), pk.Hidden("g"))
    with pytest.raises(
        ConfigError, match=r"compile=True cannot train through `D_d0`.*compile=false"
    ):
        compile_problem(problem, compile=True)
