"""The symbols a problem is written in: `Parameter`, `Normal`, `Hidden`, and field names.

`field_name`, `derivative_label` and `short_form` print fields and their derivatives the way
messages, logs and `describe()` show them (`u`, `u_x`, `f(u, u_x, x)`). Never imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import UndefinedFunction

from pinnkit.errors import ProblemError

__all__ = [
    "Parameter",
    "Hidden",
    "is_hidden",
    "Normal",
    "field_name",
    "derivative_label",
    "short_form",
]


class Parameter(sp.Symbol):
    """An unknown constant of the problem, learned during training (an inverse problem).

    It is a SymPy symbol and is used in equations like any other symbol:
    `D = pk.Parameter("D", init=0.5)`, then `sp.Eq(u.diff(t), D * u.diff(x, 2))`.

    **Arguments**

    - `name`: the symbol's name, used in logs, `summary.json` and `run.parameters`.
    - `init`: the value training starts from (default 1.0).
    - `log`: learn `log(value)` instead of the value itself, which keeps the value positive
      and helps when it is small (a diffusivity of 1e-3, say). Default False.
    """

    is_real = True

    def __new__(cls, name: str, init: float = 1.0, *, log: bool = False):
        if not isinstance(name, str) or not name.isidentifier():
            raise ProblemError(
                f"Parameter name {name!r} is not a valid identifier. "
                'Fix: use a plain name such as `pk.Parameter("D", init=0.5)`.'
            )
        if isinstance(init, bool) or not isinstance(init, int | float | np.number | sp.Number):
            raise ProblemError(
                f'Parameter "{name}": init={init!r} is not a number. '
                f'Fix: a number, e.g. `pk.Parameter("{name}", init=0.5)`.'
            )
        init = float(init)
        if not np.isfinite(init):
            raise ProblemError(
                f'Parameter "{name}": init={init} is not finite. '
                f'Fix: give a finite starting value, e.g. `pk.Parameter("{name}", init=1.0)`.'
            )
        if log and init <= 0:
            raise ProblemError(
                f'Parameter "{name}": log=True needs a positive init, found {init}. '
                f"Fix: use a positive init or `log=False`."
            )
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.init = init
        obj.log = bool(log)
        return obj

    def __getnewargs_ex__(self):
        return (self.name,), {"init": self.init, "log": self.log}

    def _hashable_content(self):
        return (*super()._hashable_content(), self.init, self.log)


class Normal(sp.Symbol):
    """The outward unit normal's component along a coordinate, usable in boundary conditions.

    `pk.Normal(x)` is the `x` component of the outward normal at a boundary point. `Neumann`
    and `Robin` build their normal derivatives from these symbols.
    """

    def __new__(cls, coord: sp.Symbol):
        if not isinstance(coord, sp.Symbol):
            raise ProblemError(
                f"Normal({coord!r}): expected a coordinate symbol. Fix: `pk.Normal(x)`."
            )
        obj = sp.Symbol.__xnew__(cls, f"n_{coord.name}", real=True)
        obj.coord = coord
        return obj

    def __getnewargs_ex__(self):
        return (self.coord,), {}


class Hidden(UndefinedFunction):
    """An unknown term of the problem, learned by its own small network.

    `f = pk.Hidden("f")` is a SymPy function class, like `sp.Function("f")`; applying it gives
    an ordinary SymPy node: `sp.Eq(u.diff(t), D * u.diff(x, 2) + f(u))`. The compiler turns
    each Hidden term into a small network $f_\\theta$ evaluated, at every point, on the values
    of its arguments: $f(u, u_x, x)$ becomes $f_\\theta(u(p), u_x(p), x)$.

    Arguments may be fields, derivatives of fields, coordinates, or expressions of them
    (`f(u**2, u.diff(x))`), possibly with Parameters; every argument must involve a field or a
    coordinate (a constant input carries nothing the network's bias cannot). One Hidden may
    appear in several equations and conditions: it is one network, shared. Applied to different
    arguments in different places (`f(u) - f(v)`), it is still one function of its argument
    positions.

    **Arguments**

    - `name`: an identifier, distinct from every field, coordinate and Parameter.
    - `bounds`: optional input ranges used to normalise the network's inputs to [-1, 1]:
      either a sequence with one `(low, high)` or `None` per argument position, or a mapping
      from an argument expression (`u`, `u.diff(x)`) to `(low, high)`. Inputs without bounds
      get ranges estimated from the problem (see `pinnkit.compile.hidden`).

    **Raises**

    `ProblemError` for a bad name or bounds, or for a call without arguments. `Problem`
    rejects the rest: a Hidden nested in another Hidden's arguments, an argument with no field
    or coordinate, one name used with different numbers of arguments, or a name that clashes
    with a field, coordinate or Parameter.

    A Hidden term may be differentiated in the coordinates: `(D(u) * u.diff(x)).diff(x)`, a
    nonlinear diffusion, is written by the chain rule with `D'(u)`, the derivative of the
    network in its input (`pinnkit.problem.hidden_partials`). Does not yet support Hidden
    terms whose output is a vector.
    """

    def __new__(cls, name: str, *, bounds: Any = None):
        if not isinstance(name, str) or not name.isidentifier():
            raise ProblemError(
                f"Hidden name {name!r} is not a valid identifier. "
                'Fix: use a plain name such as `pk.Hidden("f")`.'
            )
        return super().__new__(cls, name, pinnkit_hidden=True, bounds=_hidden_bounds(name, bounds))

    def __call__(self, *args, **options):
        if not args:
            raise ProblemError(
                f'Hidden "{self.name}" was applied to no arguments: `{self.name}()`. A hidden '
                "network is a function of the values it is given. "
                f"Fix: apply it to fields, derivatives or coordinates, e.g. `{self.name}(u)`."
            )
        return super().__call__(*args, **options)

    def bounds_for(self, args: Sequence[sp.Expr]) -> list[tuple[float, float] | None]:
        """The user's `(low, high)` for each argument position of an application (or None)."""
        out: list[tuple[float, float] | None] = [None] * len(args)
        for key, pair in self.bounds or ():
            if isinstance(key, int):
                if key < len(out):
                    out[key] = pair
            else:
                for i, arg in enumerate(args):
                    if arg == key:
                        out[i] = pair
        return out


def _hidden_bounds(name: str, bounds: Any) -> tuple | None:
    """Normalise `Hidden(bounds=...)` to a hashable tuple of `(position or expr, (lo, hi))`."""
    if bounds is None:
        return None
    fix = (
        f'Fix: `pk.Hidden("{name}", bounds=[(0, 1)])` (one pair or None per argument) '
        f'or `pk.Hidden("{name}", bounds={{u: (0, 1)}})`.'
    )
    if isinstance(bounds, Mapping):
        items = [(sp.sympify(k), v) for k, v in bounds.items()]
    elif isinstance(bounds, Sequence) and not isinstance(bounds, str):
        items = [(i, v) for i, v in enumerate(bounds) if v is not None]
    else:
        raise ProblemError(f'Hidden "{name}": bounds={bounds!r} is not a list or a dict. {fix}')
    out = []
    for key, pair in items:
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            lo = hi = float("nan")
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ProblemError(
                f'Hidden "{name}": bounds entry {pair!r} (for argument {key}) is not a pair '
                f"low < high. {fix}"
            )
        out.append((key, (lo, hi)))
    return tuple(out)


def is_hidden(expr: Any) -> bool:
    """Whether `expr` is an application of a `Hidden` term, such as `f(u)`."""
    return isinstance(getattr(expr, "func", None), Hidden)


def _has_hidden(expr: sp.Basic) -> bool:
    return any(is_hidden(a) for a in expr.atoms(sp.Function))


def field_name(field: sp.Expr) -> str:
    """The name of a field, `"u"` for `u(x, t)`."""
    return str(field.func)


def _is_field_like(expr: Any) -> bool:
    func = getattr(expr, "func", None)
    return (
        isinstance(expr, sp.Expr)
        and isinstance(func, sp.core.function.UndefinedFunction)
        and not isinstance(func, Hidden)
    )


def derivative_label(node: sp.Expr, coords: Sequence[sp.Symbol]) -> str:
    """`u`, `u_x`, `u_xxt` for a field or a derivative of one: letters in coordinate order,
    multi-letter coordinate names braced (`u_{rho}`)."""
    if not isinstance(node, sp.Derivative):
        return field_name(node)
    counts = dict(node.variable_count)
    letters = "".join(
        (c.name if len(c.name) == 1 else "{" + c.name + "}") * int(counts.get(c, 0)) for c in coords
    )
    return f"{field_name(node.expr)}_{letters}"


def short_form(expr: sp.Expr, coords: Sequence[sp.Symbol]) -> str:
    """`expr` printed with fields as `u` and their derivatives as `u_x`: `f(u, u_x, x)`."""
    nodes = [d for d in expr.atoms(sp.Derivative) if _is_field_like(d.expr)]
    expr = expr.xreplace({d: sp.Symbol(derivative_label(d, coords)) for d in nodes})
    fields = [a for a in expr.atoms(sp.Function) if _is_field_like(a)]
    return sp.sstr(expr.xreplace({a: sp.Symbol(field_name(a)) for a in fields}))
