"""Tests of `pinnkit.problem.conditions`: Neumann and Robin build the normal derivative,
default condition names, weight and order checks.
"""

from __future__ import annotations

import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError
from tests.helpers import heat

x, y, t, s = sp.symbols("x y t s")
u = sp.Function("u")(x, t)


def test_condition_weight_must_be_non_negative():
    with pytest.raises(ProblemError, match=r"weight=-1.0 must be finite and >= 0"):
        pk.Dirichlet(u, 0, weight=-1.0)


def test_a_condition_of_no_field_is_refused():
    """`Dirichlet(x, 0)` (a coordinate where the field belongs) used to become the loss x^2
    on the boundary, which trains nothing."""
    with pytest.raises(pk.ProblemError, match="involves none of the fields"):
        heat(conditions=[pk.Dirichlet(x, 0, on="left")])


def test_default_condition_names():
    problem = heat(
        conditions=[
            pk.Initial(u, sp.sin(sp.pi * x)),
            pk.Initial(u.diff(t), 0),
            pk.Dirichlet(u, 0, on="left"),
            pk.Neumann(u, 0, on=sp.Eq(x, 1)),
            pk.Dirichlet(u, 0),
            pk.Condition(u.diff(x) * x - x * (1 - x), on="boundary"),
        ]
    )
    assert [c.name for c in problem.conditions] == [
        "initial_u",
        "initial_u_d",
        "bc_u_x_eq_0",
        "bc_u_d_x_eq_1",
        "bc_u",
        "bc_u_d",
    ]
    assert [c.on for c in problem.conditions] == [
        "initial",
        "initial",
        "x = 0",
        "x = 1",
        "boundary",
        "boundary",
    ]


def test_neumann_builds_the_normal_derivative():
    u2 = sp.Function("u")(x, y)
    condition = pk.Neumann(u2, 3)
    assert condition.expr == pk.Normal(x) * u2.diff(x) + pk.Normal(y) * u2.diff(y) - 3
    problem = pk.Problem(
        domain=pk.Disk(x, y),
        fields=[u2],
        equations=[u2.diff(x, 2) + u2.diff(y, 2)],
        conditions=[condition],
    )
    assert problem.conditions[0].expr == condition.expr


def test_neumann_and_robin_on_space_time_have_no_time_component():
    problem = heat(conditions=[pk.Neumann(u, 0, on="left"), pk.Robin(u, 2, 3, 1, on="right")])
    neumann, robin = (c.expr for c in problem.conditions)
    assert neumann == pk.Normal(x) * u.diff(x)
    assert robin == 2 * u + 3 * pk.Normal(x) * u.diff(x) - 1
    assert not any(c.expr.has(pk.Normal(t)) for c in problem.conditions)


def test_neumann_needs_a_field():
    with pytest.raises(ProblemError, match=r"Neumann/Robin: expected a field"):
        pk.Neumann(u.diff(x))


@pytest.mark.parametrize(
    ("make", "fix"),
    [
        (lambda: pk.Initial(u, 0, exact=True), "exact_initial=True"),
        (lambda: pk.Neumann(u, 0, on="left", exact=True), "stays a loss term"),
        (lambda: pk.Robin(u, 1, 1, 0, on="left", exact=True), "stays a loss term"),
        (lambda: pk.Boundary(u.diff(x), 0, on="left", exact=True), "stays a loss term"),
    ],
)
def test_exact_is_refused_where_nothing_can_be_built_in(make, fix) -> None:
    """Only Dirichlet values are built into the model; `exact=True` elsewhere used to be a
    bare TypeError (an unexpected keyword)."""
    with pytest.raises(ProblemError, match=r"\(\.\.\., exact=True\): not supported") as error:
        make()
    assert fix in str(error.value)
    pk.Initial(u, 0, exact=False)  # the default stays accepted


def test_periodic_order_must_be_non_negative():
    with pytest.raises(ProblemError, match=r"order=-1 must be >= 0"):
        pk.Periodic(x, order=-1)


X = sp.Symbol("x")
BUMP = sp.exp(-40 * (X - sp.Rational(1, 2)) ** 2)  # 4.5e-5 of its peak at x = 0


@pytest.mark.parametrize(
    "start, edge, warns",
    [
        (0, 1, True),
        (sp.exp(-5 * X), 1, False),
        (1, 1, False),
        (BUMP, 0, False),
        (BUMP + sp.Rational(1, 100), 0, True),
    ],
)
def test_an_initial_value_that_misses_a_boundary_value_warns(start, edge, warns: bool) -> None:
    # u(0, t) = 1 from the start: an initial value 0 makes the solution jump at that edge
    # (`pinnkit.problem.corners`); exp(-5 x) and 1 meet it. A bump that has fallen to 4.5e-5
    # of its peak meets u = 0 (measured against the field's size, not the values at the
    # edge); 1% of it does not. The Neumann end is not compared.
    xs, ts = X, sp.Symbol("t")
    w = sp.Function("w")(xs, ts)

    def make() -> pk.Problem:
        return pk.Problem(
            domain=pk.Interval(xs, 0, 1) * pk.TimeInterval(ts, 0, 1),
            fields=[w],
            equations={"heat": w.diff(ts) - w.diff(xs, 2)},
            conditions=[
                pk.Initial(w, start),
                pk.Dirichlet(w, edge, on="x = 0"),
                pk.Neumann(w, 3, on="x = 1"),
            ],
        )

    if warns:
        with pytest.warns(pk.PinnkitWarning, match=rf"w = {edge} on `x = 0` but its initial"):
            make()
    else:
        make()  # warnings are errors in the tests
