"""Derivatives of Hidden terms, by the chain rule: `(D(u) u_x)_x` in a nonlinear diffusion.

SymPy differentiates `D(u(x, t))` in x as `Derivative(D(u), u) * u_x` (or, for an argument that
is an expression, `Subs(Derivative(D(xi), xi), xi, u**2)`). `chain_rule` rewrites each such
node as an application of a `HiddenPartial`: a function of the same arguments, the partial
derivative of the Hidden network in some of its argument positions (`D'(u)`), which the
compiler evaluates by differentiating the network in its inputs. The Hidden term stays one
network; its derivatives follow from it. Never imports torch.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import UndefinedFunction

from pinnkit.errors import ProblemError
from pinnkit.problem.symbols import Hidden, is_hidden

__all__ = [
    "HiddenPartial",
    "is_hidden_partial",
    "as_hidden_application",
    "chain_rule",
    "hidden_partials",
    "uses_hidden_terms",
]


class HiddenPartial(UndefinedFunction):
    """The partial derivative of a `Hidden` term in argument positions `orders` (a sorted
    tuple, one entry per differentiation: `(0, 0)` is the second derivative in the first
    argument). Applied to the Hidden term's arguments, as the term itself is. Printed
    `D_d0(u)`; `hidden` is the Hidden term."""

    def __new__(cls, hidden: Hidden, orders: tuple[int, ...]):
        name = f"{hidden.name}_d{''.join(str(i) for i in orders)}"
        return super().__new__(cls, name, pinnkit_partial=(hidden, tuple(orders)))

    @property
    def hidden(self) -> Hidden:
        return self.pinnkit_partial[0]

    @property
    def orders(self) -> tuple[int, ...]:
        return self.pinnkit_partial[1]


def is_hidden_partial(expr) -> bool:
    """Whether `expr` applies a `HiddenPartial` (`D_d0(u)`)."""
    return isinstance(getattr(expr, "func", None), HiddenPartial)


def as_hidden_application(node) -> sp.Expr | None:
    """The Hidden application `node` is (`f(u)`) or whose partial derivative it is
    (`f_d0(u)` -> `f(u)`); None for anything else."""
    if is_hidden(node):
        return node
    if is_hidden_partial(node):
        return node.func.hidden(*node.args)
    return None


def hidden_partials(problem) -> tuple[HiddenPartial, ...]:
    """Every partial derivative of a Hidden term that `problem`'s equations and conditions
    apply, in order of appearance."""
    found: dict[HiddenPartial, None] = {}
    exprs = [e.residual for e in problem.equations] + [c.expr for c in problem.conditions]
    for expr in exprs:
        for node in sp.preorder_traversal(expr):
            if is_hidden_partial(node):
                found.setdefault(node.func, None)
    return tuple(found)


def uses_hidden_terms(expr: sp.Basic) -> bool:
    """Whether `expr` applies a Hidden term or one of its partial derivatives."""
    return any(is_hidden(a) or is_hidden_partial(a) for a in expr.atoms(sp.Function))


def _positions(term: sp.Expr, variables, where: str) -> tuple[int, ...] | None:
    """The argument positions of `term` that `variables` (with multiplicity) differentiate;
    None where one is not an argument (then the derivative is in a coordinate)."""
    out = []
    for var, count in variables:
        hits = [i for i, a in enumerate(term.args) if a == var]
        if not hits:
            return None
        if len(hits) > 1:
            raise ProblemError(
                f"{where}: `{term}` has `{var}` in two argument positions, so its derivative "
                f"in `{var}` is ambiguous. Fix: pass each value once."
            )
        out += [hits[0]] * int(count)
    return tuple(sorted(out))


def chain_rule(expr: sp.Expr, where: str = "expression") -> sp.Expr:
    """`expr` with every derivative of a Hidden application written as partial derivatives
    of the network (`HiddenPartial` applications) times derivatives of its arguments.

    Raises `ProblemError` where a derivative of a Hidden term is left that is not of this kind
    (in a Parameter, say)."""

    def derivative(node: sp.Derivative) -> sp.Expr:
        inner = node.expr
        if not is_hidden(inner):
            has = any(is_hidden(a) for a in inner.atoms(sp.Function))
            plain = has and not isinstance(inner, sp.Subs)
            return chain_rule(node.doit(deep=False), where) if plain else node
        orders = _positions(inner, node.variable_count, where)
        if orders is None:
            return chain_rule(node.doit(deep=False), where)  # a coordinate: chain rule
        return HiddenPartial(inner.func, orders)(*inner.args)

    def subs(node: sp.Subs) -> sp.Expr:
        body = node.expr
        if not (isinstance(body, sp.Derivative) and is_hidden(body.expr)):
            return node
        term = body.expr
        orders = _positions(term, body.variable_count, where)
        if orders is None:
            return node
        values = dict(zip(node.variables, node.point))
        return HiddenPartial(term.func, orders)(*(a.xreplace(values) for a in term.args))

    out = expr.replace(lambda n: isinstance(n, sp.Subs), subs)
    out = out.replace(lambda n: isinstance(n, sp.Derivative), derivative)
    for node in sp.preorder_traversal(out):
        if isinstance(node, (sp.Derivative, sp.Subs)) and any(
            isinstance(getattr(a, "func", None), Hidden) for a in node.atoms(sp.Function)
        ):
            raise ProblemError(
                f"{where}: the derivative `{node}` of a Hidden term is neither in a coordinate "
                "nor in one of the term's arguments, so pinnkit cannot evaluate it. Fix: "
                "differentiate only in the coordinates (`f(u).diff(x)`)."
            )
    return out
