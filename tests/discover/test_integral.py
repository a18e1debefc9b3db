"""`pinnkit.discover.integral`: formulas fitted to the observations' increments along a
solution (the integral regression), on ODEBench's glycolytic oscillator with its exact
solution standing in for a trained run, and where the regression does not apply."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.discover.base import form
from pinnkit.discover.exact import is_same_form
from pinnkit.discover.integral import integral_front, trapezoid_operator
from pinnkit.discover.offline import Offline
from pinnkit.errors import DiscoveryError

t = sp.Symbol("t")
A, B = sp.Function("a")(t), sp.Function("b")(t)
X0, X1 = sp.symbols("x_0 x_1")
f = pk.Hidden("f")
START, TIMES = (0.4, 0.31), np.linspace(0.0, 10.0, 50)


def _solution():
    """ODEBench's glycolytic oscillator (id 39): x0' = x0^2 x1 - x0 + 2.4 x1,
    x1' = 0.07 - 2.4 x0 - x0^2 x1, dense."""
    from scipy.integrate import solve_ivp

    def rates(_t, y):
        return [y[0] ** 2 * y[1] - y[0] + 2.4 * y[1], 0.07 - 2.4 * y[0] - y[0] ** 2 * y[1]]

    return solve_ivp(rates, (0, 10), START, dense_output=True, rtol=1e-10, atol=1e-12).sol


class _Exact:
    """A stand-in for a trained run: the problem, and the exact solution as its prediction."""

    def __init__(self, equations, observed=(A, B), noise=0.01):
        solution = _solution()
        clean = solution(TIMES)
        scales = noise * np.sqrt(np.mean(clean**2, axis=1))
        noisy = clean + scales[:, None] * np.random.default_rng(0).standard_normal(clean.shape)
        rows = {A: noisy[0], B: noisy[1]}
        self.problem = pk.Problem(
            domain=pk.TimeInterval(t, 0, 10),
            fields=[A, B],
            equations=equations,
            conditions=[pk.Initial(A, START[0]), pk.Initial(B, START[1])],
            data=pk.Data({t: TIMES}, {field: rows[field] for field in observed}),
        )
        self.parameters = {}
        self._solution = solution

    def predict(self, t):
        a, b = self._solution(np.asarray(t))
        return {"a": a, "b": b}


def test_the_trapezoid_operator_integrates_between_grid_points():
    grid = np.linspace(0.0, 2.0, 401)
    times = np.array([0.0, 0.3333, 1.0, 1.777, 2.0])
    operator = trapezoid_operator(grid, times)
    assert np.allclose(operator @ (3 * grid + 1), 1.5 * times**2 + times, atol=1e-12)
    assert np.allclose(operator @ grid**2, times**3 / 3, atol=1e-4)


def test_the_backend_fits_a_formula_to_its_integrals():
    """Observed increments of the logistic x' = 0.8 x - 0.3 x^2 are fitted through the
    operator: the front holds its form with constants within 1%."""
    from scipy.integrate import solve_ivp

    solution = solve_ivp(
        lambda _t, x: 0.8 * x - 0.3 * x**2, (0, 12), [0.1], dense_output=True, rtol=1e-10
    ).sol
    grid, times = np.linspace(0, 12, 1001), np.linspace(0, 12, 40)
    observed = solution(times)[0] + 1e-3 * np.random.default_rng(1).standard_normal(40)
    front = Offline().fit(
        {X0: solution(grid)[0]}, observed - 0.1, operator=trapezoid_operator(grid, times)
    )
    assert any(is_same_form(c.expr, 0.8 * X0 - 0.3 * X0**2, rtol=0.01) for c in front.candidates)
    with pytest.raises(DiscoveryError, match="operator of shape"):
        Offline().fit({X0: grid}, observed, operator=np.ones((3, 5)))


def test_the_integral_front_holds_the_hidden_rate():
    """The first rate hidden, 1% noise: its form x0^2 x1 - x0 + 2.4 x1 is a member of the
    integral front, the constants the data fix well (of x0 and x1) within 1% (that of
    x0^2 x1 the data fix only to ~10%: its maximum-likelihood value is 1.06 +- 0.09); with
    part of the rate known (2.4 x1 written in) the rest, x0^2 x1 - x0, is."""
    other = sp.Eq(B.diff(t), 0.07 - 2.4 * A - A**2 * B)
    run = _Exact({"a": sp.Eq(A.diff(t), f(A, B)), "b": other})
    (found,) = _members(integral_front(run, "f", (X0, X1)), X0**2 * X1 - X0 + 2.4 * X1)
    assert found.coeff(X0, 1).coeff(X1, 0) == pytest.approx(-1.0, rel=0.01)
    assert found.coeff(X1, 1).coeff(X0, 0) == pytest.approx(2.4, rel=0.01)
    assert 0.7 < found.coeff(X0**2 * X1) < 1.3
    run = _Exact({"a": sp.Eq(A.diff(t), f(A, B) + 2.4 * B), "b": other})
    (found,) = _members(integral_front(run, "f", (X0, X1)), X0**2 * X1 - X0)
    assert found.coeff(X0, 1).coeff(X1, 0) == pytest.approx(-1.0, rel=0.01)


