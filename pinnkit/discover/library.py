"""The offline backend's library: the candidate terms a formula is a sum of.

A term is a monomial in the inputs times, optionally, one family g(a*v) with an inner
constant a (sin(a*u), exp(-a*x**2), v/(1 + a*v), ...) and one factor without a constant
(sin(v), |v|). `Library` lists the terms for given samples; `inner_grid` gives the starting
values of a family's inner constant when `pinnkit.discover.offline` fits it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.discover.checks import check_counts
from pinnkit.errors import DiscoveryInputError

__all__ = ["Library", "Term", "FAMILIES", "inner_grid", "argument_span"]

# Each family is a function g(a*v) of one input v with one inner constant a: its SymPy form,
# its NumPy form, the default values of a (one library column each), the bounds of a when it
# is fitted, and the grid of starting values for that fit, as multiples of 1/s (s: the input's
# largest magnitude over the samples; 1/s**2 for the squared inputs of gauss and lorentz). The
# defaults make the common forms exact (sin(u), exp(-x**2), 1/(1 + u**2)); `Offline(refine=True)`
# then fits a by least squares from the best point of the grid, so sin(pi*x) on [0, 1] or
# exp(-3*x**2) are found too, not only values of a close to 1. Positive bounds keep
# exp(-a*v**2) decaying and the denominators 1 + a*v**2 and 1 + a*v positive; `monod`
# (Michaelis-Menten, v/(1 + a*v)) and `hill` (v**2/(a + v**2)) are applied only to inputs
# that are >= 0, `power` (v**a, fitted exponent) and `log` (log(a*v)) only to inputs > 0.
# hill, power and log were added for ODEBench's rates (benchmarks/discovery/odebench.py);
# hill is in the default library, power and log are not: in the ODEBench pilot a fitted
# exponent stood in for linear terms (0.2258*x**1.008 chosen for 0.23*x) and sqrt(v) columns
# entered overfits, while no ODEBench term within reach needs them (x**1.2 appears only next
# to (1 - x)**1.2, and ODEBench's Gompertz growth, 7, has constants beyond its data). Pass
# `Library(families=(..., "power", "log"))` to use them; with `log` the library also has
# v*log(a*v), Gompertz's r x log(K/x) = -r x log(x/K), the one family term times its own input.
# Without `log`, `Library(log_growth=True)` has that term's shape v*log(v) (no inner constant;
# r log(K) v is a monomial) for each input > 0; not the default (ODEBench 42:x_1 at 5% lost).
_ANY = (-np.inf, np.inf)
_POSITIVE = (1e-3, 1e3)
_FREQUENCIES = tuple(np.geomspace(0.1, 40.0, 48))  # a*s: up to ~6 periods over the range
_RATES = tuple(np.geomspace(0.05, 10.0, 24))
_WIDTHS = tuple(np.geomspace(0.05, 50.0, 24))
_EXPONENTS = (0.25, 0.5, 0.75, 1.25, 1.5, 2.5, 3.0)
FAMILIES: dict[str, tuple] = {
    "sin": (lambda v, a: sp.sin(a * v), lambda v, a: np.sin(a * v), (1.0,), _ANY, _FREQUENCIES),
    "cos": (lambda v, a: sp.cos(a * v), lambda v, a: np.cos(a * v), (1.0,), _ANY, _FREQUENCIES),
    "exp": (
        lambda v, a: sp.exp(a * v),
        lambda v, a: np.exp(a * v),
        (1.0, -1.0),
        _ANY,
        _RATES + tuple(-r for r in _RATES),
    ),
    "gauss": (
        lambda v, a: sp.exp(-a * v**2),
        lambda v, a: np.exp(-a * v**2),
        (1.0,),
        _POSITIVE,
        _WIDTHS,
    ),
    "lorentz": (
        lambda v, a: 1 / (1 + a * v**2),
        lambda v, a: 1 / (1 + a * v**2),
        (1.0,),
        _POSITIVE,
        _WIDTHS,
    ),
    "monod": (
        lambda v, a: v / (1 + a * v),
        lambda v, a: v / (1 + a * v),
        (1.0,),
        _POSITIVE,
        _WIDTHS,
    ),
    # Hill function of order 2 (a switch, saturating predation), written as in the textbooks,
    # v**2/(a + v**2) with a the squared half-saturation value, so that its constants are
    # the usual ones; its grid is in units of s**2 (not 1/s**2).
    "hill": (
        lambda v, a: v**2 / (a + v**2),
        lambda v, a: v**2 / (a + v**2),
        (1.0,),
        (1e-6, 1e6),
        _WIDTHS,
    ),
    # A power with a fitted exponent, v**a (allometric and refined-logistic rates); its grid
    # is in plain exponents, not multiples of 1/s.
    "power": (
        lambda v, a: v**a,
        lambda v, a: v**a,
        (0.5,),
        (0.05, 5.0),
        _EXPONENTS,
    ),
    # log(a*v) = log(v) + log(a): the inner constant only matters with no constant term.
    "log": (
        lambda v, a: sp.log(a * v),
        lambda v, a: np.log(a * v),
        (1.0,),
        _POSITIVE,
        _RATES,
    ),
}
#: Families whose grid is in units of 1/s**2 (their input enters squared).
_SQUARED = ("gauss", "lorentz")
#: Families whose grid is used as it is (not in units of the input's magnitude).
_UNSCALED = ("power",)
#: Families whose grid is in units of s**2 (the constant is a squared input value).
_INVERSE = ("hill",)
#: Families applied only to inputs that are >= 0 over the samples, and those only to inputs
#: that are > 0 (a power or a logarithm of 0 is not finite for every exponent).
_NONNEGATIVE = ("monod", "hill")
_POSITIVE_ONLY = ("power", "log")
#: An input counts as >= 0 for `_NONNEGATIVE` families when its smallest sample is at least
#: -this times its largest magnitude: a concentration decaying to 0 that the fitted solution
#: takes a little below it, following noisy observations (a substrate of Michaelis-Menten
#: uptake, 1% noise, dipped to -0.4% of its largest value and lost s/(1 + a*s)). The pole of
#: v/(1 + a*v) stays outside such samples for every a on the starting grid (a*s <= 50 with
#: s the input's largest magnitude, so 1 + a*v >= 1/2).
NEGATIVE_SLACK = 0.01
#: Factors without an inner constant (`Term.second`): SymPy and NumPy forms.
_FACTORS = {
    "sin": (sp.sin, np.sin),
    "cos": (sp.cos, np.cos),
    "abs": (sp.Abs, np.abs),
    "inv": (lambda v: 1 / v, lambda v: 1 / v),
    "cot": (sp.cot, lambda v: np.cos(v) / np.sin(v)),
    "log": (sp.log, np.log),
}
#: `Library(reciprocal=True)` divides by an input (1/v) only where the input keeps its sign and
#: its smallest magnitude over the samples is at least this times its largest, and by tan(v)
#: (cot(v)) only where sin(v) does: the column then stays within 1/this of its smallest value,
#: away from the pole (ODEBench's x_0 - cos(x_1)/x_0 has x_0 in [0.26, 5], ratio 0.052).
RECIPROCAL_FLOOR = 0.05


@dataclass(frozen=True)
class Term:
    """One library column: a monomial in the inputs times, optionally, one family g(a*v_j).

    **Arguments**

    - `powers`: the exponent of each input in the monomial.
    - `family`: a key of `FAMILIES`, or None for a pure monomial.
    - `inner`: index of the input the family is applied to.
    - `a`: the family's inner constant.
    - `second`: `(factor, input)` of a factor without an inner constant (`_FACTORS`): `sin`
      or `cos` at unit frequency (`sin(v_i)*cos(v_j)`), `abs` (`v*|v|`, a quadratic drag),
      `inv` (`cos(v_i)/v_j`), `cot` (`cos(v_i)*cot(v_j)`) or `log` (`v*log(v)`).
    """

    powers: tuple[int, ...]
    family: str | None = None
    inner: int = 0
    a: float = 1.0
    second: tuple[str, int] | None = None

    def expr(self, symbols: tuple[sp.Symbol, ...], a: float | None = None) -> sp.Expr:
        """The SymPy form; `a` overrides the inner constant (a = ±1 prints as an integer)."""
        out = sp.Mul(*(s**p for s, p in zip(symbols, self.powers)))
        if self.family is not None:
            a = self.a if a is None else a
            inner = sp.Integer(int(a)) if float(a).is_integer() else sp.Float(a)
            out *= FAMILIES[self.family][0](symbols[self.inner], inner)
        if self.second is not None:
            out *= _FACTORS[self.second[0]][0](symbols[self.second[1]])
        return out

    def values(self, arrays: list[np.ndarray], a: float | None = None) -> np.ndarray:
        """The column at the samples (`arrays` in input order)."""
        column = np.ones_like(arrays[0])
        for array, p in zip(arrays, self.powers):
            if p:
                column = column * array**p
        if self.family is not None:
            a = self.a if a is None else a
            column = column * FAMILIES[self.family][1](arrays[self.inner], a)
        if self.second is not None:
            column = column * _FACTORS[self.second[0]][1](arrays[self.second[1]])
        return column


@dataclass(frozen=True)
class Library:
    """The candidate terms: what the offline backend can express.

    For inputs v_1..v_n: the constant 1, every monomial of total degree 1..`degree`, each input
    alone to the powers above that up to `powers` (none by default; `powers=5` gives x**4, x**5,
    the Landau equation's quintic), each family of `families` applied to each input, with
    `cross` each monomial of degree 1..`cross_degree` that involves another input times a family
    (u*exp(-x**2), x*sin(t), x*y/(1 + a*x**2): a saturating interaction), with `trig_products`
    the products sin/cos(v_i) times sin/cos(v_j) of two different inputs at unit frequency
    (angles: sin(y)*cos(x)) and sin(v)*cos(v) of each input (= sin(2*v)/2, beside sin(v) in a
    bead on a rotating hoop), and with `signed` v*|v| for each input that changes sign (a
    quadratic drag; where v keeps its sign it is +-v**2, already there), and with `reciprocal`
    (and `trig_products`) sin/cos(v_i)/v_j and sin/cos(v_i)*cot(v_j) of two different inputs,
    where v_j (for the quotient) or sin(v_j) (for the cotangent) stays away from 0 over the
    samples (`RECIPROCAL_FLOOR`; ODEBench's x_0 - cos(x_1)/x_0 and cos(x_0)*cot(x_1), rotations
    in a shear flow), and with `log_growth` v*log(v) for each input > 0 over the samples
    (Gompertz growth, r v log(K/v) = r log(K) v - r v log(v), with no inner constant: the
    `log` family's v*log(a*v) does the same where it is asked for). With the defaults that
    is 13 columns for one nonnegative input, 80 for two and 227 for three, and up to 8 and
    24 more reciprocal ones where inputs stay away from 0
    (12, 42 and 92 before the cross terms of degree 2, the products of angles and the drag,
    which were added for ODEBench: `benchmarks/discovery/odebench.md` has what they did;
    `Library(cross_degree=1, trig_products=False, signed=False, reciprocal=False)` is the
    library before them). `log_growth` is off by default: measured on ODEBench, it kept the
    class of 89 rows and lost 42:x_1 at 5% (a v*log(v) column changed the search); for terms
    of one input only it kept every 1-D row's class and lost the new-user bistable cubic. The
    powers to 5 are not in the defaults: measured, they gained no ODEBench term (the Landau
    term stays off the front) and cost the suite's `lotka_volterra_other` at 1% noise, where
    a -3.4e-5*v**4 term joined u*v/2. `power` (v**a) and `log` (log(a*v)) are available but
    not in the defaults either. Sums of up to `Offline.max_terms` of them, with fitted
    coefficients, are the expressions searched.
    """

    degree: int = 3
    families: tuple[str, ...] = ("sin", "cos", "exp", "gauss", "lorentz", "monod", "hill")
    cross: bool = True
    powers: int = 3
    cross_degree: int = 2
    trig_products: bool = True
    signed: bool = True
    reciprocal: bool = True
    log_growth: bool = False

    def __post_init__(self):
        if isinstance(self.families, str):
            raise DiscoveryInputError(
                f"Library(families={self.families!r}): a tuple of family names is needed, "
                f'not one string. Fix: `families=("{self.families}",)`.'
            )
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown:
            raise DiscoveryInputError(
                f"Library(families=...): unknown family `{unknown[0]}`; "
                f"expected some of {sorted(FAMILIES)}."
            )
        check_counts("Library", {"degree": (self.degree, 1), "powers": (self.powers, 0)})
        check_counts("Library", {"cross_degree": (self.cross_degree, 1)})
        for name in ("cross", "trig_products", "signed", "reciprocal", "log_growth"):
            if not isinstance(getattr(self, name), bool):
                raise DiscoveryInputError(
                    f"Library({name}={getattr(self, name)!r}): expected True or False."
                )

    def terms(self, arrays: list[np.ndarray]) -> list[Term]:
        """The library's terms for inputs sampled as `arrays`, in a fixed order."""
        n_inputs = len(arrays)
        zero = (0,) * n_inputs

        def monomials(low: int, high: int) -> list[tuple[int, ...]]:
            return [
                tuple(combo.count(i) for i in range(n_inputs))
                for degree in range(low, high + 1)
                for combo in itertools.combinations_with_replacement(range(n_inputs), degree)
            ]

        terms = [Term(zero), *(Term(m) for m in monomials(1, self.degree))]
        for power in range(self.degree + 1, self.powers + 1):
            terms += [
                Term(tuple(power * int(k == i) for k in range(n_inputs))) for i in range(n_inputs)
            ]
        factors = monomials(1, self.cross_degree) if self.cross else []
        for family in self.families:
            for j in range(n_inputs):
                low, top = np.min(arrays[j]), np.max(np.abs(arrays[j]))
                if family in _NONNEGATIVE and low < -NEGATIVE_SLACK * top:
                    continue
                if family in _POSITIVE_ONLY and np.min(arrays[j]) <= 0:
                    continue
                own = tuple(int(k == j) for k in range(n_inputs))
                for a in FAMILIES[family][2]:
                    terms.append(Term(zero, family, j, a))
                    # A factor in the family's own input alone (x*sin(x)) is left out, but
                    # for x*log(a*x): Gompertz growth, r x log(K/x) = -r x log(x/K).
                    terms += [Term(m, family, j, a) for m in factors if sum(m) > m[j]]
                    if family == "log":
                        terms.append(Term(own, family, j, a))
        if self.signed:
            for j in range(n_inputs):
                if np.min(arrays[j]) < 0 < np.max(arrays[j]):
                    terms.append(
                        Term(tuple(int(k == j) for k in range(n_inputs)), second=("abs", j))
                    )
        if self.log_growth and "log" not in self.families:
            for j in range(n_inputs):
                if np.min(arrays[j]) > 0:
                    own = tuple(int(k == j) for k in range(n_inputs))
                    terms.append(Term(own, second=("log", j)))
        if self.trig_products:
            trig = [f for f in ("sin", "cos") if f in self.families]
            for i, j in itertools.combinations(range(n_inputs), 2):
                terms += [Term(zero, f, i, 1.0, (g, j)) for f in trig for g in trig]
            if len(trig) == 2:  # sin(v)*cos(v) = sin(2*v)/2 beside sin(v): a bead on a hoop
                terms += [Term(zero, "sin", i, 1.0, ("cos", i)) for i in range(n_inputs)]
            if self.reciprocal:
                terms += _reciprocal_terms(arrays, trig)
        return terms


def _away_from_zero(values: np.ndarray) -> bool:
    """Whether `values` keep one sign with their smallest magnitude at least
    `RECIPROCAL_FLOOR` times their largest (`Library(reciprocal=True)`)."""
    magnitude = np.abs(values)
    one_sign = bool(np.all(values > 0) or np.all(values < 0))
    return one_sign and float(np.min(magnitude)) >= RECIPROCAL_FLOOR * float(np.max(magnitude))


def _reciprocal_terms(arrays: list[np.ndarray], trig: list[str]) -> list[Term]:
    """sin/cos(v_i)/v_j and sin/cos(v_i)*cot(v_j), i != j, where v_j (sin(v_j)) stays away
    from 0 (`_away_from_zero`)."""
    zero = (0,) * len(arrays)
    terms = []
    for j, values in enumerate(arrays):
        pairs = (("inv", values), ("cot", np.sin(values)))
        factors = [k for k, v in pairs if _away_from_zero(v)]
        for i, f, k in itertools.product(range(len(arrays)), trig, factors):
            if i != j:
                terms.append(Term(zero, f, i, 1.0, (k, j)))
    return terms


def inner_grid(term: Term, arrays: list[np.ndarray]) -> list[float]:
    """Starting values of `term`'s inner constant: its family's grid scaled to the input's
    largest magnitude over the samples, within the family's bounds."""
    scale = max(float(np.max(np.abs(arrays[term.inner]))), 1e-12)
    scale = scale**2 if term.family in _SQUARED else scale
    scale = 1.0 if term.family in _UNSCALED else scale
    scale = 1.0 / scale**2 if term.family in _INVERSE else scale
    low, high = FAMILIES[term.family][3]
    return [g / scale for g in FAMILIES[term.family][4] if low <= g / scale <= high]


def argument_span(term: Term, arrays: list[np.ndarray], a: float) -> float:
    """The largest magnitude over the samples of the quantity `term`'s family is nonlinear
    in, with inner constant `a`: a*v for sin, cos, exp and monod, a*v**2 for gauss and
    lorentz, v**2/a for hill, a*log(v) for power; inf for log (log(a*v) = log(v) + log(a) has
    no such limit). Where it is small the family is its first-order Taylor polynomial, and a
    fit with it is a disguised simpler one with an inverse coefficient (2.5e8*sin(4e-9*x)
    for 1.0*x): `pinnkit.discover.offline` drops such refined fits."""
    if term.family == "log":
        return math.inf
    v = np.abs(arrays[term.inner])
    with np.errstate(all="ignore"):
        if term.family in _SQUARED:
            argument = a * v**2
        elif term.family in _INVERSE:
            argument = v**2 / a
        elif term.family == "power":
            argument = a * np.log(v)
        else:
            argument = a * v
    return float(np.max(np.abs(argument)))
