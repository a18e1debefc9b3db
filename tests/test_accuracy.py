"""Slow: train exact-solution cases and check the relative L2 error against each case's own
threshold (stored with the case in `tests/training_cases.py`, with where it came from)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.problem.file import load_problem_file
from tests.training_cases import CASES

PROBLEMS_DIR = Path(__file__).resolve().parent.parent / "problems"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_training_reaches_the_case_threshold(name):
    case = CASES[name]
    run = pk.fit(case.problem, case.config.replace(seed=0), out=None)
    worst = max(run.rel_l2.values())
    assert worst <= case.threshold, f"{name}: rel. L2 {worst:.2e} > {case.threshold:.0e}"


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_and_float64_both_train(dtype):
    case = CASES["poisson_1d"]
    run = pk.fit(case.problem, case.config.replace(dtype=dtype), out=None)
    assert next(run.model.parameters()).dtype == getattr(torch, dtype)
    assert max(run.rel_l2.values()) <= case.threshold


# -- slow: learning a reaction term ----------------------------------------------------------

# Fisher-KPP (problems/fisher_hidden.py): 3000 Adam steps and 500 L-BFGS iterations (~30 s
# on a quiet 2-core CPU). The learned f is compared with u (1 - u) over the middle 90% of the
# reference solution's values (quantiles 0.05-0.95 over its space-time grid, u in
# [0.128, 0.797]); outside it the network sees few points (the initial peak up to 0.9 lasts a
# moment). Measured max |f - u (1 - u)| there, seeds 0-4: 0.0141, 0.0160, 0.0134, 0.0127,
# 0.0196 (5-8% of max f = 0.25; u itself to relative L2 5.0e-3 - 5.6e-3). Tolerance: 3x the
# worst seed.
FISHER_STEPS, FISHER_POLISH = 3000, 500
FISHER_F_TOL = 0.06


@pytest.mark.slow
def test_fisher_reaction_term_is_learned_from_sparse_noisy_data():
    problem, config, _ = load_problem_file(PROBLEMS_DIR / "fisher_hidden.py")
    config = config.replace(
        steps=FISHER_STEPS, lbfgs=pk.LBFGS(steps=FISHER_POLISH), progress=False, device="cpu"
    )
    run = pk.fit(problem, config, out=None)
    lo, hi = np.quantile(problem.reference.values["u"], [0.05, 0.95])
    grid = torch.linspace(lo, hi, 201)
    with torch.no_grad():
        learned = run.compiled.hidden["f"](grid[:, None]).numpy()
    error = np.max(np.abs(learned - grid.numpy() * (1 - grid.numpy())))
    assert error < FISHER_F_TOL, f"max |f - u(1-u)| = {error:.3g} on [{lo:.2f}, {hi:.2f}]"


# -- slow: a float64 second-order stage against Adam + L-BFGS at equal wall time -------------

# Burgers (problems/burgers.py, its `accurate` config: Sobol points, 3,297 parameters), both
# runs from the same float32 Adam phase (500 steps), then either SSBroyden for 500 iterations
# in float64, or float32 L-BFGS, each on one fixed set of twice the sampling counts. The L-BFGS
# error is read at its first evaluation at or after the SSBroyden run's wall time, so that it
# has had at least as long. Measured (CPU, 1 thread, a shared and loaded 2-core machine):
# SSBroyden 4.8e-4 / 7.5e-4 / 1.1e-3 for seeds 0 / 1 / 2 in 72-81 s; L-BFGS at that time
# 8.4e-3 and 1.6e-2 (seed 0, twice: the wall time lands on a different evaluation) / 1.6e-2 /
# 7.1e-3, i.e. 17-33x / 21x / 6.4x worse. Given 1.8x the time (all 3500 iterations, 132 s),
# L-BFGS reached 3.4e-3 on seed 0, still 7x worse. The required gain is half the worst seed's.
# The whole test took 222-240 s on that machine (user CPU time 207-212 s).
SECOND_ORDER_ADAM = 500
SECOND_ORDER_STEPS = 500
SECOND_ORDER_POINTS = 2.0
# 3500 iterations took 1.8x the SSBroyden run's wall time; 2500 took 1.25-1.46x, and once
# less than it, when the load on the machine changed between the runs.
SECOND_ORDER_LBFGS = 3500
SECOND_ORDER_EVERY = 50  # steps between error evaluations (and log lines), in both runs
SECOND_ORDER_GAIN = 3.0


@pytest.mark.slow
def test_second_order_stage_beats_lbfgs_at_equal_wall_time():
    problem, config, _ = load_problem_file(PROBLEMS_DIR / "burgers.py", config="accurate")
    base = config.replace(
        steps=SECOND_ORDER_ADAM,
        seed=0,
        eval_every=SECOND_ORDER_EVERY,
        log_every=SECOND_ORDER_EVERY,
        progress=False,
        device="cpu",
    )
    stage = pk.SSBroyden(steps=SECOND_ORDER_STEPS, points=SECOND_ORDER_POINTS, dtype="float64")
    second = pk.fit(problem, base.replace(stages=(stage,)), out=None)
    polish = pk.LBFGS(steps=SECOND_ORDER_LBFGS, points=SECOND_ORDER_POINTS)
    lbfgs = pk.fit(problem, base.replace(lbfgs=polish, stages=()), out=None)
    assert next(second.model.parameters()).dtype == torch.float64
    assert next(lbfgs.model.parameters()).dtype == torch.float32

    wall = second.summary["wall_seconds"]
    assert lbfgs.summary["wall_seconds"] >= wall, (
        f"Adam + L-BFGS took {lbfgs.summary['wall_seconds']:.0f} s, less than the "
        f"{wall:.0f} s of Adam + SSBroyden: give it more iterations (SECOND_ORDER_LBFGS), "
        "unless its loss stopped moving (then L-BFGS ended early)"
    )
    # Its first evaluation at or after `wall`; else its last (the state at the end, >= wall).
    evaluated = [r for r in lbfgs.metrics if "rel_l2" in r]
    row = next((r for r in evaluated if r["seconds"] >= wall), evaluated[-1])
    error, error_lbfgs = second.rel_l2["u"], row["rel_l2"]["u"]
    assert error * SECOND_ORDER_GAIN <= error_lbfgs, (
        f"SSBroyden rel. L2 {error:.2e} in {wall:.0f} s; Adam + L-BFGS {error_lbfgs:.2e} at "
        f"{row['seconds']:.0f} s (step {row['step']}), {lbfgs.rel_l2['u']:.2e} at the end "
        f"({lbfgs.summary['wall_seconds']:.0f} s)"
    )
