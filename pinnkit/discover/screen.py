"""Step 1b of the choice rule (`pinnkit.discover.select`): candidates that the fit to the
hidden network's samples ranks too low to shortlist (`Front.screen`: the offline backend's
next polynomial supports of each size) are screened with the physics by a short refit, and
judged in full where that already rivals the best judged candidate (`screen`).

Why: the samples are the hidden network's values, off the truth by a smooth error of a few
percent, and among sums of three monomials several fit that error as well as the truth's
support does. On a reaction-diffusion pair (u_t = u_xx / 20 + f(u, v), truth u - u^2 - 0.6 u
v; 2,274 parameters, 1% noise) the truth's support ranked 11th by the samples and was never
judged, and -u^3/3 - v/3 + 0.30 was chosen; offered to the choice, the truth's criterion was
215 below it (its refit met the observations 993 noise units better than the trained
network). After `SCREEN_REFIT` (100) L-BFGS iterations instead of 500 the order was already
the same: the truth first, 131 below the next polynomial of three terms and 157 below the
formula chosen without it. ODEBench's 26:x_1
is the same case (its support 10th). Screening costs a fifth of a refit per candidate (and
one for the leader, screened alike as the yardstick); those whose form could not come near
the best whatever their refit (`_Judge.bound`) are not refit at all.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from pinnkit.discover.alternatives import ALTERNATIVE_DELTA
from pinnkit.discover.base import Candidate, form
from pinnkit.discover.criteria import Scored, evidence

__all__ = ["screen", "SCREEN_REFIT"]

#: L-BFGS iterations of a screening refit (a full refit has `pinnkit.discover.refit.REFIT`).
SCREEN_REFIT = 100


def screen(
    pool: Sequence[Candidate],
    scored: Sequence[Scored],
    judge,
    judge_all: Callable[[list[Candidate]], list[Scored]],
) -> tuple[list[Candidate], list[Scored]]:
    """The candidates of `pool` promoted by their screening, and their full judging.

    **Arguments**

    - `pool`: candidates not shortlisted (`Front.screen`), in the backend's order.
    - `scored`: the candidates judged so far (step 2 and 3).
    - `judge`: the term's `_Judge` (its `refit`, `bound`, `admits`; a copy with `refit`
      set to `SCREEN_REFIT` screens).
    - `judge_all`: judges a list of candidates in full, as the shortlist was (round forms
      included).

    **Returns**

    `(promoted, judged)`: the candidates whose screening criterion came within
    `ALTERNATIVE_DELTA` of that of the best admitted candidate so far, refit as briefly (a
    short refit's criterion is far above a full one's: on the pair above, the truth's was 16
    above the leader's full criterion after 100 iterations, 75 below after 200, 181 below
    after 500), and their full judging. Empty
    when nothing was judged admissible, when refits are off (`refit=0`), or when no
    candidate of `pool` has a form not judged yet.
    """
    admitted = [s for s in scored if judge.admits(s) and math.isfinite(s.criterion)]
    if not admitted or judge.refit <= 0:
        return [], []
    leader = min(admitted, key=lambda s: s.criterion)
    best = leader.criterion
    n = judge.reference.observations
    finite = [s for s in scored if math.isfinite(s.criterion)]
    # The least deviance a refit reached (as in `_judge_in_order`): the bound's misfit.
    reached = min(s.criterion - evidence(0.0, s.expr, n) for s in finite)
    taken = {form(s.candidate.expr) for s in scored}
    quick = dataclasses.replace(judge, refit=min(SCREEN_REFIT, judge.refit))
    promoted: list[Candidate] = []
    baseline = None  # the leader's criterion after a screening refit, made when first needed
    for candidate in pool:
        shape = form(candidate.expr)
        if shape in taken or judge.bound(candidate.expr, reached) > best:
            continue
        taken.add(shape)
        baseline = quick(leader.candidate).criterion if baseline is None else baseline
        if quick(candidate).criterion <= baseline + ALTERNATIVE_DELTA:
            promoted.append(candidate)
    return promoted, judge_all(promoted) if promoted else []
