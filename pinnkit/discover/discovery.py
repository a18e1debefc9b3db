"""`Discovery`, the result of `pk.discover(run)`, and `Found`, what was found for one Hidden
term: its samples, the backend's Pareto front and the physics-aware choice, with the views of
them (`sympy()`, `latex()`, `table`, `problem()`) and the exports (`save`, `to_json`, HTML).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from pinnkit.discover.base import Front, display
from pinnkit.discover.sample import HiddenSamples
from pinnkit.discover.selection import Selection
from pinnkit.discover.substitute import Formula, parametrize, substitute
from pinnkit.problem import Hidden, Problem

__all__ = ["Found", "Discovery"]


@dataclass(frozen=True)
class Found:
    """What was found for one Hidden term: its samples, the backend's front, the choice."""

    hidden: Hidden
    samples: HiddenSamples
    front: Front
    selection: Selection

    @property
    def formula(self) -> Formula:
        return Formula(self.samples.symbols, self.expr)

    @property
    def expr(self) -> sp.Expr:
        """The chosen formula, constants as refit with the solution (`Selection.formula`)."""
        return self.selection.formula

    @property
    def fitted(self) -> sp.Expr:
        """The chosen formula with fitted constants (`Selection.fitted`)."""
        return self.selection.fitted

    def rows(self) -> list[dict]:
        """The front as rows (see `Discovery.table`)."""
        physics = {id(s.candidate): s.physics for s in self.selection.scored}
        refit = {id(s.candidate): s.refit_expr for s in self.selection.scored}
        delta = {id(s.candidate): self.selection.delta(s) for s in self.selection.scored}
        best = self.front.best
        rows = []
        extra = [
            s.candidate
            for s in self.selection.scored
            if all(s.candidate is not c for c in self.front.candidates)
        ]
        members = [*self.front.candidates, *extra]
        front_rows = self.front.to_rows()
        for k, candidate in enumerate(members):
            if k < len(front_rows):
                row = {"term": self.hidden.name, **front_rows[k]}
            else:  # a pruned formula (selection step 4), not a member of the front
                row = {
                    "term": self.hidden.name,
                    "complexity": candidate.complexity,
                    "loss": candidate.loss,
                    "score": candidate.score,
                    "expression": candidate.display(),
                    "sympy": sp.srepr(candidate.expr),
                    "latex": sp.latex(display(candidate.expr)),
                }
            row["chosen"] = candidate is self.selection.chosen
            row["backend_best"] = candidate is best
            row["shortlisted"] = id(candidate) in physics
            row["pruned"] = k >= len(front_rows)
            row["physics_loss"] = physics.get(id(candidate))
            difference = delta.get(id(candidate))
            finite = difference is not None and math.isfinite(difference)
            row["criterion_difference"] = difference if finite else None
            refit_expr = refit.get(id(candidate))
            row["refit_expression"] = None if refit_expr is None else str(display(refit_expr))
            rows.append(row)
        return rows


