"""The algebraic rest of each residual -> torch: common-subexpression elimination, a small
printer over pinnkit's op table, and the `extra_ops` hook for functions it does not know.

Derivatives never reach this module: `plan.py` has already replaced them by symbols. A
`Hidden` term `f(a, b)` is printed as a call `_hidden["f"](a, b)` on the argument tensors;
the generated function then takes the mapping `_hidden` (name -> callable) as its last
argument, so the networks are passed in at call time rather than captured.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping, Sequence

import sympy as sp
import torch

from pinnkit.errors import CompileError
from pinnkit.problem import is_hidden
from pinnkit.problem.hidden_partials import is_hidden_partial, uses_hidden_terms

__all__ = ["OP_TABLE", "generate", "uses_hidden"]


def _sec(x):
    return 1.0 / torch.cos(x)


def _csc(x):
    return 1.0 / torch.sin(x)


def _cot(x):
    return 1.0 / torch.tan(x)


def _sech(x):
    return 1.0 / torch.cosh(x)


def _csch(x):
    return 1.0 / torch.sinh(x)


def _coth(x):
    return 1.0 / torch.tanh(x)


def _heaviside(x, h0=0.5):
    """H(x), h0 at 0, from comparisons: its derivative is 0 wherever it has one, where
    `torch.heaviside` has no derivative at all (training through H of a field raised)."""
    return (x > 0).to(x.dtype) + float(h0) * (x == 0).to(x.dtype)


def _extremum(pair: Callable, bound: str, pick: Callable) -> Callable:
    """SymPy's `Max` (`Min`) of tensors and numbers: `torch.maximum` takes two tensors
    only, so the tensors are folded pairwise and the numbers applied as a clamp."""

    def extremum(*args):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        numbers = [float(a) for a in args if not isinstance(a, torch.Tensor)]
        if not tensors:
            return pick(numbers)
        out = tensors[0]
        for other in tensors[1:]:
            out = pair(out, other)
        return torch.clamp(out, **{bound: pick(numbers)}) if numbers else out

    return extremum


_max = _extremum(torch.maximum, "min", max)
_min = _extremum(torch.minimum, "max", min)


def _as_tensor_pow(base, exponent):
    return torch.pow(base, exponent)


#: SymPy function class -> torch callable. Arguments arrive as tensors or Python floats.
OP_TABLE: dict[type, Callable] = {
    sp.sin: torch.sin,
    sp.cos: torch.cos,
    sp.tan: torch.tan,
    sp.asin: torch.asin,
    sp.acos: torch.acos,
    sp.atan: torch.atan,
    sp.atan2: torch.atan2,
    sp.sinh: torch.sinh,
    sp.cosh: torch.cosh,
    sp.tanh: torch.tanh,
    sp.asinh: torch.asinh,
    sp.acosh: torch.acosh,
    sp.atanh: torch.atanh,
    sp.exp: torch.exp,
    sp.log: torch.log,
    sp.Abs: torch.abs,
    sp.sign: torch.sign,
    sp.erf: torch.special.erf,
    sp.erfc: torch.special.erfc,
    sp.sec: _sec,
    sp.sech: _sech,
    sp.csch: _csch,
    sp.coth: _coth,
    sp.csc: _csc,
    sp.cot: _cot,
    sp.Heaviside: _heaviside,
    sp.Max: _max,
    sp.Min: _min,
    sp.floor: torch.floor,
    sp.ceiling: torch.ceil,
}


class _Printer:
    """Prints a SymPy expression as Python source over named locals and an op list."""

    def __init__(self, names: Mapping[sp.Symbol, str], ops: Mapping[type, Callable], where: str):
        self.names = names
        self.table = ops
        self.where = where
        self.used: list[Callable] = []

    def op(self, fn: Callable) -> str:
        for i, known in enumerate(self.used):
            if known is fn:
                return f"_ops[{i}]"
        self.used.append(fn)
        return f"_ops[{len(self.used) - 1}]"

    def __call__(self, e: sp.Basic) -> str:
        if e in self.names:
            return self.names[e]
        if not e.free_symbols:
            value = complex(e.evalf(17)) if e.is_number else None
            if value is None or value.imag != 0:
                raise CompileError(
                    f"{self.where}: the constant `{e}` is not a real number. "
                    "Fix: write real-valued residuals (split complex equations into real "
                    "and imaginary parts as two fields)."
                )
            return repr(value.real)
        if isinstance(e, sp.Symbol):
            raise CompileError(
                f"{self.where}: symbol `{e}` has no value at compile time; this is a bug in "
                "pinnkit (Problem validation should have caught it)."
            )
        if isinstance(e, sp.Add):
            return "(" + " + ".join(self(a) for a in e.args) + ")"
        if isinstance(e, sp.Mul):
            # Fold every constant factor (-1/100, 1/pi) into one float.
            numbers = [a for a in e.args if not a.free_symbols]
            rest = [self(a) for a in e.args if a.free_symbols]
            if numbers:
                rest.insert(0, self(sp.Mul(*numbers)))
            return "(" + " * ".join(rest) + ")"
        if isinstance(e, sp.Pow):
            return self._pow(e)
        if is_hidden(e) or is_hidden_partial(e):
            return f"_hidden[{e.func.name!r}](" + ", ".join(self(a) for a in e.args) + ")"
        fn = self.table.get(type(e))
        if fn is None:
            for cls in type(e).__mro__:
                if cls in self.table:
                    fn = self.table[cls]
                    break
        if fn is None:
            name = type(e).__name__
            raise CompileError(
                f"{self.where} uses `{e}`, whose function `{name}` has no torch mapping.\n"
                "  Fix: rewrite it with supported functions (docs/problem-files.md lists "
                "them), or, from Python (the command line has no option for it), pass "
                f"`extra_ops={{sympy.{name}: my_torch_{name.lower()}}}` to `pk.fit` or "
                "`compile_problem`."
            )
        return f"{self.op(fn)}(" + ", ".join(self(a) for a in e.args) + ")"

    def _pow(self, e: sp.Pow) -> str:
        base, exp = e.args
        b = self(base)
        if exp.is_Integer:
            n = int(exp)
            if n == -1:
                return f"(1.0 / {b})"
            if n < 0:
                return f"(1.0 / {b} ** {-n})"
            return f"({b} ** {n})"
        if exp == sp.S.Half:
            return f"{self.op(torch.sqrt)}({b})"
        if exp == -sp.S.Half:
            return f"{self.op(torch.rsqrt)}({b})"
        if not exp.free_symbols:
            return f"({b} ** {self(exp)})"
        return f"{self.op(_as_tensor_pow)}({b}, {self(exp)})"


def _readable_names(inputs: Sequence[sp.Symbol], labels: Sequence[str] | None) -> dict:
    names: dict[sp.Symbol, str] = {}
    taken = {"_ops", "_hidden"}
    for i, sym in enumerate(inputs):
        label = labels[i] if labels is not None else sym.name
        if not label.isidentifier() or keyword.iskeyword(label) or label in taken:
            label = f"v{i}"
        taken.add(label)
        names[sym] = label
    return names


def uses_hidden(expr: sp.Expr) -> bool:
    """Whether `expr` applies a `Hidden` term or one of its partial derivatives (so its
    generated function takes `_hidden`)."""
    return uses_hidden_terms(expr)


def generate(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    *,
    where: Sequence[str],
    extra_ops: Mapping[type, Callable] | None = None,
    function_name: str = "residuals",
    labels: Sequence[str] | None = None,
) -> tuple[Callable, str]:
    """Compile residual expressions into one Python function of their input tensors.

    **Arguments**

    - `exprs`: residuals in plain symbols (derivatives already replaced).
    - `inputs`: the symbols, in the order the generated function takes them.
    - `where`: one name per expression, used in error messages.
    - `extra_ops`: more SymPy function classes mapped to torch callables (these win).
    - `labels`: readable argument names for the generated source (`u_xx`, `x`, `D`);
      a label that is not a fresh identifier falls back to `v<i>`.

    **Returns**

    `(fn, source)`: `fn(*inputs) -> tuple` of one tensor (or float) per expression, and the
    generated source (shown by `pinnkit check`). When an expression applies a `Hidden`
    term, `fn` takes one more, last argument: `_hidden`, mapping each Hidden name to a
    callable on its argument tensors.

    **Raises**

    `CompileError` naming the first unsupported node and the `extra_ops` hook.
    """
    table = {**OP_TABLE, **(extra_ops or {})}
    names = _readable_names(inputs, labels)
    # Check every expression on its own first so that errors name the right residual.
    for expr, label in zip(exprs, where):
        _Printer(names, table, label)(expr)
    replacements, reduced = sp.cse(
        list(exprs), symbols=sp.numbered_symbols("_c"), optimizations=None
    )
    printer = _Printer(dict(names), table, ", ".join(where))
    body = []
    # A common subexpression without symbols (exp(-0.5 lambda) of a boundary trace) goes
    # back into its users, where the printer folds it into one float: as a variable it would
    # be a Python float, and `torch.exp(float)` raises.
    constants: dict = {}
    for sym, sub in replacements:
        sub = sub.xreplace(constants)
        if not sub.free_symbols:
            constants[sym] = sub
            continue
        text = printer(sub)
        printer.names[sym] = sym.name
        body.append(f"    {sym.name} = {text}")
    results = [printer(r.xreplace(constants)) for r in reduced]
    args = ", ".join(
        [names[s] for s in inputs] + (["_hidden"] if any(map(uses_hidden, exprs)) else [])
    )
    source = "\n".join(
        [f"def {function_name}({args}):", *body, f"    return ({', '.join(results)},)"]
    )
    namespace: dict = {"_ops": list(printer.used)}
    exec(compile(source, f"<pinnkit {function_name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace[function_name]
    return fn, source
