"""`pinnkit.discover.alternatives`: other admitted forms within reach of the chosen one's
evidence, and `form`."""

from __future__ import annotations

import sympy as sp

from pinnkit.discover import Candidate, complexity
from tests.discover.planted import U


def test_alternatives_are_other_admitted_forms_within_the_delta():
    """Other admitted forms whose criterion is within `ALTERNATIVE_DELTA` are reported (the
    best of each form, best first) with their weights; at most `limit` more are judged, and
    the chosen form with a term added is not one."""
    from pinnkit.discover.alternatives import ALTERNATIVE_DELTA, find_alternatives
    from pinnkit.discover.criteria import Scored
    from pinnkit.discover.selection import Selection

    V = sp.Symbol("v")
    criteria = {
        0.22 * V: 10.0,
        0.8 * U * V: 12.0,
        sp.Rational(4, 5) * U * V: 11.0,
        0.22 * V + 0.01 * U: 10.5,  # the chosen form plus a term
        0.1 * V**2: 11.0,  # not admitted (loss)
        sp.exp(0.3 * V): 10.0 + ALTERNATIVE_DELTA + 1,  # too far
    }

    def judge(c):
        loss = 5.0 if c.expr == 0.1 * V**2 else 0.5
        return Scored(c, loss, complexity(c.expr), c.expr, criterion=criteria[c.expr])

    judge.bound = lambda expr: 0.0

    def admits(s):
        return s.physics < 1.0

    chosen = judge(Candidate(0.22 * V, 3, 0.1, 0.0))
    scored = [chosen]
    candidates = [Candidate(e, complexity(e), 0.1, 0.0) for e in criteria]
    found = find_alternatives(chosen, candidates, scored, judge, admits, limit=5)
    judged = [0.8 * U * V, 0.22 * V + 0.01 * U, 0.1 * V**2, sp.exp(0.3 * V)]
    assert [s.candidate.expr for s in scored[1:]] == judged  # 4/5 u v: a form already tried
    assert [s.candidate.expr for s in found] == [0.8 * U * V]
    assert find_alternatives(chosen, candidates, [chosen], judge, admits, limit=1) == (
        judge(candidates[1]),
    )
    selection = Selection(chosen.candidate, tuple(scored), network=0.5, alternatives=found)
    w = selection.weights
    assert abs(sum(w) - 1) < 1e-12 and w[0] > w[1] > 0
    assert f"weights: chosen {w[0]:.2f}; 0.8*u*v {w[1]:.2f} (dE +2.0" in selection.describe()


def test_form_ignores_constants_and_signs():
    from pinnkit.discover.alternatives import form

    u, v = sp.symbols("u v")
    assert form(-0.9 * u * v) == form(sp.Rational(3, 4) * u * v) == u * v
    assert form(0.98 * u - 0.99 * u**2) == form(u * (1 - u)) == u + u**2
    assert form(u**1.2) == u ** sp.Symbol("_c")
