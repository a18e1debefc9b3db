"""Choose a formula from a Pareto front with the physics, not the fit alone.

The rule (also in README.md, "Hidden terms and discovery"):

1. **Short list.** The `SHORTLIST_SIZE` (12) members of the front with the smallest loss
   (mean squared error against the hidden network's samples), which is the whole front
   unless it is long, plus the backend's own choice (`Front.best`, PySR's "best" rule).
   The sample loss does not cut the list further: a network that learned the noise makes
   the longest formulas fit best, so the right one may fit its samples 100x worse.
2. **Physics loss.** Each short-listed formula is substituted for the Hidden term in the
   Problem (`substitute`), the result is compiled, and with the trained solution network and
   the learned Parameters it gives the mean square of every residual the term appears in
   (equations, and conditions that use it), summed, at collocation points: uniform interior
   points plus the observation points, where the data pin the solution down:
   $$P(c) = \\sum_k \\overline{r_k^2}\\,\\big|_{f = c}.$$
3. **Choice.** The simplest short-listed formula with $P(c) \\le$ `PHYSICS_FACTOR` (10)
   $\\times \\min P$; ties in complexity go to the smaller $P$. (Losses under
   `PHYSICS_FLOOR` times the term's mean square are round-off and count as that floor.)

A formula that fits the network's samples well but explains the equation worse (it follows
the network's error, or is wrong where the samples were thin) is passed over for a simpler one
that explains it as well. The data misfit is not part of $P$: with the solution network held
fixed it is the same for every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from pinnkit.compile import Batch, compile_problem
from pinnkit.discover.base import Candidate, Front, display
from pinnkit.discover.sample import collocation_points, run_dtype
from pinnkit.errors import CompileError, ProblemError

__all__ = [
    "Scored",
    "Selection",
    "choose",
    "physics_batches",
    "physics_loss",
    "PHYSICS_FACTOR",
    "SHORTLIST_SIZE",
]

#: A formula is "as good" as the best when its physics loss is within this factor of it.
#: The least P is floored by the trained solution's own residual, and the right form carries
#: the hidden network's error on top of it: on `problems/fisher_hidden.py` (1% noise, seed 0)
#: u (1 - u) had 2.8x the least P, the simpler wrong forms 60x and more.
PHYSICS_FACTOR = 10.0
#: At most this many candidates are substituted and compiled (the lowest-loss ones).
SHORTLIST_SIZE = 12
#: Physics losses below this fraction of the term's mean square (over its samples) are
#: round-off: they are raised to it before comparing, so an exact formula (P ~ 1e-30) does not
#: lose to a longer one that only fits the round-off.
PHYSICS_FLOOR = 1e-12
#: Points drawn in each region other than the interior (conditions the term appears in).
REGION_POINTS = 256

RULE = (
    f"shortlist: the {SHORTLIST_SIZE} front members of smallest loss plus the backend's "
    "choice; physics loss P = sum of the mean "
    "squared residuals the term appears in, with the formula substituted and the trained "
    f"solution; chosen: the simplest with P <= {PHYSICS_FACTOR:g} x min P"
)


@dataclass(frozen=True)
class Scored:
    """A short-listed candidate and its physics loss (inf when it cannot be evaluated)."""

    candidate: Candidate
    physics: float


@dataclass(frozen=True)
class Selection:
    """The physics-aware choice for one Hidden term.

    Arguments:
        chosen: the chosen candidate (a member of the front).
        scored: the short list with physics losses, simplest first.
        network: the physics loss with the trained hidden network itself (for comparison).
        factor: `PHYSICS_FACTOR` as used.
        rule: the rule in words.
    """

    chosen: Candidate
    scored: tuple[Scored, ...]
    network: float
    factor: float = PHYSICS_FACTOR
    rule: str = RULE

    def describe(self) -> str:
        """The short list as text, the chosen one marked `>>`."""
        lines = [f"physics loss with the network: {self.network:.3e}"]
        for s in self.scored:
            mark = ">>" if s.candidate is self.chosen else "  "
            lines.append(
                f"{mark} c={s.candidate.complexity:<3} loss={s.candidate.loss:.3e} "
                f"physics={s.physics:.3e}  {display(s.candidate.expr)}"
            )
        return "\n".join(lines)


def shortlist(front: Front, *, size: int = SHORTLIST_SIZE) -> list[Candidate]:
    """Step 1 of the rule: the candidates worth substituting, simplest first."""
    close = sorted(front.candidates, key=lambda c: (c.loss, c.complexity))[:size]
    best = front.best
    if all(c is not best for c in close):
        close.append(best)
    return sorted(close, key=lambda c: c.complexity)


def pick(scored: Sequence[Scored], factor: float = PHYSICS_FACTOR, floor: float = 0.0) -> Candidate:
    """Step 3 of the rule: the simplest candidate with physics loss <= factor x the least
    (losses raised to `floor` first).

    When no candidate has a finite physics loss, the simplest of the lowest sample loss.
    """
    finite = [s for s in scored if math.isfinite(s.physics)]
    if not finite:
        return min(scored, key=lambda s: (s.candidate.loss, s.candidate.complexity)).candidate
    least = max(min(s.physics for s in finite), floor)
    close = [s for s in finite if max(s.physics, floor) <= factor * least]
    return min(close, key=lambda s: (s.candidate.complexity, s.physics)).candidate


def physics_batches(run, *, samples: int, seed: int) -> dict[str, Batch]:
    """Collocation points for the physics loss: interior + data points, and a few points in
    every other region the compiled problem samples."""
    problem, compiled = run.problem, run.compiled
    dtype, device = run_dtype(run.model, compiled)
    rng = np.random.default_rng(seed + 1)
    batches = {}
    for region in compiled.sample_regions:
        if region == "interior":
            points = collocation_points(problem, samples, seed + 1)
            batches[region] = Batch(torch.as_tensor(points, dtype=dtype, device=device))
            continue
        drawn = problem.domain.sample(compiled.domain_region(region), REGION_POINTS, rng)
        normals = drawn.normals
        batches[region] = Batch(
            torch.as_tensor(drawn.points, dtype=dtype, device=device),
            None if normals is None else torch.as_tensor(normals, dtype=dtype, device=device),
        )
    return batches


def _terms_using(problem, name: str) -> list[str]:
    """Equations and conditions in which Hidden `name` is applied."""
    items = [(e.name, e.residual) for e in problem.equations]
    items += [(c.name, c.expr) for c in problem.conditions]
    return [
        key
        for key, expr in items
        if any(getattr(a.func, "name", None) == name for a in expr.atoms(sp.Function))
    ]


def physics_loss(run, name: str, formula, batches: dict[str, Batch]) -> float:
    """Step 2 of the rule: $P$ for Hidden `name` replaced by `formula` (a `Formula`), or
    with the run's own network when `formula` is None."""
    from pinnkit.discover.substitute import substitute

    terms = _terms_using(run.problem, name)
    compiled = run.compiled
    if formula is not None:
        try:
            problem = substitute(run.problem, {name: formula})
            dtype, device = run_dtype(run.model, run.compiled)
            specs = {k: v for k, v in run.config.hidden_terms.items() if k != name}
            compiled = compile_problem(
                problem,
                dtype=dtype,
                engine=run.config.engine,
                hidden=run.config.hidden,
                hidden_terms=specs,
                generator=torch.Generator(),
            ).to(device)
        except (CompileError, ProblemError):
            return math.inf
        prefix = f"hidden.{name}."
        state = {k: v for k, v in run.compiled.state_dict().items() if not k.startswith(prefix)}
        compiled.load_state_dict(state, strict=False)
    residuals = compiled.residuals(run.model, batches)
    total = sum(float(residuals[k].detach().double().square().mean()) for k in terms)
    return total if math.isfinite(total) else math.inf


def choose(
    run,
    name: str,
    front: Front,
    symbols: tuple[sp.Symbol, ...],
    *,
    batches: dict[str, Batch],
    scale: float,
    factor: float = PHYSICS_FACTOR,
    size: int = SHORTLIST_SIZE,
) -> Selection:
    """Apply the rule (module docstring) to `front`, the candidates for Hidden `name`;
    `scale` is the term's mean square over its samples (for the round-off floor)."""
    from pinnkit.discover.substitute import Formula

    scored = tuple(
        Scored(c, physics_loss(run, name, Formula(symbols, c.expr), batches))
        for c in shortlist(front, size=size)
    )
    network = physics_loss(run, name, None, batches)
    return Selection(pick(scored, factor, PHYSICS_FLOOR * scale), scored, network, factor)
