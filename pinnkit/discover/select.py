"""Choose a formula from a Pareto front by the evidence of the data and the physics, not by
the fit alone nor by a count of nodes.

The rule (also in docs/discovery.md, "How a formula is chosen"):

1. **Candidates.** The members of the front and the near candidates off it (`Front.near`:
   sample loss within `NEAR_FACTOR`, 20, of the front's at their complexity and explaining
   at least `NEAR_EXPLAINED`, 95%, of the term's variance over the samples; the network's
   smooth error can favour a look-alike of the truth on the samples), simplest first: the
   `SHORTLIST_SIZE` (12) simplest members, the backend's own choice (`Front.best`, PySR's
   "best" rule), the 12 simplest near candidates whose terms do not cancel (`cancels`: RMS
   values over the samples, a polynomial's about the means, adding up to at most
   `CANCEL_FACTOR`, 10, times the term's RMS), the members of the front of the polynomials
   alone that are not on the front (`Front.subfront`: the offline backend searches sums of
   monomials exhaustively; their fit to the network's values can rank far down among the
   near candidates), in an ODE problem the simplest members of the integral regression's
   front of forms not yet among these (`Front.integral`: fitted to the observations'
   increments, `pinnkit.discover.integral`), and formulas offered (`pk.discover(...,
   candidates=...)`). Polynomials the samples rank below those get a short refit (`screen`).
2. **Refit.** A candidate is substituted for the Hidden term in the Problem (`substitute`,
   its constants as Parameters), and the solution network and the constants are refit
   together, starting from the trained run: `refit` (500) L-BFGS iterations. Its loss
   $L(c)$ is the training loss, every equation, condition and data term (mean square times
   weight), on fixed points: uniform interior points plus the observation points; its
   misfit $\\hat D_k(c)$ to each observed field $k$ is measured there too. $L_\\text{net}$
   is the same loss of the trained run with its hidden network.
3. **Choice by evidence.** A candidate is *admitted* when $L(c) \\le$ `PHYSICS_FACTOR` (2)
   $\\times L_\\text{net}$: it explains the equations and the data about as well as the free
   network did. Among the admitted, the one of least evidence criterion is chosen
   (`pinnkit.discover.criteria`): the Bayesian information criterion of the observations,
   $E(c) = \\sum_k n_k \\ln \\hat D_k(c) + p(c) + \\beta s(c)$, where the noise
   variance of each field is estimated from the refit itself (not from the trained network,
   which overfits the noise), a fitted constant costs $\\ln N$ whatever its value (an exact
   one such as `1/2` the bits that write it, at most as much; 1 nothing), and the
   structure costs one bit ($\\beta$ = 2 ln 2) per node of the formula's form (its
   constants set to 1). So `0.52*u - 0.52*u**2` and `0.519*sin(3.12*u)`, two constants
   each, are told apart by their fit; a constant term is kept only when it buys its price.
   The round form of an admitted candidate (each constant the nearest p/q, q <= 5, within
   `ROUND_RTOL`, 5%) is judged as a candidate of its own: its exact numbers cost less than
   fitted ones (nothing for 1), and it wins when the data cannot tell them from the fitted
   ones (a misfit growth under the price saved). In an ODE problem the constants rounded are
   the trajectory refit's (the maximum-likelihood fit, `pinnkit.discover.trajectory`), each
   within `ROUND_SIGMAS` (2) of its standard errors too, one at a time, the others refit
   after each step, while the trajectory's criterion does not rise (`_Judge.round_form`,
   `pinnkit.discover.rounding`; the same steps tie two constants whose magnitudes agree
   within those widths, `pinnkit.discover.ties`), and the round form is judged only when
   the trajectory refits of the two cannot tell them apart either (`_Judge.keeps_round`).
   Candidates are refit in order; one that cannot beat the best so far whatever its refit
   (`_Judge.bound`: its structure's price alone, its misfit at best `BOUND_RATIO` of the
   network's or the least a refit has reached, no fitted constant) is skipped. When none is
   admitted: the smallest $L(c)$, flagged (`Selection.passed` False).
4. **Pruning.** From the chosen formula, additive terms are dropped one at a time (the
   smallest over the samples first, the rest refit to the samples) while that lowers the
   criterion: a term stays only when the fit it buys is worth its constants and structure.
   Up to 6 admitted rivals within 4 ln 20 lose their terms the samples hardly see too.
5. **Confirmation.** The chosen formula *passed* (`Selection.passed`) when it is admitted
   and its misfit grew by at most `DATA_THRESHOLD` (12) noise units against the trained
   run, the noise variance of each field from the formula's own refit.
6. **Alternatives and weights.** Up to `ALTERNATIVES` (3) more shortlisted candidates of
   forms not yet judged that could come within `ALTERNATIVE_DELTA` of the chosen's criterion
   are refit, and every other admitted form within it is reported with its difference
   $\\Delta E$ and its relative weight $e^{-\\Delta E/2}$, normalised over the chosen and the
   alternatives (`Selection.alternatives`, `Selection.weights`): "the data cannot decide" as
   a number. In an ODE problem the chosen formula and every refit form within
   `SETTLE_DELTA` (twice `ALTERNATIVE_DELTA`) of it, admitted or not (integrated, a formula
   meets the equations exactly), and the chosen form's round form, are then judged again by
   their trajectory refits, the best of them chosen (`settle_by_trajectory`; the chosen
   form with terms added only when better by `EXTENSION_MARGIN`).
7. **Constants and their uncertainty.** The chosen formula's constants are refit once more,
   longer (`polish`, 2000 iterations), and those are reported (in an ODE problem, as the
   trajectory refit then fits them, with its standard errors). Elsewhere each constant's
   standard error comes from the profile of the criterion (`profile_errors`): the constant
   held `PROFILE_STEP` (2%) above and below its refit value, everything else refit (`refit`
   iterations), and the deviance's second difference $\\Delta_2$ gives
   $\\sigma = $ step $\\sqrt{2/\\Delta_2}$ (`Selection.errors`). `snap=True` on the exports
   rounds a constant to a simple number only within `SNAP_SIGMAS` (2) standard errors, and
   never changes the form (`Selection.snapped`).

Several Hidden terms are found one after another (in the Problem's order): once a term is
chosen it is written into the run (`write_in`: its constants become Parameters) and the
solution, the remaining Hidden networks and the constants are refit (`polish` iterations)
before the next term is sampled, fitted and judged. The last term's polish refits every
constant with every term a formula, and those are the constants reported for all terms
(`Selection.constants`): on Lotka-Volterra the first term's constant, refit while its
partner was still a free network, is otherwise off by the partner's error.

The refit matters: with the solution held fixed, any formula is judged by how closely it
follows the network, errors included, which is the backend's loss again. Refit, a formula
that is right up to the network's error fits the data as well as the network did, to the
noise, while a wrong one cannot. With `refit=0` the solution is held fixed (fast, and exact
for a network that is exactly a formula, but lenient: the data misfit is then the same for
every candidate, and the structure and the constants decide). Losses under `PHYSICS_FLOOR`
times the term's mean square are round-off and count as that floor.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.compile import Batch
from pinnkit.discover import ties
from pinnkit.discover.alternatives import (
    ALTERNATIVE_DELTA,
    ALTERNATIVES,
    find_alternatives,
    settle_by_trajectory,
)
from pinnkit.discover.base import (
    Candidate,
    Front,
    complexity,
    display,
    form,
    mean_squared_error,
)
from pinnkit.discover.criteria import (
    DATA_THRESHOLD,
    PHYSICS_FACTOR,
    PHYSICS_FLOOR,
    STRUCTURE_COST,
    Scored,
    admissible,
    constants_price,
    evidence,
    passes,
    pick,
    rank,
)
from pinnkit.discover.exact import snap_constants
from pinnkit.discover.losses import Losses, measure, noise_floors
from pinnkit.discover.prune import prune, prune_rivals
from pinnkit.discover.refit import (
    POLISH,
    PROFILE_STEP,
    REFIT,
    profile_errors,
    refit_constants,
    refit_loss,
)
from pinnkit.discover.rounding import round_all, round_stepwise
from pinnkit.discover.screen import screen
from pinnkit.discover.selection import Selection
from pinnkit.discover.shortlist import SHORTLIST_SIZE, shortlist
from pinnkit.discover.substitute import Formula, parametrize
from pinnkit.discover.trajectory import Ode, fit_formula, fit_trajectory, ode_of
from pinnkit.discover.two_point import guess_of

__all__ = ["choose", "ROUND_RTOL", "ROUND_SIGMAS", "BOUND_RATIO", "PROFILE_STEP"]

#: An admitted candidate's constants are rounded to the nearest p/q with q <= 5 within this
#: tolerance (`snap_constants(closest=True)`) and the round formula is judged too; the
#: criterion then decides whether the data can tell the round numbers from the fitted ones.
ROUND_RTOL = 0.05
#: In an ODE problem the constants rounded are the trajectory refit's (maximum likelihood),
#: each to the nearest p/q (q <= 5) within `ROUND_RTOL` or this many standard errors, the
#: wider: on ODEBench 39 (1% noise) the data fix x0^2 x1's coefficient only to 1.056 +- 0.093,
#: which the PINN refit put at 1.197 (5% would not round it to 1); `_Judge.keeps_round`.
ROUND_SIGMAS = 2.0
#: The skip bound of step 3 assumes no refit formula fits a field's observations better than
#: this fraction of the trained network's misfit (the network, free, overfits the noise: on
#: the suite the right formulas refit to 0.98-1.2 of its misfit).
BOUND_RATIO = 0.9


def choose(
    run,
    name: str,
    front: Front,
    samples,
    *,
    batches: dict[str, Batch],
    factor: float = PHYSICS_FACTOR,
    refit: int = REFIT,
    size: int = SHORTLIST_SIZE,
    threshold: float = DATA_THRESHOLD,
    polish: int = POLISH,
    alternatives: int = ALTERNATIVES,
    offered: Sequence[Candidate] = (),
    held: bool = False,
    trajectory: bool = False,
    report: Callable[[str], None] | None = None,
) -> Selection:
    """Apply the rule (module docstring) to `front`, the candidates for Hidden `name`
    fitted to `samples` (its `HiddenSamples`), with the candidates `offered` judged too; look
    for `alternatives` (at most that many more refits; `Selection.alternatives`), then refit
    the chosen formula's constants with `polish` L-BFGS iterations (when there is a refit
    at all and `polish > refit`) and measure their standard errors. `held`: the refits
    hold the physics as a constraint (`pinnkit.discover.refit.constrained`); then a
    candidate whose refit leaves the equations and conditions less well met than the
    trained network did has not converged and is not chosen (its criterion is inf).
    `trajectory`: in an ODE problem, candidates are judged by their trajectory refit
    (`pinnkit.discover.trajectory`); the chosen formula's constants get it either way."""
    judge = _Judge.of(
        run, name, samples, batches, factor=factor, refit=refit, held=held, traced=trajectory
    )
    judge = dataclasses.replace(judge, report=report)
    candidates = sorted(
        [*shortlist(front, samples, size=size), *offered],
        key=lambda c: (judge.bound(c.expr), c.loss),
    )
    scored = _judge_in_order(candidates, samples, judge, always=offered)
    promoted, more = screen(
        front.screen, scored, judge, lambda cs: _judge_in_order(cs, samples, judge, always=cs)
    )
    candidates, scored = candidates + promoted, scored + more
    chosen = pick(scored, judge.network, factor, judge.floor)
    current = next(s for s in scored if s.candidate is chosen)
    current = prune(current, samples, judge, scored, judge.admits)
    current = prune_rivals(current, samples, judge, scored, judge.admits)
    found = find_alternatives(current, candidates, scored, judge, judge.admits, alternatives)
    # Only boundary-value or second-order ODEs: first-order ones keep ODEBench's measured path.
    ode = judge.ode
    skipped = candidates if ode is not None and (ode.ends or ode.lifted) else ()
    current, found = settle_by_trajectory(current, found, judge, scored, skipped)
    polished, constants, template, errors = _polish(
        run, name, current.candidate, samples, batches, refit=refit, polish=polish, judge=judge
    )
    errors = errors or profile_errors(
        run, name, Formula(samples.symbols, current.candidate.expr), batches, refit=refit
    )
    return Selection(
        current.candidate,
        tuple(scored),
        judge.network,
        factor,
        refit,
        threshold,
        polished,
        found,
        constants,
        passes(current.physics, judge.network, factor, judge.floor, current.excess, threshold),
        errors,
        template,
    )


