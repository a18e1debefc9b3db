"""`pinnkit.discover.discovery`: the Problem with the discovered formulas written in."""

from __future__ import annotations

import sympy as sp

from tests.discover.planted import TRUE_F, _problem


def test_substituted_problem_has_no_hidden_term_and_refits_constants(found):
    problem = found.problem(parameters=True)
    assert problem.hidden == ()
    names = sorted(p.name for p in problem.parameters)
    assert names and all(n.startswith("f_c") for n in names)
    for p in problem.parameters:
        assert abs(abs(p.init) - 1) < 1e-6  # u - u**2: both coefficients have magnitude 1
    exact = found.problem(parameters=False, snap=True)
    assert exact.parameters == ()
    residual = exact.equations[0].residual
    expected = _problem(TRUE_F).equations[0].residual
    assert sp.simplify(residual - expected) == 0
