"""Step 5 of the choice rule (`pinnkit.discover.select`): other forms about as simple as the
chosen formula that pass as well (`find_alternatives`), told apart by their form, whatever
their constants (`form`).
"""

from __future__ import annotations

import sympy as sp

from pinnkit.discover.criteria import Scored, rank
from pinnkit.discover.shortlist import least_complexity, snapped_complexity

__all__ = ["find_alternatives", "form", "ALTERNATIVES", "ALTERNATIVE_SLACK"]

#: After the choice, at most this many more shortlisted candidates of forms not yet judged
#: are refit (the simplest first), to find *other* formulas about as simple that pass too
#: (`Selection.alternatives`): the choice can only prefer the simpler of two formulas the
#: data cannot tell apart, and says so. On the suite's Lotka-Volterra at 5% noise (seed 4)
#: q = 0.23 v (complexity 3) passes (loss 1.11x, misfit +5.6 noise units) and so do the
#: true 4/5 u v and 0.82 u v (5; 1.07x, +3.9).
ALTERNATIVES = 3
#: Alternatives are at most this much more complex than the chosen formula (after rounding):
#: one more factor (`v` -> `u*v`) is 2. Longer look-alikes pass often and say little: on
#: the bundled Fisher-KPP run -0.83*u**2 + 0.96*sin(u) (10) passes beside u - u**2 (7), as
#: any smooth function within the noise of it over u in [0.1, 0.9] would.
ALTERNATIVE_SLACK = 2


def form(expr: sp.Expr) -> sp.Expr:
    """`expr` with every coefficient and constant argument set to 1, signs included: its
    form, whatever the constants (`-0.9*u*v` and `3*u*v/4` -> `u*v`; `0.98*u - 0.99*u**2`
    and `u - u**2` -> `u + u**2`; `exp(-1.02*x**2)` -> `exp(x**2)`). Rational exponents are
    kept (`sqrt(u)`, `v**2`); a float exponent becomes the symbol `_c`. Products are
    expanded first, so `u*(1 - u)` has the form of `u - u**2`."""
    return _form(sp.expand(expr))


def _form(expr: sp.Expr) -> sp.Expr:
    """`form` of an expanded expression, node by node."""
    if expr.is_number:
        return sp.Integer(1)
    if expr.is_Pow:
        base, exponent = expr.args
        if isinstance(exponent, sp.Float):
            exponent = sp.Symbol("_c")
        elif not exponent.is_Rational:
            exponent = _form(exponent)
        return sp.Pow(_form(base), exponent)
    if not expr.args:
        return expr
    return expr.func(*(_form(a) for a in expr.args))


def find_alternatives(chosen, candidates, scored: list, judge, ok, limit: int) -> tuple:
    """Passing candidates of forms other than the chosen one's (and not the chosen form with
    terms added) at most `ALTERNATIVE_SLACK` more complex: the best of each form (`_plain`), after
    judging up to `limit` more such candidates of forms not yet tried (the simplest first).
    Judged ones are added to `scored`."""
    bound = snapped_complexity(chosen) + ALTERNATIVE_SLACK
    tried = {form(s.candidate.expr) for s in scored}
    for c in candidates:
        if limit <= 0:
            break
        if form(c.expr) not in tried and least_complexity(c.expr) <= bound:
            tried.add(form(c.expr))
            scored.append(judge(c))
            limit -= 1
    mine = form(chosen.expr)
    terms = set(sp.Add.make_args(mine))
    best: dict[sp.Expr, Scored] = {}
    for s in scored:
        key = form(s.expr)
        # The chosen form with terms added is not another explanation: pruning took them off.
        if not ok(s) or s.complexity > bound or terms <= set(sp.Add.make_args(key)):
            continue
        if key not in best or _plain(s) < _plain(best[key]):
            best[key] = s
    return tuple(sorted(best.values(), key=rank))


def _plain(s: Scored) -> tuple[int, int, float]:
    """`rank` with round numbers first: of two passing members of a form, `4*u*v/5` is
    shown rather than `0.8166*u*v` (the round form is what the choice would take)."""
    return (s.complexity, len(s.expr.atoms(sp.Float)), s.physics)
