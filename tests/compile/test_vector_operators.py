"""Tests of `pinnkit.compile.directional` and `pinnkit.compile.operators`: directional Taylor
jets against nested `torch.func.jvp`, the exact vector operators against nested autograd,
the stochastic estimators' unbiasedness, seeding, parameter gradients and method choice.
"""

from __future__ import annotations

import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import Partial, TaylorEngine, build_plan
from pinnkit.compile import operators as operators_module
from pinnkit.compile.directional import _jvp_jets, directional_jets, supports_directional
from pinnkit.compile.operators import (
    choose_method,
    describe_operator,
    evaluate_operators,
)
from pinnkit.compile.plan import Operator
from pinnkit.errors import CompileError, ConfigError
from pinnkit.models import FieldModel
from tests.cases import case_problem

#: Taylor jets and nested jvp, or nested autograd, on the same float64 network: the same
#: derivatives summed in other orders, so they agree to round-off.
JET_RTOL = 1e-10
#: Absolute floor for round-off on derivatives of order one (|u| ~ 1).
JET_ATOL = 1e-12
#: A stochastic estimate's mean over the seeds must lie within this many standard errors of
#: the exact value (4 SE: a false alarm once in ~16,000 checks if the estimator is unbiased).
STANDARD_ERRORS = 4
#: Seeds averaged in the unbiasedness test.
SEEDS = 300
FIELDS = ("u", "v")


def _model(generator, n_in: int, activation: str = "tanh", **features) -> FieldModel:
    body = pk.MLP(width=8, depth=2, activation=activation, init="default")
    lo, hi = [-1.0] * n_in, [1.5] * n_in
    model = FieldModel(lo=lo, hi=hi, n_out=2, body=body, generator=generator, **features)
    return model.double()


def _nested_jvp(model, points, direction, order) -> list[torch.Tensor]:
    """[D f, ..., D^order f] along `direction` by nested `torch.func.jvp` (test's own)."""
    tangent = direction.expand_as(points)

    def level(depth):
        if depth == 0:
            return model
        inner = level(depth - 1)
        return lambda p: torch.func.jvp(inner, (p,), (tangent,))[1]

    return [level(k)(points) for k in range(1, order + 1)]


@pytest.mark.parametrize("activation", ["tanh", "sin", "gelu"])
@pytest.mark.parametrize("features", ["plain", "fourier", "periodic"])
def test_directional_jets_match_nested_jvp(activation, features, generator, float64):
    """Jets along 3 random directions, orders 1-4, through every kind of input feature."""
    options = {
        "plain": {},
        "fourier": {"fourier": pk.Fourier(features=3)},
        "periodic": {"periods": {1: 2.0}},
    }[features]
    model = _model(generator, 5, activation, **options)
    points = torch.rand(6, 5, generator=generator)
    directions = torch.randn(3, 5, generator=generator)
    assert supports_directional(model) is None
    got = directional_jets(model, points, directions, 4)
    assert got.shape == (4, 3, 6, 2)
    for j, direction in enumerate(directions):
        for k, expected in enumerate(_nested_jvp(model, points, direction, 4)):
            torch.testing.assert_close(got[k, j], expected, rtol=JET_RTOL, atol=JET_ATOL)
    # The fallback (nested jvp in pinnkit) gives the same jets on the same model.
    fallback = _jvp_jets(model, points, directions, 4)
    torch.testing.assert_close(got, fallback, rtol=JET_RTOL, atol=JET_ATOL)


def _exact_boundary_problem() -> pk.Problem:
    x, t = sp.symbols("x t")
    s = sp.Function("s")(x, t)
    return pk.Problem(
        domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
        fields=[s],
        equations={"heat": s.diff(t) - s.diff(x, 2)},
        conditions=[
            pk.Initial(s, sp.sin(sp.pi * x)),
            pk.Dirichlet(s, t, on="left", exact=True),
            pk.Dirichlet(s, sp.sin(2 * t), on="right", exact=True),
        ],
    )


