"""Exact numbers in formulas: the simplest p/q or p pi/q near a constant (`nice_number`,
`snap_constants`), which exact numbers a formula's price charges (`charged_number`, `freed`),
and the exact-form test of the discovery benchmarks (`is_same_form`: a found formula has the
truth's terms with each constant within a relative tolerance, the truth read in every way
of writing it out: expanded, partial fractions, logarithms split)."""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

__all__ = ["nice_number", "snap_constants", "charged_number", "freed", "is_same_form"]


def nice_number(
    value: float, rtol: float, closest: bool = False, of_value: bool = False
) -> sp.Expr | None:
    """The simplest number p/q (q <= 10) or p*pi/q (q <= 4) within `rtol` of `value` (with
    `closest`, the nearest p/q with q <= 5). The tolerance is relative to the number p/q
    (|value - p/q| <= rtol |p/q|: `snap_constants`, the scorer's rule), or with `of_value` to
    the larger of |value| and |p/q|: a width about a fitted constant (a multiple of its
    standard error) that reaches as far above the constant as below it, and never excludes a
    number the first rule admits."""
    options: list[tuple[int, float, sp.Expr]] = []

    def near(number: float) -> bool:
        scale = max(abs(value), abs(number)) if of_value else abs(number)
        return abs(value - number) <= rtol * scale

    for q in range(1, 6 if closest else 11):
        p = round(value * q)
        if p != 0 and near(p / q):
            options.append((q, abs(value - p / q), sp.Rational(p, q)))
    for q in range(1, 1 if closest else 5):
        p = round(value * q / math.pi)
        if p != 0 and near(p * math.pi / q):
            options.append((q + 1, abs(value - p * math.pi / q), sp.Rational(p, q) * sp.pi))
    key = (lambda o: (o[1], o[0])) if closest else (lambda o: o[0])
    return min(options, key=key)[2] if options else None


def snap_constants(expr: sp.Expr, *, rtol: float = 0.02, closest: bool = False) -> sp.Expr:
    """Replace each float by the simplest rational p/q (q <= 10) or multiple p*pi/q (q <= 4)
    within relative `rtol` (with `closest`: the nearest p/q with q <= 5, so 0.78 becomes 4/5
    rather than 3/4, 7/9 or pi/4 at rtol 5%); floats with no such neighbour stay as they are.

    `1.003*u - 0.998*u**3` becomes `u - u**3`, `0.4987*sin(u)` becomes `sin(u)/2`. A 1e-5
    offset stays a float, so a spurious term is never rounded away.
    """
    replacements = {}
    for f in expr.atoms(sp.Float):
        nice = nice_number(float(f), rtol, closest)
        if nice is not None:
            replacements[f] = nice
    return expr.xreplace(replacements)


def charged_number(node: sp.Expr) -> sp.Rational | None:
    """p/q of an exact number `node` (p/q or p pi/q) that `constants_price` charges, None
    for +-1, 0 (a pruned-away term) and anything else."""
    value = node / sp.pi if node.has(sp.pi) else node
    return value if isinstance(value, sp.Rational) and abs(value) not in (0, 1) else None


def freed(expr: sp.Expr) -> sp.Expr:
    """`expr` with each exact number other than +-1 that `constants_price` charges (a
    rational or multiple of pi, exponents excepted) made a fitted constant (a float of its
    value): `x**2*y - x + 1/4` -> `x**2*y - x + 0.25`; `expr` itself when it has none."""
    if expr.is_number:
        charged = not expr.atoms(sp.Float) and charged_number(expr) is not None
        return sp.Float(float(expr)) if charged else expr
    if isinstance(expr, sp.Pow):
        exponent = expr.exp if expr.exp.is_number else freed(expr.exp)
        return sp.Pow(freed(expr.base), exponent)
    if not expr.args:
        return expr
    return expr.func(*(freed(a) for a in expr.args))


