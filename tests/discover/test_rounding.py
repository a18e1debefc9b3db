"""`pinnkit.discover.rounding`: which exact numbers a fitted constant may be, and rounding
one constant at a time against a criterion."""

from __future__ import annotations

import sympy as sp

from pinnkit.discover.exact import nice_number
from pinnkit.discover.rounding import nice_values, round_all, round_stepwise

X, Y = sp.symbols("x y")


def test_nice_values_are_the_nearest_and_the_simplest_that_cost_less_than_a_fit():
    assert nice_values(sp.Float(0.8701), 1.0, 100) == [1]  # 4/5 costs more than a fit
    assert nice_values(sp.Float(0.8701), 0.05, 100) == []  # 4/5 is 8% away
    assert nice_values(sp.Float(2.394), 0.05, 100) == []  # 12/5 costs as much as 2.394
    assert nice_values(sp.Float(-0.49), 0.05, 100) == [sp.Rational(-1, 2)]
    assert nice_values(sp.Float(0.8701), 1.0, 10**6) == [sp.Rational(4, 5), 1]


def test_nice_values_measure_the_width_from_the_fitted_constant():
    """A width of two standard errors about 1.448 +- 0.324 (ODEBench 39:x_1 at 5% noise:
    rtol 2 x 0.324 / 1.448 = 0.4475) reaches 1, 0.448 below it; measured from 1 it reached
    only 0.4475. Below the constant the width relative to p/q stays as it was, so no number
    it admitted before is lost."""
    rtol = 2 * 0.324 / 1.448
    assert nice_values(sp.Float(1.448), rtol, 50) == [1]
    assert nice_number(1.448, rtol, of_value=True) == 1
    assert nice_number(1.448, rtol) == sp.Rational(3, 2)  # the scorer's rule: 1 out of reach
    assert nice_values(sp.Float(0.6), 0.6, 50) == [1]  # 1 is 0.4 above: 0.6 x 1 reaches it
    assert nice_values(sp.Float(1.1), 0.05, 50) == []


def test_round_all_rounds_every_constant_with_a_neighbour():
    expr = sp.Float(1.003) * X - sp.Float(0.49) * Y + sp.Float(0.2411)
    assert round_all(expr, lambda _: 0.05, 100) == X - Y / 2 + sp.Rational(1, 4)
    assert round_all(sp.Float(2.394) * X, lambda _: 0.05, 100) == sp.Float(2.394) * X


def test_round_stepwise_takes_the_cheapest_rounding_first_and_refits_the_rest():
    """A stand-in likelihood: the data fix a + b = 1.24 to 1e-3 and a itself loosely, so
    a = 1 is free and b then moves to 0.24, where 1/4 costs more deviance than it saves."""

    def fit(expr):
        a, b = (expr.coeff(X), expr.coeff(Y))
        if isinstance(a, sp.Float) and isinstance(b, sp.Float):
            a, b = sp.Float(1.05), sp.Float(0.19)
        elif isinstance(b, sp.Float):
            b = sp.Float(1.24 - float(a))
        elif isinstance(a, sp.Float):
            a = sp.Float(1.24 - float(b))
        misfit = (float(a) + float(b) - 1.24) ** 2 + 0.01 * (float(a) - 1) ** 2
        return {"m": (misfit, 50)}, a * X + b * Y, {}, {}

    def deviance(misfits):
        return 1e4 * misfits["m"][0]

    start = sp.Float(1.04) * X + sp.Float(0.2) * Y
    rounded = round_stepwise(start, fit, deviance, lambda f, errors: 0.25, 100)
    assert rounded.coeff(X) == 1 and abs(float(rounded.coeff(Y)) - 0.24) < 1e-12
    assert round_stepwise(start, lambda e: None, deviance, lambda f, e: 0.25, 100) == start
