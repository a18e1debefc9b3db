"""Every refit of discovery: a Hidden term written in as a formula, and the solution, the other
Hidden networks and the constants refit from the trained run (`refit_loss`, `refit_constants`,
`write_in`). The one module of `pinnkit.discover` that builds residuals, Trainers and Runs, all
through `pinnkit.build` (directly, or through the Trainer).

**The physics as a constraint** (`constrained`). A refit minimises the training loss, the
equations' and conditions' mean squares beside the observations' misfit. With the trained run's
weights the solution network may bend away from the equations to follow the noise, so the refit
constants are those of a compromise, not of the equations: on ODEBench's logistic growth x' =
2.1 x - 0.5 x^2 (1% noise, 50 observations) the refit gave 2.042, where the maximum-likelihood
fit of the ODE itself (`scipy.integrate.solve_ivp` inside `scipy.optimize.least_squares`, the
initial value known) gives 2.084. Discovery therefore refits an ODE system from a copy of the
run in float64 whose equations and conditions weigh `CONSTRAINT` (100) times their own weights:
the solution then all but solves the equations and the refit is close to the maximum-likelihood
fit of the formula to the observations (2.0823 there; 2.0843, the direct fit's to four digits,
with 1e4; 2.060 with the equations weighted 1e4 but the initial condition not). The deviance
the criterion reads is then nearly the likelihood's, and a wrong formula cannot hide in the
network's slack: the logistic term led the sine `2.3 sin(0.75 x)` by 9 deviance units with the
soft refit and by 40 with the constrained one. Why not 1e4: on ODEBench's harmonic oscillator
(id 24) 500 L-BFGS iterations no longer converge at 1e3 (the refit of `0.9991*x_1` ended at 2.3
times the trained run's loss, against 1.06 at 100), and at 1e4 every candidate's refit failed
but a degenerate `7e16*sin(1.4e-17*x_1)`, whose constants barely move. A PDE keeps the run's
weights: its refit cannot re-solve it under such weights in a few hundred iterations
(`constraint_for`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import sympy as sp
import torch

from pinnkit.build import build_residuals, dtype_name, loss_weights
from pinnkit.compile import Batch
from pinnkit.config import LBFGS
from pinnkit.discover.losses import Losses, measure
from pinnkit.discover.sample import run_dtype
from pinnkit.discover.substitute import Formula, parametrize, substitute
from pinnkit.errors import (
    CompileError,
    DiscoveryError,
    DiscoveryInputError,
    ProblemError,
    TrainingError,
)
from pinnkit.runs import Run
from pinnkit.train import Trainer

__all__ = [
    "constrained",
    "constraint_for",
    "CONSTRAINT",
    "refit_loss",
    "refit_constants",
    "write_in",
    "fill_constants",
    "REFIT",
    "POLISH",
]

#: L-BFGS iterations of each candidate's refit (0: the solution is held fixed). On the
#: suite's Burgers case (seed 0, 1% noise) -u u_x reached 4.3x the trained run's loss after
#: 100 iterations and 1.47x after 400: the solution needs that long to re-equilibrate.
REFIT = 500
#: A refit stops early once an L-BFGS iteration lowers the loss by less than this fraction
#: of it (`LBFGS.tolerance`): a float64 refit otherwise runs every iteration, a float32 one
#: stops where round-off does.
REFIT_TOLERANCE = 1e-9
#: Weight of the equations and conditions in every refit of an ODE system, relative to their
#: weights in the trained run (the observations keep theirs): see the module docstring and
#: `constraint_for`.
CONSTRAINT = 100.0
#: L-BFGS iterations of the chosen formula's final refit, whose constants are reported. On the
#: suite's Burgers case (seed 0, 5% noise) the constant of -u u_x came out 2.3% low after 400
#: iterations and 1.7% low after 2000 (the solution was still moving).
POLISH = 2000


def constraint_for(problem) -> float:
    """The `constraint` of `discover(run)` by default: `CONSTRAINT` for a problem of one
    coordinate (an ODE system: a refit re-solves it in a few hundred iterations), 1 for a
    PDE. Measured on the suite's Burgers case (1% noise, seed 0): with the equations and
    conditions weighted 1e4, 500 L-BFGS iterations left every candidate's loss 0.4-3.5 times
    the trained run's and its misfit ~200 noise units above it (the solution far from
    re-solved), nothing was admitted and a wrong formula came back, in 533 s of discovery
    against 18 s with the run's weights."""
    return CONSTRAINT if len(problem.coords) == 1 else 1.0


