"""Tests of `pinnkit.compile.taylor`: Taylor mode against SymPy's derivatives of a network
(eager and under torch.compile), against autograd through every supported module, and its
grouping of jobs into passes.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import Partial, TaylorEngine, build_plan, compile_problem
from pinnkit.config.networks import ACTIVATIONS
from tests.cases import CASES, case_batches_and_expected, case_problem
from tests.helpers import (
    assert_engines_agree,
    assert_residuals_match,
    network_solution,
    sample_batches,
    sympy_residuals,
)

x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")


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
    problem = case_problem(name)
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
        case_problem(name), dtype=torch.float64, engine="taylor", compile=variant == "compile"
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


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("features", ["plain", "fourier", "periodic", "exact_initial"])
def test_taylor_agrees_with_autograd_through_every_supported_module(
    activation, features, generator, float64
):
    """Every activation, input feature and the exact-initial wrapper, on a 4th-order
    problem (Kuramoto-Sivashinsky); the periodic embedding needs `Periodic(exact=True)`,
    so that variant uses a 3rd-order problem with a mixed partial and exact periodicity."""
    name = "kuramoto_sivashinsky"
    problem = case_problem(name)
    batches, _ = case_batches_and_expected(name)
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
    assert_engines_agree(problem, model, batches, ["taylor"])


def _exactly_periodic() -> pk.Problem:
    u = u_(x, t)
    return pk.Problem(
        domain=pk.Interval(x, 0, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t) + u * u.diff(x) + u.diff(x, 3), u.diff(x, t))],
        conditions=[pk.Initial(u, sp.cos(sp.pi * x)), pk.Periodic(x, exact=True)],
    )


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
        problem = case_problem("burgers")
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
