"""`pinnkit.discover.criteria`: the evidence criterion, the pick and the weights."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from pinnkit.discover import Candidate
from pinnkit.discover.criteria import (
    STRUCTURE_COST,
    Scored,
    constants_price,
    evidence,
    pick,
    precision_price,
    weights,
)
from tests.discover.planted import U


def test_a_fitted_constant_costs_ln_n_whatever_its_value_and_an_exact_one_its_bits():
    base = evidence(0.0, U - U**2, 100)
    assert base == pytest.approx(STRUCTURE_COST * 5)  # form u + u**2: 5 nodes
    fitted = evidence(0.0, 0.52 * U - 0.51 * U**2, 100)
    assert fitted - base == pytest.approx(2 * math.log(100))
    huge = evidence(0.0, 5200.0 * U - 0.51 * U**2, 100)
    assert huge == pytest.approx(fitted)  # the value does not matter, only the count
    # 1/2 is written in 2 ln(2 * 1 * 2) = 2.8; 4/5 would take 2 ln 40 = 7.4, more than a
    # fitted constant's ln N = 4.6, so it costs 4.6; an exponent is structure, not a constant.
    half = evidence(0.0, U / 2 - U**2, 100)
    assert half - base == pytest.approx(2 * math.log(4))
    four_fifths = evidence(0.0, sp.Rational(4, 5) * U - U**2, 100)
    assert four_fifths - base == pytest.approx(math.log(100))
    assert evidence(0.0, -(U**2) * U, 100) == pytest.approx(STRUCTURE_COST * 3)  # u**3
    assert evidence(math.inf, U, 100) == math.inf


def test_the_issue_case_a_better_fitting_polynomial_beats_a_sine_with_as_many_constants():
    """The case that motivated the criterion: a*u - a*u**2 with a != 1 against
    0.5188*sin(3.12*u), two constants each; the polynomial fits the observations better
    (misfit 0.98 of the sine's over 100 observations), so it is chosen."""
    n = 100
    poly = 0.52 * U - 0.5 * U**2
    sine = 0.5188 * sp.sin(3.12 * U)
    e_poly = evidence(n * math.log(0.98e-4), poly, n)
    e_sine = evidence(n * math.log(1.0e-4), sine, n)
    a, b = (
        Scored(Candidate(e, 5, 1e-4, 0.0), 1.0, 9, e, criterion=c)
        for e, c in ((poly, e_poly), (sine, e_sine))
    )
    assert pick([b, a], network=1.0, factor=2.0) is a.candidate
    # With an equal fit the one node fewer of the sine's form decides, by one bit.
    assert evidence(n * math.log(1e-4), poly, n) - e_sine == pytest.approx(STRUCTURE_COST)


def test_pick_takes_the_least_criterion_among_the_admitted_else_the_smallest_loss():
    a, b, c = (Candidate(U, k, 1.0, 0.0) for k in (3, 5, 9))
    scored = [
        Scored(a, 5.0, 3, criterion=1.0),  # not admitted at factor 1.5
        Scored(b, 1.4, 5, criterion=9.0),
        Scored(c, 0.5, 9, criterion=4.0),
    ]
    assert pick(scored, network=1.0, factor=1.5) is c
    assert pick(scored, network=0.1, factor=1.5) is c  # none admitted: the smallest loss
    assert pick(scored, network=1.0, factor=6.0) is a
    inf = float("inf")
    assert pick([Scored(a, inf, 3), Scored(b, inf, 5)], network=1.0, factor=1.5) is a


def test_weights_are_the_normalised_evidence():
    a, b = Candidate(U, 1, 1.0, 0.0), Candidate(U**2, 3, 1.0, 0.0)
    w = weights(
        [Scored(a, 1.0, 1, criterion=10.0), Scored(b, 1.0, 3, criterion=10.0 + 2 * math.log(3))]
    )
    assert w == pytest.approx([0.75, 0.25])
    assert weights(
        [Scored(a, 1.0, 1, criterion=3.0), Scored(b, math.inf, 3, criterion=math.inf)]
    ) == [1.0, 0.0]


def test_the_constants_of_zero_cost_nothing():
    """Pruning the last term of a candidate leaves 0 (ODEBench 52:x_1 at 5% raised a math
    domain error pricing it)."""
    assert constants_price(sp.Integer(0), 50) == 0.0


def test_a_constant_the_data_fix_finely_costs_its_precision():
    """With a maximum-likelihood fit's Fisher information I, a fitted constant c costs
    max(ln N, ln(c^2 I / 3)): its digits to the width sqrt(12 / I) the data leave it."""
    assert precision_price(0.52, 1e6) == pytest.approx(math.log(0.52**2 * 1e6 / 3))
    assert precision_price(0.52, 1.0) == 0.0  # not told from 0: no digits to write
    assert precision_price(0.0, 1e6) == precision_price(0.5, math.inf) == 0.0
    poly = 0.52 * U - 0.51 * U**2
    a, b = sorted(poly.atoms(sp.Float))
    n = 100
    fine = constants_price(poly, n, {a: 1e6, b: 1e6})
    assert fine == pytest.approx(precision_price(float(a), 1e6) + precision_price(float(b), 1e6))
    assert fine > 2 * math.log(n)
    # a constant fixed no better than ln N pays ln N; one without information too
    assert constants_price(poly, n, {a: 10.0}) == pytest.approx(2 * math.log(n))
    assert constants_price(poly, n, {}) == constants_price(poly, n)
    base = evidence(0.0, poly, n)
    assert evidence(0.0, poly, n, {a: 1e6, b: 1e6}) - base == pytest.approx(fine - 2 * math.log(n))


def test_cancelling_look_alikes_pay_for_their_digits():
    """The look-alike 14.53 sin(u) - 15.22 u of -0.7 u (as on an unseen Nagumo case): with its
    constants held one at a time, each is fixed far more finely than its size, while the
    truth's one constant is fixed as finely relative to itself: at ln N each the look-alike
    pays one constant more, at its precision far more."""
    n = 100
    truth = -0.7 * U
    look_alike = 14.53 * sp.sin(U) - 15.22 * U
    s, c = sorted(look_alike.atoms(sp.Float), key=abs)
    fisher = 1 / 0.005**2  # the same width the data leave each constant held alone
    plain = constants_price(look_alike, n) - constants_price(truth, n)
    by_precision = constants_price(look_alike, n, {s: fisher, c: fisher}) - constants_price(
        truth, n, {sp.Float(-0.7): fisher}
    )
    assert plain == pytest.approx(math.log(n))
    assert by_precision > plain + 2 * math.log(14.53 / 0.7)