def constrained(run, weight: float | None = None):
    """`run` as every refit of discovery starts from it: with `weight == 1` the run itself;
    otherwise a copy in float64 (model and compiled problem; the run is not changed) whose
    config weighs each equation and condition `weight` times its weight in the run (the
    observations keep theirs), so that the refits hold the physics as a constraint (see the
    module docstring). `None`: `constraint_for(run.problem)`. The losses discovery measures
    (`measure`) keep the problem's own weights either way."""
    if weight is None:
        weight = constraint_for(run.problem)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise DiscoveryInputError(
            f"discover: constraint={weight!r} must be a number >= 1 or None (the default: "
            f"{CONSTRAINT:g} for an ODE system, 1 for a PDE)."
        )
    if not weight >= 1 or not math.isfinite(weight):
        raise DiscoveryInputError(
            f"discover: constraint={weight!r} must be a finite number >= 1 (1: refit with the "
            f"trained run's weights; None, the default: {CONSTRAINT:g} for an ODE system, 1 "
            "for a PDE)."
        )
    if weight == 1:
        return run
    observed = {data.name for data in run.problem.data}
    weights = {
        k: w * (1.0 if k in observed else float(weight))
        for k, w in loss_weights(run.problem, run.compiled, run.config).items()
    }
    return Run(
        problem=run.problem,
        config=run.config.replace(weights=weights, dtype="float64"),
        model=copy.deepcopy(run.model).double(),
        compiled=copy.deepcopy(run.compiled).double(),
        summary=run.summary,
        directory=run.directory,
    )


def _kept_state(run, name: str) -> dict:
    """The run's compiled state (learned constants, other Hidden networks) without Hidden
    `name`'s network, for a compiled problem where `name` is written in."""
    prefix = f"hidden.{name}."
    return {k: v for k, v in run.compiled.state_dict().items() if not k.startswith(prefix)}


# -- what discovery builds: a compiled problem, a Trainer, a Run -----------------------------


def _compiled(run, name: str, formula):
    """`run`'s compiled problem with Hidden `name` written in as `formula` (its constants
    numbers), the run's learned constants and other Hidden networks loaded: the solution is
    held fixed (`refit=0`)."""
    dtype, device = run_dtype(run.model, run.compiled)
    config = run.config.replace(
        compile=False,
        hidden_terms={k: v for k, v in run.config.hidden_terms.items() if k != name},
    )
    compiled = build_residuals(
        substitute(run.problem, {name: formula}),
        config,
        dtype=dtype,
        generator=torch.Generator(),
    ).to(device)
    compiled.load_state_dict(_kept_state(run, name), strict=False)
    return compiled


