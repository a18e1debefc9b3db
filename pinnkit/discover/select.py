"""Choose a formula from a Pareto front with the physics, not the fit alone.

The rule (also in README.md, "Hidden terms and discovery"):

1. **Candidates.** The members of the front and the near candidates off it (`Front.near`:
   sample loss within `NEAR_FACTOR`, 20, of the front's at their complexity and explaining
   at least `NEAR_EXPLAINED`, 95%, of the term's variance over the samples; the network's
   smooth error can favour a look-alike of the truth on the samples), simplest first, where
   complexity is counted after constants within 2% of a simple number are rounded
   (`snap_constants`), so that `0.98*u - 0.99*u**2` counts as `u - u**2`: the
   `SHORTLIST_SIZE` (12) simplest members, the backend's own choice (`Front.best`, PySR's
   "best" rule) and the 12 simplest near candidates whose terms do not cancel (their RMS
   values over the samples add up to at most `CANCEL_FACTOR`, 10, times the term's RMS).
2. **Physics loss.** A candidate is substituted for the Hidden term in the Problem
   (`substitute`, its constants as Parameters), and the solution network and the constants
   are refit together, starting from the trained run: `refit` (500) L-BFGS iterations. Its
   loss $L(c)$ is the training loss, every equation, condition and data term (mean square
   times weight), on fixed points: uniform interior points plus the observation points.
   $L_\\text{net}$ is the same loss of the trained run with its hidden network. The chosen
   formula is reported with its constants refit once more, longer (`polish`, 2000
   iterations): fit to the data and the equations, not to the network; the backend's
   constants stay in the table.
3. **Choice.** The simplest candidate that passes two tests against the trained run (its
   loss $L_\\text{net}$, its misfit $D_{\\text{net},k}$ to each observed field $k$), where
   complexity is counted on the formula with its *refit* constants, rounded (the backend's
   constants, fit to a noisy network, may be 5% off and not round: `0.955*u - 0.933*u**2`
   refits to `0.99*u - 0.98*u**2`, that is `u - u**2`, simpler than a look-alike
   `0.26*sin(3.1*u)`); the smaller loss wins ties:
   - *loss*: $L(c) \\le$ `PHYSICS_FACTOR` (2) $\\times\\, L_\\text{net}$: it explains the data
     and the equations about as well as the free network did;
   - *data*: $\\sum_k n_k (D_k(c) - D_{\\text{net},k}) / \\hat\\sigma_k^2 \\le$ `DATA_THRESHOLD`
     (12), with $n_k$ observations of field $k$ and the noise variance
     $\\hat\\sigma_k^2 = D_{\\text{net},k}$ (at least (`NOISE_FLOOR` x the observations'
     RMS)^2): the misfit may grow by no more than the noise explains, a likelihood-ratio
     test in units of the noise. With noisy data the loss is mostly noise, so the factor
     alone passes wrong formulas (at 5% noise a constant f came within 1.26x on Fisher-KPP,
     its misfit up by 21 noise units; the right u - u^2 by 0.8), while the data test alone
     would fail right formulas whose refit has not settled the equation residual yet (on
     Burgers -u u_x the equation residual stayed 5x the network's after 400 iterations, the
     misfit fell).
   The round form of a passing candidate (each constant the nearest p/q, q <= 5, within
   `ROUND_RTOL`, 5%) is judged as a candidate of its own: when the data cannot tell `u - u**2` from
   `0.977*u - 0.985*u**2`, the round one is simpler and is chosen, its numbers exact.
   Candidates are refit in order; one whose complexity cannot fall below that of the best
   passing candidate so far, whatever its constants (`least_complexity`), is skipped. When
   none passes: the smallest $L(c)$, flagged (`Selection.passed` False).
4. **Pruning.** From the chosen formula, additive terms are dropped one at a time (the
   smallest over the samples first, the rest refit to the samples) while the result still
   passes, or explains at least as well, or (when the chosen formula passed) still passes
   the loss test with a misfit at most `PRUNE_MARGIN` (4) noise units above the chosen
   formula's: a likelihood-ratio test of the nested pair, which the dropped terms fail when
   they improve the fit by less than one constant is worth (4 is about log(n) for the
   suite's 100 observations, the Bayesian information criterion's price of a constant).
   `0.02*x + 9.86*sin(3.14*x)` becomes `9.86*sin(3.14*x)` when the data and the equation do
   not need the `0.02*x`; `0.798*u*v - 0.159*cos(0.881*u)` (misfit +11.5) becomes
   `0.796*u*v` (+13.1) when the cosine buys 1.6 noise units for two constants.

5. **Alternatives.** Up to `ALTERNATIVES` (3) more shortlisted candidates, of forms not yet
   judged and at most `ALTERNATIVE_SLACK` (2) more complex than the chosen formula, are
   refit, and every other form about as simple that passes is reported with the choice
   (`Selection.alternatives`; the choice itself does not change): the data and equations do
   not single out one form, and the rule's preference for the simplest decided.

Several Hidden terms are found one after another (in the Problem's order): once a term is
chosen it is written into the run (`write_in`: its constants become Parameters) and the
solution, the remaining Hidden networks and the constants are refit (`polish` iterations)
before the next term is sampled, fitted and judged. The last term's polish refits every
constant with every term a formula, and those are the constants reported for all terms
(`Selection.constants`): on Lotka-Volterra the first term's constant, refit while its
partner was still a free network, is otherwise off by the partner's error. With its
partner a free network a term is less constrained: on Lotka-Volterra at 5% noise the network
for `q` learned a function that `0.22*v` fits better than `0.8*u*v` while `p` was a network
too.

The refit matters: with the solution held fixed, any formula is judged by how closely it
follows the network, errors included, which is the backend's loss again. Refit, a formula
that is right up to the network's error fits the data as well as the network did, to the
noise, while a wrong one cannot. With `refit=0` the solution is held fixed (fast, and exact
for a network that is exactly a formula, but lenient: the data misfit is then the same for
every candidate). Losses under `PHYSICS_FLOOR` times the term's mean square are round-off
and count as that floor.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.compile import Batch
from pinnkit.discover.alternatives import ALTERNATIVES, find_alternatives
from pinnkit.discover.base import Candidate, Front, complexity, mean_squared_error, snap_constants
from pinnkit.discover.criteria import (
    DATA_THRESHOLD,
    PHYSICS_FACTOR,
    PHYSICS_FLOOR,
    Scored,
    passes,
    pick,
    rank,
)
from pinnkit.discover.losses import Losses, measure, noise_variances
from pinnkit.discover.prune import prune, prunes_to
from pinnkit.discover.refit import POLISH, REFIT, refit_constants, refit_loss
from pinnkit.discover.selection import Selection
from pinnkit.discover.shortlist import (
    SHORTLIST_SIZE,
    least_complexity,
    shortlist,
    snapped_complexity,
)
from pinnkit.discover.substitute import Formula

__all__ = ["choose", "ROUND_RTOL"]

#: A passing candidate's constants are rounded to the nearest p/q with q <= 5 within this
#: tolerance (`snap_constants(closest=True)`) and the round formula is judged too (with the
#: simplest number instead of the nearest, 0.78 u v became 3/4 u v on Lotka-Volterra).
#: With 5% noise the refit constants scatter by about 2%: on Fisher-KPP (seed 0) u - u**2
#: refit to -0.977*u**2 + 0.985*u, which counts 9, and a look-alike 0.26*sin(3.1*u) (8) won.
ROUND_RTOL = 0.05


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
) -> Selection:
    """Apply the rule (module docstring) to `front`, the candidates for Hidden `name`
    fitted to `samples` (its `HiddenSamples`), look for `alternatives` (at most that many
    more refits; `Selection.alternatives`), then refit the chosen formula's constants with
    `polish` L-BFGS iterations (when there is a refit at all and `polish > refit`)."""
    judge = _Judge.of(run, name, samples, batches, factor=factor, refit=refit, threshold=threshold)
    candidates = shortlist(front, samples, size=size)
    scored = _judge_in_order(candidates, samples, judge)
    chosen = pick(scored, judge.network, factor, judge.floor, threshold)
    current = next(s for s in scored if s.candidate is chosen)

    def keep(s: Scored) -> bool:
        return prunes_to(s, current, judge.network, factor, judge.floor, threshold)

    chosen = prune(current, samples, judge, scored, keep)
    passed = keep(next(s for s in reversed(scored) if s.candidate is chosen))
    alternatives = find_alternatives(chosen, candidates, scored, judge, judge.ok, alternatives)
    polished, constants = _polish(run, name, chosen, samples, batches, refit=refit, polish=polish)
    return Selection(
        chosen,
        tuple(scored),
        judge.network,
        factor,
        refit,
        threshold,
        polished,
        alternatives,
        constants,
        passed,
    )


@dataclass(frozen=True)
class _Judge:
    """Steps 2 and 3 for one Hidden term: a candidate refit and scored against the trained
    run's losses (`reference`) and noise variances (`__call__`), and whether it passes
    (`ok`); losses under `floor` (`PHYSICS_FLOOR` times the term's mean square) are round-off."""

    run: object
    name: str
    samples: object
    batches: dict[str, Batch]
    refit: int
    factor: float
    threshold: float
    floor: float
    reference: Losses
    noise: dict[tuple[str, str], float]

    @classmethod
    def of(cls, run, name: str, samples, batches, *, factor, refit, threshold) -> _Judge:
        """The judge of Hidden `name` of `run`, its reference measured at `batches`."""
        floor = PHYSICS_FLOOR * float(np.mean(samples.target**2))
        reference = measure(run.compiled, run.model, batches)
        noise = noise_variances(run.problem, reference)
        return cls(run, name, samples, batches, refit, factor, threshold, floor, reference, noise)

    @property
    def network(self) -> float:
        """The trained run's loss at the same points."""
        return self.reference.total

    def __call__(self, candidate: Candidate) -> Scored:
        formula = Formula(self.samples.symbols, candidate.expr)
        losses, refit_expr = refit_loss(
            self.run, self.name, formula, self.batches, refit=self.refit
        )
        return Scored(
            candidate,
            losses.total,
            complexity(snap_constants(refit_expr)) if self.refit else snapped_complexity(candidate),
            refit_expr,
            losses.excess(self.reference, self.noise),
        )

    def ok(self, s: Scored) -> bool:
        return passes(s.physics, self.network, self.factor, self.floor, s.excess, self.threshold)


def _judge_in_order(candidates: list[Candidate], samples, judge: _Judge) -> list[Scored]:
    """Steps 2 and 3 over the shortlist, in order: each candidate refit and scored, and the
    round form of a passing one too; a candidate whose complexity cannot fall below that of
    the best passing one so far, whatever its constants, is skipped."""
    scored: list[Scored] = []
    best: Scored | None = None
    for c in candidates:
        if best is not None and least_complexity(c.expr) > best.complexity:
            continue  # whatever its refit constants, it cannot be simpler than `best`
        tried = [judge(c)]
        if judge.ok(tried[0]):
            # Its round form is a candidate too (`u - u**2` for `0.977*u - 0.985*u**2`).
            fitted = tried[0].expr
            rounded = snap_constants(fitted, rtol=ROUND_RTOL, closest=True)
            if rounded != fitted and complexity(rounded) <= tried[0].complexity:
                loss = mean_squared_error(rounded, samples.inputs, samples.target)
                candidate = Candidate(rounded, complexity(rounded), loss, 0.0)
                tried.append(dataclasses.replace(judge(candidate), fitted=fitted))
        scored.extend(tried)
        for s in tried:
            if judge.ok(s) and (best is None or rank(s) < rank(best)):
                best = s
    return scored


def _polish(run, name: str, chosen: Candidate, samples, batches, *, refit: int, polish: int):
    """The chosen formula with its constants after `polish` L-BFGS iterations, and every
    learned constant by name; `(None, {})` without a polish (no refit at all, `polish <=
    refit`, nothing to refit) or when it failed."""
    if refit and polish > refit and (chosen.expr.atoms(sp.Float) or run.compiled.parameters_raw):
        formula = Formula(samples.symbols, chosen.expr)
        losses, expr, values = refit_constants(run, name, formula, batches, refit=polish)
        if math.isfinite(losses.total):
            return expr, values
    return None, {}
