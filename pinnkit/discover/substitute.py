"""Put discovered formulas back into a Problem.

A formula for a Hidden term is an expression in one symbol per input position (`u`, `u_x`,
`x`, named by the inputs' labels). `substitute` applies it, as a `sp.Lambda` of those symbols,
to every application of the term in every equation and condition, so `f(u(x, t))` becomes
`0.98*u(x, t)*(1 - u(x, t))` and `f(v(x, t))` the same formula in `v`. The result is an
ordinary, fully symbolic `Problem`; with `parameters=True` each float constant of a formula
becomes a `pk.Parameter` (initialised at the fitted value), so `pk.fit` refits the constants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from pinnkit.discover.ties import constants, templated
from pinnkit.problem import Parameter, Problem, is_hidden
from pinnkit.problem.hidden_partials import as_hidden_application, chain_rule, is_hidden_partial

__all__ = ["Formula", "substitute", "parametrize"]


@dataclass(frozen=True)
class Formula:
    """A closed form for one Hidden term: `expr` in `symbols` (one per input position)."""

    symbols: tuple[sp.Symbol, ...]
    expr: sp.Expr

    def apply(self, *args: sp.Expr) -> sp.Expr:
        """The formula at the arguments of one application (`f(u(x, t))` -> its expression)."""
        return sp.Lambda(self.symbols, self.expr)(*args)

    def partial(self, orders: tuple[int, ...]) -> Formula:
        """The formula's partial derivative in input positions `orders` (with repetition,
        as `HiddenPartial.orders`): what `f_d0(u)` becomes once `f` has a formula."""
        return Formula(self.symbols, sp.diff(self.expr, *(self.symbols[i] for i in orders)))


def parametrize(name: str, expr: sp.Expr) -> tuple[sp.Expr, tuple[Parameter, ...]]:
    """`expr` with each distinct fitted constant replaced by `pk.Parameter(f"{name}_c{k}",
    init=value)`; floats of equal magnitude are one constant (`pinnkit.discover.ties`: in
    `0.43*x - 0.43*x**3` both are `f_c0`, the second as `-f_c0`).

    Constants are numbered in the order SymPy's pre-order traversal meets them; integers,
    rationals and `pi` stay exact (exponents, the structure of the formula).
    """
    parameters = {
        f: Parameter(f"{name}_c{k}", init=float(f)) for k, f in enumerate(constants(expr))
    }
    return templated(expr, parameters), tuple(parameters.values())


def substitute(
    problem: Problem, formulas: Mapping[str, Formula], *, name: str | None = None
) -> Problem:
    """`problem` with each Hidden term named in `formulas` replaced by its formula.

    Data, reference, domain, condition names and weights are kept; Hidden terms not in
    `formulas` stay Hidden. The new Problem is validated like any other.

    **Arguments**

    - `problem`: the Problem with Hidden terms.
    - `formulas`: Hidden name -> `Formula`.
    - `name`: the new problem's name (default: the old one).
    """

    def put(expr: sp.Expr) -> sp.Expr:
        expr = chain_rule(expr).replace(
            lambda node: is_hidden_partial(node) and node.func.hidden.name in formulas,
            lambda node: (
                formulas[node.func.hidden.name].partial(node.func.orders).apply(*node.args)
            ),
        )
        return expr.replace(
            lambda node: is_hidden(node) and node.func.name in formulas,
            lambda node: formulas[node.func.name].apply(*node.args),
        )

    equations = {}
    for equation in problem.equations:
        source = equation.source
        if isinstance(source, sp.Equality):
            equations[equation.name] = sp.Eq(put(source.lhs), put(source.rhs), evaluate=False)
        else:
            equations[equation.name] = put(equation.residual)
    conditions = [
        dataclasses.replace(c, expr=put(c.expr)) if _uses(c.expr, formulas) else c
        for c in problem.conditions
    ]
    return Problem(
        domain=problem.domain,
        fields=list(problem.fields),
        equations=equations,
        conditions=conditions,
        data=list(problem.data) or None,
        reference=problem.reference,
        name=problem.name if name is None else name,
    )


def _uses(expr: sp.Expr, formulas: Mapping[str, Formula]) -> bool:
    return any(
        (app := as_hidden_application(a)) is not None and app.func.name in formulas
        for a in expr.atoms(sp.Function)
    )
