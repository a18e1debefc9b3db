"""The round form of a fitted formula: which of its constants are exact numbers, and which
are one constant written twice.

A fitted constant near a simple number p/q (q <= 5) may be that number: `1.003*u -
0.998*u**3` is `u - u**3`. `round_all` rounds every constant that has such a neighbour at
once (where nothing better can be measured). In an ODE problem the maximum-likelihood fit of
the trajectory can tell, constant by constant, whether the data allow the exact number:
`round_stepwise` rounds one constant at a time, the one whose rounding costs least, refitting
the others after each step, while the criterion (the deviance of the observations plus the
price of the constants, `pinnkit.discover.criteria.constants_price`) does not rise. On
ODEBench's 50:x_0 (x0^2 x1 - x0 + 0.24, 5% noise) rounding all at once had left
0.984 x0^2 x1 - 0.978 x0 + 0.237, 2.2% off the truth; one at a time the two 1s are taken and
0.2389 stays fitted. The same steps tie two constants whose magnitudes the data do not tell
apart (`pinnkit.discover.ties`): a tie saves a constant's price as a round number does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp

from pinnkit.discover import ties
from pinnkit.discover.criteria import constants_price
from pinnkit.discover.exact import nice_number

__all__ = ["round_all", "round_stepwise", "nice_values"]


def nice_values(value: sp.Float, rtol: float, observations: int) -> list[sp.Rational]:
    """The exact numbers `value` may be rounded to within `rtol` of it (at most 1; the width
    rtol |value| about the fitted constant, above it as below, or rtol |p/q| where that is
    wider: `nice_number(of_value=True)`; the criterion then judges each step):
    the nearest p/q with q <= 5 and the simplest p/q with q <= 10, each only where it costs
    less than a fitted constant with `observations` values (`constants_price`). On ODEBench's
    39:x_1 (5% noise) the data put the coefficient of x0^2 x1 at 1.448 +- 0.324: 1 is within
    two standard errors of it, but was not within 2 x 0.324 / 1.448 of 1 itself."""
    rtol = min(rtol, 1.0)
    cap = constants_price(sp.Float(1.0), observations)
    out = []
    for closest in (True, False):
        nice = nice_number(float(value), rtol, closest, of_value=True)
        if isinstance(nice, sp.Rational) and nice not in out:
            if constants_price(nice, observations) < cap:
                out.append(nice)
    return out


def round_all(expr: sp.Expr, rtol: Callable[[sp.Float], float], observations: int) -> sp.Expr:
    """`expr` with each constant the nearest p/q (q <= 5) within its `rtol(constant)` that
    costs less than a fitted one; `expr` itself when none rounds."""
    rounded = {}
    for f in ties.constants(expr):
        options = nice_values(f, rtol(f), observations)
        if options:
            rounded[f] = options[0]
    return ties.templated(expr, rounded) if rounded else expr


Fit = tuple[Mapping, sp.Expr, Mapping[sp.Float, float], Mapping[sp.Float, float]]


def round_stepwise(
    fitted: sp.Expr,
    fit: Callable[[sp.Expr], Fit | None],
    deviance: Callable[[Mapping], float],
    rtol: Callable[[sp.Float, Mapping[sp.Float, float]], float],
    observations: int,
) -> sp.Expr:
    """The round form of `fitted` found one step at a time. `fit(expr)` is the
    maximum-likelihood refit of a formula (its misfits, the formula with its constants as
    fitted, their standard errors and their Fisher information, which prices them:
    `constants_price`; None where it fails), `deviance(misfits)` the data's
    part of the criterion and `rtol(constant, errors)` how far a constant may be rounded.
    From the refit of `fitted`, the steps tried (`_steps`) are each constant at each of its
    `nice_values` and each pair of constants whose magnitudes agree within their rtol widths
    tied (made one constant, `pinnkit.discover.ties`), the others refit; the try of least
    criterion is taken while the criterion does not rise, and the search goes on from its
    refit. `fitted` itself when no step is taken."""
    start = fit(fitted)
    if start is None:
        return fitted
    misfit, current, errors, information = start
    best = deviance(misfit) + constants_price(current, observations, information)
    taken = False
    while True:
        tries = []
        for step in _steps(current, errors, rtol, observations):
            result = fit(step)
            if result is not None:
                price = constants_price(result[1], observations, result[3])
                criterion = deviance(result[0]) + price
                tries.append((criterion, sp.default_sort_key(result[1]), result))
        if not tries:
            break
        criterion, _, result = min(tries, key=lambda t: t[:2])
        if criterion > best:
            break
        best, (_, current, errors, information), taken = criterion, result, True
    return current if taken else fitted


def _steps(
    current: sp.Expr,
    errors: Mapping[sp.Float, float],
    rtol: Callable[[sp.Float, Mapping[sp.Float, float]], float],
    observations: int,
) -> list[sp.Expr]:
    """The formulas one step from `current` (`round_stepwise`): one constant rounded to one
    of its `nice_values`, or two constants tied (`ties.ties`, each within its rtol width,
    `rtol(constant, errors) * |constant|`, of the other's magnitude). On ODEBench's 37:x_1
    (van der Pol, 5% noise) the search writes -0.43 x_1 (x_0^2 - 1) as
    -0.4316 x_0^2 x_1 + 0.429 x_1, two constants where the truth has one."""
    steps = [
        ties.replace(current, f, nice)
        for f in ties.constants(current)
        for nice in nice_values(f, rtol(f, errors), observations)
    ]

    def width(constant: sp.Float) -> float:
        return rtol(constant, errors) * abs(float(constant))

    steps.extend(tied for tied, _, _ in ties.ties(current, width))
    return steps
