"""Exact Dirichlet conditions of a problem: what each field must hold where, checked once.

`Dirichlet(u, g, on=..., exact=True)` is built into the model (`pinnkit.models.boundary`):
$u = \\sum_k w_k g_k + \\phi N$, with $\\phi_k$ the approximate distance function of part
$k$ (`pinnkit.domain.distance`), $\\phi$ their R-equivalence and $w_k = \\phi_k^{-1} /
\\sum_l \\phi_l^{-1}$ (Sukumar & Srivastava 2022, transfinite interpolation). This module
checks what that needs and returns, per field, its parts with their values and distance
functions. Never imports torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.domain.distance import PieceDistance, part_distances
from pinnkit.errors import PinnkitWarning, ProblemError

__all__ = ["ExactPart", "exact_dirichlet", "warn_if_solution", "MANY_SEGMENTS"]

#: An exact condition on a part outlined by more than this many trimmed segments (sides whose
#: lines cut into the domain: a hole's polygon, a 2-D mesh's curve) is warned of. Measured
#: (2026-12-05; -Lap u = f on [-1, 1]^2 less a hole of radius 0.3, u = 0 on both, 1,500
#: Adam + 300 L-BFGS steps, 32 x 3 MLP, float32, CPU): a 4-sided square hole trained to
#: relative L2 2.4e-2 exact against 0.46 soft, but a circle drawn with 16 to 128 segments
#: (`Polygon` or Gmsh mesh) to 0.12-0.23 exact against 5.3e-2 to 6.7e-2 soft, and 6.3e-3
#: exact on the analytic `Disk`: the joined trimmed functions flatten within about a
#: segment's length of the outline (each neighbour adds to the sum of reciprocals).
MANY_SEGMENTS = 8


@dataclass(frozen=True)
class ExactPart:
    """One exact Dirichlet condition: the field's name, the part, the value `g` (a SymPy
    expression of the coordinates) and the part's piece distance functions."""

    field: str
    region: str
    value: sp.Expr
    distances: tuple[PieceDistance, ...]


def exact_dirichlet(
    domain, conditions: Sequence, fields: Sequence[sp.Expr], coords: Sequence[sp.Symbol]
) -> dict[str, list[ExactPart]]:
    """Field name -> its exact Dirichlet parts, in the order given.

    **Raises**

    `ProblemError` when an exact condition is not `field = value` on a boundary part, its
    value depends on anything but the coordinates, the part has no distance function, or
    two exact conditions of one field share a boundary piece.
    """
    out: dict[str, list[ExactPart]] = {}
    pieces_of: dict[str, dict[tuple, str]] = {}
    for cond in conditions:
        where = f'condition "{cond.name}"'
        field = cond.fields[0] if cond.fields else None
        if field not in fields:
            raise ProblemError(
                f"{where}: exact=True needs a field itself, found {field}. Fix: "
                f"`pk.Dirichlet({fields[0]}, value, on=..., exact=True)`."
            )
        if cond.on in ("interior", "initial", "final"):
            raise ProblemError(
                f"{where}: exact=True is for boundary parts, not `{cond.on}`. Fix: "
                f'`on="boundary"` or a part name; for initial values use `exact_initial=True`.'
            )
        value = sp.sympify(field - cond.expr)
        extra = value.free_symbols - set(coords)
        if extra or value.atoms(AppliedUndef) or value.atoms(sp.Derivative):
            what = sorted(map(str, extra)) or sorted(map(str, value.atoms(AppliedUndef)))
            raise ProblemError(
                f"{where}: the exact value {value} depends on {what}; an exact condition's "
                f"value may depend on the coordinates only (it is built into the model). Fix: "
                f"drop `exact=True`."
            )
        distances = part_distances(domain, cond.on)
        segments = sum(piece.kind == "segment" for piece in distances)
        if segments > MANY_SEGMENTS:
            warnings.warn(
                f"{where}: the part `{cond.on}` is outlined by {segments} short sides (trimmed "
                f"segments); exact conditions on such outlines trained worse than soft ones "
                f"(a circle of 16-128 sides: relative L2 0.12-0.23 exact against 0.05-0.07 "
                f"soft; see `pinnkit.problem.exact.MANY_SEGMENTS`). Fix: an analytic shape "
                f"(`pk.Disk`, `pk.Ellipse`) for a curved outline, or `exact=False`.",
                PinnkitWarning,
                stacklevel=3,
            )
        name = str(field.func)
        seen = pieces_of.setdefault(name, {})
        for piece in distances:
            key = (piece.kind, piece.columns, piece.data)
            if key in seen:
                raise ProblemError(
                    f"{where}: its part `{cond.on}` shares a boundary piece with the exact "
                    f"condition on `{seen[key]}` of {name}; each piece can hold one value. "
                    f"Fix: give the conditions parts that do not overlap (name the pieces)."
                )
            seen[key] = cond.on
        out.setdefault(name, []).append(ExactPart(name, cond.on, value, distances))
    return out


def warn_if_solution(parts: dict[str, list[ExactPart]], reference, domain) -> None:
    """Warn when an exact condition's value is the reference solution itself (equal at 16
    seeded points of the bounding box, to 1e-12): the blend of values reproduces it inside
    the domain, so the model starts at the solution and its error says nothing about the
    method (a manufactured solution used as boundary data)."""
    solution = getattr(reference, "solution", None)
    if not solution:
        return
    by_name = {str(getattr(k, "func", k)): sp.sympify(v) for k, v in solution.items()}
    lo, hi = domain.bounds
    probe = lo + (hi - lo) * np.random.default_rng(0).uniform(size=(16, len(lo)))
    columns = list(probe.T)
    coords = list(domain.coords)
    for name, field_parts in parts.items():
        truth = by_name.get(name)
        if truth is None:
            continue
        for part in field_parts:
            try:
                values = [
                    np.broadcast_to(sp.lambdify(coords, e, "numpy")(*columns), (16,))
                    for e in (truth, part.value)
                ]
            except (TypeError, NameError, ValueError, ZeroDivisionError):
                continue  # not evaluable by NumPy here: no check, no warning
            scale = 1e-12 * max(float(np.abs(values[0]).max()), 1e-300)
            if np.allclose(values[1], values[0], rtol=1e-12, atol=scale):
                warnings.warn(
                    f"exact condition of {name} on `{part.region}`: its value is the "
                    f"reference solution itself, so the model u = g + phi N starts at the "
                    f"solution and the reported error says little. Fix: give the value on "
                    f"the part only (its trace, e.g. `u_exact.subs(x, 0)` on `x = 0`; on a "
                    f"curved part, a value that agrees with the solution there only), or "
                    f"make the condition soft (`exact=False`) to measure the method.",
                    PinnkitWarning,
                    stacklevel=3,
                )
