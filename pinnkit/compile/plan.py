"""Collect field values and `Derivative` nodes into a de-duplicated derivative plan.

The plan, not the residual, decides what the derivative engine computes: every distinct
partial derivative of every field is listed once, with the intermediate derivatives needed
to reach it, and every residual is rewritten in terms of plain symbols standing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from pinnkit.problem import field_name
from pinnkit.problem.operators import VectorOperator

__all__ = ["Partial", "Operator", "DerivativePlan", "build_plan"]


@dataclass(frozen=True, order=True)
class Partial:
    """One partial derivative of one field: `orders[i]` derivatives in coordinate `i`.

    `Partial("u", (0, 0))` is the value of `u`; `Partial("u", (2, 0))` is `u_xx` in (x, t).
    """

    field: str
    orders: tuple[int, ...]

    @property
    def order(self) -> int:
        return sum(self.orders)

    def label(self, coords: Sequence[str]) -> str:
        """`u`, `u_x`, `u_xxt`: letters in coordinate order (multi-letter names are braced)."""
        if self.order == 0:
            return self.field
        letters = "".join(
            (c if len(c) == 1 else "{" + c + "}") * k for c, k in zip(coords, self.orders)
        )
        return f"{self.field}_{letters}"

    def parent(self) -> Partial | None:
        """The partial this one is one derivative of (None for the field value).

        The derivative is removed from the coordinate of highest count so that chains such
        as u -> u_x -> u_xx -> u_xxx share every step.
        """
        if self.order == 0:
            return None
        index = max(range(len(self.orders)), key=lambda i: (self.orders[i], -i))
        orders = list(self.orders)
        orders[index] -= 1
        return Partial(self.field, tuple(orders))

    def direction(self) -> int:
        """Index of the coordinate differentiated last to get here from `parent()`."""
        parent = self.parent()
        if parent is None:
            raise ValueError("the field value has no direction; this is a bug in pinnkit")
        return next(i for i, (a, b) in enumerate(zip(self.orders, parent.orders)) if a != b)


@dataclass(frozen=True)
class Operator:
    """A differential operator over a `Vector` coordinate applied to one field, kept whole
    (never expanded over the components) and evaluated by `pinnkit.compile.operators`.

    **Arguments**

    - `kind`: `"laplacian"` ($\\sum_i u_{x_i x_i}$), `"grad_norm2"` ($|\\nabla u|^2$),
      `"biharmonic"` ($\\Delta^2 u$), `"x_dot_grad"` ($x \\cdot \\nabla u$) or
      `"hessian_trace"` ($\\sum_{ij} A_{ij} u_{x_i x_j}$).
    - `field`: the field's name.
    - `start`, `dim`: the vector's columns are `start` to `start + dim - 1` of the points.
    - `method`: `"exact"`, `"stde"` (stochastic Taylor derivative estimator) or
      `"hutchinson"`.
    - `samples`: random directions per evaluation (stochastic methods).
    - `vector`: the vector coordinate's name (for labels).
    - `matrix`: the `ConstantMatrix` of a `"hessian_trace"` ($\\sum_{ij} A_{ij} u_{x_i x_j}$).
    """

    kind: str
    field: str
    start: int
    dim: int
    method: str = "exact"
    samples: int = 0
    vector: str = "x"
    matrix: Any = None  # `hessian_trace`: its `ConstantMatrix`

    def label(self) -> str:
        """`lap_x(u)`, `|grad_x u|^2`, ...: readable, for generated code and `pinnkit check`."""
        return OPERATOR_LABELS[self.kind].format(f=self.field, x=self.vector)


#: How each operator kind is printed (`Operator.label`).
OPERATOR_LABELS = {
    "laplacian": "lap_{x}({f})",
    "grad_norm2": "|grad_{x} {f}|^2",
    "biharmonic": "bilap_{x}({f})",
    "x_dot_grad": "{x}.grad_{x}({f})",
    "hessian_trace": "tr(A hess_{x} {f})",
}


@dataclass(frozen=True)
class DerivativePlan:
    """What a derivative engine must evaluate on one set of points.

    **Arguments**

    - `coords`: coordinate names, in the model's input column order.
    - `fields`: field names, in the model's output column order.
    - `needed`: the partials that residuals use (sorted by order).
    - `closure`: `needed` plus every intermediate partial on the way (sorted by order);
      engines evaluate these in order, each from its `parent()`.
    - `operators`: the vector operators the residuals use (evaluated apart from the
      partials, by `pinnkit.compile.operators`).
    """

    coords: tuple[str, ...]
    fields: tuple[str, ...]
    needed: tuple[Partial, ...]
    closure: tuple[Partial, ...]
    operators: tuple[Operator, ...] = ()

    @property
    def max_order(self) -> int:
        # Not `max(..., default=0)`: torch.compile breaks the graph on that keyword.
        return max([0, *(p.order for p in self.needed)])

    def label(self, partial: Partial) -> str:
        return partial.label(self.coords)

    def describe(self) -> str:
        return ", ".join(
            [*(self.label(p) for p in self.needed), *(o.label() for o in self.operators)]
        )


def _closure(needed: Iterable[Partial]) -> tuple[Partial, ...]:
    out: set[Partial] = set()
    for p in needed:
        while p is not None and p not in out:
            out.add(p)
            p = p.parent()
    return tuple(sorted(out, key=lambda p: (p.order, p.field, tuple(-k for k in p.orders))))


def build_plan(
    exprs: Sequence[sp.Expr],
    *,
    coords: Sequence[sp.Symbol],
    fields: Sequence[sp.Expr],
    extra: Iterable[Partial] = (),
    methods: Callable[[str, int], tuple[str, int]] | None = None,
) -> tuple[DerivativePlan, list[sp.Expr], dict[Partial | Operator, sp.Symbol]]:
    """Rewrite residuals in terms of partial-derivative symbols and plan their evaluation.

    **Arguments**

    - `exprs`: residual expressions (validated by `Problem`).
    - `coords`, `fields`: the problem's coordinates and fields, in column order.
    - `extra`: partials to evaluate even if no expression uses them.
    - `methods`: `(kind, dim) -> (method, samples)` for the vector operators (default exact).

    **Returns**

    `(plan, rewritten, symbols)`: the plan, the expressions with every field value,
    derivative and vector operator replaced by a symbol, and the map from partial (or
    `Operator`) to that symbol.
    """
    coord_names = tuple(c.name for c in coords)
    field_names = tuple(field_name(f) for f in fields)
    funcs = {f.func: field_name(f) for f in fields}
    symbols: dict[Partial, sp.Symbol] = {}

    def symbol_for(partial: Partial) -> sp.Symbol:
        if partial not in symbols:
            symbols[partial] = sp.Symbol(f"_p{len(symbols)}_{partial.label(coord_names)}")
        return symbols[partial]

    def partial_of(node: sp.Basic) -> Partial:
        if isinstance(node, sp.Derivative):
            orders = [0] * len(coords)
            for var, count in node.variable_count:
                orders[coords.index(var)] += int(count)
            return Partial(funcs[node.expr.func], tuple(orders))
        return Partial(funcs[node.func], (0,) * len(coords))

    def is_target(node: sp.Basic) -> bool:
        if isinstance(node, sp.Derivative):
            return getattr(node.expr, "func", None) in funcs
        return getattr(node, "func", None) in funcs

    operators: dict[Operator, sp.Symbol] = {}

    def operator_symbol(node: VectorOperator) -> sp.Symbol:
        vector = node.vector
        method, samples = methods(node.kind, vector.dim) if methods else ("exact", 0)
        start = coords.index(vector.components[0])
        op = Operator(node.kind, funcs[node.field.func], start, vector.dim, method, samples)
        op = replace(op, vector=vector.name, matrix=node.args[2] if len(node.args) > 2 else None)
        if op not in operators:
            operators[op] = sp.Symbol(f"_o{len(operators)}_{op.kind}_{op.field}")
        return operators[op]

    rewritten = []
    for expr in exprs:
        # Operators first, then derivatives, so that u inside them is not replaced on its own.
        ops = {n: operator_symbol(n) for n in expr.atoms(VectorOperator)}
        expr = expr.xreplace(ops)
        derivs = {d: symbol_for(partial_of(d)) for d in expr.atoms(sp.Derivative) if is_target(d)}
        expr = expr.xreplace(derivs)
        values = {a: symbol_for(partial_of(a)) for a in expr.atoms(sp.Function) if is_target(a)}
        rewritten.append(expr.xreplace(values))
    for partial in extra:
        symbol_for(partial)
    needed = tuple(sorted(symbols, key=lambda p: (p.order, p.field, p.orders)))
    plan = DerivativePlan(coord_names, field_names, needed, _closure(needed), tuple(operators))
    return plan, rewritten, {**symbols, **operators}
