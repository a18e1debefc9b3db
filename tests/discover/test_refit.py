"""`pinnkit.discover.refit.constrained`: the copy of a run that discovery refits from, with the
equations and conditions held as a constraint; and what it buys, the maximum-likelihood
constants, checked against a direct fit of the ODE (SciPy) on a logistic-growth problem."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import loss_weights
from pinnkit.discover.losses import physics_batches
from pinnkit.discover.refit import (
    CONSTRAINT,
    ODE_REFIT,
    REFIT,
    REFIT_TOLERANCE,
    constrained,
    default_refit,
    profile_errors,
    refit_constants,
)
from pinnkit.discover.substitute import Formula
from pinnkit.errors import DiscoveryError
from tests.discover.logistic import CAPACITY, RATE, V
from tests.discover.planted import _planted_run


def test_weight_one_is_the_run_itself(planted):
    assert constrained(planted, 1) is planted


def test_by_default_the_run_itself_is_refit(planted, logistic_run):
    assert constrained(planted) is planted
    run, _ = logistic_run
    assert constrained(run) is run
    held = constrained(run, CONSTRAINT)
    assert held is not run and held.config.weights["growth"] == CONSTRAINT
    assert held.config.lbfgs.tolerance == REFIT_TOLERANCE and run.config.lbfgs.tolerance == 0


class _Judged(Exception):
    """Raised by a stand-in for `choose` with the refit it was given."""


def test_an_ode_is_refit_for_fewer_iterations_unless_told(planted, logistic_run, monkeypatch):
    run, _ = logistic_run
    assert len(run.problem.coords) == 1 and len(planted.problem.coords) == 2
    assert default_refit(run.problem) == ODE_REFIT < REFIT == default_refit(planted.problem)

    def judged(*args, refit, **kwargs):
        raise _Judged(refit)

    # By the module (`pinnkit.discover` the name is the function `pk.discover`).
    monkeypatch.setattr(importlib.import_module("pinnkit.discover.pipeline"), "choose", judged)
    for told, used in ((None, ODE_REFIT), (700, 700), (0, 0)):
        with pytest.raises(_Judged) as caught:
            pk.discover(run, refit=told)
        assert caught.value.args == (used,)


def test_copy_in_float64_with_the_physics_weighted():
    planted = _planted_run()  # a fresh one: the package's fixture is shared
    run = pk.Run(
        problem=planted.problem,
        config=planted.config.replace(dtype="float32"),
        model=planted.model.float(),
        compiled=planted.compiled.float(),
        summary={},
        directory=None,
    )
    before = loss_weights(run.problem, run.compiled, run.config)
    held = constrained(run, 100.0)
    after = loss_weights(held.problem, held.compiled, held.config)
    observed = {d.name for d in run.problem.data}
    assert observed and set(after) == set(before)
    for k, w in before.items():
        assert after[k] == pytest.approx(w * (1.0 if k in observed else 100.0))
    assert held.model is not run.model and held.compiled is not run.compiled
    assert all(p.dtype == torch.float64 for p in held.compiled.parameters())
    assert all(b.dtype == torch.float64 for b in held.model.buffers() if b.is_floating_point())
    # the run itself is untouched
    assert all(b.dtype == torch.float32 for b in run.model.buffers() if b.is_floating_point())
    assert run.config.dtype == "float32" and not run.config.weights


@pytest.mark.parametrize("weight", [0, 0.5, -1.0, math.nan, math.inf, "1e4", True])
def test_a_weight_that_is_not_positive_and_finite_is_refused(planted, weight):
    with pytest.raises(DiscoveryError, match="constraint="):
        constrained(planted, weight)


# -- what it buys: the maximum-likelihood constants -------------------------------------------


def _refit(run, weight: float) -> np.ndarray:
    held = constrained(run, weight)
    batches = physics_batches(held, samples=500, seed=0)
    a, b = sp.Float(RATE), sp.Float(RATE / CAPACITY)
    formula = Formula((V,), a * V - b * V**2)
    _, expr, _ = refit_constants(held, "f", formula, batches, refit=500)
    linear, square = (float(expr.coeff(V, k)) for k in (1, 2))
    return np.array([linear, -square])


def test_the_constrained_refit_is_the_maximum_likelihood_fit(logistic_run):
    run, direct = logistic_run
    held = _refit(run, CONSTRAINT)
    soft = _refit(run, 1.0)
    # Measured (seed 0, CPU): the constrained refit (weight 100) agrees with the direct fit of
    # the ODE to 1e-4 relative (4e-5 with 1e4); the soft refit (the run's weights) is 0.7% off.
    assert np.max(np.abs(held / direct - 1)) < 5e-4
    assert np.max(np.abs(soft / direct - 1)) > 5 * np.max(np.abs(held / direct - 1))


def test_the_profile_errors_are_bounded_and_no_sharper_than_the_maximum_likelihood(logistic_run):
    """`profile_errors` (the standard errors discovery reports outside ODE problems): finite
    for constants the data fix, and no smaller than the maximum-likelihood fit's, since the
    PINN refit's solution bends to absorb a held constant (measured, seed 0: 0.031 and 0.015
    against the trajectory refit's 0.0066 and 0.0042)."""
    from pinnkit.discover.trajectory import fit_trajectory, ode_of

    run, _ = logistic_run
    batches = physics_batches(run, samples=500, seed=0)
    formula = Formula((V,), sp.Float(RATE) * V - sp.Float(RATE / CAPACITY) * V**2)
    errors = profile_errors(run, "f", formula, batches, refit=100)
    assert set(errors) == {"f_c0", "f_c1"}
    k = sp.symbols("f_c0 f_c1")
    ode = ode_of(run.problem, "f")
    start = {k[0]: RATE, k[1]: RATE / CAPACITY}
    scales = {key: 0.01 for key, *_ in ode.observed}
    traced = fit_trajectory(ode, (V,), k[0] * V - k[1] * V**2, start, {}, {}, scales)
    for name in errors:
        assert math.isfinite(errors[name])
        assert 1 <= errors[name] / traced.errors[name] < 10
    assert profile_errors(run, "f", Formula((V,), V - V**2 / 2), batches, refit=100) == {}