@pytest.mark.parametrize("wrapper", ["exact_initial", "exact_boundary"])
def test_directional_jets_fall_back_for_wrappers_and_gaussians(wrapper, generator, float64):
    """The exact-value wrappers and Physics-Informed Gaussians go through nested jvp: along
    the unit vectors the jets are the Taylor engine's pure partials (u_x, u_xx, u_t, ...)."""
    body = pk.MLP(width=6, depth=2, init="default")
    if wrapper == "exact_initial":
        problem = case_problem("burgers")
        config = pk.Config(model=body, exact_initial=True)
    else:
        problem, config = _exact_boundary_problem(), pk.Config(model=body)
    wrapped = build_model(problem, config, generator).double()
    assert "exact-value wrapper" in supports_directional(wrapped)
    points = torch.rand(5, 2, generator=generator) * torch.tensor([2.0, 1.0]) - torch.tensor(
        [1.0, 0.0]
    )
    got = directional_jets(wrapped, points, torch.eye(2), 3)
    x, t = problem.coords
    u = problem.fields[0]
    plan, _, _ = build_plan([u.diff(x, 3), u.diff(t, 3)], coords=(x, t), fields=(u,))
    partials = TaylorEngine().evaluate(wrapped, points, plan)
    name = problem.field_names[0]
    for k in range(1, 4):
        torch.testing.assert_close(got[k - 1, 0, :, 0], partials[Partial(name, (k, 0))])
        torch.testing.assert_close(got[k - 1, 1, :, 0], partials[Partial(name, (0, k))])

    gaussians = _model(generator, 3, gaussians=pk.Gaussians(count=8, features=2))
    assert "Gaussians" in supports_directional(gaussians)
    points = torch.rand(4, 3, generator=generator)
    direction = torch.randn(1, 3, generator=generator)
    got = directional_jets(gaussians, points, direction, 2)
    for k, expected in enumerate(_nested_jvp(gaussians, points, direction[0], 2)):
        torch.testing.assert_close(got[k, 0], expected, rtol=JET_RTOL, atol=JET_ATOL)


def test_directional_jets_refuse_bad_shapes(generator, float64):
    model = _model(generator, 3)
    points = torch.rand(4, 3, generator=generator)
    with pytest.raises(ValueError, match="one row per direction"):
        directional_jets(model, points, torch.ones(2, 4), 2)
    with pytest.raises(ValueError, match="expected an int >= 1"):
        directional_jets(model, points, torch.ones(2, 3), 0)


def _reference(model, points, column, start, dim) -> dict[str, torch.Tensor]:
    """The four operators by nested reverse-mode autograd over the block's columns."""
    p = points.clone().requires_grad_(True)
    block = range(start, start + dim)

    def d(values, i):
        return torch.autograd.grad(values.sum(), p, create_graph=True)[0][:, i]

    u = model(p)[:, column]
    gradient = torch.stack([d(u, i) for i in block], dim=1)
    laplacian = sum(d(gradient[:, i - start], i) for i in block)
    biharmonic = sum(d(d(laplacian, j), j) for j in block)
    return {
        "laplacian": laplacian,
        "biharmonic": biharmonic,
        "grad_norm2": (gradient**2).sum(1),
        "x_dot_grad": (points[:, start : start + dim] * gradient).sum(1),
    }


LAYOUTS = {"vector": (0, 0), "vector_time": (0, 1), "time_vector": (1, 0)}


@pytest.mark.parametrize("dim", [3, 4, 5, 6])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_exact_operators_match_autograd(dim, layout, generator, float64):
    """Exact Laplacian, biharmonic, |grad u|^2 and x.grad u of the second field over the
    vector block, with a time column after it (or before it), against nested autograd."""
    before, after = LAYOUTS[layout]
    model = _model(generator, before + dim + after)
    points = torch.rand(4, before + dim + after, generator=generator)
    kinds = ("laplacian", "biharmonic", "grad_norm2", "x_dot_grad")
    ops = [Operator(kind, "v", before, dim, "exact", vector="y") for kind in kinds]
    got = evaluate_operators(model, points, FIELDS, ops, seed=None)
    expected = _reference(model, points, 1, before, dim)
    for op in ops:
        torch.testing.assert_close(got[op], expected[op.kind], rtol=JET_RTOL, atol=JET_ATOL)


