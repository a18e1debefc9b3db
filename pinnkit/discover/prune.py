"""Step 4 of the choice rule (`pinnkit.discover.select`): additive terms of the chosen formula
are dropped while that lowers the evidence criterion (`prune`), the rest refit to the samples
(`fit_constants`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from pinnkit.discover import ties
from pinnkit.discover.base import Candidate, complexity, mean_squared_error
from pinnkit.discover.criteria import Scored
from pinnkit.discover.exact import freed
from pinnkit.discover.shortlist import rms

__all__ = ["prune", "fit_constants"]


def fit_constants(expr: sp.Expr, samples) -> Candidate:
    """`expr` with its constants (`pinnkit.discover.ties`) refit (least squares) to a term's
    samples, as a `Candidate`."""
    floats = ties.constants(expr)
    symbols = list(samples.symbols)
    target = samples.target
    if floats:
        marks = sp.symbols(f"_c0:{len(floats)}")
        template = ties.templated(expr, dict(zip(floats, marks)))
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


def prune(current: Scored, samples, judge, scored: list, admits) -> Scored:
    """Step 4: drop additive terms of the chosen formula `current` while that lowers the
    criterion of an admitted formula (`admits`), or, when `current` was not admitted, while
    the rest explains at least as well; the term of smallest size (RMS over the samples) is
    tried first and the rest refit to the samples. A kept formula with exact numbers (a
    round form's `1/4`) is judged with them free too (`freed`), and the better kept: the
    exact number was worth its price beside the dropped term, which says nothing of it
    without (ODEBench 50's x_0 kept 1/4 where its trajectory refit puts 0.240 +- 0.006).
    Every formula judged is added to `scored`; returns the last one kept."""
    while isinstance(current.candidate.expr, sp.Add):
        expr = current.candidate.expr
        for term in sorted(expr.args, key=lambda term: rms(term, samples)):
            tried = judge(fit_constants(expr - term, samples))
            scored.append(tried)
            if admits(current):
                better = admits(tried) and tried.criterion < current.criterion
            else:
                better = tried.physics <= current.physics
            if better:
                current = _free_if_better(tried, samples, judge, scored, admits)
                break
        else:
            break
    return current


def _free_if_better(kept: Scored, samples, judge, scored: list, admits) -> Scored:
    """`kept` or, where it has exact numbers other than +-1, its `freed` version (constants
    refit to the samples, then judged) when that is admitted with a lower criterion."""
    free_expr = freed(kept.candidate.expr)
    if free_expr == kept.candidate.expr:
        return kept
    free = judge(fit_constants(free_expr, samples))
    scored.append(free)
    return free if admits(free) and free.criterion < kept.criterion else kept
