"""Checks that `Problem` runs: the domain is not empty; on every equation and condition,
Hidden-term uses and vector operators. Never imports torch.
"""

from __future__ import annotations

import sympy as sp

from pinnkit.domain.vector import Vector, signature_text
from pinnkit.errors import ProblemError
from pinnkit.problem.hidden_partials import as_hidden_application
from pinnkit.problem.operators import VectorOperator
from pinnkit.problem.symbols import Normal, _has_hidden
from pinnkit.reference.sums import lower_sums

__all__ = [
    "check_hidden_uses",
    "check_nonempty",
    "check_vector_node",
    "check_sums",
    "without_sums",
]


def check_nonempty(domain) -> None:
    """A domain built with `-` or `&` that keeps nothing is refused here, before a sampler
    searches it in vain. Its interior measure is estimated from seeded points in its bounding
    box (`Measure.exact` False); a measure known in closed form is never 0 by mistake (a
    ball in hundreds of dimensions underflows, and is not empty)."""
    volume = domain.measure("interior")
    if volume.exact or volume.value > 0:
        return
    raise ProblemError(
        f"Problem: the domain {domain!r} is empty: none of the seeded points in its bounding "
        f"box that estimate its measure lies inside, so a difference removes everything or "
        f"an intersection keeps nothing. Fix: check the shapes' centers and "
        f"sizes (a hole smaller than the shape it is cut from, intersected shapes that overlap)."
    )


def check_hidden_uses(expr: sp.Expr, where: str, coords, field_names) -> None:
    """Hidden terms (and their partial derivatives, `expr` having been through
    `hidden_partials.chain_rule`) only as applications to values the compiler can evaluate."""
    for node in sp.preorder_traversal(expr):
        node = as_hidden_application(node)
        if node is None:
            continue
        for arg in node.args:
            if _has_hidden(arg):
                raise ProblemError(
                    f"{where}: Hidden terms are nested in `{node}`. One Hidden network "
                    f"cannot take another's output. Fix: use one Hidden term for the "
                    f"composition, e.g. `{node.func.name}({', '.join(field_names)})`."
                )
            # A field u(x, t) has the coordinates among its free symbols.
            if not arg.free_symbols & set(coords):
                raise ProblemError(
                    f"{where}: argument `{arg}` of `{node}` depends on no field or "
                    "coordinate, so it is the same at every point and tells the network "
                    f"nothing. Fix: drop it (`{node.func.name}` learns constants on its own) "
                    "or pass a field, a derivative or a coordinate."
                )
            normals = [s for s in arg.free_symbols if isinstance(s, Normal)]
            if normals:
                raise ProblemError(
                    f"{where}: argument `{arg}` of `{node}` uses the normal component "
                    f"`{normals[0]}`. Fix: form the normal derivative outside the Hidden "
                    "term, or pass the plain derivatives as arguments."
                )


def check_vector_node(node: sp.Basic, where: str, signature, field_funcs) -> None:
    """A vector operator must apply to a field of the problem over the domain's vector; a
    derivative must not be taken in a whole vector."""
    if isinstance(node, VectorOperator):
        field, vector = node.args[:2]
        if getattr(field, "func", None) not in field_funcs:
            raise ProblemError(
                f"{where}: `{node}` applies to `{field}`, which is not a field of the problem. "
                "Fix: apply the operator to a declared field."
            )
        if vector not in signature:
            raise ProblemError(
                f"{where}: `{node}` is taken over `{vector}`, but the domain's coordinates are "
                f"{signature_text(signature)}. Fix: use the domain's vector coordinate."
            )
    elif isinstance(node, sp.Derivative):
        for var, _count in node.variable_count:
            if isinstance(var, Vector):
                raise ProblemError(
                    f"{where}: `{node}` differentiates in the whole vector `{var}`. Fix: use "
                    f"the vector operators, e.g. `pk.laplacian(u, {var})`, "
                    f"`pk.dot(pk.grad(u, {var}), pk.grad(u, {var}))`."
                )


def check_sums(expr: sp.Expr, where: str, signature) -> None:
    """Every sum must lower (`pinnkit.reference.sums.lower_sums`) and read only the domain's
    vectors."""
    if not expr.has(sp.Sum):
        return
    _, kernels = lower_sums(expr, where=where)
    vectors = {v.name for v in signature if isinstance(v, Vector)}
    for kernel in kernels.values():
        for name in kernel.vectors:
            if name not in vectors:
                raise ProblemError(
                    f"{where}: the sum `{kernel.expr}` reads components of `{name}`, which is "
                    f"not a vector coordinate of the domain ({signature_text(signature)}). "
                    f'Fix: index the domain\'s vector, or make `{name}` `pk.Coefficients("{name}", '
                    "values)` if it holds constants."
                )


def without_sums(expr: sp.Expr) -> sp.Expr:
    """`expr` with every `sp.Sum` replaced by the product of the plain symbols its summand
    uses (time, Parameters), so that those are checked like the rest; its indices and
    indexed components are checked when the sum is lowered (`pinnkit.reference.sums`)."""

    def scalars(node: sp.Sum) -> sp.Expr:
        indexed = node.function.atoms(sp.Indexed)
        labels = {e.base.label for e in indexed} | set(node.variables)
        free = node.function.free_symbols - labels - indexed
        return sp.Mul(*sorted(free, key=str))

    return expr.replace(lambda e: isinstance(e, sp.Sum), scalars)