def test_chunks_of_directions_do_not_change_the_values(generator, float64, monkeypatch):
    """Exact operators evaluated one direction per chunk match one chunk for all; sparse
    STDE with every coordinate drawn is the exact Laplacian."""
    model = _model(generator, 7)
    points = torch.rand(3, 7, generator=generator)
    ops = [
        Operator("laplacian", "u", 1, 5),
        Operator("biharmonic", "u", 1, 5),
        Operator("laplacian", "u", 1, 5, "stde", samples=5),
        Operator("laplacian", "u", 1, 5, "stde", samples=50),
    ]
    whole = evaluate_operators(model, points, FIELDS, ops, seed=3)
    monkeypatch.setattr(operators_module, "CHUNK_ELEMENTS", 1)
    chunked = evaluate_operators(model, points, FIELDS, ops, seed=3)
    for op in ops:
        torch.testing.assert_close(chunked[op], whole[op], rtol=JET_RTOL, atol=JET_ATOL)
    for op in ops[2:]:
        torch.testing.assert_close(whole[op], whole[ops[0]], rtol=JET_RTOL, atol=JET_ATOL)


ESTIMATORS = [("laplacian", "stde", 2), ("laplacian", "hutchinson", 2), ("biharmonic", "stde", 2)]


@pytest.mark.parametrize(("kind", "method", "samples"), ESTIMATORS)
def test_stochastic_estimators_are_unbiased(kind, method, samples, generator, float64):
    """Mean over 300 seeds within 4 standard errors of the exact value at each of 4 points
    (d = 5, a time column after the block, 2 samples per evaluation).

    Measured variance of one evaluation (2 samples) over the 300 seeds, at the 4 points
    (printed with `-s`): sparse STDE Laplacian 0.99-1.23e-4 and Hutchinson Laplacian
    3.2-3.9e-4, exact Laplacian -0.006 to -0.015; Gaussian STDE biharmonic 1.1-1.5e-3, exact
    biharmonic 0.0003 to 0.0069 (fourth moments of Gaussians: a noisy estimator at small
    sample counts). Hutchinson's variance comes from the Hessian's off-diagonal entries,
    sparse STDE's from the spread of its diagonal.
    """
    dim = 5
    model = _model(generator, dim + 1)
    points = torch.rand(4, dim + 1, generator=generator)
    op = Operator(kind, "u", 0, dim, method, samples)
    exact = evaluate_operators(model, points, FIELDS, [Operator(kind, "u", 0, dim)], None)
    exact = next(iter(exact.values())).detach()
    with torch.no_grad():
        draws = torch.stack(
            [evaluate_operators(model, points, FIELDS, [op], seed)[op] for seed in range(SEEDS)]
        ).detach()
    mean, variance = draws.mean(0), draws.var(0)
    error = (variance / SEEDS).sqrt()
    print(f"\n{kind} {method}: exact {exact.tolist()}\n  variance {variance.tolist()}")
    assert (variance > 0).all()
    assert ((mean - exact).abs() <= STANDARD_ERRORS * error).all(), (mean, exact, error)


