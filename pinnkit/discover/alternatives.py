"""Step 6 of the choice rule (`pinnkit.discover.select`): other forms whose evidence comes
close to the chosen formula's (`find_alternatives`), told apart by their form, whatever their
constants (`form`).
"""

from __future__ import annotations

import math

import sympy as sp

from pinnkit.discover.base import form
from pinnkit.discover.criteria import Scored, rank

__all__ = ["find_alternatives", "form", "ALTERNATIVES", "ALTERNATIVE_DELTA"]

#: After the choice, at most this many more shortlisted candidates of forms not yet judged
#: (skipped by the bound of step 3) are refit, the most promising first, to find *other*
#: formulas the data hardly tell from the chosen one (`Selection.alternatives`).
ALTERNATIVES = 3
#: Alternatives are the admitted forms whose criterion is at most this much above the chosen
#: formula's: 2 ln 20, a weight at least 1/20 of the chosen one's. Beyond it the data speak
#: clearly (a difference of 6 in the Bayesian information criterion is "strong" evidence on
#: Kass and Raftery's scale).
ALTERNATIVE_DELTA = 2 * math.log(20)


def find_alternatives(chosen: Scored, candidates, scored: list, judge, admits, limit: int) -> tuple:
    """Admitted candidates of forms other than the chosen one's (and not the chosen form
    with terms added) whose criterion is within `ALTERNATIVE_DELTA` of the chosen one's: the
    best of each form (`rank`), after judging up to `limit` more candidates of forms not yet
    tried whose bound (`judge.bound`) allows it. Judged ones are added to `scored`."""
    ceiling = chosen.criterion + ALTERNATIVE_DELTA
    tried = {form(s.candidate.expr) for s in scored}
    for c in candidates:
        if limit <= 0:
            break
        if form(c.expr) not in tried and judge.bound(c.expr) <= ceiling:
            tried.add(form(c.expr))
            scored.append(judge(c))
            limit -= 1
    mine = form(chosen.expr)
    terms = set(sp.Add.make_args(mine))
    best: dict[sp.Expr, Scored] = {}
    for s in scored:
        key = form(s.expr)
        # The chosen form with terms added is not another explanation: pruning took them off.
        if key == mine or not admits(s) or s.criterion > ceiling:
            continue
        if terms <= set(sp.Add.make_args(key)):
            continue
        if key not in best or rank(s) < rank(best[key]):
            best[key] = s
    return tuple(sorted(best.values(), key=rank))
