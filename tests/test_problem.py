"""Tests of `pinnkit.problem`: every `ProblemError` path, default names, printing, and the
symbolic parts (`Parameter`, `Normal`, `Neumann`, `Robin`, `Periodic`, `Data`).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError

x, y, t, s = sp.symbols("x y t s")
u = sp.Function("u")(x, t)
v = sp.Function("v")(x, t)
HEAT = sp.Eq(u.diff(t), u.diff(x, 2))
LINE_TIME = pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1)


def heat(**kwargs) -> pk.Problem:
    """The heat equation on [0, 1] x [0, 1], with any part replaced through `kwargs`."""
    parts = {"domain": LINE_TIME, "fields": [u], "equations": [HEAT]}
    return pk.Problem(**{**parts, **kwargs})


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


def test_condition_weight_must_be_non_negative():
    with pytest.raises(ProblemError, match=r"weight=-1.0 must be finite and >= 0"):
        pk.Dirichlet(u, 0, weight=-1.0)


def test_duplicate_names():
    with pytest.raises(ProblemError, match=r"names must be unique; repeated: \['bc_u'\]"):
        heat(conditions=[pk.Dirichlet(u, 0), pk.Dirichlet(u, 1)])
    with pytest.raises(ProblemError, match=r"repeated: \['eq0'\]"):
        heat(conditions=[pk.Dirichlet(u, 0, name="eq0")])


def test_default_condition_names():
    problem = heat(
        conditions=[
            pk.Initial(u, sp.sin(sp.pi * x)),
            pk.Initial(u.diff(t), 0),
            pk.Dirichlet(u, 0, on="left"),
            pk.Neumann(u, 0, on=sp.Eq(x, 1)),
            pk.Dirichlet(u, 0),
            pk.Condition(x * (1 - x), on="boundary"),
        ]
    )
    assert [c.name for c in problem.conditions] == [
        "initial_u",
        "initial_u_d",
        "bc_u_x_eq_0",
        "bc_u_d_x_eq_1",
        "bc_u",
        "bc_expr",
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


def test_normal_needs_a_symbol():
    with pytest.raises(ProblemError, match=r"Normal\('x'\): expected a coordinate symbol"):
        pk.Normal("x")


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
        (pk.Periodic(x), pk.Disk(x, t), r"Periodic in x.*not on the boundary"),
    ],
)
def test_bad_periodic_conditions(condition, domain, match):
    with pytest.raises(ProblemError, match=match):
        heat(domain=domain, conditions=[condition])


def test_periodic_order_must_be_non_negative():
    with pytest.raises(ProblemError, match=r"order=-1 must be >= 0"):
        pk.Periodic(x, order=-1)


# -- Parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("2D",), {}, r"Parameter name '2D' is not a valid identifier"),
        (("D", float("nan")), {}, r'Parameter "D": init=nan is not finite'),
        (("D", 0.0), {"log": True}, r"log=True needs a positive init, found 0.0"),
    ],
)
def test_bad_parameters(args, kwargs, match):
    with pytest.raises(ProblemError, match=match):
        pk.Parameter(*args, **kwargs)


def test_parameter_equality_pickling_and_collection():
    D = pk.Parameter("D", init=0.1, log=True)
    again = pickle.loads(pickle.dumps(D))
    assert again == D and hash(again) == hash(D)
    assert (again.init, again.log) == (0.1, True)
    # Settings are part of identity: a Parameter is neither its plain Symbol nor one with
    # another init.
    assert D != pk.Parameter("D", init=0.2, log=True)
    assert D != pk.Parameter("D", init=0.1)
    assert D != sp.Symbol("D", real=True)
    problem = heat(equations=[sp.Eq(u.diff(t), D * u.diff(x, 2))])
    assert problem.parameters == (D,)
    normal = pickle.loads(pickle.dumps(pk.Normal(x)))
    assert normal == pk.Normal(x) and normal.coord == x


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


# -- data ------------------------------------------------------------------------------------


def test_data_builds_and_accepts_symbols_fields_and_names():
    data = pk.Data({x: [0.1, 0.2], "t": [0.5, 0.5]}, {u: [1.0, 2.0]}, name="obs")
    problem = heat(data=data)
    assert problem.data == (data,)
    assert data.n == 2 and list(data.coords) == ["x", "t"] and list(data.values) == ["u"]
    assert repr(data) == "Data('obs', 2 points, columns ['x', 't', 'u'])"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: pk.Data({x: [0.1, 0.2]}, {u: [1.0]}), r"arrays have different lengths"),
        (lambda: pk.Data({x: [0.1]}, {}), r"no observed field values"),
        (lambda: pk.Data({1: [0.1]}, {u: [1.0]}), r"key 1 is not a coordinate, field or name"),
        (lambda: pk.Data({x: [0.1, np.inf]}, {u: [1, 2]}), r"non-finite value at row 1"),
    ],
)
def test_bad_data_arrays(build, match):
    with pytest.raises(ProblemError, match=match):
        build()


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


def test_data_from_csv(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("# measured\nx, t, u\n0.1, 0.0, 1.5\n0.9, 1.0, -2\n")
    data = pk.Data.from_file(path, name="measured")
    problem = heat(data=data)
    (loaded,) = problem.data
    np.testing.assert_array_equal(loaded.coords["x"], [0.1, 0.9])
    np.testing.assert_array_equal(loaded.values["u"], [1.5, -2.0])
    assert loaded.name == "measured" and loaded.n == 2


def test_data_from_npz(tmp_path):
    path = tmp_path / "obs.npz"
    np.savez(path, x=np.array([0.25, 0.75]), t=np.array([[0.5], [1.0]]), u=np.array([3.0, 4.0]))
    problem = heat(data=pk.Data.from_file(path))
    (loaded,) = problem.data
    np.testing.assert_array_equal(loaded.coords["t"], [0.5, 1.0])
    np.testing.assert_array_equal(loaded.values["u"], [3.0, 4.0])


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("obs.csv", "x,t,U\n0.5,0.5,1\n", r'column "U" is neither.*Did you mean `u`\?'),
        ("obs.csv", "x,t\n0.5,0.5\n", r"no column names a field \['u'\]"),
    ],
)
def test_data_files_that_do_not_fit_the_problem(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        heat(data=pk.Data.from_file(path))


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("obs.csv", "x,t,u\n", r"needs a header row and at least one row"),
        ("obs.csv", "x,t,u\n0.5,0.5\n", r"line 2: 2 values for 3 columns"),
        ("obs.csv", "x,t,u\n0.5,0.5,high\n", r"line 2, column 'u': 'high' is not a number"),
        ("obs.json", "{}", r"has suffix '.json'; expected .csv or .npz"),
    ],
)
def test_unreadable_data_files(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        pk.Data.from_file(path)


def test_missing_data_file(tmp_path):
    with pytest.raises(ProblemError, match=r"no file at .*missing.csv"):
        pk.Data.from_file(tmp_path / "missing.csv")


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
