"""The fitted constants of a formula, and constants tied across its terms.

A formula's fitted constants are its floats, and floats of equal magnitude are **one**
constant: in `0.43*x_1 - 0.43*x_0**2*x_1` (the van der Pol damping, -0.43 x_1 (x_0^2 - 1))
one number is fitted, twice written, once with its sign flipped. SymPy distributes a number
over a sum (`0.43*(x_1 - x_0**2*x_1)` is stored as the two terms), so a tie cannot be kept as
a factor; it is kept as the magnitude instead. Every step that fits, counts, prices or
rounds constants reads them through this module: `constants` lists them (the first float
met of each magnitude, in SymPy's pre-order), `templated` writes each as a symbol with the
tie's sign, `replace` sets one (all of its occurrences) and `lookup` reads a value keyed by a
constant whatever its sign. Floats of equal magnitude by chance are as unlikely after a fit
as any two equal doubles; a tie is made on purpose by `ties`, which proposes which constants
the data may not tell apart (`pinnkit.discover.rounding.round_stepwise` then refits and
judges each).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping

import sympy as sp

__all__ = ["constants", "templated", "replace", "lookup", "ties"]


def constants(expr: sp.Expr) -> list[sp.Float]:
    """The distinct fitted constants of `expr`: for each magnitude among its floats, the
    first float of it in SymPy's pre-order traversal (with its sign)."""
    seen: dict[sp.Float, sp.Float] = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Float):
            seen.setdefault(abs(node), node)
    return list(seen.values())


def templated(expr: sp.Expr, marks: Mapping[sp.Float, sp.Expr]) -> sp.Expr:
    """`expr` with each float written as the symbol (or value) `marks` gives its constant
    (keyed as `constants` lists them), its sign flipped where the float's is."""
    signs = {abs(f): (f, mark) for f, mark in marks.items()}
    swap = {}
    for node in expr.atoms(sp.Float):
        if abs(node) in signs:
            key, mark = signs[abs(node)]
            swap[node] = mark if node == key else -mark
    return expr.xreplace(swap)


def replace(expr: sp.Expr, constant: sp.Float, value: sp.Expr) -> sp.Expr:
    """`expr` with the constant `constant` set to `value` wherever it is written (the float
    of the opposite sign to `-value`)."""
    return templated(expr, {constant: value})


def lookup(mapping: Mapping[sp.Float, float], constant: sp.Float, default=None):
    """`mapping[constant]`, or its value under the float of the opposite sign (a refit may
    meet the tie's other float first); `default` where neither is there."""
    if constant in mapping:
        return mapping[constant]
    return mapping.get(-constant, default)


def ties(
    expr: sp.Expr, tolerance: Callable[[sp.Float], float]
) -> Iterator[tuple[sp.Expr, sp.Float, sp.Float]]:
    """The ties to try in `expr`: each pair of its term coefficients (`_term_coefficients`) whose
    magnitudes differ by at most the sum of their `tolerance(constant)` (an absolute width:
    a few standard errors), as (`expr` with both set to their mean magnitude, each keeping
    its sign; the two constants). Only coefficients are tied: a frequency, a rate inside a
    function or a denominator's constant is not the same kind of number as a term's
    coefficient (on ODEBench's 39:x_1 a coefficient of x_0 was tied to the frequency of a
    cosine of x_0). And only coefficients of terms of one kind (`_kinds`): both algebraic
    (products and powers of the inputs, rational terms like x y/(x^2 + 1) included) or both
    with a function of the inputs (sin, exp, Abs, ...). A tie across kinds made look-alikes
    cheap: on ODEBench's logistic growth (3:x_0, 1% noise) `0.79 x - 0.0106 x^2 + 0.79
    cos(0.15 x)`, the cosine standing in for a constant at one constant's price, and on a
    FitzHugh-Nagumo recovery (truth 0.3 x - 0.24 y + 0.21) `0.2997 x - 0.1952 y + 0.1952
    exp(-0.14 y^2)`; no ODEBench truth has such a tie."""
    coefficients = _term_coefficients(expr)
    kinds = _kinds(expr)
    for i, a in enumerate(coefficients):
        for b in coefficients[i + 1 :]:
            if len(kinds[abs(a)] | kinds[abs(b)]) > 1:
                continue
            if abs(abs(a) - abs(b)) <= tolerance(a) + tolerance(b):
                mean = sp.Float((abs(float(a)) + abs(float(b))) / 2)
                tied = templated(expr, {a: mean if a > 0 else -mean, b: mean if b > 0 else -mean})
                yield tied, a, b


def _term_coefficients(expr: sp.Expr) -> list[sp.Float]:
    """The constants (`constants`) that are only ever the numeric coefficient of an additive
    term of `expr` (the constant term included), nowhere else."""
    leading = Counter(
        abs(number)
        for number, _ in (term.as_coeff_Mul() for term in sp.Add.make_args(expr))
        if isinstance(number, sp.Float)
    )
    written = Counter(
        abs(node) for node in sp.preorder_traversal(expr) if isinstance(node, sp.Float)
    )
    return [c for c in constants(expr) if leading[abs(c)] == written[abs(c)]]


def _kinds(expr: sp.Expr) -> dict[sp.Float, set[bool]]:
    """For each magnitude of a float that leads an additive term of `expr`, the kinds of the
    terms it leads: True for a term with a function of the inputs in it (sin, exp, Abs, ...),
    False for an algebraic one."""
    found: dict[sp.Float, set[bool]] = {}
    for term in sp.Add.make_args(expr):
        number, rest = term.as_coeff_Mul()
        if isinstance(number, sp.Float):
            found.setdefault(abs(number), set()).add(bool(rest.atoms(sp.Function)))
    return found
