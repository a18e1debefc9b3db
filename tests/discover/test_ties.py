"""`pinnkit.discover.ties`: floats of equal magnitude are one constant, and which constants
the data may not tell apart are tied, in the fits, the prices and the round form."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import sympy as sp

from pinnkit.discover import ties
from pinnkit.discover.criteria import constants_price, free_constants
from pinnkit.discover.prune import fit_constants
from pinnkit.discover.rounding import round_stepwise
from pinnkit.discover.substitute import parametrize

X, Y = sp.symbols("x y")
A, B = sp.Float(0.4316), sp.Float(0.429)
#: The van der Pol damping -0.43 y (x^2 - 1) as the search writes it: two constants.
UNTIED = -A * X**2 * Y + B * Y - X


def test_floats_of_equal_magnitude_are_one_constant_with_its_sign():
    tied = -B * X**2 * Y + B * Y - X
    assert set(ties.constants(UNTIED)) == {B, -A}
    assert len(ties.constants(tied)) == 1
    k = sp.Symbol("k")
    assert ties.templated(tied, {ties.constants(tied)[0]: k}) in (
        -k * X**2 * Y + k * Y - X,
        k * X**2 * Y - k * Y - X,
    )
    # Setting one constant sets every occurrence, the sign kept.
    assert ties.replace(tied, B, sp.Rational(2, 5)) == -2 * X**2 * Y / 5 + 2 * Y / 5 - X
    assert ties.replace(tied, -B, sp.Rational(2, 5)) == 2 * X**2 * Y / 5 - 2 * Y / 5 - X
    assert ties.lookup({-B: 3.0}, B) == 3.0 and ties.lookup({}, B, 0.0) == 0.0


def test_a_tie_is_one_parameter_one_price_and_one_least_squares_constant():
    tied = -B * X**2 * Y + B * Y - X
    template, parameters = parametrize("f", tied)
    (c,) = parameters
    assert template == -c * X**2 * Y + c * Y - X and c.init == float(B)
    assert free_constants(UNTIED) == 2 and free_constants(tied) == 1
    n = 100
    assert constants_price(tied, n) == constants_price(sp.Float(0.5) * X, n)
    assert constants_price(tied, n, {-B: 1e12}) > constants_price(tied, n)  # read either sign

    x, y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0, -1.0, 0.5])
    samples = SimpleNamespace(symbols=(X, Y), inputs={X: x, Y: y}, target=0.3 * y * (1 - x**2) - x)
    fitted = fit_constants(tied, samples).expr
    (value,) = ties.constants(fitted)
    assert abs(abs(float(value)) - 0.3) < 1e-6 and free_constants(fitted) == 1


def test_ties_are_proposed_within_the_widths_and_never_in_an_exponent():
    (tied, a, b), *rest = list(ties.ties(UNTIED, lambda c: 0.002))
    assert not rest and {a, b} == {B, -A}
    (mean,) = ties.constants(tied)
    assert abs(abs(float(mean)) - 0.4303) < 1e-12
    assert tied == -abs(mean) * X**2 * Y + abs(mean) * Y - X
    assert not list(ties.ties(UNTIED, lambda c: 0.001))  # 0.0026 apart, widths 0.002 in all
    assert not list(ties.ties(sp.Float(1.5) * X ** sp.Float(1.5001) + Y, lambda c: 1.0))


def test_round_stepwise_ties_two_constants_the_data_cannot_tell_apart():
    """A stand-in likelihood whose best fit is the tie at 0.43: the untied formula fits no
    better (deviance 0 either way), so the tie saves a constant's price and is taken; with
    the data separating the two (deviance 100 for the tie) it is not."""

    def fit(expr, separated=False):
        found = ties.constants(expr)
        if len(found) == 1:
            misfit = 1.0 if separated else 0.0
            return {"m": (misfit, 50)}, ties.replace(expr, found[0], sp.Float(0.43)), {}, {}
        return {"m": (0.0, 50)}, expr, {A: 0.01, B: 0.01}, {}

    def deviance(misfits):
        return 100 * misfits["m"][0]

    chosen = round_stepwise(UNTIED, fit, deviance, lambda f, errors: 0.02, 100)
    assert chosen == -sp.Float(0.43) * X**2 * Y + sp.Float(0.43) * Y - X
    separated = round_stepwise(
        UNTIED, lambda e: fit(e, True), deviance, lambda f, errors: 0.02, 100
    )
    assert separated == UNTIED


def test_only_coefficients_of_terms_are_tied_not_a_frequency():
    # ODEBench 39:x_1 (5% noise): -2.368 x + 0.073 cos(2.37 x) had its coefficient of x tied
    # to the cosine's frequency.
    wave = -sp.Float(2.368) * X + sp.Float(0.073) * sp.cos(sp.Float(2.37) * X)
    assert not list(ties.ties(wave, lambda c: 0.1 * abs(c)))
    both = sp.Float(2.368) * X * Y - sp.Float(2.37) * sp.cos(sp.Float(2.37) * X)
    assert not list(ties.ties(both, lambda c: 0.1 * abs(c)))  # 2.37 is a frequency too


def test_coefficients_of_terms_of_different_kinds_are_not_tied():
    # ODEBench 3:x_0 (logistic growth, 1% noise): the coefficient of x tied to that of a
    # cosine standing in for a constant made the look-alike as cheap as the logistic.
    logistic = (
        sp.Float(0.7944) * X
        - sp.Float(0.0106) * X**2
        + sp.Float(0.7941) * sp.cos(sp.Float(0.15) * X)
    )
    assert not list(ties.ties(logistic, lambda c: 0.01))
    # Two algebraic terms (a rational one included) and two with functions are tied.
    rational = sp.Float(1.4) * X - sp.Float(1.402) * X * Y / (X**2 + 1)
    assert len(list(ties.ties(rational, lambda c: 0.01))) == 1
    waves = sp.Float(0.33) * sp.sin(X) * sp.cos(Y) - sp.Float(0.331) * sp.cos(X) * sp.sin(Y)
    assert len(list(ties.ties(waves, lambda c: 0.01))) == 1
    assert not list(ties.ties(sp.Float(0.2) * X * sp.Abs(X) + sp.Float(0.2001) * X, lambda c: 0.01))
