"""Step 4 of the choice rule (`pinnkit.discover.select`): additive terms of the chosen formula
are dropped while the rest still passes or is within `PRUNE_MARGIN` noise units of it
(`prunes_to`, `prune`), the rest refit to the samples (`fit_constants`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from pinnkit.discover.base import Candidate, complexity, mean_squared_error
from pinnkit.discover.criteria import DATA_THRESHOLD, Scored, passes
from pinnkit.discover.shortlist import rms

__all__ = ["prune", "prunes_to", "fit_constants", "PRUNE_MARGIN"]

#: Pruning (step 4) drops an additive term of a passing chosen formula when the rest still
#: passes the loss test and its misfit is at most this many noise units above the chosen
#: formula's. Without it the data test, against a free network that overfits the noise,
#: can pass the truth with a spurious small term but not the truth: on the suite's
#: Lotka-Volterra over t in [0, 6] (5% noise, seed 3) q = 0.798*u*v - 0.159*cos(0.881*u)
#: grew the misfit by 11.5 noise units and 0.796*u*v by 13.1.
PRUNE_MARGIN = 4.0


def prunes_to(
    pruned: Scored,
    chosen: Scored,
    network: float,
    factor: float,
    floor: float = 0.0,
    threshold: float = DATA_THRESHOLD,
) -> bool:
    """Step 4's test of `pruned`, the chosen formula `chosen` with terms dropped: it
    `passes`, or `chosen` passed and `pruned` passes the loss test with a misfit at most
    `PRUNE_MARGIN` noise units above `chosen`'s (the dropped terms bought less than that)."""
    if passes(pruned.physics, network, factor, floor, pruned.excess, threshold):
        return True
    return (
        passes(chosen.physics, network, factor, floor, chosen.excess, threshold)
        and passes(pruned.physics, network, factor, floor)
        and pruned.excess <= chosen.excess + PRUNE_MARGIN
    )


def fit_constants(expr: sp.Expr, samples) -> Candidate:
    """`expr` with its floats refit (least squares) to a term's samples, as a `Candidate`."""
    floats = sorted(expr.atoms(sp.Float), key=sp.default_sort_key)
    symbols = list(samples.symbols)
    target = samples.target
    if floats:
        marks = sp.symbols(f"_c0:{len(floats)}")
        template = expr.xreplace(dict(zip(floats, marks)))
        function = sp.lambdify([*symbols, *marks], template, modules="numpy")
        columns = [samples.inputs[s] for s in symbols]

        def residual(values):
            with np.errstate(all="ignore"):
                out = np.broadcast_to(function(*columns, *values), target.shape) - target
            return np.where(np.isfinite(out), out, 1e3)

        found = least_squares(residual, [float(f) for f in floats], max_nfev=200).x
        expr = template.xreplace({m: sp.Float(float(v)) for m, v in zip(marks, found)})
    loss = mean_squared_error(expr, samples.inputs, target)
    return Candidate(expr=expr, complexity=complexity(expr), loss=loss, score=0.0)


def prune(current: Scored, samples, judge, scored: list, keep) -> Candidate:
    """Step 4: drop additive terms of the chosen formula while the result is good enough
    (`keep`: it passes, or is within `PRUNE_MARGIN` of the chosen formula) or explains at
    least as well, trying the term of smallest size (RMS over the samples) first; the rest
    is refit to the samples."""
    while isinstance(current.candidate.expr, sp.Add):
        expr = current.candidate.expr
        for term in sorted(expr.args, key=lambda term: rms(term, samples)):
            tried = judge(fit_constants(expr - term, samples))
            scored.append(tried)
            if keep(tried) or tried.physics <= current.physics:
                current = tried
                break
        else:
            break
    return current.candidate
