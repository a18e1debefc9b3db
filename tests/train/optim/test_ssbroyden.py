"""Tests of pinnkit/train/optim/ssbroyden.py: convergence on a quadratic and on Rosenbrock,
the self-scaled update's secant equation, the line search's safeguards, exact resume from a
`state_dict`, the parameter limit, and a small least-squares fit against pinnkit's L-BFGS
polish. Everything in float64 on CPU; the file runs in a few seconds on 2 cores."""

from __future__ import annotations

import io
import math

import pytest
import torch

from pinnkit.config import LBFGS
from pinnkit.errors import ConfigError
from pinnkit.train.optim.lbfgs import lbfgs_block, make_lbfgs
from pinnkit.train.optim.ssbroyden import (
    MAX_PARAMETERS,
    SelfScaledQuasiNewton,
    _strong_wolfe,
    _Trial,
    self_scaled_block,
)

DTYPE = torch.float64
METHODS = ("broyden", "bfgs")

# A convex quadratic of 16 parameters (condition number 100) with a near-exact line search
# (c2 = 0.1): SSBroyden reaches relative error 1e-12 in x in 20 iterations, SSBFGS in 21
# (measured, seed 0; 11-13 for n = 10 and 29-34 for n = 20, cond 1e3, seeds 0-2; the error
# goes on down to 1e-16). 1e-12 is round-off plus four orders; 2n iterations leaves room over
# the measured 1.3n. With the default c2 = 0.9 they take 36 and 42 (2.5-3n elsewhere), as
# dense BFGS with unit steps does: a line search that accepts the unit step gives up the
# quadratic termination of an exact one.
QUADRATIC_RTOL = 1e-12
QUADRATIC_ITERATIONS_PER_PARAMETER = 2
# Rosenbrock in 10 dimensions from the classical start, to f < 1e-10: measured 84 iterations
# (SSBroyden) and 73 (SSBFGS); torch's L-BFGS (history 100, the same 25-evaluation line
# search budget) takes 69, so the dense self-scaled methods do NOT beat it on Rosenbrock. The
# test bounds the count (1.5x the measured SSBroyden count) and the ratio to L-BFGS (measured
# 1.22 and 1.06).
ROSENBROCK_TARGET = 1e-10
ROSENBROCK_ITERATIONS = 126
ROSENBROCK_RATIO_TO_LBFGS = 1.5
# Fit of sin(pi x) on 101 points by a 1-20-1 tanh MLP (61 parameters), 200 iterations from
# the same seeded start. Measured (seeds 0, 1, 2): SSBroyden 9.9e-8, 6.2e-9, 1.4e-7; SSBFGS
# 1.0e-7, 6.1e-9, 4.8e-8; pinnkit's L-BFGS polish (history 50) 3.4e-6, 2.0e-6, 5.2e-6, where
# it stalls (torch's L-BFGS, history 100: 3.35e-6 still after 1000 iterations, seed 0, while
# SSBroyden reaches 3.5e-13). SSBroyden spends ~2 loss evaluations per iteration here (411 in
# 200 iterations) against L-BFGS's ~1.15 (229), so it also wins per evaluation. Seed 0 is
# the closest case (ratio 34); a factor 10 separates "clearly better" from noise.
FIT_ITERATIONS = 200
FIT_FACTOR = 10.0


def _quadratic(n: int, condition: float, seed: int):
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=DTYPE))
    eigenvalues = torch.logspace(0, math.log10(condition), n, dtype=DTYPE)
    matrix = basis @ torch.diag(eigenvalues) @ basis.T
    solution = torch.randn(n, generator=generator, dtype=DTYPE)
    x = torch.zeros(n, dtype=DTYPE, requires_grad=True)

    def loss():
        return 0.5 * (x - solution) @ matrix @ (x - solution)

    return x, solution, loss


def _rosenbrock(n: int):
    x = torch.full((n,), -1.2, dtype=DTYPE)
    x[1::2] = 1.0
    x.requires_grad_(True)

    def loss():
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()

    return x, loss


