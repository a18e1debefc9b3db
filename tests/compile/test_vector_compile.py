"""Compiled problems over a `Vector` coordinate: vector operators and sums in the generated
residuals against nested autograd (float64), the stochastic estimators' seeds through the
trainer (resume stays exact), exact conditions on a d-ball, and `pinnkit check`'s text."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build
from pinnkit.compile import Batch
from pinnkit.problem.highdim import two_body, two_body_coefficients
from pinnkit.reference.sums import lower_sums
from tests.helpers import Crash, crash_at

t = sp.Symbol("t")
#: Taylor jets, sums and nested autograd on the same float64 network: round-off apart.
RTOL = 1e-10
CONFIG = pk.Config(
    steps=8,
    dtype="float64",
    model=pk.MLP(width=16, depth=2),
    sampling=pk.Sampling(interior=32, boundary=16, initial=16),
    lbfgs=pk.LBFGS(steps=0),
    log_every=2,
    eval_every=4,
    checkpoint_every=2,
    progress=False,
)


def _batches(residuals, points, seed=None) -> dict[str, Batch]:
    """The same points for every sampled region (values only matter for the one checked)."""
    return {region: Batch(points, seed=seed) for region in residuals.sample_regions}


def _heat(d: int = 4, method: str = "exact") -> tuple[pk.Problem, pk.Config]:
    """u_t = lap u - |grad u|^2 + x . grad u / 10 + t * sum_i c_i x_i^2, on the d-ball."""
    x = pk.Vector("x", d)
    u = sp.Function("u")(x, t)
    i = sp.Symbol("i", integer=True)
    c = pk.Coefficients("c", torch.linspace(0.5, 1.5, d, dtype=torch.float64).numpy())
    source = t * sp.Sum(c[i] * x[i] ** 2, (i, 0, d - 1))
    grad = pk.grad(u, x)
    problem = pk.Problem(
        name="vector_heat",
        domain=pk.Ball(x) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations={
            "heat": u.diff(t)
            - pk.laplacian(u, x)
            + pk.dot(grad, grad)
            - pk.dot(x, grad) / 10
            - source
        },
        conditions=[
            pk.Dirichlet(u, 0, on="boundary"),
            pk.Initial(u, sp.Sum(x[i] ** 2, (i, 0, d - 1))),
        ],
    )
    return problem, CONFIG.replace(operators=pk.Operators(method=method, samples=2))


def test_heat_residual_against_autograd():
    d = 4
    problem, config = _heat(d)
    built = build(problem, config)
    points = torch.rand(9, d + 1, dtype=torch.float64) * 0.5
    residual = built.residuals.residuals(built.model, _batches(built.residuals, points))["heat"]

    p = points.clone().requires_grad_(True)
    u = built.model(p)[:, 0]
    (g,) = torch.autograd.grad(u.sum(), p, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, j].sum(), p, create_graph=True)[0][:, j] for j in range(d))
    xs, ts = points[:, :d], points[:, d]
    c = torch.linspace(0.5, 1.5, d, dtype=torch.float64)
    expected = (
        g[:, d]
        - lap
        + (g[:, :d] ** 2).sum(1)
        - (xs * g[:, :d]).sum(1) / 10
        - ts * (c * xs**2).sum(1)
    )
    torch.testing.assert_close(residual, expected.detach(), rtol=RTOL, atol=1e-12)


def test_poisson_with_the_two_body_source():
    """The residual of the STDE Poisson problem is lap u_theta - lap u_exact."""
    d = 5
    x = pk.Vector("x", d)
    u = sp.Function("u")(x)
    exact, lap_exact = two_body(x, two_body_coefficients(d))
    problem = pk.Problem(
        domain=pk.Ball(x), fields=[u], equations={"poisson": pk.laplacian(u, x) - lap_exact}
    )
    built = build(problem, CONFIG)
    points = torch.rand(6, d, dtype=torch.float64) - 0.5
    residual = built.residuals.residuals(built.model, _batches(built.residuals, points))["poisson"]
    p = points.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(built.model(p)[:, 0].sum(), p, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, j].sum(), p, retain_graph=True)[0][:, j] for j in range(d))
    lowered, kernels = lower_sums(lap_exact)
    values = [k.evaluate({"x": points}, torch) for k in kernels.values()]
    source = sp.lambdify(list(kernels), lowered, modules=torch)(*values)
    torch.testing.assert_close(residual, lap - source, rtol=RTOL, atol=1e-12)


def test_stochastic_residuals_draw_from_the_batch_seed():
    problem, config = _heat(6, method="stde")
    built = build(problem, config)
    assert built.residuals.stochastic
    points = torch.rand(5, 7, dtype=torch.float64) * 0.4

    def heat(seed):
        batches = _batches(built.residuals, points, seed)
        return built.residuals.residuals(built.model, batches)["heat"]

    assert torch.equal(heat(3), heat(3))
    assert not torch.equal(heat(3), heat(4))
    assert torch.equal(heat(None), heat(0))
    exact = build(problem, config.replace(operators=pk.Operators(method="exact")))
    assert not exact.residuals.stochastic


def test_resume_is_exact_with_stochastic_operators(tmp_path):
    problem, config = _heat(5, method="stde")
    whole = pk.fit(problem, config, directory=tmp_path / "whole")
    with pytest.raises(Crash):
        pk.fit(problem, config, directory=tmp_path / "cut", callback=crash_at(6))
    resumed = pk.resume(tmp_path / "cut", problem=_heat(5, method="stde")[0])
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_exact_condition_on_the_sphere():
    d = 8
    x = pk.Vector("x", d)
    u = sp.Function("u")(x)
    problem = pk.Problem(
        domain=pk.Ball(x, radius=2),
        fields=[u],
        equations=[pk.laplacian(u, x) + 1],
        conditions=[pk.Dirichlet(u, 0.5, on="boundary", exact=True)],
    )
    built = build(problem, CONFIG)

    sphere = problem.domain.sample("boundary", 50, np.random.default_rng(0)).points
    with torch.no_grad():
        values = built.model(torch.as_tensor(sphere))
    assert (values - 0.5).abs().max() < 1e-10
    # The Laplacian through the exact wrapper (the sphere's closed-form jets, Leibniz's rule
    # with the network's Taylor jets) against autograd.
    points = torch.rand(4, d, dtype=torch.float64) - 0.5
    residual = built.residuals.residuals(built.model, _batches(built.residuals, points))["eq0"]
    p = points.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(built.model(p)[:, 0].sum(), p, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, j].sum(), p, retain_graph=True)[0][:, j] for j in range(d))
    torch.testing.assert_close(residual, lap + 1, rtol=RTOL, atol=1e-12)


def test_check_names_operators_and_methods():
    problem, config = _heat(100, method="auto")
    text = build(problem, config).residuals.describe()
    assert "coordinates (x (100 components), t)" in text
    assert "lap_x(u): STDE, 2 of 100 coordinate directions" in text
    assert "|grad_x u|^2" in text


def test_every_step_draws_fresh_directions(monkeypatch, tmp_path):
    """The trainer gives each step's batches a new seed from the run's stream."""
    from pinnkit.compile import compiled

    seeds = []
    real = compiled.evaluate_operators

    def spy(model, points, fields, operators, seed):
        seeds.append(seed)
        return real(model, points, fields, operators, seed)

    monkeypatch.setattr(compiled, "evaluate_operators", spy)
    problem, config = _heat(5, method="stde")
    pk.fit(problem, config.replace(steps=4, eval_every=100), directory=tmp_path / "run")
    assert None not in seeds[:4] and len(set(seeds[:4])) == 4
    # With residual-based refinement the interior keeps its seed when points are added.
    seeds.clear()
    rar = config.replace(steps=4, eval_every=100, rar=pk.RAR(every=1, candidates=64, add=4))
    pk.fit(problem, rar, directory=tmp_path / "rar")
    training = [s for s in seeds if s is not None]
    assert len(set(training)) >= 4


def test_sphere_jets_in_closed_form_match_nested_jvp():
    """Directional jets of an exact-sphere model (closed-form phi jets, Leibniz's rule) up to
    fourth order against nested `torch.func.jvp` through the whole wrapper."""
    from pinnkit.compile.directional import _jvp_jets, directional_jets

    d = 6
    x = pk.Vector("x", d)
    u = sp.Function("u")(x)
    problem = pk.Problem(
        domain=pk.Ball(x, center=0.2, radius=1.5),
        fields=[u],
        equations=[pk.laplacian(u, x)],
        conditions=[pk.Dirichlet(u, -1, on="boundary", exact=True)],
    )
    model = build(problem, CONFIG).model
    points = torch.rand(5, d, dtype=torch.float64) - 0.3
    directions = torch.randn(3, d, dtype=torch.float64)
    torch.testing.assert_close(
        directional_jets(model, points, directions, 4),
        _jvp_jets(model, points, directions, 4),
        rtol=RTOL,
        atol=1e-12,
    )


#: A symmetric matrix with a negative eigenvalue, for `pk.hessian_trace` (d = 4).
MATRIX = np.array(
    [[2.0, 0.5, 0.0, -0.3], [0.5, 1.0, 0.2, 0.0], [0.0, 0.2, -0.5, 0.1], [-0.3, 0.0, 0.1, 1.5]]
)


@pytest.mark.parametrize(
    "kind", ["laplacian", "biharmonic", "grad_norm2", "x_dot_grad", "hessian_trace"]
)
def test_exact_operators_against_sympy(kind):
    """Each operator, evaluated exactly on a model given by a closed-form SymPy expression
    (d = 4, with time), against the operator SymPy computes from the expression."""
    from tests.helpers import SympyModel

    d = 4
    x = pk.Vector("x", d)
    u = sp.Function("u")(x, t)
    operator = {
        "laplacian": pk.laplacian(u, x),
        "biharmonic": pk.biharmonic(u, x),
        "grad_norm2": pk.dot(pk.grad(u, x), pk.grad(u, x)),
        "x_dot_grad": pk.dot(x, pk.grad(u, x)),
        "hessian_trace": pk.hessian_trace(u, x, MATRIX),
    }[kind]
    problem = pk.Problem(
        domain=pk.Ball(x) * pk.TimeInterval(t, 0, 1), fields=[u], equations={"op": operator}
    )
    xs = x.components
    expression = sp.sin(xs[0] * xs[1] + t) * sp.exp(xs[2] / 2) + xs[3] ** 3 * xs[0]
    symbolic = {
        "laplacian": sum(expression.diff(c, 2) for c in xs),
        "biharmonic": sum(expression.diff(a, 2, b, 2) for a in xs for b in xs),
        "grad_norm2": sum(expression.diff(c) ** 2 for c in xs),
        "x_dot_grad": sum(c * expression.diff(c) for c in xs),
        "hessian_trace": sum(
            MATRIX[i, j] * expression.diff(a, b) for i, a in enumerate(xs) for j, b in enumerate(xs)
        ),
    }[kind]
    model = SympyModel(problem.coords, [expression])
    built = build(problem, CONFIG)
    points = torch.rand(6, d + 1, dtype=torch.float64) - 0.4
    got = built.residuals.residuals(model, _batches(built.residuals, points))["op"]
    want = sp.lambdify(problem.coords, symbolic, modules="torch")(*points.unbind(1))
    torch.testing.assert_close(got, want, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("method", ["stde", "hutchinson"])
def test_hessian_trace_estimators_are_unbiased(method):
    """tr(A H) with an indefinite A (d = 4): the mean over 400 seeds (3 directions each)
    within 4 standard errors of the exact value at each of 5 points."""
    from pinnkit.compile import evaluate_operators

    d = 4
    x = pk.Vector("x", d)
    u = sp.Function("u")(x)
    problem = pk.Problem(domain=pk.Ball(x), fields=[u], equations=[pk.hessian_trace(u, x, MATRIX)])
    config = CONFIG.replace(operators=pk.Operators(method=method, samples=3))
    built = build(problem, config)
    (op,) = built.residuals.groups[0].plan.operators
    points = torch.rand(5, d, dtype=torch.float64) - 0.5
    exact = evaluate_operators(built.model, points, ("u",), [replace(op, method="exact")])
    exact = next(iter(exact.values())).detach()
    with torch.no_grad():
        draws = torch.stack(
            [evaluate_operators(built.model, points, ("u",), [op], s)[op] for s in range(400)]
        )
    error = (draws.var(0) / len(draws)).sqrt()
    assert (draws.var(0) > 0).all()
    assert ((draws.mean(0) - exact).abs() <= 4 * error).all(), (draws.mean(0), exact, error)


def test_hessian_trace_errors_and_symmetric_part():
    x = pk.Vector("x", 3)
    u = sp.Function("u")(x)
    with pytest.raises(pk.ProblemError, match=r"finite \(3, 3\) array"):
        pk.hessian_trace(u, x, np.eye(4))
    with pytest.raises(pk.ProblemError, match=r"finite \(3, 3\) array"):
        pk.hessian_trace(u, x, [[1, 2, 3]])
    node = pk.hessian_trace(u, x, [[1, 2, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(node.args[2].array[0, 1], 1.0)
    assert node == pk.hessian_trace(u, x, [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    import pickle

    assert pickle.loads(pickle.dumps(node)) == node


def test_levenberg_marquardt_stage_with_stde_and_a_clear_refusal_of_hutchinson():
    """LM's per-row Jacobians run under `torch.func.vmap`: the jet-based estimators draw
    their directions with NumPy and work there; Hutchinson's reverse-mode products cannot
    run there and are refused with a message."""
    x = pk.Vector("x", 70)
    u = sp.Function("u")(x)
    problem = pk.Problem(
        domain=pk.Ball(x),
        fields=[u],
        equations=[pk.laplacian(u, x) + 1],
        conditions=[pk.Dirichlet(u, 0, on="boundary", exact=True)],
    )
    config = CONFIG.replace(steps=2, stages=(pk.LevenbergMarquardt(steps=2),))
    run = pk.fit(problem, config, out=None)
    assert run.summary["steps"] == 4 and np.isfinite(run.summary["loss_terms"]["eq0"])
    with pytest.raises(pk.ConfigError, match="inside a torch.func transform"):
        pk.fit(problem, config.replace(operators=pk.Operators(method="hutchinson")), out=None)
