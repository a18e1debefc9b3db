"""`Exact`: a reference solution given in closed form as SymPy expressions.

The expressions are turned into NumPy functions once, with `sympy.lambdify`, and the original
expressions stay available as `Exact.solution` so that the compiler can use them symbolically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.errors import ProblemError
from pinnkit.reference.base import AbstractReference

__all__ = ["Exact"]


def _field_name(key: sp.Expr | str) -> str:
    """The field name of a solution key: an applied undefined function (`u(x, t)`) or a name."""
    if isinstance(key, str):
        return key
    if isinstance(key, AppliedUndef):
        return str(key.func)
    if isinstance(key, sp.core.function.UndefinedFunction):
        raise ProblemError(
            f"Exact: field key `{key}` is an unapplied function, so its coordinates are unknown. "
            f"Fix: apply it to the coordinates, e.g. `{key}(x, t)`."
        )
    raise ProblemError(
        f"Exact: field key `{key}` ({type(key).__name__}) is not an applied SymPy function or a "
        f"name. Fix: key the solution by the field, e.g. `{{u: sp.sin(x)}}` with "
        f'`u = sp.Function("u")(x)`.'
    )


class Exact(AbstractReference):
    r"""An exact solution, one SymPy expression per field.

    Example: with `x, t = sp.symbols("x t")` and `u = sp.Function("u")(x, t)`,
    `Exact({u: sp.sin(sp.pi * x) * sp.exp(-t)})` is the solution
    $u(x, t) = \sin(\pi x) e^{-t}$ of the heat equation $u_t = u_{xx} / \pi^2$.

    **Arguments**

    - `solution`: a mapping from a field to its expression. A field is an applied function such
      as `u(x, t)`; its name gives the field name and its arguments give the coordinates, in
      order. All fields must share the same arguments. A key may also be a plain field name
      (`"u"`) when at least one key is an applied function that fixes the coordinates.

    **Raises**

    - `ProblemError`: the solution is empty; fields have different arguments; a field's argument
      is not a symbol; or an expression has a free symbol that is not a coordinate.

    Attributes: `solution` (dict from field key to SymPy expression, as given), `fields`,
    `coords`.
    """

    solution: dict[sp.Expr | str, sp.Expr]
    fields: tuple[str, ...]
    coords: tuple[str, ...]

    def __init__(self, solution: Mapping[sp.Expr | str, sp.Expr]) -> None:
        if not solution:
            raise ProblemError(
                "Exact: the solution is empty. Fix: give one expression per field, e.g. "
                "`Exact({u: sp.sin(x)})`."
            )
        self.solution = {key: sp.sympify(expr) for key, expr in solution.items()}
        names = [_field_name(key) for key in self.solution]
        if len(set(names)) != len(names):
            raise ProblemError(f"Exact: a field is given twice (fields {names}).")
        arguments = {
            name: tuple(key.args)
            for name, key in zip(names, self.solution)
            if not isinstance(key, str)
        }
        if not arguments:
            raise ProblemError(
                f"Exact: fields {names} are all plain names, so the coordinates are unknown. "
                f'Fix: key by an applied function, e.g. `{{sp.Function("u")(x, t): ...}}`.'
            )
        first_name, first_args = next(iter(arguments.items()))
        for name, args in arguments.items():
            if args != first_args:
                raise ProblemError(
                    f"Exact: fields do not share the same arguments: `{first_name}` has "
                    f"{first_args} but `{name}` has {args}. Fix: make every field a function of "
                    f"the same coordinates, in the same order."
                )
        for arg in first_args:
            if not isinstance(arg, sp.Symbol):
                raise ProblemError(
                    f"Exact: field `{first_name}` has argument `{arg}`, which is not a symbol. "
                    f"Fix: apply the field to coordinate symbols, e.g. `u(x, t)`."
                )
        self.fields = tuple(names)
        self.coords = tuple(str(arg) for arg in first_args)
        self._functions: dict[str, Callable[..., np.ndarray]] = {}
        for name, expr in zip(names, self.solution.values()):
            extra = expr.free_symbols - set(first_args)
            if extra:
                raise ProblemError(
                    f"Exact: the expression for `{name}` has free symbol(s) "
                    f"{', '.join(f'`{s}`' for s in sorted(map(str, extra)))} that are not "
                    f"coordinates ({', '.join(f'`{c}`' for c in self.coords)}). Fix: substitute "
                    f"numbers for them, e.g. `expr.subs(nu, 0.01)`."
                )
            self._functions[name] = sp.lambdify(first_args, expr, "numpy")

    def evaluate(self, coords: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Field values at points (see `AbstractReference.evaluate`).

        **Arguments**

        - `coords`: one array per coordinate name; the arrays broadcast.

        **Returns**

        A dict from field name to a `float64` array of the broadcast shape; a constant expression
        is broadcast too.

        **Raises**

        - `ProblemError`: a coordinate is missing, or an expression is complex at the points.
        """
        arrays = self._broadcast_coords(coords)
        shape = arrays[0].shape if arrays else ()
        out = {}
        for name, function in self._functions.items():
            value = np.asarray(function(*arrays))
            if np.iscomplexobj(value):
                if np.any(value.imag != 0):
                    raise ProblemError(
                        f"Exact: field `{name}` is complex at some points; a reference must be "
                        f"real. Fix: split it into real and imaginary fields."
                    )
                value = value.real
            out[name] = np.array(np.broadcast_to(value.astype(np.float64), shape))
        return out

    def __repr__(self) -> str:
        body = ", ".join(
            f"{name}: {expr}" for name, expr in zip(self.fields, self.solution.values())
        )
        return f"Exact({{{body}}})"
