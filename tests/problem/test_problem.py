"""Tests of `Problem`: every `ProblemError` path of its validation (symbols, fields,
equations, regions, periodic conditions, Parameters, data, references, Hidden terms),
default names, and printing.
"""

from __future__ import annotations

import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError
from tests.helpers import HEAT, LINE_TIME, heat, hidden_problem, hidden_system

x, y, t, s = sp.symbols("x y t s")
u = sp.Function("u")(x, t)
v = sp.Function("v")(x, t)


# -- symbols, functions and derivatives ------------------------------------------------------


def test_undeclared_symbol_suggests_the_parameter():
    D = pk.Parameter("D", init=0.1)
    d = sp.Symbol("d")
    equation = sp.Eq(u.diff(t), D * u.diff(x, 2) + d * u)
    with pytest.raises(
        ProblemError,
        match=r'equation "eq0": symbol `d` is free but is not a coordinate, field or '
        r"Parameter\. Did you mean `D`\?.*`d = pk\.Parameter\(\"d\", init=1\.0\)`",
    ):
        heat(equations=[equation])


def test_undeclared_symbol_without_a_near_miss():
    kappa = sp.Symbol("kappa")
    with pytest.raises(ProblemError, match=r"symbol `kappa` is free") as info:
        heat(equations={"diffusion": sp.Eq(u.diff(t), kappa * u.diff(x, 2))})
    assert "Did you mean" not in str(info.value)
    assert 'equation "diffusion"' in str(info.value)


def test_undeclared_symbol_in_a_condition_names_the_condition():
    a = sp.Symbol("a")
    with pytest.raises(ProblemError, match=r'condition "inlet": symbol `a` is free'):
        heat(conditions=[pk.Dirichlet(u, a, on="left", name="inlet")])


def test_derivative_in_a_non_coordinate():
    equation = sp.Eq(sp.Derivative(u, s), u.diff(x, 2))
    with pytest.raises(
        ProblemError, match=r"derivative .* is taken in `s`, which is not a coordinate"
    ):
        heat(equations=[equation])


def test_unknown_function_suggests_the_field():
    w = sp.Function("U")(x, t)
    with pytest.raises(
        ProblemError, match=r"`U\(x, t\)` is an unknown function.*Did you mean `u`\?"
    ):
        heat(equations=[sp.Eq(u.diff(t), u.diff(x, 2) + w)])


def test_field_applied_to_other_arguments():
    with pytest.raises(
        ProblemError, match=r"field `u\(x, 0\)` is applied to \(x, 0\).*Fix: write `u\(x, t\)`"
    ):
        heat(equations=[sp.Eq(u.diff(t), u.diff(x, 2) - u.subs(t, 0))])


def test_normal_components_only_on_boundaries():
    with pytest.raises(ProblemError, match=r"the normal component `n_x` is only defined"):
        heat(equations=[sp.Eq(u.diff(t), u.diff(x, 2) + pk.Normal(x))])
    with pytest.raises(ProblemError, match=r"the normal component `n_x` is only defined"):
        heat(conditions=[pk.Initial(u, pk.Normal(x))])


# -- fields and equations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ([], r"no fields"),
        ([sp.Symbol("u")], r"field u is not an applied function"),
        ([sp.Function("u")(t, x)], r"field u\(t, x\) takes \(t, x\).*coordinates are \(x, t\)"),
        ([u, u], r"field u\(x, t\) is listed twice"),
    ],
)
def test_bad_fields(fields, match):
    with pytest.raises(ProblemError, match=match):
        heat(fields=fields)


def test_unused_field():
    with pytest.raises(ProblemError, match=r"field\(s\) \[v\(x, t\)\] appear in no equation"):
        heat(fields=[u, v])


@pytest.mark.parametrize(
    ("equations", "match"),
    [
        ([], r"no equations"),
        ([u - u], r'equation "eq0": 0 is identically zero'),
        # Eq(u, u) evaluates to True before pinnkit sees it.
        ([sp.Eq(u, u)], r'equation "eq0": the equation is identically True'),
        ([sp.Lt(u, 1)], r"is a relation, not an equation"),
        (["u_t = u_xx"], r"expected a SymPy expression"),
    ],
)
def test_bad_equations(equations, match):
    with pytest.raises(ProblemError, match=match):
        heat(equations=equations)