def test_same_seed_same_values_and_draws_in_order(generator, float64):
    """The same seed gives identical values; another seed other ones; each operator draws
    after the ones before it, so an operator listed first sees the seed's first draws."""
    model = _model(generator, 8)
    points = torch.rand(3, 8, generator=generator)
    ops = [
        Operator("laplacian", "u", 0, 8, "stde", 3),
        Operator("laplacian", "u", 0, 8, "hutchinson", 3),
        Operator("biharmonic", "v", 0, 8, "stde", 3),
    ]
    first = evaluate_operators(model, points, FIELDS, ops, seed=11)
    again = evaluate_operators(model, points, FIELDS, ops, seed=11)
    other = evaluate_operators(model, points, FIELDS, ops, seed=12)
    for op in ops:
        assert torch.equal(first[op], again[op])
        assert not torch.equal(first[op], other[op])
    alone = evaluate_operators(model, points, FIELDS, ops[:1], seed=11)
    assert torch.equal(alone[ops[0]], first[ops[0]])
    none = evaluate_operators(model, points, FIELDS, ops, seed=None)
    zero = evaluate_operators(model, points, FIELDS, ops, seed=0)
    assert all(torch.equal(none[op], zero[op]) for op in ops)


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        ("laplacian", "exact"),
        ("laplacian", "stde"),
        ("laplacian", "hutchinson"),
        ("biharmonic", "exact"),
        ("biharmonic", "stde"),
        ("grad_norm2", "exact"),
        ("x_dot_grad", "exact"),
    ],
)
def test_gradients_flow_to_the_parameters(kind, method, generator, float64):
    """A loss of every method back-propagates to finite, non-zero gradients of every
    parameter but the output bias (which no derivative sees); for the exact methods they
    equal those of the nested-autograd reference."""
    model = _model(generator, 5)
    points = torch.rand(4, 5, generator=generator)
    op = Operator(kind, "v", 0, 4, method, samples=2)
    value = evaluate_operators(model, points, FIELDS, [op], seed=5)[op]
    params = list(model.parameters())[:-1]
    assert model.body[-1].bias is list(model.parameters())[-1]
    grads = torch.autograd.grad(value.square().sum(), params)
    assert all(torch.isfinite(g).all() for g in grads)
    assert all(g.abs().sum() > 0 for g in grads)
    if method == "exact":
        expected = _reference(model, points, 1, 0, 4)[kind]
        reference = torch.autograd.grad(expected.square().sum(), params)
        for g, r in zip(grads, reference):
            torch.testing.assert_close(g, r, rtol=JET_RTOL, atol=JET_ATOL)


def test_choose_method_auto_and_requested():
    assert choose_method("laplacian", 64, "auto")[0] == "exact"
    assert choose_method("laplacian", 65, "auto")[0] == "stde"
    assert choose_method("biharmonic", 8, "auto")[0] == "exact"
    assert choose_method("biharmonic", 9, "auto")[0] == "stde"
    assert choose_method("grad_norm2", 10_000, "auto")[0] == "exact"
    assert choose_method("x_dot_grad", 10, "stde")[0] == "exact"
    assert choose_method("laplacian", 3, "hutchinson")[0] == "hutchinson"
    assert choose_method("laplacian", 1000, "exact")[0] == "exact"
    assert "dim 1000 > 64" in choose_method("laplacian", 1000, "auto")[1]
    with pytest.raises(ConfigError, match="is not supported for a biharmonic.*trace estimator"):
        choose_method("biharmonic", 4, "hutchinson")
    with pytest.raises(ConfigError, match="Did you mean `stde`"):
        choose_method("laplacian", 4, "sdte")
    with pytest.raises(CompileError, match="Did you mean `laplacian`"):
        choose_method("laplacain", 4, "auto")


def test_describe_operator_and_refusals(generator, float64):
    op = Operator("laplacian", "u", 0, 1000, "stde", 16)
    expected = (
        "lap_x(u): STDE, 16 of 1000 coordinate directions (sparse second-order jets), unbiased"
    )
    assert describe_operator(op) == expected
    assert "Hutchinson, 8 Rademacher" in describe_operator(
        Operator("laplacian", "u", 0, 10, "hutchinson", 8)
    )
    assert "16 directions" in describe_operator(Operator("biharmonic", "u", 0, 4, "auto"))
    model = _model(generator, 3)
    points = torch.rand(2, 3, generator=generator)
    with pytest.raises(ConfigError, match="needs samples >= 1"):
        evaluate_operators(model, points, FIELDS, [Operator("laplacian", "u", 0, 3, "stde")])
    with pytest.raises(CompileError, match="Did you mean `u`"):
        evaluate_operators(model, points, FIELDS, [Operator("laplacian", "uu", 0, 3)])
    with pytest.raises(CompileError, match="outside the points"):
        evaluate_operators(model, points, FIELDS, [Operator("laplacian", "u", 1, 3)])
