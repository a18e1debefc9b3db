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
from pinnkit.discover.checks import check_counts
from pinnkit.discover.library import FAMILIES, Library, Term, argument_span, inner_grid
from pinnkit.errors import DiscoveryError, DiscoveryInputError

__all__ = ["Library", "Term", "Offline", "FAMILIES"]

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
#: A refined family whose argument stays below this over the samples is its own first-order
#: Taylor polynomial there (`argument_span`; sin(z) and exp(z) depart from their best line by
#: 2e-4 of their RMS for |z| <= 0.08, below the network's error and the noise; the frequency
#: grid starts at 0.1): the fit is dropped, the one with the library's values kept.
DEGENERATE_SPAN = 0.08


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
    giving a second candidate; so is every family alone (`sin(a*x)`). With `polynomial`,
    the sums of up to `max_terms` pure monomials (the constant included) are searched
    exhaustively too, however large the library, and their own Pareto front becomes
    `Front.subfront` (judged with the physics whatever its rank among the near candidates):
    the beam ranks supports by their fit to a network's values, whose smooth error of a few
    percent the families follow better than a polynomial truth does; the next `screen`
    polynomial supports of each size (two terms or more) by that fit become `Front.screen`,
    screened with the physics by a short refit (`pinnkit.discover.screen`). All
    candidates go through `make_front`. Compare SINDy (Brunton, Proctor, Kutz, PNAS 2016),
    which uses the same kind of library with thresholded least squares (STLSQ) instead of
    best-subset search; the benchmark compares the two.

    With `operator` (an `(m, n)` matrix; `fit(..., operator=A)`), the inputs are `n` points
    and the target `m` values, and every column is mapped by it before the regression: the
    target is fitted by `A @ (sum of c_k * term_k)`, so a formula can be fitted to what is
    observed of its integral along a trajectory rather than to its values there
    (`pinnkit.discover.integral`); losses are then in the target's units.

    Deterministic: `seed` only picks the subsample when there are more than `max_samples`.
    """

    library: Library = Library()
    max_terms: int = 4
    exhaustive_limit: int = 100_000
    beam_width: int = 40
    keep: int = 6
    screen: int = 12
    refine: bool = True
    polynomial: bool = True
    max_samples: int = 4000
    name: str = "offline"

    def __post_init__(self):
        if not isinstance(self.library, Library):
            raise DiscoveryInputError(
                f"Offline(library={self.library!r}): expected a `Library`. Fix: "
                "`Offline(library=Library(...))`."
            )
        counts = {"max_terms": 1, "exhaustive_limit": 1, "beam_width": 1, "keep": 1, "screen": 0}
        check_counts("Offline", {k: (getattr(self, k), least) for k, least in counts.items()})
        check_counts("Offline", {"max_samples": (self.max_samples, 10)})

    def fit(
        self,
        inputs: Mapping[sp.Symbol, np.ndarray],
        target: np.ndarray,
        *,
        seed: int = 0,
        operator: np.ndarray | None = None,
    ) -> Front:
        start = time.perf_counter()
        symbols, arrays, y = _prepare(inputs, target, self.max_samples, seed, operator)
        data = _Data(arrays, y, operator)
        terms = self.library.terms(arrays)
        columns = np.stack([t.values(arrays) for t in terms], axis=1)
        usable = np.all(np.isfinite(columns), axis=0) & (
            np.max(np.abs(columns), axis=0) < MAX_COLUMN
        )
        columns = data.project(np.where(usable, columns, 0.0))  # unusable: norm 0, dropped
        norms = np.linalg.norm(columns, axis=0)
        usable &= norms > 0
        terms = [t for t, ok in zip(terms, usable) if ok]
        columns = columns[:, usable] / norms[usable]
        gram = columns.T @ columns + RIDGE * np.eye(len(terms))
        moments = columns.T @ y
        # The constant model anchors the scores: without it the simplest fitted expression
        # would get score 0 and lose to any longer one with a marginally smaller loss.
        constant = [Term((0,) * len(arrays))]
        pool = [_refit(constant, symbols, data)]
        sizes = np.array([complexity(t.expr(symbols)) for t in terms])
        best, simple = _best_supports(gram, moments, self, len(terms), sizes)
        polynomials, screen = [], []
        if self.polynomial:
            plain = np.array([i for i, t in enumerate(terms) if not t.family and not t.second])
            kept, further = _polynomial_supports(gram, moments, plain, self, sizes)
            for support in kept:
                polynomials.append(_refit([terms[i] for i in support], symbols, data))
            for support in further:
                screen.append(_refit([terms[i] for i in support], symbols, data))
        for support in best:
            chosen = [terms[i] for i in support]
            pool.append(_refit(chosen, symbols, data))
            if self.refine and any(t.family for t in chosen):
                pool.append(_refine(chosen, symbols, data))
        for support in simple:  # least squares only: the simplest forms at each complexity
            pool.append(_refit([terms[i] for i in support], symbols, data))
        if self.refine:
            # Every family alone, its inner constant fitted: with a = 1 the column sin(x) on
            # [0, 1] looks like x and ranks low, though sin(pi*x) is exact.
            for term in terms:
                if term.family and not any(term.powers):
                    pool.append(_refine([term], symbols, data))
        return make_front(
            [p for p in pool + polynomials if p is not None],
            y,
            inputs=symbols,
            backend=self.name,
            seconds=time.perf_counter() - start,
            subpool=polynomials,
            screen=[p for p in screen if p is not None],
        )


@dataclass(frozen=True)
class _Data:
    """The inputs (`arrays`, one per symbol), the target `y` and the `operator` (or None)
    every column is mapped by before it is compared with `y`."""

    arrays: list
    y: np.ndarray
    operator: np.ndarray | None = None

    def project(self, columns: np.ndarray) -> np.ndarray:
        return columns if self.operator is None else self.operator @ columns

    def strided(self, n: int) -> _Data:
        """About `n` evenly strided samples (all of them with an operator: its rows are
        not the inputs' points)."""
        if self.operator is not None:
            return self
        step = max(1, self.y.size // n)
        return _Data([a[::step] for a in self.arrays], self.y[::step])


def _prepare(inputs, target, max_samples, seed, operator=None):
    """Validate the samples once; subsample to `max_samples` with the seeded generator (not
    with an `operator`, whose columns are the inputs' points)."""
    if not inputs:
        raise DiscoveryError("offline backend: no inputs given; expected {symbol: array}.")
    symbols = tuple(inputs)
    y = np.asarray(target, dtype=float).ravel()
    arrays = [np.asarray(inputs[s], dtype=float).ravel() for s in symbols]
    if operator is not None:
        return symbols, arrays, _checked_operator(operator, y, arrays)
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


def _checked_operator(operator, y: np.ndarray, arrays: list) -> np.ndarray:
    """`y` once `operator`, the inputs and the target are checked to fit together."""
    shape = np.shape(operator)
    n = arrays[0].size
    if len(shape) != 2 or shape != (y.size, n) or any(a.size != n for a in arrays):
        raise DiscoveryError(
            f"offline backend: operator of shape {shape} does not map {n} input points to "
            f"{y.size} target values; pass an (m, n) matrix, n input points, m targets."
        )
    if not (np.all(np.isfinite(y)) and all(np.all(np.isfinite(a)) for a in arrays)):
        raise DiscoveryError("offline backend: non-finite inputs or targets with an operator.")
    return y


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
            best = _best_per_complexity(supports, explained, sizes)
            simple += [b for b in best if b not in found]
    return found, simple


def _best_per_complexity(supports: np.ndarray, explained: np.ndarray, sizes) -> list:
    """Among `supports` (rows of term indices), the best fit of each total complexity."""
    total = sizes[supports].sum(axis=1)
    out = []
    for value in np.unique(total):
        rows = np.flatnonzero(total == value)
        out.append(tuple(int(i) for i in supports[rows[np.argmax(explained[rows])]]))
    return out


def _polynomial_supports(gram, moments, plain: np.ndarray, options: Offline, sizes) -> tuple:
    """Supports of up to `max_terms` pure monomials (the constant included), searched
    exhaustively whatever the library's size: the best `keep` of each size and the best of
    each total complexity; and, for `Front.screen`, the next `screen` of each size of two
    or more terms. The full search ranks supports by their fit to the hidden network's
    values, whose errors (a few percent, smooth) the families fit better than the truth
    does; polynomial right-hand sides then never reach the front, and among the polynomials
    the truth's support can rank 10th or 11th (ODEBench 26:x_1; a reaction-diffusion pair)."""
    out: list[tuple[int, ...]] = []
    further: list[tuple[int, ...]] = []
    for k in range(1, min(options.max_terms, plain.size) + 1):
        if math.comb(plain.size, k) > options.exhaustive_limit:
            break
        supports = plain[np.array(list(itertools.combinations(range(plain.size), k)), dtype=int)]
        explained = _explained(gram, moments, supports)
        order = np.argsort(-explained, kind="stable")
        best = [tuple(int(i) for i in row) for row in supports[order[: options.keep]]]
        for support in best + _best_per_complexity(supports, explained, sizes):
            if support not in out:
                out.append(support)
        if k > 1:
            ranked = supports[order[options.keep : options.keep + options.screen]]
            further += [tuple(int(i) for i in row) for row in ranked]
    return out, [s for s in further if s not in out]


def least_squares_solution(columns: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares coefficients of `columns` for `y` (`numpy.linalg.lstsq`). Raises
    LinAlgError where a column is not finite (an inner constant overflowing its family),
    as lstsq does, but before LAPACK prints "On entry to DLASCL parameter number 4 had an
    illegal value" to the console, which Python cannot silence."""
    if not np.all(np.isfinite(columns)):
        raise np.linalg.LinAlgError("a column is not finite at these inner constants")
    return np.linalg.lstsq(columns, y, rcond=None)[0]


def _combine(terms, symbols, coefficients, inner=None) -> sp.Expr:
    inner = inner or [None] * len(terms)
    return sp.Add(
        *(sp.Float(c) * t.expr(symbols, a) for c, t, a in zip(coefficients, terms, inner))
    )


def _refit(terms, symbols, data: _Data):
    """Plain least squares on the raw columns of `terms`: (expr, mean squared error)."""
    columns = data.project(np.stack([t.values(data.arrays) for t in terms], axis=1))
    coefficients = least_squares_solution(columns, data.y)
    loss = float(np.mean((columns @ coefficients - data.y) ** 2))
    return _combine(terms, symbols, coefficients), loss


def _refine(terms, symbols, data: _Data):
    """Fit the families' inner constants by variable projection: for each trial value the
    linear coefficients are solved exactly, and only the inner ones move. Each inner constant
    starts at the best point of its family's grid (one sweep, one constant at a time, the
    others held), then SciPy `least_squares` polishes them together; the fit from the
    library's own values is kept when it is better. None where the fit fails, or where a
    fitted family degenerates to its Taylor polynomial (`DEGENERATE_SPAN`)."""
    which = [i for i, t in enumerate(terms) if t.family]
    # The grid is scanned on about GRID_SAMPLES evenly strided samples, the inner constants
    # fitted on about FIT_SAMPLES; the linear coefficients and the loss use all of them.
    coarse, medium = data.strided(GRID_SAMPLES), data.strided(FIT_SAMPLES)
    arrays = data.arrays

    def solve(inner_values, data=data):
        columns = np.stack(
            [
                t.values(data.arrays, inner_values[which.index(i)] if i in which else None)
                for i, t in enumerate(terms)
            ],
            axis=1,
        )
        columns = data.project(columns)
        coefficients = least_squares_solution(columns, data.y)
        return columns @ coefficients - data.y, coefficients

    def residual(inner_values, data=data):
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
        grid = inner_grid(term, arrays)
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
    if any(argument_span(terms[i], arrays, inner[i]) < DEGENERATE_SPAN for i in which):
        return None
    return _combine(terms, symbols, coefficients, inner), loss
