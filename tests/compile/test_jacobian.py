"""The weighted residual vector and its Jacobian (`pinnkit.compile.jacobian`): rows against
autograd of each row and against finite differences, for every kind of term (second
derivatives, Dirichlet, Neumann, soft periodic, initial, data, learned constants, Hidden
networks); chunking, sketching, the fallback path, and the trainer's loss."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import compile_problem
from pinnkit.compile.jacobian import (
    _batched_rows,
    jacobian,
    jacobian_rows,
    residual_vector,
    trained_parameters,
)
from pinnkit.train.distributed import World
from pinnkit.train.loss import Loss
from tests.cases import CASES
from tests.helpers import heat_problem, sample_batches

# A row of J from per-point reverse mode (through the Taylor or torch.func engine) against
# autograd's gradient of the same row of r (through the residuals' own engine): the same
# derivatives summed in another order, measured to agree to ~1e-16 of J's scale; 1e-8 is
# the brief's bound, far above round-off and far below any wrong term or scale.
ROW_RTOL = 1e-8
# Central differences in float64 with step 1e-6 on the raw parameters: truncation ~h^2
# |r'''| ~1e-11, round-off ~1e-16 |r| / h ~1e-10 (measured worst 3e-9 of J's scale); 1e-6.
FINITE_DIFFERENCE_STEP = 1e-6
FINITE_DIFFERENCE_RTOL = 1e-6
# Columns checked by finite differences per problem: every learned constant, every Hidden
# network's first few, and a random sample of the model's (each costs two evaluations).
MODEL_COLUMNS = 12
# Chunked and unchunked blocks run the same per-point computation in batches of another
# size: equal to round-off (BLAS may sum in another order), measured 0 on this CPU.
CHUNK_RTOL = 1e-13
# ||r||^2 against the trainer's loss: the same squares summed in another order.
LOSS_RTOL = 1e-12
POINTS = 8

x, t = sp.symbols("x t")
U = sp.Function("u")


def _periodic() -> pk.Problem:
    """Soft periodic condition (value and first derivative) plus an initial condition."""
    u = U(x, t)
    return pk.Problem(
        domain=pk.Interval(x, 0, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), u.diff(x, 2) - u * u.diff(x))],
        conditions=[pk.Periodic(x, order=1), pk.Initial(u, sp.cos(sp.pi * x))],
    )


def _hidden() -> pk.Problem:
    """A Hidden term and two learned constants (one log-parametrised), with data."""
    u = U(x, t)
    f = pk.Hidden("f")
    d = pk.Parameter("D", init=0.2, log=True)
    k = pk.Parameter("k", init=-0.5)
    rng = np.random.default_rng(3)
    xs, ts = rng.uniform(0, 1, 6), rng.uniform(0, 1, 6)
    return pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), d * u.diff(x, 2) + k * u + f(u, u.diff(x)))],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
        data=pk.Data({x: xs, t: ts}, {u: np.sin(np.pi * xs) * np.exp(-ts)}),
    )


PROBLEMS = {
    "heat": heat_problem,  # interior u_xx, initial, Dirichlet
    "burgers": CASES["burgers"].build,  # nonlinear, second derivatives
    "neumann": CASES["disk_neumann"].build,  # normals on a disk
    "periodic": _periodic,  # soft periodic: two quantities per point
    "data": CASES["helmholtz_2d"].build,  # a data term
    "constants": CASES["reaction_diffusion"].build,  # Parameters, log=True too; two fields
    "hidden": _hidden,  # a Hidden network, constants, data
}


def _setup(name: str, engine: str = "auto"):
    problem = PROBLEMS[name]()
    generator = torch.Generator().manual_seed(0)
    residuals = compile_problem(
        problem,
        dtype=torch.float64,
        engine=engine,
        hidden=pk.HiddenNet(width=6, depth=1),
        generator=generator,
    )
    config = pk.Config(model=pk.MLP(width=8, depth=2))
    model = build_model(problem, config, generator).double()
    batches = sample_batches(residuals, np.random.default_rng(0), POINTS)
    # Unequal weights, and the second term weighed 0 (left out of r) where there are more
    # than three (every kind is still covered by another problem).
    names = residuals.term_names
    weights = {k: 0.5 + i for i, k in enumerate(names)}
    if len(names) > 3:
        weights[names[1]] = 0.0
    return problem, residuals, model, batches, weights


def _scale(matrix: torch.Tensor) -> float:
    return max(1.0, float(matrix.abs().max()))


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_rows_match_autograd_of_each_row(name):
    _, residuals, model, batches, weights = _setup(name)
    params = trained_parameters(residuals, model)
    J = jacobian(residuals, model, batches, weights)
    r = residual_vector(residuals, model, batches, weights)
    assert J.shape == (r.numel(), sum(p.numel() for p in params))
    expected = torch.stack(
        [
            torch.cat(
                [
                    torch.zeros(p.numel(), dtype=r.dtype) if g is None else g.flatten()
                    for g, p in zip(
                        torch.autograd.grad(r[i], params, retain_graph=True, allow_unused=True),
                        params,
                    )
                ]
            )
            for i in range(r.numel())
        ]
    )
    error = float((J - expected).abs().max()) / _scale(expected)
    assert error <= ROW_RTOL, f"{name}: {error:.2e}"


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_columns_match_finite_differences(name):
    _, residuals, model, batches, weights = _setup(name)
    params = trained_parameters(residuals, model)
    J = jacobian(residuals, model, batches, weights)
    n_model = sum(p.numel() for p in model.parameters())
    rng = np.random.default_rng(1)
    columns = sorted(
        set(rng.choice(n_model, MODEL_COLUMNS, replace=False).tolist())
        | set(range(n_model, J.shape[1]))  # every constant and Hidden weight
    )
    flat = torch.nn.utils.parameters_to_vector(params).detach()
    for j in columns:
        values = []
        for sign in (1, -1):
            shifted = flat.clone()
            shifted[j] += sign * FINITE_DIFFERENCE_STEP
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(shifted, params)
                values.append(residual_vector(residuals, model, batches, weights))
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(flat, params)
        column = (values[0] - values[1]) / (2 * FINITE_DIFFERENCE_STEP)
        error = float((J[:, j] - column).abs().max()) / _scale(J)
        assert error <= FINITE_DIFFERENCE_RTOL, f"{name}, column {j}: {error:.2e}"


def test_hidden_networks_and_constants_have_columns():
    _, residuals, model, batches, weights = _setup("hidden")
    J = jacobian(residuals, model, batches, weights)
    n_model = sum(p.numel() for p in model.parameters())
    n_constants = len(residuals.parameters_raw)
    n_hidden = sum(p.numel() for p in residuals.hidden.parameters())
    assert J.shape[1] == n_model + n_constants + n_hidden
    # The equation's rows depend on D, k and f; the conditions' and the data's do not.
    only = {k: float(k == "eq0") for k in residuals.term_names}
    rows = residual_vector(residuals, model, batches, only).numel()
    assert J[:rows, n_model:].abs().sum(0).min() > 0
    assert J[rows:, n_model:].abs().max() == 0


@pytest.mark.parametrize("name", ["periodic", "hidden"])
def test_chunked_equals_unchunked(name):
    _, residuals, model, batches, weights = _setup(name)
    whole = jacobian(residuals, model, batches, weights)
    for chunk in (1, 3):
        chunked = jacobian(residuals, model, batches, weights, chunk=chunk)
        assert float((chunked - whole).abs().max()) <= CHUNK_RTOL * _scale(whole)
    # Blocks of at most `chunk` points; every row exactly once; r's values with them.
    r = residual_vector(residuals, model, batches, weights)
    blocks = list(jacobian_rows(residuals, model, batches, weights, chunk=3))
    index = torch.cat([b.index for b in blocks])
    assert sorted(index.tolist()) == list(range(r.numel()))
    assert torch.allclose(torch.cat([b.residual for b in blocks]), r[index], rtol=0, atol=1e-15)


def test_squared_norm_is_the_trainers_loss():
    problem, residuals, model, batches, weights = _setup("hidden")
    loss = Loss(
        problem,
        residuals,
        pk.Config(),
        weights=weights,
        params=trained_parameters(residuals, model),
        world=World(),
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    total = loss.evaluate(model, loss.batches(model, batches)).total()
    r = residual_vector(residuals, model, batches, weights)
    difference = (r.square().sum() - total).detach()
    assert abs(float(difference)) <= LOSS_RTOL * float(total.detach())


def test_autograd_engine_gets_the_same_jacobian_and_is_left_unchanged():
    _, taylor, model, batches, weights = _setup("burgers", engine="taylor")
    _, autograd, _, _, _ = _setup("burgers", engine="autograd")
    engine = autograd.engine
    a = jacobian(autograd, model, batches, weights)
    b = jacobian(taylor, model, batches, weights)
    assert autograd.engine is engine
    assert float((a - b).abs().max()) <= ROW_RTOL * _scale(b)


def test_sketch_is_a_scaled_subset_of_rows():
    _, residuals, model, batches, weights = _setup("periodic")
    whole = jacobian(residuals, model, batches, weights)
    r = residual_vector(residuals, model, batches, weights).detach()
    m = 10
    blocks = list(
        jacobian_rows(
            residuals,
            model,
            batches,
            weights,
            chunk=4,
            sample=m,
            generator=torch.Generator().manual_seed(0),
        )
    )
    index = torch.cat([b.index for b in blocks])
    assert index.numel() == m and index.unique().numel() == m
    scale = (r.numel() / m) ** 0.5
    for b in blocks:
        assert torch.allclose(b.jacobian, scale * whole[b.index], rtol=0, atol=1e-13)
        assert torch.allclose(b.residual, scale * r[b.index], rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="needs a generator"):
        next(jacobian_rows(residuals, model, batches, weights, sample=m))


def test_fallback_rows_match():
    """The generic path (any `AbstractResiduals`: one-hot cotangents on the whole batch)."""
    _, residuals, model, batches, weights = _setup("hidden")
    whole = jacobian(residuals, model, batches, weights)
    params = trained_parameters(residuals, model)
    blocks = list(_batched_rows(residuals, model, params, batches, weights, None, 5))
    index = torch.cat([b.index for b in blocks])
    fallback = torch.cat([b.jacobian for b in blocks])
    assert float((fallback - whole[index]).abs().max()) <= ROW_RTOL * _scale(whole)