@dataclass(frozen=True)
class _Judge:
    """Steps 2 and 3 for one Hidden term: a candidate refit and scored against the trained
    run's losses (`reference`), with the noise floors of the observed fields (`floors`),
    whether it is admitted (`admits`) and a lower bound of its criterion before any refit
    (`bound`); losses under `floor` (`PHYSICS_FLOOR` times the term's mean square) are
    round-off."""

    run: object
    name: str
    samples: object
    batches: dict[str, Batch]
    refit: int
    factor: float
    floor: float
    reference: Losses
    floors: dict[tuple[str, str], float]
    least_deviance: float
    held: bool = False
    ode: Ode | None = None
    traced: bool = False
    report: Callable[[str], None] | None = None  # `choose(report=)`: a line after each refit

    @classmethod
    def of(
        cls, run, name: str, samples, batches, *, factor, refit, held=False, traced=False
    ) -> _Judge:
        """The judge of Hidden `name` of `run`, its reference measured at `batches`; `ode`
        where the problem is an ODE (`ode_of`) and candidates are refit (the chosen
        formula's trajectory refit), and candidates judged by it with `traced`."""
        floor = PHYSICS_FLOOR * float(np.mean(samples.target**2))
        reference = measure(run.compiled, run.model, batches)
        floors = noise_floors(run.problem)
        best = dataclasses.replace(
            reference,
            misfit={k: (BOUND_RATIO * m, n) for k, (m, n) in reference.misfit.items()},
        )
        least = best.deviance(floors)
        ode = ode_of(run.problem, name) if refit else None
        return cls(
            run,
            name,
            samples,
            batches,
            refit,
            factor,
            floor,
            reference,
            floors,
            least,
            held,
            ode,
            traced and ode is not None,
        )

    @property
    def network(self) -> float:
        """The trained run's loss at the same points."""
        return self.reference.total

    def score(
        self, candidate: Candidate, losses: Losses, refit_expr: sp.Expr, information=None
    ) -> Scored:
        """`candidate` scored from its refit's `losses` and its refit formula (its constants'
        Fisher `information` where a trajectory refit gave it). A refit that holds the
        physics as a constraint (`held`) but leaves the equations' and conditions' part of
        the loss above the trained network's has not converged (its solution stayed where
        the network had bent it towards the noise, so its misfit flatters it): its
        criterion is inf."""
        n = self.reference.observations
        criterion = evidence(losses.deviance(self.floors), refit_expr, n, information)
        if self.held and not losses.residual <= max(self.reference.residual, self.floor):
            criterion = math.inf
        return Scored(
            candidate,
            losses.total,
            complexity(snap_constants(refit_expr)),
            refit_expr,
            losses.excess(self.reference, self.floors),
            criterion=criterion,
        )

    def __call__(self, candidate: Candidate) -> Scored:
        start, scored = time.perf_counter(), self._judged(candidate)
        if self.report is not None:
            took = f"{self.refit} iterations, {time.perf_counter() - start:.1f} s"
            self.report(f"{self.name}: refit {display(candidate.expr)} ({took})")
        return scored

    def _judged(self, candidate: Candidate) -> Scored:
        formula = Formula(self.samples.symbols, candidate.expr)
        losses, refit_expr = refit_loss(
            self.run, self.name, formula, self.batches, refit=self.refit
        )
        information = None
        if self.traced and math.isfinite(losses.total):
            traced = fit_formula(self.ode, Formula(formula.symbols, refit_expr), *self.trace)
            if traced is not None:
                refit_expr, information = traced.expr, traced.information
                losses = dataclasses.replace(losses, misfit=traced.misfit)
        return self.score(candidate, losses, refit_expr, information)

    @functools.cached_property
    def trace(self) -> tuple[dict, dict, dict]:
        """The trajectory refit's starting Parameters, start-value guesses (the trained
        network at the start) and noise scales (each field's misfit by the network, raised
        to its floor), computed once (`_trace`)."""
        return _trace(self.run, self.ode, self.reference, self.floors)

    @functools.cached_property
    def _fits(self) -> dict:
        """The trajectory refits made so far, by formula (`traced_fit`)."""
        return {}

    def traced_fit(self, expr: sp.Expr):
        """`fit_formula` of `expr` in this ODE problem, made once per formula (the round form
        and its test both start from the free fit)."""
        if expr not in self._fits:
            self._fits[expr] = fit_formula(
                self.ode, Formula(self.samples.symbols, expr), *self.trace
            )
        return self._fits[expr]

    def round_form(self, fitted: sp.Expr) -> sp.Expr:
        """The round form of the refit formula `fitted` (step 3): constants rounded to the
        nearest p/q with q <= 5 within `ROUND_RTOL` where that number costs less than a
        fitted constant (`constants_price`: 12/5 costs as much as 2.397 and would only fit
        worse), all at once (`round_all`). In an ODE problem one at a time instead, each
        step a trajectory refit of the others, while the criterion does not rise
        (`round_stepwise`), each constant within `ROUND_SIGMAS` of its standard errors too.
        `fitted` itself when none rounds."""
        n = self.reference.observations

        def rtol(f, errors=None) -> float:
            sigma = ties.lookup(errors or {}, f, 0.0)
            wide = ROUND_SIGMAS * sigma / abs(float(f)) if float(f) else 0.0
            return max(ROUND_RTOL, wide)

        if self.ode is None or self.traced_fit(fitted) is None:
            return round_all(fitted, rtol, n)
        return round_stepwise(fitted, self.traced_fit, self.deviance, rtol, n)

    def keeps_round(self, fitted: sp.Expr, rounded: sp.Expr) -> bool:
        """Whether the round form `rounded` of the refit formula `fitted` may be judged. In an
        ODE problem (`ode`) the two are first told apart by their trajectory refits (the
        maximum-likelihood fit, which the PINN refit only approaches: its solution network
        bends to absorb a constant's change): the round form is kept when the deviance it
        adds is at most the price its exact numbers save (`constants_price`). So ODEBench's
        0.21 does not become 1/5 when the data fix it to 0.2%. Elsewhere, or when the
        fitted formula's trajectory cannot be integrated, always."""
        if self.ode is None:
            return True
        free = self.traced_fit(fitted)
        if free is None:
            return True
        held = self.traced_fit(rounded)
        if held is None:
            return False
        n = self.reference.observations
        saving = constants_price(free.expr, n, free.information) - constants_price(
            held.expr, n, held.information
        )
        added = self.deviance(held.misfit) - self.deviance(free.misfit)
        return added <= saving

    def deviance(self, misfit) -> float:
        """The deviance of the observations for a refit's `misfit` (`Losses.deviance`)."""
        return dataclasses.replace(self.reference, misfit=misfit).deviance(self.floors)

    def admits(self, s: Scored) -> bool:
        return admissible(s.physics, self.network, self.factor, self.floor)

    def bound(self, expr: sp.Expr, reached: float = math.inf) -> float:
        """A lower bound of the criterion of `expr` whatever its refit: its form's price,
        no fitted constant, and each field's misfit `BOUND_RATIO` of the network's
        (`least_deviance`), or the least deviance a refit has `reached` where lower (a
        network that underfits the data: on a Holling type II predator-prey the refits
        came 115 noise units below the trained network, and 1.49 X/(X + 1) was skipped)."""
        return min(self.least_deviance, reached) + STRUCTURE_COST * complexity(form(expr))