def test_equation_given_as_an_expression_equal_to_zero():
    problem = heat(equations={"heat": u.diff(t) - u.diff(x, 2)})
    (equation,) = problem.equations
    assert equation.name == "heat"
    assert equation.residual == u.diff(t) - u.diff(x, 2)


def test_derivatives_of_known_expressions_are_expanded():
    problem = heat(equations=[sp.Eq(u.diff(t), u.diff(x, 2) + sp.Derivative(sp.sin(x), x))])
    assert problem.equations[0].residual.has(sp.cos(x))


def test_domain_must_be_a_pinnkit_domain():
    with pytest.raises(ProblemError, match=r"domain must be a pinnkit domain, found tuple"):
        heat(domain=(0, 1))


# -- conditions ------------------------------------------------------------------------------


def test_condition_outside_the_domain():
    with pytest.raises(
        ProblemError, match=r"conditions\[0\].*`x = 2` is not on the boundary.*\"x = 1\""
    ):
        heat(conditions=[pk.Dirichlet(u, 0, on=sp.Eq(x, 2))])


def test_condition_on_an_unknown_part_suggests_one():
    with pytest.raises(ProblemError, match=r"unknown region `lefft`.*Did you mean `left`\?"):
        heat(conditions=[pk.Dirichlet(u, 0, on="lefft")])


def test_initial_condition_needs_time():
    problem = dict(domain=pk.Interval(x, 0, 1), fields=[sp.Function("w")(x)])
    w = problem["fields"][0]
    with pytest.raises(ProblemError, match=r"an initial condition needs a time coordinate"):
        pk.Problem(**problem, equations=[w.diff(x, 2)], conditions=[pk.Initial(w, 0)])


def test_condition_must_be_a_condition():
    with pytest.raises(ProblemError, match=r"conditions\[0\] is Equality .* not a condition"):
        heat(conditions=[sp.Eq(u, 0)])


def test_duplicate_names():
    with pytest.raises(ProblemError, match=r"names must be unique; repeated: \['bc_u'\]"):
        heat(conditions=[pk.Dirichlet(u, 0), pk.Dirichlet(u, 1)])
    with pytest.raises(ProblemError, match=r"repeated: \['eq0'\]"):
        heat(conditions=[pk.Dirichlet(u, 0, name="eq0")])


def test_an_empty_domain_is_refused_before_sampling():
    # a hole larger than the square: nothing is left to sample (it used to search for
    # minutes); a space-time domain on it is refused the same way
    empty = pk.Rectangle((x, 0, 1), (t, 0, 1)) - pk.Disk(x, t, (0.5, 0.5), 2)
    with pytest.raises(ProblemError, match=r"the domain .* is empty.*Fix: check the shapes"):
        heat(domain=empty, conditions=[])
    s_time = pk.Rectangle((x, 0, 1), (s, 0, 1)) & pk.Disk(x, s, (1.5, 1.5), 0.6)
    v_s = sp.Function("v")(x, s, t)
    with pytest.raises(ProblemError, match=r"is empty"):
        pk.Problem(
            domain=s_time * pk.TimeInterval(t, 0, 1),
            fields=[v_s],
            equations={"heat": v_s.diff(t) - v_s.diff(x, 2)},
        )


# -- periodic conditions ---------------------------------------------------------------------


def test_periodic_condition_resolves_both_ends():
    problem = heat(
        domain=pk.Interval(x, -1, 3) * pk.TimeInterval(t, 0, 1),
        conditions=[pk.Periodic(x, order=2)],
    )
    (condition,) = problem.conditions
    assert condition.name == "periodic_x"
    assert condition.on == "x = -1"
    assert condition.bounds == (-1.0, 3.0) and condition.period == 4.0
    assert condition.fields == (u,) and condition.order == 2
    assert "periodic in x" in str(condition)


