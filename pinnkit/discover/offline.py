"""The offline backend: best-subset sparse regression over a SymPy library of candidate terms.

Needs NumPy and SciPy only (no Julia), is deterministic, and takes well under a second on a
few thousand samples of two or three inputs. The method and why it is the default are in
README.md ("Discovery backends") and `benchmarks/discovery/backends.md`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from pinnkit.discover.base import AbstractBackend, Front, complexity, make_front
from pinnkit.errors import DiscoveryError

__all__ = ["Library", "Term", "Offline", "FAMILIES"]

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
# to (1 - x)**1.2, Gompertz's x*log(x) needs a product the library does not form). Pass
# `Library(families=(..., "power", "log"))` to use them.
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
#: Factors without an inner constant (`Term.second`): SymPy and NumPy forms.
_FACTORS = {"sin": (sp.sin, np.sin), "cos": (sp.cos, np.cos), "abs": (sp.Abs, np.abs)}
# Samples the grid of starting inner constants is scanned on (a strided subset).
GRID_SAMPLES = 400
FIT_SAMPLES = 1000
# A column whose largest magnitude exceeds this (exp of a large input, a pole of monod) is
# dropped: it would dominate the fit numerically and is not a plausible hidden term there.
MAX_COLUMN = 1e8
# Ridge added to the standardised Gram matrix so that nearly collinear supports stay solvable
# while ranking; the chosen supports are refit with plain least squares.
RIDGE = 1e-10
#: Supports of up to this many terms, where searched exhaustively, also give the best support
#: of each total complexity to the pool (`_best_supports`).
SIMPLE_TERMS = 3


@dataclass(frozen=True)
class Term:
    """One library column: a monomial in the inputs times, optionally, one family g(a*v_j).

    **Arguments**

    - `powers`: the exponent of each input in the monomial.
    - `family`: a key of `FAMILIES`, or None for a pure monomial.
    - `inner`: index of the input the family is applied to.
    - `a`: the family's inner constant.
    - `second`: `(factor, input)` of a factor without an inner constant (`_FACTORS`): `sin`
      or `cos` at unit frequency (`sin(v_i)*cos(v_j)`), or `abs` (`v*|v|`, a quadratic drag).
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

    For inputs v_1..v_n: the constant 1, every monomial of total degree 1..`degree`, each
    input alone to the powers above that up to `powers` (none by default; `powers=5` gives
    x**4, x**5, the Landau equation's quintic), each family of `families` applied to each
    input, with `cross` each monomial of degree 1..`cross_degree` that involves another input
    times a family (u*exp(-x**2), x*sin(t), x*y/(1 + a*x**2): a saturating interaction), with
    `trig_products` the products sin/cos(v_i) times sin/cos(v_j) of two different inputs at
    unit frequency (angles: sin(y)*cos(x)), and with `signed` v*|v| for each input that
    changes sign (a quadratic drag; where v keeps its sign it is +-v**2, already there). With
    the defaults that is 12 columns for one nonnegative input, 78 for two and 224 for three
    (12, 42 and 92 before the cross terms of degree 2, the products of angles and the drag,
    which were added for ODEBench: `benchmarks/discovery/odebench.md` has what they did;
    `Library(cross_degree=1, trig_products=False, signed=False)` is the library before
    them). The powers to 5 are not in the defaults: measured, they gained no ODEBench term
    (the Landau term stays off the front) and cost the suite's `lotka_volterra_other` at 1%
    noise, where a -3.4e-5*v**4 term joined u*v/2. `power` (v**a) and `log` (log(a*v)) are
    available but not in the defaults either. Sums of up to `Offline.max_terms` of them, with
    fitted coefficients, are the expressions searched.
    """

    degree: int = 3
    families: tuple[str, ...] = ("sin", "cos", "exp", "gauss", "lorentz", "monod", "hill")
    cross: bool = True
    powers: int = 3
    cross_degree: int = 2
    trig_products: bool = True
    signed: bool = True

    def terms(self, arrays: list[np.ndarray]) -> list[Term]:
        """The library's terms for inputs sampled as `arrays`, in a fixed order."""
        n_inputs = len(arrays)
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown:
            raise DiscoveryError(
                f"Library(families=...): unknown family `{unknown[0]}`; "
                f"expected some of {sorted(FAMILIES)}."
            )
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
                if family in _NONNEGATIVE and np.min(arrays[j]) < 0:
                    continue
                if family in _POSITIVE_ONLY and np.min(arrays[j]) <= 0:
                    continue
                for a in FAMILIES[family][2]:
                    terms.append(Term(zero, family, j, a))
                    # A factor in the family's own input alone (x*sin(x)) is left out.
                    terms += [Term(m, family, j, a) for m in factors if sum(m) > m[j]]
        if self.signed:
            for j in range(n_inputs):
                if np.min(arrays[j]) < 0 < np.max(arrays[j]):
                    terms.append(
                        Term(tuple(int(k == j) for k in range(n_inputs)), second=("abs", j))
                    )
        if self.trig_products:
            trig = [f for f in ("sin", "cos") if f in self.families]
            for i, j in itertools.combinations(range(n_inputs), 2):
                terms += [Term(zero, f, i, 1.0, (g, j)) for f in trig for g in trig]
        return terms


@dataclass(frozen=True)
class Offline(AbstractBackend):
    """Best-subset sparse regression over a `Library` (the default backend).

    For each support size k = 1..`max_terms` it finds the supports (sets of library terms)
    with the smallest least-squares residual: exhaustively while there are at most
    `exhaustive_limit` supports of that size, otherwise by a beam search that extends the
    `beam_width` best supports of size k - 1 by one term. Columns are scaled to unit norm so
    the ranking does not depend on the inputs' units. The `keep` best supports of each size
    are refit by least squares on the raw columns; with `refine`, the inner constants of the
    families in them (sin(a*u), exp(-a*x**2), ...) are then fitted too (SciPy
    `least_squares`, the linear coefficients solved inside, from the best point of a grid),
    giving a second candidate; so is every family alone (`sin(a*x)`). All
    candidates go through `make_front`. Compare SINDy (Brunton, Proctor, Kutz, PNAS 2016),
    which uses the same kind of library with thresholded least squares (STLSQ) instead of
    best-subset search; the benchmark compares the two.

    Deterministic: `seed` only picks the subsample when there are more than `max_samples`.
    """

    library: Library = Library()
    max_terms: int = 4
    exhaustive_limit: int = 100_000
    beam_width: int = 40
    keep: int = 6
    refine: bool = True
    polynomial: bool = True
    max_samples: int = 4000
    name: str = "offline"

    def fit(
        self, inputs: Mapping[sp.Symbol, np.ndarray], target: np.ndarray, *, seed: int = 0
    ) -> Front:
        start = time.perf_counter()
        symbols, arrays, y = _prepare(inputs, target, self.max_samples, seed)
        terms = self.library.terms(arrays)
        columns = np.stack([t.values(arrays) for t in terms], axis=1)
        usable = np.all(np.isfinite(columns), axis=0) & (
            np.max(np.abs(columns), axis=0) < MAX_COLUMN
        )
        norms = np.linalg.norm(columns, axis=0)
        usable &= norms > 0
        terms = [t for t, ok in zip(terms, usable) if ok]
        columns = columns[:, usable] / norms[usable]
        gram = columns.T @ columns + RIDGE * np.eye(len(terms))
        moments = columns.T @ y
        # The constant model anchors the scores: without it the simplest fitted expression
        # would get score 0 and lose to any longer one with a marginally smaller loss.
        pool = [(sp.Float(float(np.mean(y))), float(np.var(y)))]
        sizes = np.array([complexity(t.expr(symbols)) for t in terms])
        best, simple = _best_supports(gram, moments, self, len(terms), sizes)
        polynomials = []
        if self.polynomial:
            plain = np.array([i for i, t in enumerate(terms) if not t.family and not t.second])
            for support in _polynomial_supports(gram, moments, plain, self, sizes):
                polynomials.append(_refit([terms[i] for i in support], symbols, arrays, y))
        for support in best:
            chosen = [terms[i] for i in support]
            pool.append(_refit(chosen, symbols, arrays, y))
            if self.refine and any(t.family for t in chosen):
                pool.append(_refine(chosen, symbols, arrays, y))
        for support in simple:  # least squares only: the simplest forms at each complexity
            pool.append(_refit([terms[i] for i in support], symbols, arrays, y))
        if self.refine:
            # Every family alone, its inner constant fitted: with a = 1 the column sin(x) on
            # [0, 1] looks like x and ranks low, though sin(pi*x) is exact.
            for term in terms:
                if term.family and not any(term.powers):
                    pool.append(_refine([term], symbols, arrays, y))
        return make_front(
            [p for p in pool + polynomials if p is not None],
            y,
            inputs=symbols,
            backend=self.name,
            seconds=time.perf_counter() - start,
            subpool=polynomials,
        )


def _prepare(inputs, target, max_samples, seed):
    """Validate the samples once; subsample to `max_samples` with the seeded generator."""
    if not inputs:
        raise DiscoveryError("offline backend: no inputs given; expected {symbol: array}.")
    symbols = tuple(inputs)
    y = np.asarray(target, dtype=float).ravel()
    arrays = [np.asarray(inputs[s], dtype=float).ravel() for s in symbols]
    for s, array in zip(symbols, arrays):
        if array.shape != y.shape:
            raise DiscoveryError(
                f"offline backend: input `{s}` has {array.size} samples but the target has "
                f"{y.size}; pass arrays of one length."
            )
    finite = np.isfinite(y) & np.all([np.isfinite(a) for a in arrays], axis=0)
    if finite.sum() < 10:
        raise DiscoveryError(
            f"offline backend: only {int(finite.sum())} finite samples; need at least 10."
        )
    keep = np.flatnonzero(finite)
    if keep.size > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(keep, max_samples, replace=False))
    return symbols, [a[keep] for a in arrays], y[keep]


