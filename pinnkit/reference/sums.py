"""Sums over the components of a vector coordinate, evaluated without expanding them.

`lower_sums` replaces each `sp.Sum` by a placeholder and a `SumKernel`, which evaluates it at N
points in O(N d) array operations with NumPy or torch (passed in, never imported here), so that
solutions and sources in d = 1,000-100,000 dimensions never become d-term SymPy expressions.
`Coefficients` holds the constant arrays such sums multiply by.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from pinnkit.errors import ProblemError

__all__ = ["FUNCTIONS", "Coefficients", "SumKernel", "lower_sums"]

# SymPy function -> the attribute of the array module that computes it; the names are the
# same in NumPy and torch (torch has the `arc*` aliases).
FUNCTIONS = {
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.exp: "exp", sp.log: "log",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asin: "arcsin", sp.acos: "arccos",
    sp.atan: "arctan", sp.asinh: "arcsinh", sp.acosh: "arccosh", sp.atanh: "arctanh",
    sp.Abs: "abs", sp.sign: "sign", sp.atan2: "arctan2",
}  # fmt: skip
# A component column symbol made by `pk.Vector`: `x[3]` is column 3 of the vector `x`.
_COMPONENT = re.compile(r"^([A-Za-z_]\w*)\[(\d+)\]$")
_SUPPORTED = "numbers, the summation indices, components `x[i + k]` (offsets, strides, `% d` "
_SUPPORTED += "wraps), `pk.Coefficients` values `c[i + k]`, scalar symbols, +, *, ** and "
_SUPPORTED += ", ".join(sorted({f.__name__ for f in FUNCTIONS}))
_REWRITE = "rewrite the summand with these, or expand the sum for a small d (`.doit()`)."


class _Values(sp.Atom):
    """The constant array of a `Coefficients`, a SymPy atom compared by its digest."""

    def __new__(cls, array: np.ndarray):
        obj = super().__new__(cls)
        obj.array, obj.digest = array, hashlib.sha256(array.tobytes()).hexdigest()
        return obj

    def _hashable_content(self):
        return (self.digest, len(self.array))


class Coefficients(sp.IndexedBase):
    r"""Named constants $c_0, \dots, c_{n-1}$ for sums, e.g. `pk.Coefficients("c", values)`.

    `c[i]` with a symbolic index is an `sp.Indexed` (real); `c[3]` with an int is the number
    itself, `sp.Float(values[3])`, so that expressions with fixed indices need no lowering
    (negative ints count from the end, as in Python). Two `Coefficients` are equal when their
    names and values are; they pickle, and survive SymPy's rebuilding of expressions.

    **Arguments**

    - `name`: an identifier (`"c"`).
    - `values`: a 1-D array of finite real numbers, copied as float64 and made read-only
      (`c.values`).

    **Raises**

    `ProblemError` for a bad name or values, or an int index out of range.
    """

    def __new__(cls, name: str | sp.Symbol, values: Any):
        if not isinstance(values, _Values):  # (label, _Values) is SymPy rebuilding from args
            array = np.array(values, dtype=np.float64)
            if not (str(name).isidentifier() and array.ndim == 1 and array.size > 0) or not (
                np.all(np.isfinite(array))
            ):
                raise ProblemError(
                    f"Coefficients({name!r}, values of shape {array.shape}): expected an "
                    "identifier and a non-empty 1-D array of finite numbers. "
                    'Fix: e.g. `pk.Coefficients("c", np.linspace(0, 1, d))`.'
                )
            array.flags.writeable = False
            values = _Values(array)
        obj = sp.Expr.__new__(cls, sp.Symbol(str(name), real=True), values)
        obj._shape, obj._name = sp.Tuple(len(values.array)), str(name)
        obj._offset, obj._strides = sp.S.Zero, None
        sp.IndexedBase._set_assumptions(obj, {"real": True})
        return obj

    @property
    def values(self) -> np.ndarray:
        """The constants, a read-only float64 array."""
        return self.args[1].array

    def __getnewargs_ex__(self):
        return (self.name, self.values), {}

    def __getitem__(self, index, **kwargs):
        if isinstance(index, (int, sp.Integer)) and not isinstance(index, bool):
            size = len(self.values)
            if not -size <= int(index) < size:
                raise ProblemError(
                    f"{self.name}[{index}]: index out of range; `{self.name}` holds {size} "
                    f"values, {self.name}[0] to {self.name}[{size - 1}]."
                )
            return sp.Float(float(self.values[int(index)]))
        return super().__getitem__(index, **kwargs)


class _Lowering:
    """Turns one top-level `sp.Sum` into array steps. A node lowers to an int, the slot of the
    step computing it, or to its value when known in advance (a float or a NumPy array). Arrays
    have rank 1 + K: the N points, then one axis per summation limit (size 1 if unused)."""

    def __init__(self, top: sp.Sum, where: str):
        self.top, self.where, self.memo = top, where, {}
        self.steps: list[tuple[str, Any, tuple[int, ...]]] = []  # (op, data, argument slots)
        self.vectors: dict[str, int | None] = {}  # name -> dim (None: unknown)
        self.widths: dict[str, int] = {}  # name -> the columns read (1 + largest position)
        self.scalars: set[sp.Symbol] = set()
        sums = [s for s in sp.preorder_traversal(top) if isinstance(s, sp.Sum)]
        self.rank, self.axes = 1 + sum(len(s.limits) for s in sums), 0  # K: an upper bound

    def error(self, what: str, fix: str) -> ProblemError:
        text = str(self.top) if len(str(self.top)) <= 100 else str(self.top)[:97] + "..."
        return ProblemError(f"{self.where}sum `{text}`: {what} Fix: {fix}")

    def shape(self, axis: int, length: int) -> tuple[int, ...]:
        return tuple(length if k == 1 + axis else 1 for k in range(self.rank))

    def emit(self, op: str, data: Any, args: tuple[int, ...] = ()) -> int:
        self.steps.append((op, data, args))
        return len(self.steps) - 1

    def node(self, expr: sp.Basic, env: dict) -> Any:
        """The value or slot of `expr` (memoised: a repeated subexpression is one step)."""
        key = (expr, tuple(env.items()))
        if key not in self.memo:
            self.memo[key] = self._node(expr, env)
        return self.memo[key]

    def _node(self, expr: sp.Basic, env: dict) -> Any:
        if expr in env:
            axis, start, length = env[expr]
            index = np.arange(start, start + length, dtype=np.float64)
            return index.reshape(self.shape(axis, length))
        if (expr.is_Number or isinstance(expr, sp.NumberSymbol)) and expr.is_real:
            return float(expr)
        if isinstance(expr, sp.Indexed):
            return self.indexed(expr, expr.base, expr.indices, env)
        if isinstance(expr, sp.Symbol):
            match = _COMPONENT.match(expr.name)
            if match:
                return self.indexed(expr, sp.IndexedBase(match[1]), (int(match[2]),), env)
            self.scalars.add(expr)
            return self.emit("scalar", expr)
        if isinstance(expr, sp.Sum):
            return self.sum(expr, env)
        if expr.func in (sp.Add, sp.Mul, sp.Pow):
            return self.apply(expr.func.__name__.lower(), None, expr.args, env)
        if expr.func in FUNCTIONS:
            return self.apply("func", FUNCTIONS[expr.func], expr.args, env)
        kind = "an index outside any sum over it" if isinstance(expr, sp.Idx) else "unsupported"
        what = f"the summand uses `{expr}` ({type(expr).__name__}: {kind}); a vectorised sum "
        raise self.error(what + f"supports {_SUPPORTED}.", _REWRITE)

    def apply(self, op: str, data: Any, args: tuple, env: dict) -> Any:
        values = [self.node(a, env) for a in args]
        if not any(isinstance(v, int) for v in values):
            return _fold(_apply(op, data, values, np))
        slots = [v if isinstance(v, int) else self.emit("const", v) for v in values]
        return self.emit(op, data, tuple(slots))

    def sum(self, expr: sp.Sum, env: dict) -> Any:
        env, reductions = dict(env), []
        for limit in expr.limits:
            if len(limit) != 3 or not (limit[1].is_Integer and limit[2].is_Integer):
                raise self.error(
                    f"the limits `{tuple(limit)}` of `{limit[0]}` are not integers (limits with "
                    "a symbol or another index are not supported).",
                    f"use integer limits, e.g. `({limit[0]}, 0, d - 1)` with `d = x.dim`.",
                )
            lower, upper = int(limit[1]), int(limit[2])
            # Karr's convention, as SymPy's `doit`: an upper limit below lower - 1 flips sign.
            sign = 1 if upper >= lower - 1 else -1
            start, stop = (lower, upper + 1) if sign > 0 else (upper + 1, lower)
            env[limit[0]] = (self.axes, start, stop - start)
            reductions.append((1 + self.axes, stop - start, sign))
            self.axes += 1
        value = self.node(expr.function, env)
        for reduction in reductions:  # the first limit is the innermost sum
            if isinstance(value, int):
                value = self.emit("sum", reduction, (value,))
            else:
                value = _fold(_reduce(value, *reduction))
        return value

    def indexed(self, expr: sp.Basic, base: sp.IndexedBase, indices, env: dict) -> Any:
        name = str(base.label)
        if len(indices) != 1:
            raise self.error(f"`{expr}` has {len(indices)} indices.", f"use one: `{name}[i]`.")
        grids = {
            s: np.arange(start, start + length).reshape(self.shape(axis, length)[1:])
            for s, (axis, start, length) in env.items()
        }
        positions = np.asarray(self.integer(sp.sympify(indices[0]), grids, expr), dtype=np.int64)
        positions = positions.reshape(positions.shape or (1,) * (self.rank - 1))
        coefficients = isinstance(base, Coefficients)
        size = len(base.values) if coefficients else base.shape and int(base.shape[0])
        self.check_range(expr, name, positions, size)
        if coefficients:
            return base.values[positions].reshape((1, *positions.shape))
        known = self.vectors.get(name)
        if size is not None and known not in (None, size):
            what = f"`{name}` is indexed with {known} and with {size} components."
            raise self.error(what, f"index `{name}` through one `IndexedBase` (`x.indexed()`).")
        self.vectors[name] = size if size is not None else known
        if positions.size:
            self.widths[name] = max(self.widths.get(name, 0), int(positions.max()) + 1)
        return self.emit("column", (name, _selector(positions)))

    def integer(self, index: sp.Expr, grids: dict, expr: sp.Basic) -> Any:
        """Evaluate an index on the integer grids of the summation indices (ints or arrays)."""
        if index in grids:
            return grids[index]
        if index.is_Integer:
            return int(index)
        if index.is_Add or index.is_Mul:
            parts = [self.integer(a, grids, expr) for a in index.args]
            return functools.reduce(operator.add if index.is_Add else operator.mul, parts)
        if isinstance(index, sp.Mod):
            return np.mod(*(self.integer(a, grids, expr) for a in index.args))
        if index.is_Pow and index.exp.is_Integer and index.exp >= 0:
            return self.integer(index.base, grids, expr) ** int(index.exp)
        raise self.error(
            f"the index of `{expr}` is not an integer expression of the summation indices "
            f"({', '.join(map(str, grids))}): it uses `{index}`.",
            "use integer offsets, strides or wraps of the summation indices, e.g. "
            "`x[i + 1]`, `x[2 * i]`, `x[d - 1 - i]`, `x[(i + 1) % d]`.",
        )

    def check_range(self, expr, name: str, positions: np.ndarray, size: int | None) -> None:
        low, high = (int(positions.min()), int(positions.max())) if positions.size else (0, 0)
        if low < 0 or (size is not None and high >= size):
            last = f"`{name}[{size - 1}]` (it has {size})" if size else "its last column"
            raise self.error(
                f"`{expr}` runs over `{name}[{low}]` to `{name}[{high}]`, outside `{name}[0]` "
                f"to {last}.",
                "shorten the range of the sum (e.g. `(i, 0, d - 2)` for `x[i + 1]`) or wrap "
                "the index (`x[(i + 1) % d]`).",
            )


def _selector(positions: np.ndarray) -> tuple:
    """A basic slice (a view) when the positions step evenly along one axis, else a gather."""
    flat = positions.reshape(-1)
    if sum(n > 1 for n in positions.shape) <= 1 and flat.size:
        step = int(flat[1] - flat[0]) if flat.size > 1 else 1
        if step > 0 and np.array_equal(flat, flat[0] + step * np.arange(flat.size)):
            where = (int(flat[0]), int(flat[0]) + step * (flat.size - 1) + 1, step)
            return ("slice", where, positions.shape)
    return ("take", positions, positions.shape)


def _fixed(base: sp.IndexedBase, *indices: sp.Expr) -> sp.Expr:
    """`c[3]`, `x[3]` as SymPy builds them (`doit`, `subs`): the number, the component symbol."""
    if len(indices) != 1 or not indices[0].is_Integer:
        return sp.Indexed(base, *indices)
    if isinstance(base, Coefficients):
        return base[int(indices[0])]
    return sp.Symbol(f"{base.label}[{int(indices[0])}]", real=True)


def _fold(value: Any) -> Any:
    return float(value) if np.ndim(value) == 0 else value


def _apply(op: str, data: Any, args: list, xp: Any) -> Any:
    if op in ("add", "mul"):
        return functools.reduce(operator.add if op == "add" else operator.mul, args)
    if op == "pow":
        base, exponent = args
        if isinstance(exponent, float) and exponent.is_integer():
            exponent = int(exponent)  # x**2 exactly, and (-1)**k of a negative base
        return base**exponent
    if op == "sum":
        return _reduce(args[0], *data)
    return getattr(xp, data)(*args)


def _reduce(value: Any, axis: int, length: int, sign: int) -> Any:
    """Sum over `axis` (of size `length`, or 1 when the summand does not depend on it)."""
    if np.ndim(value) == 0:
        return value * length * sign
    total = value.sum(axis)  # positional: `axis` for NumPy, `dim` for torch
    total = total * length if value.shape[axis] != length else total
    total = total.reshape(tuple(1 if k == axis else n for k, n in enumerate(value.shape)))
    return -total if sign < 0 else total


class SumKernel:
    r"""One lowered sum $\sum_i f(i, x_{i+k}, c_{i+k}, s)$, evaluated on whole arrays.

    Made by `lower_sums`, never directly. Attributes:

    - `symbol`: the placeholder that stands for the sum in the lowered expression.
    - `expr`: the original `sp.Sum`.
    - `vectors`: a dict from each vector name whose components the sum reads to its number of
      components (`None` when its `IndexedBase` has no shape); read it, never change it.
    - `scalars`: the free scalar symbols of the summand, sorted by name (time `t`, a
      `pk.Parameter`, a plain coordinate), whose values `evaluate` takes.

    Cost: O(N L) for a sum of L terms (O(N L1 L2) for a double sum), each operation on whole
    (N, L) arrays; memory: a few (N, L) arrays at a time (more under autograd).
    """

    def __init__(self, symbol: sp.Symbol, lowering: _Lowering, result: Any):
        self.symbol, self.expr = symbol, lowering.top
        self.vectors = dict(sorted(lowering.vectors.items()))
        self.scalars = tuple(sorted(lowering.scalars, key=lambda s: s.name))
        self._steps, self._widths, self._rank = lowering.steps, lowering.widths, lowering.rank
        self._result = result
        # After step k, drop the values no later step reads (each may be an (N, L) array).
        self._free_after: dict[int, list[int]] = {}
        for slot, k in {a: k for k, (_, _, args) in enumerate(self._steps) for a in args}.items():
            self._free_after.setdefault(k, []).append(slot)

    def evaluate(self, columns: Mapping[str, Any], xp: Any, scalars: Mapping | None = None):
        """The sum at N points.

        **Arguments**

        - `columns`: vector name -> its (N, d) block of points (NumPy array or torch tensor;
          column k is the component `x[k]`), for every vector of `self.vectors`.
        - `xp`: the array module, `numpy` or `torch` (or NumPy-like, e.g. CuPy); with torch the
          result keeps the autograd graph to the blocks and scalars.
        - `scalars`: each symbol of `self.scalars` (or its name) -> a number, a 0-d array or an
          (N,) array (one value per point); may be omitted when there are none.

        **Returns**

        An (N,) array or tensor, with the dtype and device of the blocks (`xp`'s default
        float without any); 0-d when no block or per-point scalar fixes N.

        **Raises**

        - `ProblemError`: a block or scalar is missing or has the wrong shape.
        """
        columns = {str(name): block for name, block in columns.items()}
        values = self._inputs(columns, dict(scalars or {}))
        arrays = [*values.values(), *columns.values()]
        like = next((v for v in arrays if hasattr(v, "dtype")), None)
        rows = {int(np.shape(v)[0]) for v in arrays if np.ndim(v) in (1, 2)}
        if len(rows - {1}) > 1:  # a single row broadcasts
            raise self._input_error(f"the blocks and scalars have different N: {sorted(rows)}")
        ops = _Ops(xp, like)
        dynamic = isinstance(self._result, int)
        out = (self._run(ops, values) if dynamic else ops.constant(self._result)).reshape(-1)
        return ops.broadcast(out, max(rows)) if rows else out.reshape(())

    def _inputs(self, columns: dict, scalars: dict) -> dict:
        values: dict[Any, Any] = {}
        for name, dim in self.vectors.items():
            width = self._widths.get(name, 0)
            shape = tuple(np.shape(columns[name])) if name in columns else None
            if shape is None or len(shape) != 2 or shape[1] < width or dim not in (None, shape[1]):
                want = dim if dim is not None else f">= {width}"
                raise self._input_error(
                    f"the block of `{name}` is {shape or 'missing'}, not (N, {want})"
                )
            values[name] = columns[name]
        for symbol in self.scalars:
            value = scalars.get(symbol, scalars.get(symbol.name))
            if value is None or np.ndim(value) > 1:
                found = "missing" if value is None else f"of shape {tuple(np.shape(value))}"
                raise self._input_error(f"the scalar `{symbol}` is {found}, not a number or (N,)")
            values[symbol] = value
        return values

    def _input_error(self, what: str) -> ProblemError:
        return ProblemError(
            f"SumKernel `{self.symbol}` = `{self.expr}`: {what}. Fix: `kernel.evaluate("
            f"{{name: block, ...}}, xp, scalars={{symbol: value, ...}})` with every vector of "
            f"`kernel.vectors` ({', '.join(self.vectors) or 'none'}) and scalar of "
            f"`kernel.scalars` ({', '.join(map(str, self.scalars)) or 'none'})."
        )

    def _run(self, ops: _Ops, inputs: dict) -> Any:
        values: list[Any] = [None] * len(self._steps)
        rest = (1,) * (self._rank - 1)
        for k, (op, data, args) in enumerate(self._steps):
            if op == "const":
                values[k] = data if np.ndim(data) == 0 else ops.constant(data)
            elif op == "scalar":  # a number, or one value per point along the first axis
                values[k] = ops.array(inputs[data]).reshape((-1, *rest))
            elif op == "column":
                values[k] = ops.column(ops.array(inputs[data[0]]), data[1])
            else:
                operands = [values[a] for a in args]
                if op == "func":  # torch functions take tensors only
                    operands = [ops.constant(v) if isinstance(v, float) else v for v in operands]
                values[k] = _apply(op, data, operands, ops.xp)
            for dead in self._free_after.get(k, ()):
                values[dead] = None
        return values[self._result]

    def __repr__(self) -> str:
        return f"SumKernel({self.symbol} = {self.expr}; scalars {list(self.scalars)})"


class _Ops:
    """The few array operations that differ between NumPy-like modules and torch."""

    def __init__(self, xp: Any, like: Any):
        self.xp, self.torch = xp, getattr(xp, "__name__", "") == "torch"
        if self.torch:
            tensor = like if isinstance(like, xp.Tensor) else xp.empty(0)  # default dtype, CPU
            self.dtype, self.device = tensor.dtype, tensor.device
        else:
            kind = getattr(getattr(like, "dtype", None), "kind", "")
            self.dtype = like.dtype if kind == "f" else np.float64

    def constant(self, array: Any) -> Any:
        if self.torch:
            return self.xp.as_tensor(array, dtype=self.dtype, device=self.device)
        return self.xp.asarray(array, dtype=self.dtype)

    def array(self, value: Any) -> Any:
        """An input as an array of `xp`: floats kept as they are (and in the graph)."""
        if self.torch:
            is_float = isinstance(value, self.xp.Tensor) and value.is_floating_point()
            return value if is_float else self.constant(value)
        value = self.xp.asarray(value)
        return value if value.dtype.kind == "f" else self.constant(value)

    def column(self, block: Any, selector: tuple) -> Any:
        kind, where, shape = selector
        if kind == "take":
            where = self.xp.as_tensor(where, device=block.device) if self.torch else where
        return block[:, slice(*where) if kind == "slice" else where].reshape((len(block), *shape))

    def broadcast(self, value: Any, rows: int) -> Any:
        return self.xp.broadcast_to(value, (rows,)) * 1  # a new array (NumPy's is read-only)


def lower_sums(
    expr: sp.Expr, *, prefix: str = "_sum", where: str = ""
) -> tuple[sp.Expr, dict[sp.Symbol, SumKernel]]:
    r"""Replace every `sp.Sum` of `expr` by a placeholder symbol and lower it to a `SumKernel`.

    Example: with `x = pk.Vector("x", d)`, `i = sp.Symbol("i", integer=True)` and
    `c = pk.Coefficients("c", values)`, `lower_sums((1 - sp.Sum(x[i]**2, (i, 0, d - 1))) *
    sp.Sum(c[i] * sp.sin(x[i + 1]), (i, 0, d - 2)))` returns `(1 - _sum0) * _sum1` and two
    kernels; `kernel.evaluate({"x": points}, torch, scalars)` gives each sum at the points.

    A summand may hold numbers, the summation indices, components `x[index]` of a vector (an
    `IndexedBase`; its `shape`, set by `pk.Vector`, bounds the index) and symbols `x[k]`,
    `Coefficients` values `c[index]`, scalar symbols, +, *, **, `FUNCTIONS` and nested sums
    (one array axis per index: a double sum costs O(N L1 L2)). An index is an integer
    expression of the summation indices: `x[i + 1]`, `x[2 * i]`, `x[d - 1 - i]`, `x[(i + 1) %
    d]`. Parts that depend only on indices and coefficients are computed here, once; `c[3]`,
    `x[3]` made by SymPy (`.doit()`, `.subs`) become the number and the component symbol.
    Refused (`ProblemError`): non-integer limits (symbols; another index: no triangular sums),
    indices outside `[0, dim - 1]` (nothing wraps implicitly) or with a scalar symbol in them,
    fields, derivatives and other functions (`Piecewise`, ...). Every `Sum` is lowered, also
    one without vectors (a Fourier series in `x` becomes a kernel with the scalar `x`).

    **Arguments**

    - `expr`: a SymPy expression.
    - `prefix`: the placeholders are real symbols `{prefix}0`, `{prefix}1`, ... (skipping names
      free in `expr`); give expressions lowered for one generated function distinct prefixes.
    - `where`: where `expr` comes from, to start the messages (`'equation "eq0"'`).

    **Returns**

    The lowered expression and a dict from placeholder to `SumKernel`, in placeholder order;
    equal sums share one placeholder. An expression without sums comes back unchanged.

    **Raises**

    - `ProblemError`: a sum that cannot be lowered, naming the sum, what was found and the fix.
    """
    expr = sp.sympify(expr).replace(sp.Indexed, _fixed)
    taken = {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    found: dict[sp.Sum, None] = {}
    walk = sp.preorder_traversal(expr)
    for node in walk:  # the outermost sums, left to right
        if isinstance(node, sp.Sum):
            found[node] = None
            walk.skip()
    kernels: dict[sp.Symbol, SumKernel] = {}
    names = (f"{prefix}{k}" for k in itertools.count() if f"{prefix}{k}" not in taken)
    for top, name in zip(found, names):
        symbol, lowering = sp.Symbol(name, real=True), _Lowering(top, f"{where}: " if where else "")
        kernels[symbol] = SumKernel(symbol, lowering, lowering.node(top, {}))
    return expr.xreplace({k.expr: s for s, k in kernels.items()}), kernels
