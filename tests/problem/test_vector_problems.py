"""Problems over a `Vector` coordinate: the signature, the operator nodes, sums over the
components, the STDE test solution, and every error a user can meet writing one."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.problem.error_points import ErrorGrid
from pinnkit.problem.highdim import two_body, two_body_coefficients
from pinnkit.problem.operators import GradNorm2, Laplacian, XDotGrad
from pinnkit.reference.sums import lower_sums

t = sp.Symbol("t")


def _poisson(d: int = 4, **kwargs) -> pk.Problem:
    x = pk.Vector("x", d)
    u = sp.Function("u")(x)
    exact, lap = two_body(x, two_body_coefficients(d))
    return pk.Problem(
        name="poisson",
        domain=pk.Ball(x),
        fields=[u],
        equations={"poisson": pk.laplacian(u, x) - lap},
        conditions=[pk.Dirichlet(u, 0, on="boundary", **kwargs)],
        reference=pk.reference.Exact({u: exact}),
    )


def test_signature_and_columns():
    problem = _poisson(5)
    x = problem.signature[0]
    assert isinstance(x, pk.Vector) and x.dim == 5
    assert problem.coords == x.components
    assert [c.name for c in problem.coords] == [f"x[{k}]" for k in range(5)]
    heat = pk.Problem(
        domain=pk.Ball(x) * pk.TimeInterval(t, 0, 1),
        fields=[sp.Function("u")(x, t)],
        equations=[sp.Function("u")(x, t).diff(t) - pk.laplacian(sp.Function("u")(x, t), x)],
    )
    assert heat.signature == (x, t) and heat.coords == (*x.components, t)


def test_operator_nodes_print_and_pickle():
    import pickle

    x = pk.Vector("x", 3)
    u = sp.Function("u")(x, t)
    lap = pk.laplacian(u, x)
    assert isinstance(lap, Laplacian) and pk.div(pk.grad(u, x)) == lap
    assert isinstance(pk.dot(pk.grad(u, x), pk.grad(u, x)), GradNorm2)
    assert pk.grad(u, x).norm2() == pk.dot(pk.grad(u, x), pk.grad(u, x))
    assert isinstance(pk.dot(x, pk.grad(u, x)), XDotGrad)
    assert sp.latex(lap) == "\\Delta_{x} u{\\left(x,t \\right)}"
    assert pickle.loads(pickle.dumps(u.diff(t) - lap)) == u.diff(t) - lap
    assert pk.biharmonic(u, x).kind == "biharmonic"


def test_vector_indexing():
    x = pk.Vector("x", 3)
    assert x[0].name == "x[0]" and x[-1] == x[2] and x[0:2] == x.components[:2]
    i = sp.Symbol("i", integer=True)
    assert isinstance(x[i], sp.Indexed)
    with pytest.raises(pk.ProblemError, match="index out of range"):
        x[3]
    with pytest.raises(pk.ProblemError, match="dimension must be an int >= 1"):
        pk.Vector("x", 0)
    with pytest.raises(pk.ProblemError, match="identifier"):
        pk.Vector("2x", 3)


def test_two_body_laplacian_matches_autograd():
    """The closed-form Laplacian of the STDE solution against autograd, d = 6."""
    d = 6
    x = pk.Vector("x", d)
    exact, lap = two_body(x, two_body_coefficients(d, seed=3))
    points = torch.rand(7, d, dtype=torch.float64) - 0.5

    def evaluate(expr, block):
        expr, kernels = lower_sums(expr)
        values = [k.evaluate({"x": block}, torch) for k in kernels.values()]
        return sp.lambdify(list(kernels), expr, modules=torch)(*values)

    block = points.clone().requires_grad_(True)
    value = evaluate(exact, block)
    (grad,) = torch.autograd.grad(value.sum(), block, create_graph=True)
    hessian_trace = sum(
        torch.autograd.grad(grad[:, j].sum(), block, retain_graph=True)[0][:, j] for j in range(d)
    )
    torch.testing.assert_close(evaluate(lap, points), hessian_trace, rtol=1e-12, atol=1e-12)


def test_error_points_are_a_seeded_sample_in_the_ball():
    problem = _poisson(7)
    grid = ErrorGrid.build(problem)
    assert grid.points.shape == (10_000, 7)
    assert np.all(np.linalg.norm(grid.points, axis=1) <= 1 + 1e-12)
    np.testing.assert_array_equal(grid.points, ErrorGrid.build(problem).points)
    # u = (1 - |x|^2) S vanishes on the sphere only: the values are not all zero.
    assert np.linalg.norm(grid.values["u"]) > 0


def test_describe_prints_operators_and_a_summarised_domain():
    text = _poisson(4).describe()
    assert "Laplacian(u(x), x)" in text and "Ball(x (4 components)" in text


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda x, u, v: pk.laplacian(u**2, x), "is not a field"),
        (lambda x, u, v: pk.laplacian(u, sp.Symbol("y")), "expected a vector coordinate"),
        (lambda x, u, v: pk.laplacian(sp.Function("w")(t), x), "does not take `x`"),
        (lambda x, u, v: pk.div(u), "divergence of `pk.grad"),
        (lambda x, u, v: pk.dot(pk.grad(u, x), x[0]), "supports `dot"),
    ],
)
def test_operator_errors(build, match):
    x = pk.Vector("x", 3)
    with pytest.raises(pk.ProblemError, match=match):
        build(x, sp.Function("u")(x), None)


def _problem(equation, *, x=None, u=None) -> pk.Problem:
    x = x or pk.Vector("x", 3)
    u = u or sp.Function("u")(x)
    return pk.Problem(domain=pk.Ball(x), fields=[u], equations=[equation(x, u)])


def test_problem_errors():
    x = pk.Vector("x", 3)
    u = sp.Function("u")(x)
    y = pk.Vector("y", 3)
    with pytest.raises(pk.ProblemError, match=r"takes \(x\[0\],.*x \(3 components\)"):
        pk.Problem(domain=pk.Ball(x), fields=[sp.Function("u")(*x.components)], equations=[0])
    with pytest.raises(pk.ProblemError, match="differentiates in the whole vector"):
        _problem(lambda x, u: sp.Derivative(u, x), x=x, u=u)
    with pytest.raises(pk.ProblemError, match="not a field of the problem"):
        w = sp.Function("w")(y)
        _problem(lambda x, u: pk.laplacian(w, y) + u, x=x, u=u)
    with pytest.raises(pk.ProblemError, match="is taken over `y`"):
        _problem(lambda x, u: Laplacian(u, y), x=x, u=u)  # built around pk.laplacian's check
    i = sp.Symbol("i", integer=True)
    with pytest.raises(pk.ProblemError, match="not a vector coordinate of the domain"):
        _problem(lambda x, u: u - sp.Sum(y[i] ** 2, (i, 0, 2)), x=x, u=u)
    with pytest.raises(pk.ProblemError, match="symbol `k` is free"):
        _problem(lambda x, u: u - sp.Sum(sp.Symbol("k") * x[i], (i, 0, 2)), x=x, u=u)
    with pytest.raises(pk.ProblemError, match="outside"):
        _problem(lambda x, u: u - sp.Sum(x[i + 1], (i, 0, 2)), x=x, u=u)


def test_operators_are_not_differentiated():
    x = pk.Vector("x", 3)
    u = sp.Function("u")(x, t)
    with pytest.raises(pk.ProblemError, match="does not differentiate them"):
        pk.Problem(
            domain=pk.Ball(x) * pk.TimeInterval(t, 0, 1),
            fields=[u],
            equations=[pk.laplacian(u, x).diff(t)],
        )


def test_a_hidden_term_of_an_operator():
    """`f(lap u)`: the Hidden inputs group evaluates the operator too (for discovery)."""
    from pinnkit.build import build

    x = pk.Vector("x", 3)
    u = sp.Function("u")(x)
    f = pk.Hidden("f")
    problem = pk.Problem(domain=pk.Ball(x), fields=[u], equations=[f(pk.laplacian(u, x)) - 1])
    built = build(problem, pk.Config(dtype="float64", model=pk.MLP(width=8, depth=2)))
    points = torch.rand(5, 3, dtype=torch.float64) - 0.5
    inputs, output = built.residuals.hidden_values(built.model, points)["f"]
    assert output.shape == (5,) and next(iter(inputs.values())).shape == (5,)


def test_measures_beyond_the_float_range_say_so():
    assert "(beyond the float range)" in _poisson(1000).describe()