def _explained(gram, moments, supports: np.ndarray) -> np.ndarray:
    """b_S' G_SS^-1 b_S for a batch of supports (rows of indices): the part of |y|^2 a
    least-squares fit on S explains, so the residual is |y|^2 minus it."""
    g = gram[supports[:, :, None], supports[:, None, :]]
    b = moments[supports]
    return np.einsum("mk,mk->m", b, np.linalg.solve(g, b[..., None])[..., 0])


def _best_supports(
    gram, moments, options: Offline, p: int, sizes: np.ndarray | None = None
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """The `keep` best supports of each size 1..max_terms (exhaustive, then beam search);
    and, among the supports of up to `SIMPLE_TERMS` terms searched exhaustively, the best of
    each total complexity of its terms (`sizes`, per term) that is not among the first: so
    the front has at each complexity the best fit of that complexity, not only the best of
    each number of terms (`0.32 - 0.6*x` beside `0.33 - 0.65*sin(x)`, which fits a curved
    network better and would otherwise hide it)."""
    found: list[tuple[int, ...]] = []
    simple: list[tuple[int, ...]] = []
    beam: np.ndarray | None = None
    for k in range(1, min(options.max_terms, p) + 1):
        if math.comb(p, k) <= options.exhaustive_limit:
            supports = np.array(list(itertools.combinations(range(p), k)), dtype=int)
        else:
            grown = {
                tuple(sorted((*row, j))) for row in beam.tolist() for j in range(p) if j not in row
            }
            supports = np.array(sorted(grown), dtype=int)
        explained = _explained(gram, moments, supports)
        order = np.argsort(-explained, kind="stable")
        beam = supports[order[: options.beam_width]]
        found.extend(tuple(int(i) for i in row) for row in supports[order[: options.keep]])
        if sizes is not None and k <= SIMPLE_TERMS and math.comb(p, k) <= options.exhaustive_limit:
            total = sizes[supports].sum(axis=1)
            for value in np.unique(total):
                rows = np.flatnonzero(total == value)
                best = tuple(int(i) for i in supports[rows[np.argmax(explained[rows])]])
                if best not in found:
                    simple.append(best)
    return found, simple


def _polynomial_supports(gram, moments, plain: np.ndarray, options: Offline, sizes) -> list:
    """Supports of up to `max_terms` pure monomials (the constant included), searched
    exhaustively whatever the library's size: the best `keep` of each size and the best of
    each total complexity. The full search ranks supports by their fit to the hidden
    network's values, whose errors (a few percent, smooth) the families fit better than the
    truth does; polynomial right-hand sides then never reach the front."""
    out: list[tuple[int, ...]] = []
    for k in range(1, min(options.max_terms, plain.size) + 1):
        if math.comb(plain.size, k) > options.exhaustive_limit:
            break
        supports = plain[np.array(list(itertools.combinations(range(plain.size), k)), dtype=int)]
        explained = _explained(gram, moments, supports)
        order = np.argsort(-explained, kind="stable")
        rows = list(order[: options.keep])
        total = sizes[supports].sum(axis=1)
        rows += [
            np.flatnonzero(total == v)[np.argmax(explained[total == v])] for v in np.unique(total)
        ]
        for r in rows:
            support = tuple(int(i) for i in supports[r])
            if support not in out:
                out.append(support)
    return out


def _combine(terms, symbols, coefficients, inner=None) -> sp.Expr:
    inner = inner or [None] * len(terms)
    return sp.Add(
        *(sp.Float(c) * t.expr(symbols, a) for c, t, a in zip(coefficients, terms, inner))
    )


def _refit(terms, symbols, arrays, y):
    """Plain least squares on the raw columns of `terms`: (expr, mean squared error)."""
    columns = np.stack([t.values(arrays) for t in terms], axis=1)
    coefficients = np.linalg.lstsq(columns, y, rcond=None)[0]
    loss = float(np.mean((columns @ coefficients - y) ** 2))
    return _combine(terms, symbols, coefficients), loss


def _refine(terms, symbols, arrays, y):
    """Fit the families' inner constants by variable projection: for each trial value the
    linear coefficients are solved exactly, and only the inner ones move. Each inner constant
    starts at the best point of its family's grid (one sweep, one constant at a time, the
    others held), then SciPy `least_squares` polishes them together; the fit from the
    library's own values is kept when it is better."""
    which = [i for i, t in enumerate(terms) if t.family]
    # The grid is scanned on about GRID_SAMPLES evenly strided samples, the inner constants
    # fitted on about FIT_SAMPLES; the linear coefficients and the loss use all of them.
    coarse, medium = (
        ([a[:: max(1, y.size // n)] for a in arrays], y[:: max(1, y.size // n)])
        for n in (GRID_SAMPLES, FIT_SAMPLES)
    )

    def solve(inner_values, data=(arrays, y)):
        columns = np.stack(
            [
                t.values(data[0], inner_values[which.index(i)] if i in which else None)
                for i, t in enumerate(terms)
            ],
            axis=1,
        )
        coefficients = np.linalg.lstsq(columns, data[1], rcond=None)[0]
        return columns @ coefficients - data[1], coefficients

    def residual(inner_values, data=(arrays, y)):
        with np.errstate(all="ignore"):
            r = solve(inner_values, data)[0]
        return np.where(np.isfinite(r), r, 1e3)

    def cost(inner_values) -> float:
        try:
            return float(np.sum(residual(inner_values, coarse) ** 2))
        except np.linalg.LinAlgError:
            return math.inf

    library = np.array([terms[i].a for i in which])
    start = library.copy()
    for k, i in enumerate(which):
        term = terms[i]
        scale = max(float(np.max(np.abs(arrays[term.inner]))), 1e-12)
        scale = scale**2 if term.family in _SQUARED else scale
        scale = 1.0 if term.family in _UNSCALED else scale
        scale = 1.0 / scale**2 if term.family in _INVERSE else scale
        low, high = FAMILIES[term.family][3]
        grid = [g / scale for g in FAMILIES[term.family][4] if low <= g / scale <= high]
        trials = [np.where(np.arange(len(which)) == k, g, start) for g in [start[k], *grid]]
        start = min(trials, key=cost)
    bounds = np.array([FAMILIES[terms[i].family][3] for i in which]).T
    best = None
    for origin in (start, library) if np.any(start != library) else (library,):
        try:
            result = least_squares(
                residual, origin, bounds=bounds, method="trf", max_nfev=60, args=(medium,)
            )
        except (ValueError, np.linalg.LinAlgError):
            continue
        if best is None or result.cost < best.cost:
            best = result
    if best is None:
        return None
    r, coefficients = solve(best.x)
    loss = float(np.mean(r**2))
    if not math.isfinite(loss):
        return None
    inner = [float(best.x[which.index(i)]) if i in which else None for i in range(len(terms))]
    return _combine(terms, symbols, coefficients, inner), loss
