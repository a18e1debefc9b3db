"""`pinnkit.discover.alternatives`: other forms that pass as well, and `form`."""

from __future__ import annotations

import sympy as sp

from pinnkit.discover import Candidate, complexity
from tests.discover.planted import U


def test_alternatives_are_other_passing_forms():
    """Other forms that pass are reported (the best of each form, simplest first), at most
    `limit` more are judged, and the chosen form with a term added is not one."""
    from pinnkit.discover.alternatives import find_alternatives, form
    from pinnkit.discover.criteria import Scored
    from pinnkit.discover.selection import Selection

    V = sp.Symbol("v")
    losses = {
        0.22 * V: 0.5,
        0.8 * U * V: 0.6,
        sp.Rational(3, 4) * U * V: 0.55,
        0.22 * V + 0.01 * U: 0.4,
        0.1 * V**2: 5.0,
        sp.exp(0.3 * V): 0.9,
    }

    def judge(c):
        return Scored(c, losses[c.expr], complexity(c.expr), c.expr)

    def ok(s):
        return s.physics < 1.0

    chosen = Candidate(0.22 * V, 3, 0.1, 0.0)
    scored = [judge(chosen)]
    candidates = [Candidate(e, complexity(e), 0.1, 0.0) for e in losses]
    found = find_alternatives(chosen, candidates, scored, judge, ok, limit=4)
    # Judged: 0.8 u v, (3/4 u v has its form), 0.22 v + 0.01 u, 0.1 v**2, exp(0.3 v).
    judged = [0.8 * U * V, 0.22 * V + 0.01 * U, 0.1 * V**2, sp.exp(0.3 * V)]
    assert [s.candidate.expr for s in scored[1:]] == judged
    # Reported: 0.8 u v (5); not the chosen form plus a term, not the failing v**2, not
    # exp(0.3 v) (6, more than ALTERNATIVE_SLACK above the chosen 3).
    assert [s.candidate.expr for s in found] == [0.8 * U * V]
    assert find_alternatives(chosen, candidates, [judge(chosen)], judge, ok, limit=1) == (
        judge(candidates[1]),
    )
    selection = Selection(chosen, tuple(scored), network=0.5, alternatives=found)
    assert (
        "also passing (the data do not single out the chosen form; it is the simplest): "
        "0.8*u*v (loss 1.20x, misfit +0.0)" in selection.describe()
    )
    assert form(U * (1 - U)) == form(0.98 * U - 0.99 * U**2) == form(U - U**2)
    assert form(-0.9 * U * V) == form(sp.Rational(3, 4) * U * V) == U * V
    assert form(sp.pi**2 * sp.sin(sp.pi * U)) == form(9.87 * sp.sin(3.14 * U)) == sp.sin(U)
