"""Step 1 of the choice rule (`pinnkit.discover.select`): which candidates of a Pareto front
are judged, and in what order (`shortlist`); their complexity once constants are rounded, and
whether the terms of a near candidate cancel over the samples (`cancels`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from pinnkit.discover.base import Candidate, Front, complexity
from pinnkit.discover.exact import snap_constants

__all__ = [
    "shortlist",
    "simplest",
    "cancels",
    "centred",
    "snapped_complexity",
    "least_complexity",
    "rms",
    "SHORTLIST_SIZE",
    "CANCEL_FACTOR",
    "TIE_LIMIT",
]

#: At most this many members of the front are tried (the simplest), plus the backend's
#: choice, and at most this many near candidates (`Front.near`).
SHORTLIST_SIZE = 12
#: A near candidate (`Front.near`) is judged only when the RMS of its additive terms over the
#: samples add up to at most this many times the RMS of the term's samples. Off the front,
#: best-subset fits with cancelling terms abound (-5.3*u + 6.3*sin(u), or 3e4*exp(1.0001e-4*u)
#: - 3e4*exp(1.0002e-4*u) - 1.6*u**3 on Fisher-KPP, which float32 Parameters then collapse
#: to -1.6*u**3); u - u**3 on [-1, 1] adds up to about 4. A polynomial is judged in powers of
#: its inputs' offsets from their means over the samples (`cancels`).
CANCEL_FACTOR = 10.0
#: `simplest` keeps the candidates tied in complexity with the last of its `size`, up to
#: this many times `size` in all.
TIE_LIMIT = 2


def snapped_complexity(candidate: Candidate) -> int:
    """Complexity after rounding constants within 2% of simple numbers (`snap_constants`)."""
    return complexity(snap_constants(candidate.expr))


def least_complexity(expr: sp.Expr) -> int:
    """A lower bound of the complexity of `expr` after rounding, whatever its constants
    become: every float set to 1 (`0.9*u - 1.1*u**2` -> `u + u**2`, 5)."""
    return complexity(expr.xreplace({f: sp.Integer(1) for f in expr.atoms(sp.Float)}))


def shortlist(front: Front, samples=None, *, size: int = SHORTLIST_SIZE) -> list[Candidate]:
    """Step 1 of the rule: the simplest `size` members of the front (`simplest`: with those
    tied in complexity with the last), the backend's choice, the simplest `size` near
    candidates (`Front.near`) whose terms do not cancel over
    `samples` (`cancels`; all of them without samples), the sub-library's front
    (`Front.subfront`) and the integral regression's (`Front.integral`), in order of rounded
    complexity (then sample loss)."""

    def order(c: Candidate) -> tuple[int, float]:
        return (snapped_complexity(c), c.loss)

    chosen = simplest(front.candidates, size, order)
    if all(c is not front.best for c in chosen):
        chosen.append(front.best)
    near = [c for c in front.near if samples is None or not cancels(c.expr, samples)]
    near = simplest(near, size, order)
    return sorted([*chosen, *near, *front.subfront, *front.integral], key=order)


def simplest(candidates, size: int, order) -> list[Candidate]:
    """The first `size` of `candidates` by `order` (rounded complexity, then sample loss),
    and those tied with the last of them in rounded complexity, up to `TIE_LIMIT` times
    `size` in all: a cut inside a tie would split forms of equal price by their loss on the
    network's samples, which the choice does not trust (ODEBench 42:x_1 at 5% noise: the
    truth's form was 13th of 61 near candidates, tied in complexity with the 12th)."""
    keyed = sorted(((order(c), c) for c in candidates), key=lambda pair: pair[0])
    last = keyed[size - 1][0][0] if len(keyed) > size else None
    tied = [c for key, c in keyed[size:] if key[0] == last]
    return [*(c for _, c in keyed[:size]), *tied][: TIE_LIMIT * size]


def cancels(expr: sp.Expr, samples) -> bool:
    """Whether the additive terms of `expr` cancel over `samples` (a `HiddenSamples`): their
    RMS values add up to more than `CANCEL_FACTOR` times the RMS of the target. A polynomial
    in the inputs is written first in powers of each input's offset from its mean over the
    samples (`centred`): written about 0, a polynomial whose roots lie among samples far from
    0 cancels without being ill-conditioned (the Allee growth 0.8 u (u - 0.25)(1 - u) over u
    in [0.35, 1]: its terms in powers of u add up to about 45 times its RMS, about 6 in
    powers of u less its mean)."""
    scale = float(np.sqrt(np.mean(np.square(samples.target))))
    expr, samples = centred(expr, samples)
    return sum(rms(term, samples) for term in sp.Add.make_args(expr)) > CANCEL_FACTOR * scale


def centred(expr: sp.Expr, samples):
    """`expr` and `samples` with every input v replaced by v - mean(v) over the samples
    (`expr` expanded in those offsets) where `expr` is a polynomial in the inputs; both
    unchanged otherwise. The values of `expr` are the same."""
    symbols = [s for s in samples.symbols if s in expr.free_symbols]
    if not symbols or not expr.is_polynomial(*symbols):
        return expr, samples
    means = {s: float(np.mean(samples.inputs[s])) for s in symbols}
    shifted = sp.expand(expr.xreplace({s: s + m for s, m in means.items()}))
    inputs = {s: v - means.get(s, 0.0) for s, v in samples.inputs.items()}
    return shifted, dataclasses.replace(samples, inputs=inputs)


def rms(term: sp.Expr, samples) -> float:
    """The root mean square of `term` over `samples` (a `HiddenSamples`)."""
    values = np.broadcast_to(
        sp.lambdify(samples.symbols, term, "numpy")(*(samples.inputs[s] for s in samples.symbols)),
        samples.target.shape,
    )
    return float(np.sqrt(np.mean(np.square(values))))
