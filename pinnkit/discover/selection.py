"""`Selection`, the physics-aware choice for one Hidden term: the chosen formula, every
candidate tried with its losses, the alternatives, the polished constants, and the rule as
text (`RULE`) for the exports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from pinnkit.discover.base import NEAR_EXPLAINED, NEAR_FACTOR, Candidate, display
from pinnkit.discover.criteria import DATA_THRESHOLD, PHYSICS_FACTOR, Scored
from pinnkit.discover.prune import PRUNE_MARGIN
from pinnkit.discover.refit import REFIT

__all__ = ["Selection", "RULE"]

RULE = (
    "candidates: the front's members and those off it within {near:g}x of its sample loss "
    "(explaining >= {explained:.0%} of the variance), "
    "simplest first (complexity after rounding constants "
    "within 2% of simple numbers); L = the training loss after refitting the solution and "
    "the formula's constants with the formula substituted; chosen: the simplest (complexity "
    "of the refit formula, rounded) with L <= {factor:g} x the trained run's loss whose "
    "misfit to the observations grew by at most {threshold:g} noise units (noise variance: "
    "the trained run's misfit); then its additive terms are dropped while it still passes, "
    "or passes the loss test with a misfit at most {margin:g} noise units above the chosen's"
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
    - `passed`: whether the chosen formula passed the tests; False when no candidate did
      and it is the one with the smallest loss: a best fit, not a confirmed form.
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
    def rule(self) -> str:
        text = RULE.format(
            factor=self.factor,
            threshold=self.threshold,
            near=NEAR_FACTOR,
            explained=NEAR_EXPLAINED,
            margin=PRUNE_MARGIN,
        )
        return text + (f" ({self.refit} L-BFGS iterations)" if self.refit else " (no refit)")

    def describe(self) -> str:
        """The tried candidates as text, the chosen one marked `>>`."""
        lines = [
            f"loss of the trained run: {self.network:.3e}; pass: <= {self.factor:g}x and "
            f"misfit growth <= {self.threshold:g} noise units"
        ]
        lines.append(f"chosen, constants refit: {display(self.formula)}")
        if not self.passed:
            lines.append(
                "no candidate passed: chosen for the smallest loss, a best fit rather than "
                "a confirmed form"
            )
        if self.alternatives:
            lines.append(
                "also passing (the data do not single out the chosen form; it is the "
                "simplest): "
                + "; ".join(
                    f"{display(a.expr)}"
                    f" (loss {a.physics / self.network:.2f}x, misfit {a.excess:+.1f})"
                    for a in self.alternatives
                )
            )
        for s in self.scored:
            mark = ">>" if s.candidate is self.chosen else "  "
            lines.append(
                f"{mark} c={s.complexity:<3} fit loss={s.candidate.loss:.3e} "
                f"refit loss={s.physics:.3e} misfit growth={s.excess:+.1f}  "
                f"{display(s.candidate.expr)}"
            )
        return "\n".join(lines)
