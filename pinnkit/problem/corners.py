"""Where an initial value meets a boundary value: warn when they disagree.

A Dirichlet value on a boundary part and the initial value of the same field both hold at the
part's points at the start time. When they differ there (a rod at 0 whose end is held at 1
from t = 0 on), the solution jumps at that edge of space-time: its time derivative is
unbounded near it, a smooth network meets both conditions only by a steep layer, and the
error of the fit (and of every refit discovery makes) gathers there. Measured (2026-12-05):
heat with a hidden boundary law, u(0, t) = 1 against u(x, 0) = 0, trained to relative L2
1.1e-2 with the hidden term 24% off its truth, and discovery's refits of the true law ran
to 945 times the trained loss; with the compatible start u(x, 0) = exp(-5 x) the fit came
to 1.4e-3 and discovery returned the law exactly. The check is a warning, since a jump
may be what the user means. Never imports torch.
"""

from __future__ import annotations

import warnings

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.errors import PinnkitError, PinnkitWarning

__all__ = ["warn_if_incompatible", "CORNER_POINTS", "CORNER_TOLERANCE"]

#: Points of each boundary part at the start time where the two values are compared.
CORNER_POINTS = 64
#: They disagree when they differ by more than this fraction of the field's size there: the
#: largest magnitude of its initial value over the initial slice and of the boundary value
#: on the part (at least 1e-9). A Gaussian start exp(-40 (x - 1/2)^2) meets u = 0 at
#: x = 0 to 4.5e-5 of its peak, which is no jump.
CORNER_TOLERANCE = 1e-3


def warn_if_incompatible(problem) -> None:
    """Warn, once per pair, where a field's Dirichlet value on a boundary part and its
    initial value differ at the part's points at the start time (see the module)."""
    domain = problem.domain
    time = getattr(domain, "time", None)
    if time is None or not getattr(domain, "space_coords", ()):
        return
    initial = {name: value for name, value, _ in _values(problem, ("initial",))}
    if not initial:
        return
    coords = list(problem.coords)
    column = coords.index(time)
    start = float(domain.bounds[0][column])
    rng = np.random.default_rng(0)
    sizes = _initial_sizes(problem, initial, coords, rng)
    for name, value, cond in _values(problem, None):
        if name not in initial:
            continue
        try:
            points = domain.sample(cond.on, CORNER_POINTS, rng).points.copy()
        except (PinnkitError, ValueError):  # a part that cannot be sampled: checked elsewhere
            continue
        points[:, column] = start
        pair = [_evaluate(v, coords, points) for v in (initial[name], value)]
        if any(p is None for p in pair):
            continue
        gap = np.abs(pair[0] - pair[1])
        scale = max(sizes.get(name, 0.0), float(np.max(np.abs(pair[1]))), 1e-9)
        worst = int(np.argmax(gap))
        if gap[worst] > CORNER_TOLERANCE * scale:
            at = ", ".join(f"{c} = {points[worst, i]:.4g}" for i, c in enumerate(coords))
            warnings.warn(
                f'condition "{cond.name}": {name} = {pair[1][worst]:.4g} on `{cond.on}` but its '
                f"initial value is {pair[0][worst]:.4g} there at the start ({at}): the solution "
                f"jumps at that edge, which a network resolves only by a steep layer (the "
                f"fit's error, and discovery's refits, gather there). Fix: an initial value "
                f"that meets the boundary value (a smooth ramp), unless the jump is meant.",
                PinnkitWarning,
                stacklevel=3,
            )


def _initial_sizes(problem, initial: dict, coords: list, rng) -> dict[str, float]:
    """Field name -> the largest magnitude of its initial value over the initial slice."""
    try:
        points = problem.domain.sample("initial", CORNER_POINTS, rng).points
    except (PinnkitError, ValueError):
        return {}
    values = {name: _evaluate(value, coords, points) for name, value in initial.items()}
    return {name: float(np.max(np.abs(v))) for name, v in values.items() if v is not None}


def _values(problem, regions):
    """(field name, value, condition) of each `field = value` condition: on `regions`
    (`("initial",)`), or with `None` the Dirichlet ones on boundary parts."""
    fields = {f: str(f.func) for f in problem.fields}
    for cond in problem.conditions:
        if regions is not None and cond.on not in regions:
            continue
        if regions is None and (cond.on in ("initial", "final", "interior") or cond.periodic):
            continue
        applied = cond.expr.atoms(AppliedUndef)
        if cond.expr.has(sp.Derivative) or len(applied) != 1:
            continue
        (field,) = applied
        if field not in fields or sp.diff(cond.expr, field) != 1:  # not `field - value`
            continue
        yield fields[field], field - cond.expr, cond


def _evaluate(value: sp.Expr, coords: list, points: np.ndarray) -> np.ndarray | None:
    """`value` at `points` (columns in `coords` order), or None where NumPy cannot."""
    if value.free_symbols - set(coords):
        return None  # learned constants: no fixed value to compare
    try:
        out = sp.lambdify(coords, value, "numpy")(*points.T)
        return np.broadcast_to(np.asarray(out, dtype=float), (len(points),))
    except (TypeError, NameError, ValueError, ZeroDivisionError):
        return None