class Discovery:
    """The result of `pk.discover(run)`: a formula per Hidden term, chosen with the physics.

    - `sympy()`: `{f: expr}` keyed by the `pk.Hidden` objects, in the input symbols.
    - `latex()`: the formulas as LaTeX equations.
    - `table`: every term's Pareto front as rows, the chosen candidate marked.
    - `parameters`: the problem's own `pk.Parameter`s as refit with the chosen formulas.
    - `problem(parameters=True)`: the Problem with the formulas written in.
    - `save(directory)`: `discovered.json`, `pareto_<name>.csv` and `problem.py` there.

    In Jupyter it shows the Pareto fronts with the chosen formulas highlighted.
    """

    def __init__(
        self,
        problem: Problem,
        found: Mapping[str, Found],
        *,
        backend: str,
        seed: int,
        config=None,
        run_directory: Path | None = None,
    ):
        self.original = problem
        self.found = dict(found)
        self.backend = backend
        self.seed = seed
        self.config = config
        self.run_directory = run_directory

    def sympy(self, *, snap: bool = False) -> dict[Hidden, sp.Expr]:
        """`{hidden: formula}`; `snap=True` rounds each constant to a nearby simple number
        (p/q with q <= 10, or p*pi/q, within 2%) only where that number is within two
        standard errors of it (`Selection.snapped`): the form never changes."""
        return {f.hidden: f.selection.snapped() if snap else f.expr for f in self.found.values()}

    def formulas(self, *, snap: bool = False) -> dict[str, Formula]:
        """Hidden name -> `Formula` (the chosen expression and its input symbols)."""
        return {
            name: Formula(f.samples.symbols, f.selection.snapped() if snap else f.expr)
            for name, f in self.found.items()
        }

    @property
    def parameters(self) -> dict[str, float]:
        """The problem's own `pk.Parameter`s, by name, as refit with every chosen formula
        written in (the last term's final polish, `Selection.constants`): the values that
        go with the formulas, where the trained run's went with the Hidden networks. Empty
        when the problem has none or no polish ran."""
        for f in reversed(list(self.found.values())):
            if f.selection.constants:
                final = f.selection.constants
                params = self.original.parameters
                return {p.name: float(final[p.name]) for p in params if p.name in final}
        return {}

    def latex(self) -> str:
        """One LaTeX equation per term, `f{\\left(u \\right)} = ...` (constants to 4 digits)."""
        return ",\\quad ".join(
            sp.latex(sp.Eq(f.hidden(*f.samples.symbols), display(f.expr), evaluate=False))
            for f in self.found.values()
        )

    @property
    def table(self) -> list[dict]:
        """One row per candidate of every term's front: term, complexity, loss, score,
        expression, physics_loss (the loss after the refit, for the candidates tried),
        refit_expression (with the refit constants), criterion_difference (the evidence
        criterion's difference to the chosen formula's; > 0 is worse), shortlisted (tried),
        pruned, chosen, backend_best, sympy, latex."""
        return [row for f in self.found.values() for row in f.rows()]

    def problem(self, *, parameters: bool = True, snap: bool = False) -> Problem:
        """The original Problem with every discovered term replaced by its formula.

        **Arguments**

        - `parameters`: turn each float constant of a formula into a `pk.Parameter` named
          `<term>_c<k>` with the fitted value as `init`, so `pk.fit` refits them; a
          formula chosen in its round form (`u - u**2`) is written with the fitted
          constants it was rounded from (`Found.fitted`), so they are refit too.
        - `snap`: round constants first where the data allow (`Selection.snapped`); snapped
          ones become exact numbers and are not refit.
        """
        formulas = {}
        for name, formula in self.formulas(snap=snap).items():
            expr = formula.expr
            if parameters:
                fitted = self.found[name].fitted
                snapped = self.found[name].selection.snapped()
                expr = parametrize(name, snapped if snap else fitted)[0]
            formulas[name] = Formula(formula.symbols, expr)
        return substitute(self.original, formulas)

    def to_json(self) -> dict:
        """Everything `save` writes to `discovered.json`, as plain data."""
        from pinnkit.discover.export import discovery_json

        return discovery_json(self)

    def save(self, directory) -> dict[str, Path]:
        """Write `discovered.json`, `pareto_<name>.csv`, `problem.py` (+ its data and config)
        into `directory` (created); returns name -> path."""
        from pinnkit.discover.export import save_discovery

        return save_discovery(self, Path(directory))

    def __str__(self) -> str:
        lines = []
        for f in self.found.values():
            head = sp.sstr(f.hidden(*f.samples.symbols))
            lines.append(f"{head} = {display(f.expr)}")
            lines.append("  " + f.selection.describe().replace("\n", "\n  "))
        if parameters := self.parameters:
            learned = ", ".join(f"{k} = {v:.6g}" for k, v in parameters.items())
            lines.append(f"Parameters refit with the chosen formulas: {learned}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        body = ", ".join(f"{f.hidden.name}: {display(f.expr)}" for f in self.found.values())
        return f"Discovery({{{body}}}, backend={self.backend!r})"

    def _repr_html_(self) -> str:
        from pinnkit.discover.export import discovery_html

        return discovery_html(self)
