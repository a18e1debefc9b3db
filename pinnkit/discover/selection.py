"""`Selection`, the evidence-based choice for one Hidden term: the chosen formula, every
candidate tried with its losses and criterion, the alternatives with their weights, the
polished constants with their standard errors, and the rule as text (`RULE`) for the
exports.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from pinnkit.discover.base import NEAR_EXPLAINED, NEAR_FACTOR, Candidate, display
from pinnkit.discover.criteria import DATA_THRESHOLD, PHYSICS_FACTOR, Scored, weights
from pinnkit.discover.exact import snap_constants
from pinnkit.discover.refit import REFIT
from pinnkit.problem import Parameter

__all__ = ["Selection", "RULE", "SNAP_SIGMAS"]

#: `snap=True` rounds a constant to a simple number only when that number is within this
#: many standard errors of it (`Selection.errors`) and within 2% (`snap_constants`).
SNAP_SIGMAS = 2.0

RULE = (
    "candidates: the front's members and those off it within {near:g}x of its sample loss "
    "(explaining >= {explained:.0%} of the variance), and their round forms; each "
    "substituted and refit with the solution; admitted: L <= {factor:g} x the trained run's "
    "loss; chosen: the admitted formula of least evidence criterion E = sum_k n_k ln D_k + "
    "(its constants' price: ln N per fitted one, the bits of an exact one, at most ln N) + "
    "2 ln 2 (nodes of its form), D_k the misfit to the N "
    "observations of field k after the refit (the noise estimated from the refit, not the "
    "network); then its additive terms are dropped while that lowers E; confirmed when its "
    "misfit grew by at most {threshold:g} noise units against the trained run"
)


@dataclass(frozen=True)
class Selection:
    """The physics-aware choice for one Hidden term.

    **Arguments**

    - `chosen`: the chosen candidate (a member of the front, or a pruned form of one).
    - `scored`: the candidates tried, in order, with their losses.
    - `network`: the trained run's loss on the same points (the reference).
    - `factor`: `PHYSICS_FACTOR` as used.
    - `refit`: L-BFGS iterations per refit (0: solution held fixed).
    - `threshold`: `DATA_THRESHOLD` as used.
    - `polished`: the chosen formula with its constants after the final polish (`POLISH`
      L-BFGS iterations), or None.
    - `alternatives`: tried candidates of other forms that pass as well (the best of each
      form, simplest first; `ALTERNATIVES`): when not empty, the data and equations do
      not single out the chosen formula, and the choice fell to the simplest.
    - `constants`: every learned constant of the problem after the final polish, by name:
      the chosen formula's, those of terms written in before it (`write_in`) and the
      problem's own Parameters; empty without a polish.
    - `passed`: whether the chosen formula was admitted and its misfit grew by at most
      `threshold` noise units: a confirmed form. False when it is a best fit, not a
      confirmed form (no candidate was admitted, or the chosen one fits the data worse than
      the free network did beyond the noise).
    - `errors`: the standard error of each fitted constant of the chosen formula, by the
      name of its Parameter in `template` (`f_c0`, ...; inf where the data did not bound it
      within 2%): the trajectory refit's in an ODE problem, elsewhere from the profile of
      the criterion (`pinnkit.discover.refit.profile_errors`); empty without a refit.
    - `template`: the chosen formula with its fitted constants as Parameters (`f_c0`, ...),
      whose values are in `constants`; None without a polish.
    """

    chosen: Candidate
    scored: tuple[Scored, ...]
    network: float
    factor: float = PHYSICS_FACTOR
    refit: int = REFIT
    threshold: float = DATA_THRESHOLD
    polished: sp.Expr | None = None
    alternatives: tuple[Scored, ...] = ()
    constants: Mapping[str, float] = dataclasses.field(default_factory=dict)
    passed: bool = True
    errors: Mapping[str, float] = dataclasses.field(default_factory=dict)
    template: sp.Expr | None = None

    @property
    def formula(self) -> sp.Expr:
        """The chosen formula with its constants as refit with the solution: by the final
        polish when there was one, else by the candidate's refit (the backend's constants
        when there was no refit)."""
        if self.polished is not None:
            return self.polished
        for s in self.scored:
            if s.candidate is self.chosen and s.refit_expr is not None:
                return s.refit_expr
        return self.chosen.expr

    @property
    def fitted(self) -> sp.Expr:
        """The chosen formula with fitted constants: for a round form (`u - u**2`), the
        refit formula it was rounded from (`0.985*u - 0.977*u**2`); else `formula`."""
        for s in self.scored:
            if s.candidate is self.chosen and s.fitted is not None:
                return s.fitted
        return self.formula

    @property
    def best(self) -> Scored:
        """The chosen formula's entry in `scored` (its last one: a pruned formula is judged
        after the formula it came from)."""
        return next(s for s in reversed(self.scored) if s.candidate is self.chosen)

    @property
    def weights(self) -> tuple[float, ...]:
        """The relative weight of the chosen formula and of each alternative, in that order
        (exp(-E/2) normalised over them): how far the data single out the chosen form."""
        return tuple(weights([self.best, *self.alternatives]))

    def delta(self, s: Scored) -> float:
        """The criterion of `s` minus the chosen formula's (positive: worse)."""
        return s.criterion - self.best.criterion

    def snapped(self) -> sp.Expr:
        """The chosen formula with each fitted constant rounded to a simple number where
        that number is within `SNAP_SIGMAS` standard errors (`errors`) and within 2% of it
        (`snap_constants`); the form never changes. Without a polish (no uncertainties),
        `snap_constants` of `formula`."""
        if self.template is None or not self.constants:
            return snap_constants(self.formula)
        values = {}
        for c in self.template.atoms(Parameter):
            value = float(self.constants[c.name])
            nice = snap_constants(sp.Float(value))
            error = self.errors.get(c.name, 0.0)
            within = not isinstance(nice, sp.Float) and abs(float(nice) - value) <= (
                SNAP_SIGMAS * error
            )
            values[c] = nice if within else sp.Float(value)
        return self.template.xreplace(values)

    @property
    def rule(self) -> str:
        text = RULE.format(
            factor=self.factor,
            threshold=self.threshold,
            near=NEAR_FACTOR,
            explained=NEAR_EXPLAINED,
        )
        return text + (f" ({self.refit} L-BFGS iterations)" if self.refit else " (no refit)")

    def describe(self) -> str:
        """The tried candidates as text, the chosen one marked `>>`, with the criterion's
        difference to the chosen one (dE) and the alternatives' weights."""
        lines = [
            f"loss of the trained run: {self.network:.3e}; admitted: <= {self.factor:g}x; "
            f"confirmed: misfit growth <= {self.threshold:g} noise units"
        ]
        lines.append(f"chosen, constants refit: {display(self.formula)}")
        if self.errors:
            lines.append(
                "standard errors: "
                + ", ".join(f"{k} {_error(v)}" for k, v in sorted(self.errors.items()))
            )
        if not self.passed:
            lines.append(
                "not confirmed: a best fit rather than a confirmed form (no candidate was "
                "admitted, or its misfit grew beyond the noise)"
            )
        if self.alternatives:
            w = self.weights
            lines.append(
                f"weights: chosen {w[0]:.2f}; "
                + "; ".join(
                    f"{display(a.expr)} {wk:.2f} (dE {self.delta(a):+.1f}, "
                    f"loss {a.physics / self.network:.2f}x)"
                    for a, wk in zip(self.alternatives, w[1:])
                )
            )
        for s in self.scored:
            mark = ">>" if s.candidate is self.chosen else "  "
            delta = self.delta(s)
            shown = f"{delta:+.1f}" if math.isfinite(delta) else "inf"
            lines.append(
                f"{mark} dE={shown:<7} c={s.complexity:<3} fit loss={s.candidate.loss:.3e} "
                f"refit loss={s.physics:.3e} misfit growth={s.excess:+.1f}  "
                f"{display(s.candidate.expr)}"
            )
        return "\n".join(lines)


def _error(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "unbounded at 2%"