def is_same_form(found: sp.Expr, truth: sp.Expr, *, rtol: float = 0.02) -> bool:
    """Whether `found` has the form and constants of `truth`: equal after each float of
    `found` is rounded to a simple number (`snap_constants`), or matched to one of the
    truth's own numbers (`pi**2`, `9/10`, their negatives), within relative `rtol`.

    This is the "exact form" test of the discovery benchmarks: the same terms, and each
    constant within `rtol` of the true one. `9.87*sin(3.14*x)` has the form of
    `pi**2*sin(pi*x)`; `-u**3 + u + 1e-4` does not have that of `u - u**3`. The truth's
    numbers are also read off its expanded forms (`_rewritings`), so a formula that writes
    the same function another way matches with the numbers that way of writing has:
    `1.1 - 0.55*x - 1/(1 + x**2)` is `x**2/(1 + x**2) - 0.55*x + 0.1` (partial fractions).
    An exact number of `found` (a round form's `x/3`) is a constant like a float: it matches
    `0.34*x` (1.96% off), not `0.35*x`.
    A fitted 1.002 matches a term the truth writes without a coefficient (`1.002*x*y` has
    the form of `x*y - 1.67*z`). So does a logarithm's constant split off: the truth's
    whole coefficient of each term of its written-out forms is one of its numbers, so
    `0.83*x + x*log(x)` has the form of `x*log(2.29*x)` (log(2.29) = 0.8286) and
    `1.151*x - 0.5*x*log(x)` that of Gompertz's `x*log(10/x)/2`.
    """
    exact_truth = truth.xreplace(
        {
            f: sp.Rational(str(Fraction(float(f)).limit_denominator(1000)))
            for f in truth.atoms(sp.Float)
        }
    )
    if _equal(snap_constants(found, rtol=rtol), exact_truth):
        return True
    written = _rewritings(exact_truth)
    numbers = {n for w in written for n in sp.preorder_traversal(w) if n.is_number and n != 0}
    numbers |= {c for w in written for c in _term_coefficients(w, truth.free_symbols)} - {0}
    numbers |= {sp.Integer(1)}  # the unit coefficient a product like `x*y` writes implicitly
    numbers |= {-n for n in numbers}
    found = freed(found)  # an exact 1/3 is a constant too: within rtol of the truth's 0.34
    matched = {}
    for value in found.atoms(sp.Float):
        close = [n for n in numbers if abs(float(value) - float(n)) <= rtol * abs(float(n))]
        if not close:
            return False
        matched[value] = min(close, key=lambda n: abs(float(value) - float(n)))
    return _equal(found.xreplace(matched), exact_truth)


def _rewritings(expr: sp.Expr) -> list[sp.Expr]:
    """`expr` and the same function written out: expanded, in partial fractions of each
    symbol, and with logarithms of products split (positive symbols assumed)."""
    out = [expr, sp.expand(expr)]
    for symbol in sorted(expr.free_symbols, key=str):
        try:  # partial fractions: `x**2/(1 + x**2)` as `1 - 1/(1 + x**2)`
            out.append(sp.apart(expr, symbol))
        except (sp.PolynomialError, NotImplementedError, TypeError, ValueError):
            pass
    split = sp.expand(sp.expand_log(expr, force=True))
    out.append(split)
    return out


def _term_coefficients(expr: sp.Expr, symbols) -> list[sp.Expr]:
    """The whole coefficient of each function of `symbols` that `expr` sums: log(10)/2 in
    `x*log(10)/2 - x*log(x)/2`, also where it is written over several terms."""
    whole: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(expr):
        coefficient, function = term.as_independent(*symbols)
        whole[function] = whole.get(function, 0) + coefficient
    return list(whole.values())


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Symbolic equality, with a cheap numeric check first (`simplify` on a long wrong
    candidate takes seconds)."""
    difference = a - b
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    point = {s: sp.Rational(37 + 11 * i, 71) for i, s in enumerate(symbols)}
    scale = 1 + abs(complex(b.xreplace(point).evalf()))
    if not abs(complex(difference.xreplace(point).evalf())) <= 1e-9 * scale:
        return False
    return sp.simplify(sp.expand_log(difference, force=True)) == 0
