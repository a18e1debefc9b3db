"""Named residuals of a problem: `Equation`, `Condition` and the condition helpers.

`Initial`, `Boundary`, `Dirichlet`, `Neumann`, `Robin` and `Periodic` each build a `Condition`;
`Problem` completes it (region, default name such as `initial_u` or `bc_u_left`). Never imports
torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from pinnkit.errors import ProblemError
from pinnkit.problem.symbols import Normal, _is_field_like, field_name

__all__ = [
    "Equation",
    "Condition",
    "Initial",
    "Boundary",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
]


def _as_expr(value: Any, where: str) -> sp.Expr:
    if isinstance(value, sp.Equality):
        return value.lhs - value.rhs
    try:
        expr = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError) as err:
        raise ProblemError(
            f"{where}: expected a SymPy expression or `sp.Eq(lhs, rhs)`, found {value!r}. "
            "Fix: build it from the problem's symbols, e.g. `sp.Eq(u.diff(t), u.diff(x, 2))`."
        ) from err
    if expr is sp.true or expr is sp.false:
        raise ProblemError(
            f"{where}: the equation is identically {expr} (SymPy evaluated it before pinnkit "
            "saw it: both sides equal, as in `sp.Eq(u, u)`, or a side that is NaN or "
            "undefined, as from `float('nan')`, `0/0` or `sp.nan`, which SymPy compares as "
            "False). Fix: check that both sides are what you meant and every coefficient "
            "is a finite number."
        )
    if isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr):
        raise ProblemError(
            f"{where}: {expr} is a relation, not an equation. Only `sp.Eq` is accepted. "
            "Fix: write the equation as `sp.Eq(lhs, rhs)`."
        )
    return expr


@dataclass(frozen=True, eq=False)
class Equation:
    """A named residual: `residual = 0` holds in the interior of the domain."""

    name: str
    residual: sp.Expr
    source: sp.Basic

    def __str__(self) -> str:
        return f"{self.name}: {self.source}"


@dataclass(frozen=True, eq=False)
class Condition:
    """The general condition: `expr = 0` on a region of the domain.

    Dirichlet, Neumann, Robin, initial and periodic conditions are conveniences that build
    one of these.

    **Arguments**

    - `expr`: a SymPy expression (or `sp.Eq`) in the fields, their derivatives, coordinates,
      Parameters and `pk.Normal(...)` components.
    - `on`: where it holds: `"boundary"` (the whole spatial boundary), a named part
      (`"left"`, `"x = 1"`), a part as an equation (`sp.Eq(x, 1)`), `"initial"`, or
      `"interior"`.
    - `name`: used in losses and logs; derived from the region when omitted.
    - `weight`: fixed weight of this term in the loss (default 1).
    The remaining fields describe periodicity and are set by `Periodic` (and completed by
    `Problem` validation): `periodic` (the coordinate whose two ends are matched), `exact`
    (periodic input embedding instead of a loss term), `fields` (matched fields), `order`
    (highest matched derivative in `periodic`) and `bounds` (the coordinate's two ends).
    """

    expr: sp.Expr
    on: Any = "boundary"
    name: str | None = None
    weight: float = 1.0
    periodic: sp.Symbol | None = None
    exact: bool = False
    fields: tuple = ()
    order: int = 1
    bounds: tuple[float, float] | None = None

    def __post_init__(self):
        object.__setattr__(self, "expr", _as_expr(self.expr, f"condition {self.name or ''}"))
        if not (np.isfinite(self.weight) and self.weight >= 0):
            raise ProblemError(
                f'condition "{self.name}": weight={self.weight} must be finite and >= 0.'
            )

    @property
    def period(self) -> float | None:
        """Length of the periodic coordinate's interval (periodic conditions only)."""
        return None if self.bounds is None else self.bounds[1] - self.bounds[0]

    def __str__(self) -> str:
        where = self.on if isinstance(self.on, str) else f"{self.on.lhs} = {self.on.rhs}"
        if self.periodic is not None:
            return f"{self.name}: {self.expr} periodic in {self.periodic}" + (
                " (exact embedding)" if self.exact else ""
            )
        exact = " (exact: built into the model)" if self.exact else ""
        return f"{self.name}: {self.expr} = 0 on {where}{exact}"


def _refuse_exact(kind: str, exact: bool) -> None:
    """`exact=True` on a condition that cannot be built into the model: one clear error."""
    if not exact:
        return
    if kind == "Initial":
        fix = (
            "initial values are built into the model by the run option `exact_initial`: "
            "`pk.Config(exact_initial=True)` or `pinnkit fit ... --set exact_initial=true`"
        )
    else:
        fix = (
            "only a field's value is built into the model (`pk.Dirichlet(u, value, on=..., "
            "exact=True)`); a condition on derivatives stays a loss term: drop `exact=True` "
            "and raise `weight=` if it is not held closely enough"
        )
    raise ProblemError(f"{kind}(..., exact=True): not supported. Fix: {fix}.")


def Initial(
    field: sp.Expr,
    value: Any,
    *,
    name: str | None = None,
    weight: float = 1.0,
    exact: bool = False,
) -> Condition:
    """Initial condition `field = value` at the start time (`field` may be a time derivative).

    `exact=True` is refused with a pointer to the run option `exact_initial`, which builds
    every initial value into the model."""
    _refuse_exact("Initial", exact)
    return Condition(field - sp.sympify(value), on="initial", name=name, weight=weight)


def Boundary(
    expr: sp.Expr,
    value: Any = 0,
    *,
    on: Any = "boundary",
    name: str | None = None,
    weight: float = 1.0,
    exact: bool = False,
) -> Condition:
    """Condition `expr = value` on the boundary or a part of it (`on="left"`, `on=sp.Eq(x, 1)`).

    A loss term; `exact=True` is refused (only `Dirichlet` builds a value into the model)."""
    _refuse_exact("Boundary", exact)
    return Condition(sp.sympify(expr) - sp.sympify(value), on=on, name=name, weight=weight)


def Dirichlet(
    field: sp.Expr,
    value: Any = 0,
    *,
    on: Any = "boundary",
    name: str | None = None,
    weight: float = 1.0,
    exact: bool = False,
) -> Condition:
    """Dirichlet condition `field = value` on `on`.

    With `exact=True` the model holds it by construction: $u = g + \\phi N$ with $\\phi$ an
    approximate distance function to the part (`pinnkit.domain.distance`) and $g$ the values
    of every exact condition of the field, blended by distance (Sukumar & Srivastava 2022).
    The loss term stays, at round-off, as a check. `value` may depend on the coordinates
    only. The part may be on any 1-D or 2-D shape, a box, ball or cylinder, or a
    polyhedral mesh; a curved 3-D mesh and a 3-D box face whose plane cuts into the domain
    have no distance function and are refused (`pinnkit.domain.distance`).
    """
    expr = sp.sympify(field) - sp.sympify(value)
    return Condition(expr, on=on, name=name, weight=weight, exact=bool(exact), fields=(field,))


def _normal_derivative(field: sp.Expr) -> sp.Expr:
    if not _is_field_like(field):
        raise ProblemError(
            f"Neumann/Robin: expected a field such as `u(x, y)`, found {field}. "
            "Fix: pass the field itself; the normal derivative is formed for you."
        )
    return sp.Add(*[Normal(c) * field.diff(c) for c in field.args])


def Neumann(
    field: sp.Expr,
    value: Any = 0,
    *,
    on: Any = "boundary",
    name=None,
    weight=1.0,
    exact: bool = False,
):
    """Neumann condition on the outward normal derivative: `du/dn = value` on `on`.

    Time is not a spatial direction: its normal component is zero on every lateral boundary.
    A loss term; `exact=True` is refused.
    """
    _refuse_exact("Neumann", exact)
    return Boundary(_normal_derivative(field), value, on=on, name=name, weight=weight)


def Robin(
    field: sp.Expr,
    a: Any,
    b: Any,
    value: Any = 0,
    *,
    on: Any = "boundary",
    name=None,
    weight=1.0,
    exact: bool = False,
):
    """Robin condition `a * field + b * du/dn = value` on `on` (a loss term; `exact=True` is
    refused)."""
    _refuse_exact("Robin", exact)
    expr = sp.sympify(a) * field + sp.sympify(b) * _normal_derivative(field)
    return Boundary(expr, value, on=on, name=name, weight=weight)


def Periodic(
    coord: sp.Symbol,
    fields: Sequence[sp.Expr] | sp.Expr | None = None,
    *,
    order: int = 1,
    exact: bool = False,
    name: str | None = None,
    weight: float = 1.0,
) -> Condition:
    """Periodicity in `coord`: fields (and their `coord`-derivatives up to `order`) agree at
    both ends.

    With `exact=False` (soft) the mismatch is a loss term. With `exact=True` the model
    receives a periodic embedding of `coord` (`cos`, `sin` of `2 pi k coord / L`), so every
    prediction is periodic by construction and no loss term is added.

    **Arguments**

    - `coord`: the periodic coordinate (an interval or box side).
    - `fields`: the fields to match; all fields of the problem when omitted.
    - `order`: also match derivatives in `coord` up to this order (soft mode; default 1).
    """
    if isinstance(fields, sp.Expr):
        fields = [fields]
    if order < 0:
        raise ProblemError(f"Periodic({coord}): order={order} must be >= 0.")
    return Condition(
        sp.Integer(0),
        on="periodic",
        name=name,
        weight=weight,
        periodic=coord,
        exact=exact,
        fields=tuple(fields or ()),
        order=int(order),
    )


def _default_name(cond: Condition, region: str, fields: Sequence[sp.Expr]) -> str:
    """A stable, readable name such as `initial_u`, `bc_u_left`, `bc_u_x_eq_1`."""
    names = sorted({field_name(f) for f in fields if cond.expr.has(f.func)}) or ["expr"]
    tag = "initial" if region == "initial" else "bc"
    place = "" if region in ("initial", "boundary") else "_" + _slug(region)
    derivative = "_d" if cond.expr.has(sp.Derivative) else ""
    return f"{tag}_{'_'.join(names)}{derivative}{place}"


def _slug(text: str) -> str:
    out = text.replace(" = ", "_eq_").replace("-", "m").replace(".", "p").replace(" ", "_")
    return "".join(ch for ch in out if ch.isalnum() or ch == "_")


def _items(value, what: str, example: str) -> list:
    """`value` as a list, when it is a list, tuple or other non-string collection."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        kind = type(value).__name__
        text = (
            " A string is not parsed: write SymPy expressions." if kind in ("str", "bytes") else ""
        )
        raise ProblemError(
            f"Problem: {what}={value!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not a "
            f"list.{text} Fix: e.g. `{example}`."
        )
    return list(value)
