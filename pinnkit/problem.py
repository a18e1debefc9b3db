"""`Problem` and its parts: fields, `Parameter`, `Hidden`, conditions, `Data`, and their validation.

A problem is plain data built from SymPy expressions. It is validated once, when it is
built, so that a bad problem file never reaches the compiler or the training loop.
This module never imports torch.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import UndefinedFunction

from pinnkit.domain import AbstractDomain
from pinnkit.errors import ProblemError, did_you_mean
from pinnkit.reference import AbstractReference

__all__ = [
    "Parameter",
    "Hidden",
    "is_hidden",
    "Normal",
    "Condition",
    "Initial",
    "Boundary",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Data",
    "Equation",
    "Problem",
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
    rejects the rest: a Hidden inside a derivative, nested in another Hidden's arguments, an
    argument with no field or coordinate, one name used with different numbers of arguments,
    or a name that clashes with a field, coordinate or Parameter.

    Does not yet support: derivatives of a Hidden term (`f(u).diff(x)`) or Hidden terms whose
    output is a vector.
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
            "saw it, e.g. `sp.Eq(u, u)`). Fix: check that both sides are what you meant."
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
        return f"{self.name}: {self.expr} = 0 on {where}"


def Initial(field: sp.Expr, value: Any, *, name: str | None = None, weight: float = 1.0):
    """Initial condition `field = value` at the start time (`field` may be a time derivative)."""
    return Condition(field - sp.sympify(value), on="initial", name=name, weight=weight)


def Boundary(
    expr: sp.Expr,
    value: Any = 0,
    *,
    on: Any = "boundary",
    name: str | None = None,
    weight: float = 1.0,
) -> Condition:
    """Condition `expr = value` on the boundary or a part of it (`on="left"`, `on=sp.Eq(x, 1)`)."""
    return Condition(sp.sympify(expr) - sp.sympify(value), on=on, name=name, weight=weight)


def Dirichlet(field: sp.Expr, value: Any = 0, *, on: Any = "boundary", name=None, weight=1.0):
    """Dirichlet condition `field = value` on `on`."""
    return Boundary(field, value, on=on, name=name, weight=weight)


def _normal_derivative(field: sp.Expr) -> sp.Expr:
    if not _is_field_like(field):
        raise ProblemError(
            f"Neumann/Robin: expected a field such as `u(x, y)`, found {field}. "
            "Fix: pass the field itself; the normal derivative is formed for you."
        )
    return sp.Add(*[Normal(c) * field.diff(c) for c in field.args])


def Neumann(field: sp.Expr, value: Any = 0, *, on: Any = "boundary", name=None, weight=1.0):
    """Neumann condition on the outward normal derivative: `du/dn = value` on `on`.

    Time is not a spatial direction: its normal component is zero on every lateral boundary.
    """
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
):
    """Robin condition `a * field + b * du/dn = value` on `on`."""
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


class Data:
    """Observations of fields at points (sparse, possibly noisy), used as a data-fit loss term.

    **Arguments**

    - `coords`: mapping from coordinate (symbol or name) to a 1-D array of positions.
    - `values`: mapping from field (e.g. `u` or `"u"`) to a 1-D array of observed values;
      not every field need be observed.
    - `name`: loss term name (default `"data"`).
    - `weight`: fixed loss weight (default 1).

    Build from files with `Data.from_file(path)`: a CSV with a header row naming
    coordinates and fields (`x,t,u`), or an NPZ with one array per name.
    """

    def __init__(
        self,
        coords: Mapping[Any, Any],
        values: Mapping[Any, Any],
        *,
        name: str = "data",
        weight: float = 1.0,
    ):
        self.name = name
        self.weight = float(weight)
        self.coords = {self._key(k): self._array(v, f"coordinate {k}") for k, v in coords.items()}
        self.values = {self._key(k): self._array(v, f"field {k}") for k, v in values.items()}
        lengths = {k: len(v) for k, v in {**self.coords, **self.values}.items()}
        if len(set(lengths.values())) > 1:
            raise ProblemError(
                f'Data "{name}": arrays have different lengths {lengths}. '
                "Fix: give one value per observation point in every array."
            )
        if not self.values:
            raise ProblemError(f'Data "{name}": no observed field values were given.')
        self.n = next(iter(lengths.values()))

    @staticmethod
    def _key(key: Any) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, sp.Symbol):
            return key.name
        if _is_field_like(key):
            return field_name(key)
        raise ProblemError(
            f"Data: key {key!r} is not a coordinate, field or name. "
            'Fix: key arrays by the symbol (`x`), the field (`u`) or its name (`"u"`).'
        )

    @staticmethod
    def _array(value: Any, what: str) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise ProblemError(
                f"Data: {what} has a non-finite value at row {bad} ({arr[bad]}). "
                "Fix: drop or repair that observation."
            )
        return arr

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        name: str = "data",
        weight: float = 1.0,
        fields: Iterable[str] | None = None,
    ) -> Data:
        """Read observations from a CSV (header row of names) or an NPZ file.

        Columns whose names are not in `fields` are taken as coordinates; when `fields` is
        omitted, the problem decides later which names are fields (see `Problem`).
        """
        path = Path(path)
        if not path.exists():
            raise ProblemError(
                f"Data.from_file: no file at {path}. Fix: check the path; relative paths are "
                "taken from the current directory, so build them from the problem file, e.g. "
                '`Path(__file__).parent / "obs.csv"`.'
            )
        if path.suffix == ".npz":
            with np.load(path) as npz:
                table = {k: np.asarray(npz[k], dtype=np.float64).reshape(-1) for k in npz.files}
        elif path.suffix in (".csv", ".txt"):
            table = _read_csv(path)
        else:
            raise ProblemError(
                f"Data.from_file: {path} has suffix {path.suffix!r}; expected .csv or .npz."
            )
        return cls._from_table(table, name=name, weight=weight, fields=fields, where=str(path))

    @classmethod
    def _from_table(cls, table, *, name, weight, fields, where) -> Data:
        data = cls.__new__(cls)
        data.name, data.weight = name, float(weight)
        data.coords, data.values = {}, {}
        data._pending = {k: cls._array(v, f"column {k} of {where}") for k, v in table.items()}
        data._fields_hint = set(fields) if fields is not None else None
        data.n = len(next(iter(data._pending.values()))) if data._pending else 0
        data.where = where
        return data

    def _split(self, coord_names: Sequence[str], field_names: Sequence[str]) -> None:
        """Assign file columns to coordinates and fields once the problem is known."""
        pending = getattr(self, "_pending", None)
        if pending is None:
            return
        for key, arr in pending.items():
            if key in coord_names:
                self.coords[key] = arr
            elif key in field_names and (self._fields_hint is None or key in self._fields_hint):
                self.values[key] = arr
            else:
                raise ProblemError(
                    f'Data "{self.name}" ({self.where}): column "{key}" is neither a coordinate '
                    f"{list(coord_names)} nor a field {list(field_names)}."
                    f"{did_you_mean(key, [*coord_names, *field_names])} "
                    "Fix: rename the column in the file's header row."
                )
        del self._pending
        if not self.values:
            raise ProblemError(
                f'Data "{self.name}" ({self.where}): no column names a field '
                f"{list(field_names)}. Fix: add a column of observed values named after a field."
            )

    def __repr__(self) -> str:
        names = list(self.coords) + list(self.values) or list(getattr(self, "_pending", {}))
        return f"Data({self.name!r}, {self.n} points, columns {names})"


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(row for row in handle if not row.lstrip().startswith("#")))
    if len(rows) < 2:
        raise ProblemError(f"Data.from_file: {path} needs a header row and at least one row.")
    header = [h.strip() for h in rows[0]]
    columns: dict[str, list[float]] = {h: [] for h in header}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ProblemError(
                f"Data.from_file: {path}, line {number}: {len(row)} values for "
                f"{len(header)} columns {header}."
            )
        for h, cell in zip(header, row):
            try:
                columns[h].append(float(cell))
            except ValueError:
                raise ProblemError(
                    f"Data.from_file: {path}, line {number}, column {h!r}: {cell!r} is not a "
                    "number. Fix: the file must hold numbers only below its header row."
                ) from None
    return {h: np.asarray(v) for h, v in columns.items()}


class Problem:
    """A PDE (or ODE, or system) problem: domain, fields, equations, conditions, data, reference.

    **Arguments**

    - `domain`: an `AbstractDomain` (`Interval`, `Rectangle`, `Box`, `Disk`, a product with
      `TimeInterval`, or a `TimeInterval` alone for an ODE).
    - `fields`: the unknown functions, applied to all of the domain's coordinates in order,
      e.g. `[u]` with `u = sp.Function("u")(x, t)`.
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
        self.domain = domain
        self.name = str(name)
        self.coords: tuple[sp.Symbol, ...] = tuple(domain.coords)
        self.fields: tuple[sp.Expr, ...] = self._check_fields(fields)
        self.field_names = tuple(field_name(f) for f in self.fields)
        self.equations: tuple[Equation, ...] = self._check_equations(equations)
        self.conditions: tuple[Condition, ...] = self._check_conditions(conditions)
        self.data: tuple[Data, ...] = self._check_data(data)
        self.reference = self._check_reference(reference)
        self.parameters: tuple[Parameter, ...] = self._collect_parameters()
        self.hidden: tuple[Hidden, ...] = self._collect_hidden()
        self._check_names()
        self._check_fields_used()

    # -- validation -------------------------------------------------------------------------

    def _check_fields(self, fields) -> tuple[sp.Expr, ...]:
        if isinstance(fields, sp.Expr):
            fields = [fields]
        fields = tuple(fields)
        if not fields:
            raise ProblemError(
                'Problem: no fields. Fix: `fields=[u]` with `u = sp.Function("u")(x, t)`.'
            )
        seen = set()
        for f in fields:
            if not _is_field_like(f):
                raise ProblemError(
                    f"Problem: field {f!r} is not an applied function. "
                    f'Fix: `{f} = sp.Function("{f}")({", ".join(map(str, self.coords))})`.'
                )
            if tuple(f.args) != self.coords:
                raise ProblemError(
                    f"Problem: field {f} takes {tuple(f.args)}, but the domain's coordinates are "
                    f"{self.coords}. Fix: apply it to all coordinates in that order, "
                    f'`sp.Function("{f.func}")({", ".join(map(str, self.coords))})`.'
                )
            if f.func in seen:
                raise ProblemError(f"Problem: field {f} is listed twice.")
            seen.add(f.func)
        return fields

    def _check_expr(self, expr: sp.Expr, where: str, *, allow_normals: bool) -> sp.Expr:
        """Check symbols, functions and derivatives of one residual; return it with derivatives
        of non-field expressions expanded."""
        self._check_hidden_uses(expr, where)
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and not _is_field_like(e.expr),
            lambda e: e.doit(),
        )
        field_funcs = {f.func: f for f in self.fields}
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.Derivative):
                for var, _count in node.variable_count:
                    if var not in self.coords:
                        raise ProblemError(
                            f"{where}: derivative {node} is taken in `{var}`, which is not a "
                            f"coordinate {self.coords}."
                            f"{did_you_mean(str(var), map(str, self.coords))} "
                            "Fix: differentiate only in the domain's coordinates."
                        )
            elif is_hidden(node):
                continue  # its arguments are checked like the rest of the expression
            elif isinstance(getattr(node, "func", None), sp.core.function.UndefinedFunction):
                if node.func not in field_funcs:
                    raise ProblemError(
                        f"{where}: `{node}` is an unknown function; the fields are "
                        f"{list(self.fields)}.{did_you_mean(str(node.func), self.field_names)} "
                        "Fix: add it to `fields=[...]` or use a declared field."
                    )
                if tuple(node.args) != self.coords:
                    raise ProblemError(
                        f"{where}: field `{node}` is applied to {tuple(node.args)}; pinnkit "
                        f"evaluates fields at the domain's points {self.coords}. Fix: write "
                        f"`{field_funcs[node.func]}`; to use other points, add a `Condition`."
                    )
        allowed = set(self.coords)
        for sym in expr.free_symbols:
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

    def _check_hidden_uses(self, expr: sp.Expr, where: str) -> None:
        """Hidden terms only as plain applications to values the compiler can evaluate."""
        for node in sp.preorder_traversal(expr):
            if isinstance(node, (sp.Derivative, sp.Subs)) and _has_hidden(node):
                name = next(a.func.name for a in node.atoms(sp.Function) if is_hidden(a))
                raise ProblemError(
                    f"{where}: the Hidden term `{name}` appears inside a derivative: `{node}`. "
                    "pinnkit evaluates a Hidden network on its arguments but does not "
                    f"differentiate it in the coordinates. Fix: give `{name}` the derivative "
                    f"values it needs as arguments (e.g. `{name}(u, u.diff(x))`), or introduce "
                    "a field for the differentiated quantity with its own equation."
                )
            if not is_hidden(node):
                continue
            for arg in node.args:
                if _has_hidden(arg):
                    raise ProblemError(
                        f"{where}: Hidden terms are nested in `{node}`. One Hidden network "
                        f"cannot take another's output. Fix: use one Hidden term for the "
                        f"composition, e.g. `{node.func.name}({', '.join(self.field_names)})`."
                    )
                # A field u(x, t) has the coordinates among its free symbols.
                if not arg.free_symbols & set(self.coords):
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

    def _check_equations(self, equations) -> tuple[Equation, ...]:
        if isinstance(equations, (sp.Basic,)):
            equations = [equations]
        items = (
            list(equations.items())
            if isinstance(equations, Mapping)
            else [(f"eq{i}", e) for i, e in enumerate(equations)]
        )
        if not items:
            raise ProblemError("Problem: no equations. Fix: `equations=[sp.Eq(lhs, rhs)]`.")
        out = []
        for name, eq in items:
            where = f'equation "{name}"'
            residual = _as_expr(eq, where)
            if residual == 0:
                raise ProblemError(f"{where}: {eq} is identically zero.")
            out.append(
                Equation(str(name), self._check_expr(residual, where, allow_normals=False), eq)
            )
        return tuple(out)

    def _check_conditions(self, conditions) -> tuple[Condition, ...]:
        out = []
        for i, cond in enumerate(conditions):
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
            new = Condition(expr, on=region, name=name, weight=cond.weight)
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
        except ProblemError as err:
            raise ProblemError(f"{where}: {err}") from None
        name = cond.name or f"periodic_{coord}"
        return dataclasses.replace(
            cond, on=low_part, name=name, fields=tuple(fields), bounds=(float(lo), float(hi))
        )

    def _coord_bounds(self, coord: sp.Symbol) -> tuple[float, float]:
        index = self.coords.index(coord)
        lo, hi = self.domain.bounds
        return float(lo[index]), float(hi[index])

    def _check_data(self, data) -> tuple[Data, ...]:
        if data is None:
            return ()
        items = [data] if isinstance(data, Data) else list(data)
        coord_names = [c.name for c in self.coords]
        for d in items:
            if not isinstance(d, Data):
                raise ProblemError(f"Problem: data must be `pk.Data`, found {type(d).__name__}.")
            d._split(coord_names, self.field_names)
            missing = [c for c in coord_names if c not in d.coords]
            extra = [c for c in d.coords if c not in coord_names]
            if missing or extra:
                raise ProblemError(
                    f'Data "{d.name}": coordinates {sorted(d.coords)} do not match the domain\'s '
                    f"{coord_names} (missing {missing}, unknown {extra})."
                    f"{did_you_mean(extra[0], coord_names) if extra else ''} "
                    "Fix: give one array per coordinate of the domain."
                )
            for f in d.values:
                if f not in self.field_names:
                    raise ProblemError(
                        f'Data "{d.name}": `{f}` is not a field {list(self.field_names)}.'
                        f"{did_you_mean(f, self.field_names)}"
                    )
            points = np.stack([d.coords[c] for c in coord_names], axis=1)
            inside = self.domain.contains(points, "interior", tol=1e-6)
            if not np.all(inside):
                bad = int(np.flatnonzero(~inside)[0])
                raise ProblemError(
                    f'Data "{d.name}": {int((~inside).sum())} of {d.n} points lie outside the '
                    f"domain {self.domain!r}; the first is row {bad}: "
                    f"{dict(zip(coord_names, points[bad].tolist()))}. "
                    "Fix: drop those rows or enlarge the domain."
                )
        names = [d.name for d in items]
        if len(set(names)) != len(names):
            raise ProblemError(f"Problem: data sets share a name: {names}. Fix: pass `name=`.")
        return tuple(items)

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
        """Every distinct application of `hidden` (`f(u)`, ...), in order of appearance."""
        found: dict[sp.Expr, None] = {}
        for expr in self._residual_exprs():
            for node in sp.preorder_traversal(expr):
                if is_hidden(node) and node.func == hidden:
                    found.setdefault(node, None)
        return tuple(found)

    def _residual_exprs(self) -> list[sp.Expr]:
        return [e.residual for e in self.equations] + [c.expr for c in self.conditions]

    def _collect_hidden(self) -> tuple[Hidden, ...]:
        found: dict[str, tuple[Hidden, sp.Expr, str]] = {}
        for item in [*self.equations, *self.conditions]:
            expr = item.residual if isinstance(item, Equation) else item.expr
            kind = "equation" if isinstance(item, Equation) else "condition"
            for node in sp.preorder_traversal(expr):
                if not is_hidden(node):
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
        lines = [
            f"Problem {self.name!r}",
            f"  domain:     {self.domain!r}",
            f"  fields:     {', '.join(map(str, self.fields))}",
        ]
        if self.parameters:
            lines.append(
                "  parameters: "
                + ", ".join(
                    f"{p.name} (init {p.init}{', log' if p.log else ''})" for p in self.parameters
                )
            )
        if self.hidden:
            apps = [a for h in self.hidden for a in self.hidden_applications(h)]
            lines.append("  hidden:     " + ", ".join(short_form(a, self.coords) for a in apps))
        lines.append("  equations:")
        lines += [f"    {e.name}: {sp.sstr(e.source)}" for e in self.equations]
        if self.conditions:
            lines.append("  conditions:")
            lines += [f"    {c}" for c in self.conditions]
        for d in self.data:
            lines.append(f"  data:       {d!r}")
        if self.reference is not None:
            lines.append(
                f"  reference:  {type(self.reference).__name__} for {list(self.reference.fields)}"
            )
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        fields = list(self.field_names)
        return f"Problem({self.name!r}, fields={fields}, equations={len(self.equations)})"

    def _repr_latex_(self) -> str:
        rows = [sp.latex(e.source) for e in self.equations]
        for c in self.conditions:
            if c.periodic is not None:
                rows.append(rf"\text{{periodic in }} {sp.latex(c.periodic)}")
            else:
                rows.append(rf"{sp.latex(c.expr)} = 0 \quad \text{{on {c.on}}}")
        if self.hidden:
            names = r",\ ".join(sp.latex(sp.Symbol(h.name)) for h in self.hidden)
            rows.append(rf"{names} \quad \text{{hidden (learned by networks)}}")
        return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


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
