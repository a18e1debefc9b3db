"""`pinnkit.discover.discovery`: the Problem with the discovered formulas written in."""

from __future__ import annotations

import dataclasses

import sympy as sp

import pinnkit as pk
from pinnkit.problem.file import load_problem_file
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


def test_the_problems_parameters_are_reported_as_refit_with_the_formulas(found, tmp_path):
    # `Selection.constants` holds every learned constant after the final polish: the
    # formula's (f_c0, ...) and the problem's own Parameters, which go with the formulas.
    (name, term), D = next(iter(found.found.items())), pk.Parameter("D", init=0.1)
    polished = dataclasses.replace(term.selection, constants={"f_c0": -1.0, "D": 0.0507})
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), D * u.diff(x, 2) + pk.Hidden(name)(u))],
    )
    refit = pk.Discovery(
        problem,
        {name: dataclasses.replace(term, selection=polished)},
        backend=found.backend,
        seed=0,
    )
    assert refit.parameters == {"D": 0.0507}
    assert str(refit).endswith("Parameters refit with the chosen formulas: D = 0.0507")
    assert refit.to_json()["parameters"] == {"D": 0.0507}
    refit.save(tmp_path)  # the exported file starts D there, not at its init 0.1
    exported = load_problem_file(tmp_path / "problem.py")[0].parameters
    assert {p.name: p.init for p in exported}["D"] == 0.0507
    assert found.parameters == {}  # no Parameters, and no polish without a refit