def _fit(seed: int):
    """A 1-20-1 tanh MLP and the mean squared misfit to sin(pi x) on [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(1, 20, dtype=DTYPE), torch.nn.Tanh(), torch.nn.Linear(20, 1, dtype=DTYPE)
    )
    with torch.no_grad():
        for p in model.parameters():
            scale = 1.0 / math.sqrt(p.shape[-1]) if p.dim() > 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=generator, dtype=DTYPE) * scale)
    x = torch.linspace(-1.0, 1.0, 101, dtype=DTYPE).unsqueeze(1)
    target = torch.sin(math.pi * x)

    def loss():
        return ((model(x) - target) ** 2).mean()

    return model, loss


def _closure(optimizer, loss):
    def closure():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        return value

    return closure


@pytest.mark.parametrize("method", METHODS)
def test_quadratic_reaches_round_off_in_about_n_iterations(method):
    n = 16
    x, solution, loss = _quadratic(n, condition=100.0, seed=0)
    optimizer = SelfScaledQuasiNewton([x], method=method, c2=0.1)
    closure = _closure(optimizer, loss)
    for iteration in range(1, QUADRATIC_ITERATIONS_PER_PARAMETER * n + 1):
        optimizer.step(closure)
        error = ((x.detach() - solution).norm() / solution.norm()).item()
        if error <= QUADRATIC_RTOL:
            break
    assert error <= QUADRATIC_RTOL, (iteration, error, optimizer.progress)


def test_rosenbrock_converges_in_a_bounded_number_of_iterations():
    def iterations(make):
        x, loss = _rosenbrock(10)
        optimizer = make([x])
        closure = _closure(optimizer, loss)
        for k in range(1, 500):
            optimizer.step(closure)
            with torch.no_grad():
                if loss().item() < ROSENBROCK_TARGET:
                    return k
        raise AssertionError(f"no convergence: {loss().item()}")

    ours = iterations(lambda p: SelfScaledQuasiNewton(p))
    theirs = iterations(
        lambda p: torch.optim.LBFGS(
            p,
            max_iter=1,
            max_eval=25,
            history_size=100,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
    )
    assert ours <= ROSENBROCK_ITERATIONS
    assert ours <= ROSENBROCK_RATIO_TO_LBFGS * theirs, (ours, theirs)


@pytest.mark.parametrize("method", METHODS)
def test_update_keeps_the_secant_equation_and_positive_definiteness(method):
    """H_{k+1} y_k = s_k for every member of the class and every scaling (module docstring:
    v_k is orthogonal to y_k), and H stays symmetric positive definite."""
    x, loss = _rosenbrock(6)
    optimizer = SelfScaledQuasiNewton([x], method=method)
    closure = _closure(optimizer, loss)
    for _ in range(12):
        before = x.detach().clone()
        gradient = torch.autograd.grad(loss(), x)[0]
        optimizer.step(closure)
        step = x.detach() - before
        change = torch.autograd.grad(loss(), x)[0] - gradient
        inverse = optimizer.state[x]["inverse_hessian"]
        torch.testing.assert_close(inverse @ change, step, rtol=1e-8, atol=1e-14)
    torch.testing.assert_close(inverse, inverse.T, rtol=1e-10, atol=1e-14)
    assert torch.linalg.eigvalsh(0.5 * (inverse + inverse.T)).min() > 0


def test_line_search_shrinks_after_a_non_finite_loss():
    """phi(a) = (a - 0.3)^2 is NaN beyond a = 0.5; the first trial (a = 1) lands there."""

    def at(step: float) -> _Trial:
        if step > 0.5:
            return _Trial(step, math.nan, math.nan, None)
        return _Trial(step, (step - 0.3) ** 2, 2.0 * (step - 0.3), None)

    start = at(0.0)
    group = {"c1": 1e-4, "c2": 0.9, "max_evals": 25}
    accepted, status = _strong_wolfe(at, start, 1.0, group)
    assert status == "wolfe"
    assert 0.0 < accepted.step <= 0.5 and math.isfinite(accepted.loss)


def test_failed_line_search_resets_retries_and_reports():
    """A closure whose gradient points uphill after the first iteration: the line search
    finds no decrease, H is reset to I, the retry along -g fails too, and the optimiser
    reports it in its state, leaving the parameters where they were (no exception)."""
    x = torch.tensor([3.0, -2.0], dtype=DTYPE, requires_grad=True)
    optimizer = SelfScaledQuasiNewton([x])
    wrong = [False]

    def closure():
        optimizer.zero_grad()
        value = (x**2).sum()
        value.backward()
        if wrong[0]:
            x.grad.neg_()
        return value

    optimizer.step(closure)
    assert optimizer.progress["status"] == "wolfe"
    wrong[0] = True
    before = x.detach().clone()
    loss = optimizer.step(closure)
    progress = optimizer.progress
    assert progress["status"] == "line search failed"
    assert progress["resets"] == 1 and progress["iterations"] == 1
    assert torch.equal(x.detach(), before)
    assert loss.item() == (before**2).sum().item()


@pytest.mark.parametrize("method", METHODS)
def test_resume_from_a_saved_state_dict_is_bitwise_exact(method):
    """k iterations, save (torch.save, loaded with weights_only=True), m more; against a fresh
    model and optimiser loaded at k and run m: the same parameters, bit for bit."""
    k, m = 6, 6
    model, loss = _fit(seed=0)
    optimizer = SelfScaledQuasiNewton(model.parameters(), method=method)
    self_scaled_block(optimizer, _closure(optimizer, loss), k)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    self_scaled_block(optimizer, _closure(optimizer, loss), m)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    state = saved["optimizer"]["state"][0]
    assert state["inverse_hessian"].shape == (61, 61) and state["iterations"] == k
    assert {"fresh", "evaluations", "skipped", "resets", "loss", "status"} <= set(state)
    resumed, resumed_loss = _fit(seed=1)  # other weights, replaced by the checkpoint's
    resumed.load_state_dict(saved["model"])
    again = SelfScaledQuasiNewton(resumed.parameters(), method=method)
    again.load_state_dict(saved["optimizer"])
    assert again.state[next(resumed.parameters())]["inverse_hessian"].dtype == DTYPE
    self_scaled_block(again, _closure(again, resumed_loss), m)

    for original, copy in zip(model.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(original, copy)
    assert again.progress == optimizer.progress


def test_refuses_more_parameters_than_the_limit():
    # H is made on the first step, so a refused optimiser never allocates it.
    too_many = torch.zeros(MAX_PARAMETERS + 1, dtype=DTYPE, requires_grad=True)
    with pytest.raises(ConfigError, match="too many parameters for a dense inverse Hessian"):
        SelfScaledQuasiNewton([too_many])
    model, _ = _fit(seed=0)
    with pytest.raises(ValueError, match=r"61 parameters and the limit is 60"):
        SelfScaledQuasiNewton(model.parameters(), max_parameters=60)


def test_rejects_an_unknown_method_and_bad_wolfe_constants():
    x = torch.zeros(3, dtype=DTYPE, requires_grad=True)
    with pytest.raises(ConfigError, match="unknown method"):
        SelfScaledQuasiNewton([x], method="sr1")
    with pytest.raises(ConfigError, match="0 < c1 < c2 < 1"):
        SelfScaledQuasiNewton([x], c1=0.9, c2=0.1)


def test_least_squares_fit_beats_the_lbfgs_polish():
    model, loss = _fit(seed=0)
    optimizer = SelfScaledQuasiNewton(model.parameters())
    self_scaled_block(optimizer, _closure(optimizer, loss), FIT_ITERATIONS)
    with torch.no_grad():
        ours = loss().item()

    model, loss = _fit(seed=0)
    polish = make_lbfgs(list(model.parameters()), LBFGS(steps=FIT_ITERATIONS))
    lbfgs_block(polish, _closure(polish, loss), FIT_ITERATIONS)
    with torch.no_grad():
        theirs = loss().item()
    assert ours * FIT_FACTOR < theirs, (ours, theirs)