def _judge_in_order(
    candidates: list[Candidate], samples, judge: _Judge, always: Sequence[Candidate] = ()
) -> list[Scored]:
    """Steps 2 and 3 over the candidates, in order: each refit and scored, and the round form
    of an admitted one too; a candidate whose criterion cannot fall below that of the best
    admitted one so far, whatever its refit (`_Judge.bound`), is skipped, unless it is one of
    `always` (the user's own, whose refit and criterion the report shows)."""
    scored: list[Scored] = []
    best: Scored | None = None
    n = judge.reference.observations
    reached = math.inf  # the least deviance of a refit so far
    for c in candidates:
        skip = best is not None and judge.bound(c.expr, reached) > best.criterion
        if skip and not any(c is o for o in always):
            continue
        tried = [judge(c)]
        if math.isfinite(tried[0].criterion):
            reached = min(reached, tried[0].criterion - evidence(0.0, tried[0].expr, n))
        # Its round form is a candidate too (`u - u**2` for `0.977*u - 0.985*u**2`), unless
        # it cannot come near the best: rounding saves at most the constants' price, and the
        # refit constants fit the data at least as well as round ones. Checked first with
        # the most it could save (every constant exact at no price): in an ODE problem
        # `round_form` costs trajectory refits.
        fitted = tried[0].expr
        ceiling = None if best is None else best.criterion + ALTERNATIVE_DELTA
        reachable = ceiling is None or tried[0].criterion - constants_price(fitted, n) <= ceiling
        if judge.admits(tried[0]) and reachable:
            rounded = judge.round_form(fitted)
            saving = constants_price(fitted, n) - constants_price(rounded, n)
            hopeless = ceiling is not None and tried[0].criterion - saving > ceiling
            if rounded != fitted and not hopeless and judge.keeps_round(fitted, rounded):
                loss = mean_squared_error(rounded, samples.inputs, samples.target)
                candidate = Candidate(rounded, complexity(rounded), loss, 0.0)
                tried.append(dataclasses.replace(judge(candidate), fitted=fitted))
        scored.extend(tried)
        for s in tried:
            if judge.admits(s) and (best is None or rank(s) < rank(best)):
                best = s
    return scored


