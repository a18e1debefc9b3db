"""Step 4 of the choice rule (`pinnkit.discover.select`): additive terms of the chosen formula
are dropped while that lowers the evidence criterion (`prune`), the rest refit to the samples
(`fit_constants`); the rivals of the chosen formula lose the terms the samples do not see
(`prune_rivals`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from pinnkit.discover import ties
from pinnkit.discover.alternatives import SETTLE_DELTA
from pinnkit.discover.base import Candidate, complexity, form, mean_squared_error
from pinnkit.discover.criteria import Scored, rank
from pinnkit.discover.exact import freed
from pinnkit.discover.shortlist import rms

__all__ = ["prune", "prune_rivals", "fit_constants", "RIVALS", "RIVAL_REACH", "NEGLIGIBLE"]

#: `prune_rivals` looks at most this many admitted rivals of the chosen formula, the best
#: first ...
RIVALS = 6
#: ... those whose criterion is at most this much above the chosen formula's (4 ln 20, the
#: window in which an ODE problem's settle step judges forms again by their trajectory
#: refits) ...
RIVAL_REACH = SETTLE_DELTA
#: ... and drops their additive terms whose RMS over the samples is at most this fraction of
#: the term's RMS: terms the samples do not see.
NEGLIGIBLE = 0.01


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


def prune_rivals(current: Scored, samples, judge, scored: list, admits) -> Scored:
    """Step 4 for the rivals of the pruned choice `current`: up to `RIVALS` other admitted
    formulas of `scored`, of forms other than `current`'s and within `RIVAL_REACH` of its
    criterion, lose their `NEGLIGIBLE` additive terms, the rest refit to the samples and
    judged (added to `scored`, where an ODE problem's settle step finds them); the best
    admitted (`rank`) replaces `current`. A spurious small term can hide the truth's form:
    ODEBench 34:x_1 at 1% noise judged it only with a constant of -6e-4 (and with
    -3e-4*exp(-x_1)), 11.3 behind the chosen look-alike by the PINN refits; bare, its
    trajectory refit wins."""
    if not admits(current):
        return current
    scale = float(np.sqrt(np.mean(np.square(samples.target))))
    seen = {_shape(s.candidate.expr) for s in scored}
    chosen_form = form(current.candidate.expr)
    best, looked = current, 0
    for rival in sorted(scored, key=rank):
        if looked == RIVALS or rival.criterion > current.criterion + RIVAL_REACH:
            break
        terms = sp.Add.make_args(rival.candidate.expr)
        if form(rival.candidate.expr) == chosen_form or not admits(rival):
            continue
        looked += 1
        bare = sp.Add(*(t for t in terms if rms(t, samples) > NEGLIGIBLE * scale))
        if len(sp.Add.make_args(bare)) == len(terms) or bare == 0 or _shape(bare) in seen:
            continue
        seen.add(_shape(bare))
        tried = judge(fit_constants(bare, samples))
        scored.append(tried)
        if admits(tried) and rank(tried) < rank(best):
            best = tried
    return best


def _shape(expr: sp.Expr) -> sp.Expr:
    """`expr` with every float one placeholder: finer than `form`, which also sets inner
    constants to 1 (`sin(0.76*x)` and `sin(x)` are one form, two shapes)."""
    return expr.xreplace({f: _PLACEHOLDER for f in expr.atoms(sp.Float)})


_PLACEHOLDER = sp.Symbol("_c")


def _free_if_better(kept: Scored, samples, judge, scored: list, admits) -> Scored:
    """`kept` or, where it has exact numbers other than +-1, its `freed` version (constants
    refit to the samples, then judged) when that is admitted with a lower criterion."""
    free_expr = freed(kept.candidate.expr)
    if free_expr == kept.candidate.expr:
        return kept
    free = judge(fit_constants(free_expr, samples))
    scored.append(free)
    return free if admits(free) and free.criterion < kept.criterion else kept