def _flux_run(lbfgs: pk.LBFGS):
    """A few steps of u_t + F(u)_x = 0 with a hidden flux F (64 interior points)."""
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    F = pk.Hidden("F")
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations={"law": sp.Eq(u.diff(t) + F(u).diff(x), 0)},
        conditions=[pk.Initial(u, sp.sin(sp.pi * x) / 2)],
    )
    config = pk.Config(
        steps=5,
        model=pk.MLP(width=8, depth=1),
        hidden=pk.HiddenNet(width=4, depth=1),
        sampling=pk.Sampling(interior=64, initial=16),
        lbfgs=lbfgs,
        progress=False,
    )
    return pk.fit(problem, config, out=None)


def test_a_constant_no_equation_sees_is_written_in_as_zero():
    """In u_t + F(u)_x = 0 only F' is seen: the constant of a candidate F is not identified,
    so its refit writes it in as 0 (it neither fails nor counts as a fitted constant)."""
    run = _flux_run(pk.LBFGS(steps=0))
    s = sp.Symbol("u")
    formula = Formula((s,), sp.Float(0.5) * s**2 + sp.Float(0.3))
    batches = physics_batches(run, samples=64, seed=0)
    losses, expr, values = refit_constants(run, "F", formula, batches, refit=3)
    assert math.isfinite(losses.total)
    assert expr.free_symbols == {s} and not expr.has(sp.Float(0.3)) and expr.has(s**2)
    assert set(values) == {"F_c1"}  # the coefficient of u**2; F_c0, the constant, is gone


def test_a_refit_polishes_on_as_many_points_as_the_run_did():
    """A network polished on few fixed points can bend between them; a refit polishes on
    the run's own count (`LBFGS.points`), not the sampling's."""
    refit = importlib.import_module("pinnkit.discover.refit")
    run = _flux_run(pk.LBFGS(steps=2, points=4))
    formula = Formula((sp.Symbol("u"),), sp.Float(0.5) * sp.Symbol("u") ** 2)
    trainer, _, _ = refit._trainer(run, "F", formula, iterations=2)
    assert trainer.config.lbfgs.points == 4 and trainer.config.lbfgs.steps == 2
    trainer.run()
    assert len(trainer.points["interior"].points) == 4 * 64