@pytest.mark.parametrize(
    ("condition", "domain", "match"),
    [
        (pk.Periodic(t), LINE_TIME, r"`t` is not a space coordinate"),
        (pk.Periodic(x, v), LINE_TIME, r"v\(x, t\) is not a field of the problem"),
        (pk.Periodic(x), pk.Disk(x, t), r"Periodic in x.*has no flat sides x = -1 and x = 1"),
    ],
)
def test_bad_periodic_conditions(condition, domain, match):
    with pytest.raises(ProblemError, match=match):
        heat(domain=domain, conditions=[condition])


def test_parameters_with_one_name_and_two_settings():
    first, second = pk.Parameter("D", init=0.1), pk.Parameter("D", init=0.2)
    with pytest.raises(ProblemError, match=r'two Parameters are named "D" with different'):
        heat(
            equations=[
                sp.Eq(u.diff(t), first * u.diff(x, 2)),
                sp.Eq(u.diff(t), second * u.diff(x, 2)),
            ]
        )


def test_parameter_named_like_a_coordinate():
    with pytest.raises(ProblemError, match=r"Parameter name\(s\) \['x'\] clash"):
        heat(equations=[sp.Eq(u.diff(t), pk.Parameter("x") * u.diff(x, 2))])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            pk.Data({x: [0.5, 2.0], t: [0.5, 0.5]}, {u: [0, 0]}),
            r"1 of 2 points lie outside the domain.*row 1: \{'x': 2.0, 't': 0.5\}",
        ),
        (
            pk.Data({x: [0.5], sp.Symbol("tt"): [0.5]}, {u: [0]}),
            r"coordinates \['tt', 'x'\] do not match.*missing \['t'\], unknown \['tt'\]",
        ),
        (pk.Data({x: [0.5], t: [0.5]}, {"w": [0]}), r"`w` is not a field \['u'\]"),
        ([pk.Data({x: [0.5], t: [0.5]}, {u: [0]})] * 2, r"data sets share a name"),
        (["not data"], r"data must be `pk.Data`, found str"),
    ],
)
def test_data_that_does_not_fit_the_problem(data, match):
    with pytest.raises(ProblemError, match=match):
        heat(data=data)


# -- references ------------------------------------------------------------------------------


def test_reference_with_wrong_fields():
    w = sp.Function("uu")(x, t)
    with pytest.raises(ProblemError, match=r"the reference gives \['uu'\].*Did you mean `u`"):
        heat(reference=pk.reference.Exact({w: sp.sin(x)}))


def test_reference_with_wrong_coordinates():
    w = sp.Function("u")(x, y)
    with pytest.raises(ProblemError, match=r"the reference takes coordinates \('x', 'y'\)"):
        heat(reference=pk.reference.Exact({w: sp.sin(x)}))


def test_reference_must_be_a_reference():
    with pytest.raises(ProblemError, match=r"reference must be a pinnkit reference, found dict"):
        heat(reference={u: sp.sin(x)})


# -- printing --------------------------------------------------------------------------------


def test_describe_is_readable():
    D = pk.Parameter("D", init=0.1, log=True)
    problem = heat(
        equations={"heat": sp.Eq(u.diff(t), D * u.diff(x, 2))},
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
        data=pk.Data({x: [0.5], t: [0.5]}, {u: [0.0]}),
        reference=pk.reference.Exact({u: sp.exp(-(sp.pi**2) * t / 10) * sp.sin(sp.pi * x)}),
        name="heat",
    )
    text = problem.describe()
    assert str(problem) == text
    assert text.splitlines() == [
        "Problem 'heat'",
        "  domain:     Interval(x, 0, 1) × TimeInterval(t, 0, 1)",
        "  regions:    interior 1; boundary 2; x = 0 (left) 1; x = 1 (right) 1; "
        "initial (t = 0) 1; final (t = 1) 1",
        "  fields:     u(x, t)",
        "  parameters: D (init 0.1, log)",
        "  equations:",
        "    heat: Eq(Derivative(u(x, t), t), D*Derivative(u(x, t), (x, 2)))",
        "  conditions:",
        "    initial_u: u(x, t) - sin(pi*x) = 0 on initial",
        "    bc_u: u(x, t) = 0 on boundary",
        "  data:       Data('data', 1 points, columns ['x', 't', 'u'])",
        "  reference:  Exact for ['u']",
    ]
    assert repr(problem) == "Problem('heat', fields=['u'], equations=1)"