def _polish(
    run, name: str, chosen: Candidate, samples, batches, *, refit: int, polish: int, judge: _Judge
):
    """The chosen formula with its constants after `polish` L-BFGS iterations (then the
    trajectory refit, where `judge` has one), every learned constant by name, the formula
    with its constants as Parameters (`parametrize`), and, from the trajectory refit, the
    standard error of each of the formula's constants by name (empty without one: step 7
    then profiles the PINN refit); `(None, {}, None, {})` without a polish (no refit at all,
    `polish <= refit`, nothing to refit) or when it failed."""
    ode = judge.ode
    if refit and polish > refit and (chosen.expr.atoms(sp.Float) or run.compiled.parameters_raw):
        formula = Formula(samples.symbols, chosen.expr)
        losses, expr, values = refit_constants(run, name, formula, batches, refit=polish)
        if math.isfinite(losses.total):
            template, constants = parametrize(name, chosen.expr)
            errors = {}
            if ode is not None and all(c.name in values for c in constants):
                start = {c: values[c.name] for c in constants}
                traced = fit_trajectory(ode, formula.symbols, template, start, *judge.trace)
                if traced is not None:
                    values = {**values, **traced.values}
                    expr = template.xreplace({c: sp.Float(values[c.name]) for c in constants})
                    errors = {c.name: traced.errors[c.name] for c in constants}
            return expr, values, template, errors
    return None, {}, None, {}


def _trace(run, ode: Ode, reference: Losses, floors) -> tuple[dict, dict, dict]:
    """`fit_trajectory`'s starting Parameters (the run's), start-value guesses (the run's
    network at the start, for fields no condition fixes) and noise scales (each observed
    field's misfit by the network, raised to its floor)."""
    guess = guess_of(ode, run)
    scales = {k: math.sqrt(max(m, floors[k])) for k, (m, _) in reference.misfit.items()}
    return run.parameters, guess, scales
