"""`Exact`: a reference solution given in closed form as SymPy expressions.

The expressions are turned into NumPy functions once, with `sympy.lambdify`, and the original
expressions stay available as `Exact.solution` so that the compiler can use them symbolically.
Sums over the components of a vector coordinate (`sp.Sum(x[i] ** 2, (i, 0, d - 1))`) are
lowered to array kernels (`pinnkit.reference.sums`), so they are never expanded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.errors import ProblemError
from pinnkit.reference.base import AbstractReference
from pinnkit.reference.sums import SumKernel, lower_sums

__all__ = ["Exact"]


def _coordinate_names(arg: sp.Basic) -> tuple[str, ...]:
    """The coordinate names a field argument stands for: a `pk.Vector` for its components."""
    dim = getattr(arg, "dim", None)  # duck-typed: references do not import pinnkit.domain
    if isinstance(arg, sp.Symbol) and isinstance(dim, int) and hasattr(arg, "indexed"):
        return tuple(f"{arg.name}[{k}]" for k in range(dim))
    return (str(arg),)


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

    In d dimensions, with `x = pk.Vector("x", d)` and `u = sp.Function("u")(x, t)`, the
    coordinates are the components `x[0]`, ..., `x[d-1]`, then `t`, and sums over components
    stay whole: `Exact({u: (1 - sp.Sum(x[i] ** 2, (i, 0, d - 1))) * sp.exp(-t)})` evaluates
    each sum on the (N, d) block of points in O(N d) (see `pinnkit.reference.sums`).

    **Arguments**

    - `solution`: a mapping from a field to its expression. A field is an applied function such
      as `u(x, t)`; its name gives the field name and its arguments give the coordinates, in
      order. All fields must share the same arguments. A key may also be a plain field name
      (`"u"`) when at least one key is an applied function that fixes the coordinates.

    **Raises**

    - `ProblemError`: the solution is empty; fields have different arguments; a field's argument
      is not a symbol; an expression has a free symbol that is not a coordinate; or a sum
      cannot be lowered (`lower_sums`) or reads components the coordinates do not have.

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
        self.coords = tuple(c for arg in first_args for c in _coordinate_names(arg))
        self._vectors: dict[str, int] = {}  # vector name -> dim, for every sum's block
        self._functions: dict[str, tuple[Callable[..., np.ndarray], tuple[str, ...], dict]] = {}
        for name, expr in zip(names, self.solution.values()):
            self._functions[name] = self._lambdify(name, expr, first_args)

    def _lambdify(self, name: str, expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> tuple:
        """The NumPy function of one field: (function, its coordinate names, its sum kernels);
        the function takes those coordinates, then the values of the sums."""
        kernels: dict[sp.Symbol, SumKernel] = {}
        if expr.has(sp.Indexed):  # sums over `x[i]`, `c[i]`; `x[3]` made by `.doit()`
            expr, kernels = lower_sums(expr, where=f"Exact, field `{name}`")
        plain = {str(arg): arg for arg in args if _coordinate_names(arg) == (str(arg),)}
        components = set(self.coords) - set(plain)
        used = (expr.free_symbols - set(kernels)).union(*(k.scalars for k in kernels.values()))
        known = set(plain.values())
        extra = {s for s in used - known if not (isinstance(s, sp.Symbol) and s.name in components)}
        if extra:
            raise ProblemError(
                f"Exact: the expression for `{name}` has free symbol(s) "
                f"{', '.join(f'`{s}`' for s in sorted(map(str, extra)))} that are not "
                f"coordinates ({', '.join(f'`{c}`' for c in self.coords[:8])}"
                f"{', ...' if len(self.coords) > 8 else ''}). Fix: substitute numbers for them, "
                f"e.g. `expr.subs(nu, 0.01)`."
            )
        for kernel in kernels.values():
            for vector, dim in kernel.vectors.items():
                self._vectors[vector] = self._vector_dim(name, vector, dim)
        position = {c: k for k, c in enumerate(self.coords)}
        symbols = sorted(expr.free_symbols - set(kernels), key=lambda s: position[s.name])
        function = sp.lambdify([*symbols, *kernels], expr, "numpy")
        return function, tuple(s.name for s in symbols), kernels

    def _vector_dim(self, name: str, vector: str, dim: int | None) -> int:
        """The number of components of `vector` among the coordinates, checked against `dim`."""
        coords, found = set(self.coords), 0
        while f"{vector}[{found}]" in coords:
            found += 1
        if found == 0 or dim not in (None, found):
            raise ProblemError(
                f"Exact: the expression for `{name}` sums over the components of `{vector}`"
                f"{f' ({dim} of them)' if dim else ''}, but the coordinates have {found} "
                f"(`{vector}[0]`, ...). Fix: key the field by the vector coordinate, `u(x, t)` "
                f'with `x = pk.Vector("{vector}", d)`, and write the sums with `x[i]`.'
            )
        return found

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
        by_name = dict(zip(self.coords, arrays))
        blocks = {  # each vector's points as one (N, d) block, for the sums
            vector: np.stack([by_name[f"{vector}[{k}]"] for k in range(dim)], -1).reshape(-1, dim)
            for vector, dim in self._vectors.items()
        }
        out = {}
        for name, (function, names, kernels) in self._functions.items():
            sums = [
                kernel.evaluate(
                    {v: blocks[v] for v in kernel.vectors},
                    np,
                    {s: by_name[s.name].reshape(-1) for s in kernel.scalars},
                ).reshape(shape)
                for kernel in kernels.values()
            ]
            value = np.asarray(function(*(by_name[n] for n in names), *sums))
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
