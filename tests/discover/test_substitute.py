"""`pinnkit.discover.substitute`: a formula applied to every application of a Hidden term."""

from __future__ import annotations

import sympy as sp

import pinnkit as pk
from pinnkit.discover import Formula, substitute
from tests.discover.planted import t, u, x


def test_substitute_applies_the_formula_to_every_application():
    f = pk.Hidden("f")
    v = sp.Function("v")(x, t)
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u, v],
        equations=[sp.Eq(u.diff(t), f(u)), sp.Eq(v.diff(t), f(v) - u)],
        conditions=[pk.Boundary(f(u) + v, 0, on="left", name="hidden_bc")],
    )
    a = sp.Symbol("u")
    new = substitute(problem, {"f": Formula((a,), 2 * a**2)})
    assert new.hidden == ()
    assert new.equations[1].residual == v.diff(t) - 2 * v**2 + u
    assert new.conditions[0].expr == 2 * u**2 + v and new.conditions[0].name == "hidden_bc"
