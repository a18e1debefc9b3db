"""`Problem`: a domain, fields, equations, conditions, data and a reference, validated once.

Validation runs when the problem is built, so that a bad problem file never reaches the
compiler or the training loop; each error names the equation or condition it is about.
Never imports torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from pinnkit.domain import AbstractDomain
from pinnkit.domain.vector import signature_text
from pinnkit.errors import ProblemError, did_you_mean
from pinnkit.problem.checks import (
    check_hidden_uses,
    check_nonempty,
    check_sums,
    check_vector_node,
    without_sums,
)
from pinnkit.problem.conditions import Condition, Equation, _as_expr, _default_name, _items
from pinnkit.problem.corners import warn_if_incompatible
from pinnkit.problem.data import Data, check_data
from pinnkit.problem.display import describe, latex
from pinnkit.problem.exact import exact_dirichlet
from pinnkit.problem.hidden_partials import as_hidden_application, chain_rule
from pinnkit.problem.symbols import (
    Hidden,
    Normal,
    Parameter,
    _is_field_like,
    field_name,
    short_form,
)
from pinnkit.reference import AbstractReference

__all__ = ["Problem"]


class Problem:
    """A PDE (or ODE, or system) problem: domain, fields, equations, conditions, data, reference.

    **Arguments**

    - `domain`: an `AbstractDomain` (`Interval`, `Rectangle`, `Box`, `Disk`, `Polygon`,
      `Mesh`, their combinations, `Ball` or `Cube` over a `Vector`, a product with
      `TimeInterval`, or a `TimeInterval` alone for an ODE).
    - `fields`: the unknown functions, applied to all of the domain's coordinates in order,
      e.g. `[u]` with `u = sp.Function("u")(x, t)`; a `pk.Vector` coordinate is passed
      whole (`signature`), its components are the columns (`coords`).
    - `equations`: `sp.Eq(lhs, rhs)` or expressions equal to zero; a list, or a dict from
      name to equation. Named `eq0`, `eq1`, ... when not named.
    - `conditions`: `Condition`s (`Initial`, `Dirichlet`, `Neumann`, `Robin`, `Periodic`,
      `Boundary`, or `Condition` itself).
    - `data`: `Data` or a list of them (observations).
    - `reference`: an `AbstractReference` (`pk.reference.Exact`, `Grid`, a solver's result)
      used to report errors; optional.
    - `name`: a short name used for run directories (default `"problem"`).

    **Raises**

    `ProblemError` when any part is inconsistent; the message names the equation or
    condition, what was found, what was expected and how to fix it.
    """

    def __init__(
        self,
        *,
        domain: AbstractDomain,
        fields: Sequence[sp.Expr],
        equations: Any,
        conditions: Sequence[Condition] = (),
        data: Data | Sequence[Data] | None = None,
        reference: AbstractReference | None = None,
        name: str = "problem",
    ):
        if not isinstance(domain, AbstractDomain):
            raise ProblemError(
                f"Problem: domain must be a pinnkit domain, found {type(domain).__name__}. "
                "Fix: e.g. `domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1)`."
            )
        check_nonempty(domain)
        self.domain = domain
        self.name = str(name)
        self.coords: tuple[sp.Symbol, ...] = tuple(domain.coords)
        # What fields are applied to: the coordinates, a `Vector` standing for its components.
        self.signature: tuple[sp.Symbol, ...] = tuple(domain.signature)
        self.fields: tuple[sp.Expr, ...] = self._check_fields(fields)
        self.field_names = tuple(field_name(f) for f in self.fields)
        self.equations: tuple[Equation, ...] = self._check_equations(equations)
        self.conditions: tuple[Condition, ...] = self._check_conditions(conditions)
        # Field name -> its exact Dirichlet parts (values, distance functions), checked here
        # and built into the model by `pinnkit.build`.
        exact = [c for c in self.conditions if c.exact and c.periodic is None]
        self.exact_parts = exact_dirichlet(self.domain, exact, self.fields, self.coords)
        self.data: tuple[Data, ...] = check_data(data, self.domain, self.coords, self.field_names)
        self.reference = self._check_reference(reference)
        self.parameters: tuple[Parameter, ...] = self._collect_parameters()
        self.hidden: tuple[Hidden, ...] = self._collect_hidden()
        self._check_names()
        self._check_fields_used()
        warn_if_incompatible(self)

    # -- validation -------------------------------------------------------------------------

    def _check_fields(self, fields) -> tuple[sp.Expr, ...]:
        if isinstance(fields, sp.Expr):
            fields = [fields]
        fields = _items(fields, "fields", 'fields=[u] with u = sp.Function("u")(x, t)')
        if not fields:
            raise ProblemError(
                'Problem: no fields. Fix: `fields=[u]` with `u = sp.Function("u")(x, t)`.'
            )
        seen = set()
        for f in fields:
            if f in self.coords or f in self.signature:
                raise ProblemError(
                    f"Problem: fields lists {f}, a coordinate of the domain; a field is a "
                    f'function of the coordinates. Fix: e.g. `u = sp.Function("u")'
                    f"({', '.join(map(str, self.signature))})` and `fields=[u]`."
                )
            if not _is_field_like(f):
                raise ProblemError(
                    f"Problem: field {f!r} is not an applied function. "
                    f'Fix: `{f} = sp.Function("{f}")({", ".join(map(str, self.signature))})`.'
                )
            if tuple(f.args) != self.signature:
                raise ProblemError(
                    f"Problem: field {f} takes {tuple(f.args)}, but the domain's coordinates are "
                    f"({signature_text(self.signature)}). Fix: apply it to all coordinates in "
                    f'that order, `sp.Function("{f.func}")({", ".join(map(str, self.signature))})`.'
                )
            if f.func in seen:
                raise ProblemError(f"Problem: field {f} is listed twice.")
            seen.add(f.func)
        return fields

    def _check_expr(self, expr: sp.Expr, where: str, *, allow_normals: bool) -> sp.Expr:
        """Check symbols, functions and derivatives of one residual; return it with derivatives
        of non-field expressions expanded."""
        expr = chain_rule(expr, where)
        check_hidden_uses(expr, where, (*self.coords, *self.signature), self.field_names)
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and not _is_field_like(e.expr),
            lambda e: e.doit(),
        )
        field_funcs = {f.func: f for f in self.fields}
        for node in sp.preorder_traversal(expr):
            check_vector_node(node, where, self.signature, field_funcs)
            if isinstance(node, sp.Derivative):
                for var, _count in node.variable_count:
                    if var not in self.coords:
                        raise ProblemError(
                            f"{where}: derivative {node} is taken in `{var}`, which is not a "
                            f"coordinate {self.coords}."
                            f"{did_you_mean(str(var), map(str, self.coords))} "
                            "Fix: differentiate only in the domain's coordinates."
                        )
            elif as_hidden_application(node) is not None:
                continue  # its arguments are checked like the rest of the expression
            elif isinstance(getattr(node, "func", None), sp.core.function.UndefinedFunction):
                if node.func not in field_funcs:
                    raise ProblemError(
                        f"{where}: `{node}` is an unknown function; the fields are "
                        f"{list(self.fields)}.{did_you_mean(str(node.func), self.field_names)} "
                        "Fix: add it to `fields=[...]` or use a declared field."
                    )
                if tuple(node.args) != self.signature:
                    raise ProblemError(
                        f"{where}: field `{node}` is applied to {tuple(node.args)}; pinnkit "
                        f"evaluates fields at the domain's points {self.signature}. Fix: write "
                        f"`{field_funcs[node.func]}`; to use other points, add a `Condition`."
                    )
        check_sums(expr, where, self.signature)
        allowed = set(self.coords) | set(self.signature)
        for sym in without_sums(expr).free_symbols:
            if sym in allowed or isinstance(sym, Parameter):
                continue
            if isinstance(sym, Normal):
                if allow_normals and sym.coord in self.domain.space_coords:
                    continue
                raise ProblemError(
                    f"{where}: the normal component `{sym}` is only defined on boundaries along "
                    f"space coordinates. Fix: use it in a boundary condition."
                )
            names = [c.name for c in self.coords] + [
                p.name for p in expr.free_symbols if isinstance(p, Parameter)
            ]
            raise ProblemError(
                f"{where}: symbol `{sym}` is free but is not a coordinate, field or "
                f"Parameter.{did_you_mean(sym.name, names)} Fix: use a declared symbol, "
                f"substitute a number (`{sym} = 0.01`), or learn it: "
                f'`{sym} = pk.Parameter("{sym}", init=1.0)`.'
            )
        return expr

    def _check_equations(self, equations) -> tuple[Equation, ...]:
        if isinstance(equations, (sp.Basic,)):
            equations = [equations]
        example = "equations=[sp.Eq(u.diff(t), u.diff(x, 2))] (or a dict name -> equation)"
        items = (
            list(equations.items())
            if isinstance(equations, Mapping)
            else [(f"eq{i}", e) for i, e in enumerate(_items(equations, "equations", example))]
        )
        if not items:
            raise ProblemError("Problem: no equations. Fix: `equations=[sp.Eq(lhs, rhs)]`.")
        out = []
        for name, eq in items:
            where = f'equation "{name}"'
            residual = _as_expr(eq, where)
            if residual == 0:
                raise ProblemError(f"{where}: {eq} is identically zero.")
            self._require_field(residual, where, "sp.Eq(u.diff(t), u.diff(x, 2))")
            out.append(
                Equation(str(name), self._check_expr(residual, where, allow_normals=False), eq)
            )
        return tuple(out)

    def _require_field(self, expr: sp.Expr, where: str, example: str) -> None:
        if not any(expr.has(f) for f in self.fields):
            raise ProblemError(
                f"{where}: {expr} involves none of the fields {list(self.field_names)} (a "
                f"condition's first argument is the field). Fix: e.g. `{example}`."
            )

    def _check_conditions(self, conditions) -> tuple[Condition, ...]:
        if isinstance(conditions, Condition):
            conditions = [conditions]
        example = "conditions=[pk.Initial(u, sp.sin(x)), pk.Dirichlet(u, 0)]"
        out = []
        for i, cond in enumerate(_items(conditions, "conditions", example)):
            if not isinstance(cond, Condition):
                raise ProblemError(
                    f"Problem: conditions[{i}] is {type(cond).__name__} {cond!r}, not a condition. "
                    "Fix: use `pk.Initial`, `pk.Dirichlet`, `pk.Neumann`, `pk.Robin`, "
                    "`pk.Periodic`, `pk.Boundary` or `pk.Condition`."
                )
            if cond.periodic is not None:
                out.append(self._check_periodic(cond, i))
                continue
            region = self._resolve_region(cond, i)
            name = cond.name or _default_name(cond, region, self.fields)
            where = f'condition "{name}"'
            expr = cond.expr
            self._require_field(expr, where, f'pk.Dirichlet({self.fields[0]}, 0, on="x = 0")')
            if self.domain.time is not None:
                # `Neumann`/`Robin` form n_c * u_c over all of the field's arguments, time
                # included; the outward normal of a space-time boundary has no time component.
                expr = expr.subs(Normal(self.domain.time), 0)
            expr = self._check_expr(
                expr, where, allow_normals=region not in ("interior", "initial")
            )
            if region == "initial" and self.domain.time is None:
                raise ProblemError(
                    f"{where}: an initial condition needs a time coordinate, but the domain "
                    f"{self.domain!r} has none. Fix: multiply the domain by "
                    "`pk.TimeInterval(t, 0, T)`, or use a boundary condition."
                )
            new = Condition(
                expr, on=region, name=name, weight=cond.weight, exact=cond.exact,
                fields=cond.fields,
            )  # fmt: skip
            out.append(new)
        return tuple(out)

    def _resolve_region(self, cond: Condition, index: int) -> str:
        on = cond.on
        if on in ("interior", "boundary", "initial") and on in self.domain.regions:
            return on
        if on == "initial":
            raise ProblemError(
                f"conditions[{index}] ({cond.name or 'initial'}): an initial condition needs a "
                f"time coordinate, but the domain {self.domain!r} has none. Fix: multiply the "
                "domain by `pk.TimeInterval(t, 0, T)`."
            )
        try:
            return self.domain.part(on)
        except ProblemError as err:
            raise ProblemError(f"conditions[{index}] ({cond.name or cond.expr}): {err}") from None

    def _check_periodic(self, cond: Condition, index: int) -> Condition:
        coord = cond.periodic
        where = f"conditions[{index}] (Periodic in {coord})"
        if coord not in self.domain.space_coords:
            raise ProblemError(
                f"{where}: `{coord}` is not a space coordinate {self.domain.space_coords}."
                f"{did_you_mean(str(coord), map(str, self.domain.space_coords))} "
                "Fix: `pk.Periodic(x)` with x a side of an Interval or Box."
            )
        fields = cond.fields or self.fields
        for f in fields:
            if f not in self.fields:
                raise ProblemError(
                    f"{where}: {f} is not a field of the problem {list(self.fields)}."
                )
        lo, hi = self._coord_bounds(coord)
        try:
            low_part = self.domain.part(sp.Eq(coord, lo))
            self.domain.part(sp.Eq(coord, hi))
        except ProblemError:
            raise ProblemError(
                f"{where}: the domain {self.domain!r} has no flat sides {coord} = {lo:g} and "
                f"{coord} = {hi:g} to identify. Fix: Periodic needs an Interval, Rectangle or "
                "Box side in that coordinate (on a Disk, use Dirichlet/Neumann conditions)."
            ) from None
        name = cond.name or f"periodic_{coord}"
        return dataclasses.replace(
            cond, on=low_part, name=name, fields=tuple(fields), bounds=(float(lo), float(hi))
        )

    def _coord_bounds(self, coord: sp.Symbol) -> tuple[float, float]:
        index = self.coords.index(coord)
        lo, hi = self.domain.bounds
        return float(lo[index]), float(hi[index])

    def _check_reference(self, reference):
        if reference is None:
            return None
        if not isinstance(reference, AbstractReference):
            raise ProblemError(
                "Problem: reference must be a pinnkit reference, found "
                f"{type(reference).__name__}. Fix: `pk.reference.Exact({{u: expr}})`, "
                "`pk.reference.Grid(...)` or a solver's result."
            )
        coord_names = tuple(c.name for c in self.coords)
        if set(reference.coords) != set(coord_names):
            raise ProblemError(
                f"Problem: the reference takes coordinates {reference.coords}, the domain has "
                f"{coord_names}. Fix: build the reference on the problem's coordinates."
            )
        unknown = [f for f in reference.fields if f not in self.field_names]
        if unknown:
            raise ProblemError(
                f"Problem: the reference gives {unknown}, which are not fields "
                f"{list(self.field_names)}.{did_you_mean(unknown[0], self.field_names)}"
            )
        return reference

    def _collect_parameters(self) -> tuple[Parameter, ...]:
        exprs = [e.residual for e in self.equations] + [c.expr for c in self.conditions]
        found: dict[str, Parameter] = {}
        for expr in exprs:
            for sym in sorted(expr.free_symbols, key=str):
                if isinstance(sym, Parameter):
                    other = found.get(sym.name)
                    if other is not None and (other.init, other.log) != (sym.init, sym.log):
                        raise ProblemError(
                            f'Problem: two Parameters are named "{sym.name}" with different '
                            f"settings (init {other.init} vs {sym.init}). Fix: create it once "
                            "and reuse the object."
                        )
                    found[sym.name] = sym
        clash = set(found) & {c.name for c in self.coords} | set(found) & set(self.field_names)
        if clash:
            raise ProblemError(
                f"Problem: Parameter name(s) {sorted(clash)} clash with a coordinate or field. "
                "Fix: rename the Parameter."
            )
        return tuple(found[k] for k in sorted(found))

    def hidden_applications(self, hidden: Hidden) -> tuple[sp.Expr, ...]:
        """Every distinct application of `hidden` (`f(u)`, ...), in order of appearance; where
        only a partial derivative of it is applied (`f_d0(u**2)`), `hidden` on its arguments."""
        found: dict[sp.Expr, None] = {}
        for expr in self._residual_exprs():
            for node in sp.preorder_traversal(expr):
                app = as_hidden_application(node)
                if app is not None and app.func == hidden:
                    found.setdefault(app, None)
        return tuple(found)

    def _residual_exprs(self) -> list[sp.Expr]:
        return [e.residual for e in self.equations] + [c.expr for c in self.conditions]

    def _collect_hidden(self) -> tuple[Hidden, ...]:
        found: dict[str, tuple[Hidden, sp.Expr, str]] = {}
        for item in [*self.equations, *self.conditions]:
            expr = item.residual if isinstance(item, Equation) else item.expr
            kind = "equation" if isinstance(item, Equation) else "condition"
            for node in sp.preorder_traversal(expr):
                node = as_hidden_application(node)
                if node is None:
                    continue
                name = node.func.name
                if name not in found:
                    found[name] = (node.func, node, f'{kind} "{item.name}"')
                    continue
                first_fn, first, first_where = found[name]
                if first_fn != node.func:
                    raise ProblemError(
                        f'{kind} "{item.name}": two Hidden terms are named "{name}" with '
                        f"different settings (bounds {first_fn.bounds} vs {node.func.bounds}). "
                        "Fix: create it once and reuse the object."
                    )
                if len(first.args) != len(node.args):
                    raise ProblemError(
                        f'{kind} "{item.name}": Hidden "{name}" is applied to different numbers '
                        f"of arguments: `{short_form(node, self.coords)}` here but "
                        f"`{short_form(first, self.coords)}` in {first_where}. Fix: apply "
                        "it to the same inputs everywhere, or use two Hidden terms."
                    )
        names = {c.name: "coordinate" for c in self.coords}
        names.update({f: "field" for f in self.field_names})
        names.update({p.name: "Parameter" for p in self.parameters})
        for name, (fn, first, first_where) in found.items():
            if name in names:
                raise ProblemError(
                    f'{first_where}: the Hidden term "{name}" clashes with the {names[name]} '
                    f'of the same name. Fix: rename one of them, e.g. `pk.Hidden("{name}_h")`.'
                )
            self._check_hidden_bounds(fn, first, first_where)
        return tuple(fn for fn, _, _ in found.values())

    def _check_hidden_bounds(self, fn: Hidden, first: sp.Expr, where: str) -> None:
        for key, _pair in fn.bounds or ():
            arity = len(first.args)
            if isinstance(key, int) and key >= arity:
                raise ProblemError(
                    f'{where}: Hidden "{fn.name}" has bounds for argument {key}, but `{first}` '
                    f"has {arity} argument(s). Fix: give one pair (or None) per argument."
                )
            apps = self.hidden_applications(fn)
            if not isinstance(key, int) and not any(key in a.args for a in apps):
                raise ProblemError(
                    f'{where}: Hidden "{fn.name}" has bounds for `{key}`, which is not one of its '
                    f"arguments {list(first.args)}.{did_you_mean(str(key), map(str, first.args))}"
                    " Fix: key the bounds by an argument expression or give them by position."
                )

    def _check_names(self) -> None:
        names = (
            [e.name for e in self.equations]
            + [c.name for c in self.conditions]
            + [d.name for d in self.data]
        )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ProblemError(
                f"Problem: loss term names must be unique; repeated: {dupes}. "
                "Fix: pass `name=` to the conditions (or name the equations with a dict)."
            )

    def _check_fields_used(self) -> None:
        used = set()
        for eq in self.equations:
            used |= {a.func for a in eq.residual.atoms(sp.Function) if _is_field_like(a)}
            used |= {d.expr.func for d in eq.residual.atoms(sp.Derivative)}
        unused = [f for f in self.fields if f.func not in used]
        if unused:
            raise ProblemError(
                f"Problem: field(s) {unused} appear in no equation, so nothing determines them. "
                "Fix: add an equation for each field, or remove it from `fields`."
            )

    # -- views ------------------------------------------------------------------------------

    @property
    def periodic_embeddings(self) -> dict[str, tuple[float, float]]:
        """Coordinates with exact periodicity: name -> (low, high)."""
        return {
            c.periodic.name: c.bounds for c in self.conditions if c.periodic is not None and c.exact
        }

    def describe(self) -> str:
        """Readable multi-line description: domain, fields, equations, conditions, data."""
        return describe(self)

    __str__ = describe

    def __repr__(self) -> str:
        fields = list(self.field_names)
        return f"Problem({self.name!r}, fields={fields}, equations={len(self.equations)})"

    def _repr_latex_(self) -> str:
        return latex(self)
