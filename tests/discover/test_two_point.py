"""`pinnkit.discover.two_point` and the trajectory refit of problems that are not first-order
initial-value ODEs: conditions at both ends read as `solve_bvp` takes them, steady problems
refit by collocation, second-order ODEs lifted to first-order systems."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.discover.substitute import Formula
from pinnkit.discover.trajectory import fit_formula, ode_of
from pinnkit.discover.two_point import ends_of, guess_of
from tests.discover.steady import XS, U, cubic, potential, x


def _fit(run, expr, symbol=XS):
    ode = ode_of(run.problem, run.problem.hidden[0].name)
    scales = {key: 0.01 for key, *_ in ode.observed}
    return fit_formula(ode, Formula((symbol,), expr), run.parameters, guess_of(ode, run), scales)


def test_conditions_at_both_ends_are_read_per_end_with_the_outward_normal():
    """Dirichlet on the whole boundary gives a row at each end; a Neumann condition's normal
    is -1 at the lower end and +1 at the upper one; a Robin condition keeps its field."""
    u, du = sp.symbols("s0 s1")
    problem = pk.Problem(
        domain=pk.Interval(x, 0, 2),
        fields=[U],
        equations={"e": U.diff(x, 2) + 1},
        conditions=[
            pk.Dirichlet(U, 1),
            pk.Neumann(U, 3, on="x = 0"),
            pk.Robin(U, 2, 1, 5, on="x = 2"),
        ],
    )
    ends = ends_of(problem, {U: u}, {U.diff(x): du})
    assert ends == ((0, u - 1), (1, u - 1), (0, -du - 3), (1, 2 * u + du - 5))
    periodic = pk.Problem(
        domain=pk.Interval(x, 0, 2),
        fields=[U],
        equations={"e": U.diff(x, 2) + 1},
        conditions=[pk.Periodic(x)],
    )
    assert ends_of(periodic, {U: u}, {U.diff(x): du}) == ()


def test_a_steady_problem_is_a_two_point_ode_with_its_slope_a_state():
    ode = ode_of(potential().problem, "q")
    assert ode is not None and ode.lifted == (0,) and len(ode.states) == 2
    assert ode.start == (None, None) and [side for side, _ in ode.ends] == [0, 1]
    assert ode.rates[0] == ode.states[1]


def test_the_two_point_refit_prefers_the_truth_a_look_alike_fits_worse():
    """q = 2 + 8 x^2 with u = 1 at both ends, 1% noise: refit by collocation from constants
    25% off, the truth's form comes back within 5% (the data fix the pair only to a few
    percent: standard errors 0.1-0.4) and fits the observations better than the best line
    by more than its extra constant costs (40 ln of the misfit ratio over ln 40)."""
    run = potential()
    truth = _fit(run, 1.5 + 6.0 * XS**2)
    line = _fit(run, 8.0 * XS)
    assert truth is not None and line is not None
    constant, slope = sorted(truth.expr.as_coefficients_dict().items(), key=str)
    assert float(constant[1]) == pytest.approx(2.0, rel=0.05)
    assert float(slope[1]) == pytest.approx(8.0, rel=0.05)
    ((m_truth, n),) = truth.misfit.values()
    ((m_line, _),) = line.misfit.values()
    assert n * np.log(m_line / m_truth) > np.log(n) + 2
    assert all(0 < e < 1 for e in truth.errors.values())


def test_a_neumann_end_is_held_by_the_two_point_refit():
    """-u'' + a u^3 = 10, u(0) = 0, u'(1) = 0: from a = 2 the refit reaches the truth's
    3 within 2%."""
    fitted = _fit(cubic(), 2.0 * sp.Symbol("u") ** 3, sp.Symbol("u"))
    assert fitted is not None
    assert float(next(iter(fitted.errors))) == pytest.approx(3.0, rel=0.02)


def test_a_second_order_initial_value_problem_is_lifted_and_integrated():
    """x'' + 0.4 x' + g(x) = 0, x(0) = 1.5, x'(0) = 0, g = 2 x + x^3/2: the velocity is a
    state started at 0, and the trajectory refit returns g's constants within 2%."""
    from scipy.integrate import solve_ivp

    t = sp.Symbol("t")
    X = sp.Function("x")(t)
    g = pk.Hidden("g")
    times = np.linspace(0, 10, 60)
    solution = solve_ivp(
        lambda _t, y: [y[1], -0.4 * y[1] - 2 * y[0] - y[0] ** 3 / 2],
        (0, 10), [1.5, 0.0], t_eval=times, rtol=1e-11, atol=1e-12,
    )  # fmt: skip
    noisy = solution.y[0] + 0.01 * np.random.default_rng(0).standard_normal(times.size)
    problem = pk.Problem(
        domain=pk.TimeInterval(t, 0, 10),
        fields=[X],
        equations={"motion": sp.Eq(X.diff(t, 2) + 0.4 * X.diff(t) + g(X), 0)},
        conditions=[pk.Initial(X, 1.5), pk.Initial(X.diff(t), 0)],
        data=pk.Data({t: times}, {X: noisy}),
    )
    ode = ode_of(problem, "g")
    assert ode.lifted == (0,) and ode.start == (1.5, 0.0) and ode.ends == ()
    s = sp.Symbol("x")
    fitted = fit_formula(ode, Formula((s,), 1.5 * s + 0.8 * s**3), {}, {}, {("data", "x"): 0.01})
    assert fitted is not None
    linear, cubed = fitted.expr.coeff(s, 1), fitted.expr.coeff(s, 3)
    assert float(linear) == pytest.approx(2.0, rel=0.02)
    assert float(cubed) == pytest.approx(0.5, rel=0.02)


def test_a_formula_whose_boundary_value_problem_has_no_solution_gives_none():
    """q = -pi^2 (no constant to fit) makes -u'' + q u = 10 with u = 0 at both ends resonant:
    no solution, so no refit (None, not an exception); q = -pi^2 / 2 has one."""
    run = potential(value=0.0)
    assert _fit(run, -(sp.pi**2) * XS**0) is None
    assert _fit(run, -(sp.pi**2) / 2 * XS**0) is not None