def _trainer(run, name: str, formula, iterations: int):
    """A Trainer for `run.problem` with Hidden `name` written in as `formula` (its floats
    Parameters), warm-started from the run: its solution network, its other Hidden networks
    and its learned constants; trained by `iterations` L-BFGS iterations when `.run()` is
    called (in the run's precision: a run a float64 stage ended is refit in float64). Also
    returns the written expression and its Parameters."""
    expr, constants = parametrize(name, formula.expr)
    dtype, device = run_dtype(run.model, run.compiled)
    config = run.config.replace(
        steps=0,
        lbfgs=LBFGS(
            steps=int(iterations), history=run.config.lbfgs.history, tolerance=REFIT_TOLERANCE
        ),
        stages=(),
        progress=False,
        tensorboard=False,
        device=str(device),
        dtype=dtype_name(dtype),
        hidden_terms={k: v for k, v in run.config.hidden_terms.items() if k != name},
        log_every=max(1, int(iterations)),
    )
    trainer = Trainer(substitute(run.problem, {name: Formula(formula.symbols, expr)}), config)
    try:
        trainer.model.load_state_dict(run.model.state_dict())
    except RuntimeError as err:
        raise DiscoveryError(
            "discover: the run's model is not the one its config builds, so the "
            f"candidates cannot be refit from it ({str(err).splitlines()[0]}). "
            "Fix: `pk.discover(run, refit=0)` judges them with the solution held fixed."
        ) from None
    trainer.compiled.load_state_dict(_kept_state(run, name), strict=False)
    return trainer, expr, constants


def _run(trainer):
    """The trainer's problem, config, model and compiled problem as a `Run` (no directory)."""
    return Run(
        problem=trainer.problem,
        config=trainer.config,
        model=trainer.model,
        compiled=trainer.compiled,
        summary={},
        directory=None,
    )


# -- the refits ------------------------------------------------------------------------------


def _learned(trainer) -> dict[str, float]:
    """Every learned constant of a trainer's compiled problem, by name."""
    return {k: float(v.detach()) for k, v in trainer.compiled.parameter_values().items()}


def fill_constants(expr: sp.Expr, constants, values: Mapping[str, float]) -> sp.Expr:
    """`expr` with each Parameter of `constants` replaced by its value in `values`."""
    return expr.xreplace({c: sp.Float(values[c.name]) for c in constants})


def refit_loss(
    run, name: str, formula, batches: dict[str, Batch], *, refit: int
) -> tuple[Losses, sp.Expr]:
    """Step 2: the losses (`measure`) with Hidden `name` replaced by `formula` (a `Formula`)
    after `refit` L-BFGS iterations on the solution network and the formula's constants,
    started from the trained run (`refit=0`: no iterations, the solution held fixed); and
    the formula with its constants as refit (unchanged with `refit=0` or when the refit
    failed)."""
    losses, expr, _ = refit_constants(run, name, formula, batches, refit=refit)
    return losses, expr


def refit_constants(
    run, name: str, formula, batches: dict[str, Batch], *, refit: int
) -> tuple[Losses, sp.Expr, dict[str, float]]:
    """`refit_loss`, and every learned constant of the refit problem by name (empty with
    `refit=0` or when the refit failed)."""
    try:
        if not refit:
            return measure(_compiled(run, name, formula), run.model, batches), formula.expr, {}
        trainer, expr, constants = _trainer(run, name, formula, refit)
        # A non-finite L-BFGS step rolls back to the warm start (the trainer snapshots it when
        # there are no Adam steps), so a candidate that blows up is judged where it started.
        trainer.run()
        values = _learned(trainer)
        return (
            measure(trainer.compiled, trainer.model, batches),
            fill_constants(expr, constants, values),
            values,
        )
    except (CompileError, ProblemError, TrainingError):
        return Losses(math.inf, {}), formula.expr, {}


def write_in(run, name: str, formula, *, iterations: int):
    """`run` with Hidden `name` written in as `formula` (its constants Parameters) and the
    rest (solution, other Hidden networks, all constants) refit from it by `iterations`
    L-BFGS iterations: the run the next Hidden term is discovered from; the formula with
    its constants as refit; and the formula as written, its constants the Parameters
    (`f_c0`, ... of `parametrize`) whose later refits `Selection.constants` reports."""
    trainer, expr, constants = _trainer(run, name, formula, iterations)
    trainer.run()
    fitted = fill_constants(expr, constants, _learned(trainer))
    return _run(trainer), Formula(formula.symbols, fitted), expr