def test_repr_latex():
    problem = heat(conditions=[pk.Dirichlet(u, 0, on="left")])
    latex = problem._repr_latex_()
    assert latex.startswith(r"$\begin{aligned}") and latex.endswith(r"\end{aligned}$")
    assert sp.latex(HEAT) in latex
    assert r"\text{on x = 0}" in latex
    periodic = heat(conditions=[pk.Periodic(x)])._repr_latex_()
    assert r"\text{periodic in } x" in periodic


D = pk.Parameter("D", init=0.3)


# -- Hidden terms ----------------------------------------------------------------------------------


def test_problem_lists_hidden_terms_and_prints_them():
    f, g = pk.Hidden("f"), pk.Hidden("g")
    problem = hidden_system(f, g)
    assert problem.hidden == (f, g)
    assert problem.hidden_applications(f) == (f(u), f(v))
    text = problem.describe()
    assert "hidden:     f(u), f(v), g(u**2, u_x, x)" in text
    assert "hidden (learned by networks)" in problem._repr_latex_()
    assert pk.Hidden("f") == f and pk.Hidden("f") != sp.Function("f")


F = pk.Hidden("f")
ERRORS = {
    "nested": (
        lambda: hidden_problem(sp.Eq(u.diff(t), F(pk.Hidden("g")(u)))),
        r"Hidden terms are nested in `f\(g\(u\(x, t\)\)\)`",
    ),
    "no arguments": (lambda: F(), r'Hidden "f" was applied to no arguments'),
    "constant argument": (
        lambda: hidden_problem(sp.Eq(u.diff(t), F(u, D))),
        r"argument `D` of `f\(u\(x, t\), D\)` depends on no field or coordinate",
    ),
    "numbers of arguments": (
        lambda: hidden_problem(sp.Eq(u.diff(t), F(u) + F(u, x))),
        r'Hidden "f" is applied to different numbers of arguments: `f\(u, x\)` here but `f\(u\)`',
    ),
    "clash with a field": (
        lambda: hidden_problem(sp.Eq(u.diff(t), pk.Hidden("u")(x) + u)),
        r'the Hidden term "u" clashes with the field',
    ),
    "clash with a Parameter": (
        lambda: hidden_problem(sp.Eq(u.diff(t), pk.Hidden("D")(u) + D * u)),
        r'the Hidden term "D" clashes with the Parameter',
    ),
    "clash with a coordinate": (
        lambda: hidden_problem(sp.Eq(u.diff(t), pk.Hidden("x")(u))),
        r'the Hidden term "x" clashes with the coordinate',
    ),
    "two settings": (
        lambda: hidden_problem(sp.Eq(u.diff(t), F(u) + pk.Hidden("f", bounds=[(0, 1)])(u))),
        r'two Hidden terms are named "f" with different settings',
    ),
    "normal in an argument": (
        lambda: hidden_problem(
            sp.Eq(u.diff(t), u.diff(x, 2)), conditions=[pk.Boundary(F(pk.Normal(x) * u), 0)]
        ),
        r"uses the normal component `n_x`",
    ),
    "bad name": (lambda: pk.Hidden("1f"), r"Hidden name '1f' is not a valid identifier"),
    "bad bounds": (lambda: pk.Hidden("f", bounds=[(1, 0)]), r"is not a pair low < high"),
    "bounds not a list": (lambda: pk.Hidden("f", bounds=3), r"is not a list or a dict"),
    "bounds past the arguments": (
        lambda: hidden_problem(sp.Eq(u.diff(t), pk.Hidden("f", bounds=[None, (0, 1)])(u))),
        r'Hidden "f" has bounds for argument 1, but `f\(u\(x, t\)\)` has 1 argument',
    ),
    "bounds for a non-argument": (
        lambda: hidden_problem(sp.Eq(u.diff(t), pk.Hidden("f", bounds={u.diff(x): (0, 1)})(u))),
        r"has bounds for `Derivative\(u\(x, t\), x\)`, which is not one of its arguments",
    ),
    "hidden is not a field": (lambda: pk.Neumann(F(u)), r"expected a field"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_unsupported_uses_give_clear_errors(case):
    build, pattern = ERRORS[case]
    with pytest.raises(ProblemError, match=pattern):
        build()