@pytest.mark.parametrize("observed", [(A, B), (B,)])
def test_a_term_in_two_rates_gives_rows_from_each_observed_field(observed):
    """The oscillator written with the term in both rates (b' = -f + 0.07 - 3.4 a + 2.4 b,
    the same solution): with both fields observed, or only b, the front holds the form."""
    equations = {
        "a": sp.Eq(A.diff(t), f(A, B)),
        "b": sp.Eq(B.diff(t), -f(A, B) + 0.07 - 3.4 * A + 2.4 * B),
    }
    run = _Exact(equations, observed)
    (found,) = _members(integral_front(run, "f", (X0, X1)), X0**2 * X1 - X0 + 2.4 * X1)
    assert found.coeff(X0, 1).coeff(X1, 0) == pytest.approx(-1.0, rel=0.02)
    assert found.coeff(X1, 1).coeff(X0, 0) == pytest.approx(2.4, rel=0.02)


def _members(front, truth: sp.Expr) -> list[sp.Expr]:
    return [c.expr for c in front.candidates if form(c.expr) == form(truth)]


@pytest.mark.parametrize(
    "equations, observed",
    [
        # the term applied twice
        ({"a": sp.Eq(A.diff(t), f(A, B) + f(B, A)), "b": sp.Eq(B.diff(t), -A)}, (A, B)),
        # not additive
        ({"a": sp.Eq(A.diff(t), A * f(A, B)), "b": sp.Eq(B.diff(t), -A)}, (A, B)),
        # its field not observed
        ({"a": sp.Eq(A.diff(t), f(A, B)), "b": sp.Eq(B.diff(t), -A)}, (B,)),
    ],
)
def test_where_the_integral_regression_does_not_apply(equations, observed):
    assert integral_front(_Exact(equations, observed), "f", (X0, X1)) is None


def test_a_trained_run_gets_integral_candidates_of_forms_not_yet_shortlisted(logistic_run):
    """On a trained logistic run (1% noise) the integral front holds x' = a x - b x^2 with
    the direct maximum-likelihood fit's constants within 2% (the network's states inside the
    integrals); the candidates added to the front are forms the shortlist lacks, at most
    `INTEGRAL_SIZE`, scored on the term's samples."""
    from pinnkit.discover.integral import INTEGRAL_SIZE, with_integral
    from pinnkit.discover.sample import sample_hidden
    from pinnkit.discover.shortlist import shortlist
    from tests.discover.logistic import V

    run, (a, b) = logistic_run
    (found,) = _members(integral_front(run, "f", (V,)), V - V**2)
    assert found.coeff(V, 1) == pytest.approx(a, rel=0.02)
    assert -found.coeff(V, 2) == pytest.approx(b, rel=0.02)
    samples = sample_hidden(run, terms=["f"], samples=500)["f"]
    front = Offline().fit(samples.inputs, samples.target)
    extended = with_integral(front, run, "f", samples)
    shortlisted = {form(c.expr) for c in shortlist(front, samples)}
    assert 0 < len(extended.integral) <= INTEGRAL_SIZE
    assert not any(form(c.expr) in shortlisted for c in extended.integral)
    assert len({form(c.expr) for c in extended.integral}) == len(extended.integral)
    for c in extended.integral:
        loss = float(np.mean((sp.lambdify(V, c.expr)(samples.inputs[V]) - samples.target) ** 2))
        assert c.loss == pytest.approx(loss, rel=1e-9)


def test_discovery_judges_integral_candidates_unless_told_not_to(logistic_run):
    import warnings

    from pinnkit.errors import PinnkitWarning

    run, _ = logistic_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PinnkitWarning)
        on = pk.discover(run, refit=0).found["f"]
        off = pk.discover(run, refit=0, integral=False).found["f"]
    judged = {s.candidate.expr for s in on.selection.scored}
    assert on.front.integral and any(c.expr in judged for c in on.front.integral)
    assert off.front.integral == ()
