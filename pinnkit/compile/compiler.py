"""`compile_problem`: a validated `Problem` -> a `CompiledProblem`.

Residuals are grouped by the region their points come from (interior, each boundary part,
the initial slice, each periodic pair of faces, each data set); each group gets one
derivative plan and one generated function. Each `Hidden` term becomes a small network,
called by the generated code on the values of its arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp
import torch
from torch import nn

from pinnkit.compile.auto import make_engine
from pinnkit.compile.codegen import generate, uses_hidden
from pinnkit.compile.compiled import COMPILE_NEEDS_TAYLOR, CompiledProblem, Group
from pinnkit.compile.hidden import hidden_term
from pinnkit.compile.operators import choose_method
from pinnkit.compile.plan import Operator, Partial, build_plan
from pinnkit.config import HiddenNet, Operators
from pinnkit.domain.vector import Vector
from pinnkit.errors import CompileError, ConfigError, did_you_mean
from pinnkit.models.hidden import hidden_module
from pinnkit.problem import Normal, Parameter, Problem
from pinnkit.problem.hidden_partials import hidden_partials
from pinnkit.reference.sums import lower_sums

__all__ = ["compile_problem"]


def compile_problem(
    problem: Problem,
    *,
    dtype: torch.dtype = torch.float32,
    engine: str = "auto",
    extra_ops: Mapping[type, Callable] | None = None,
    hidden: HiddenNet | None = None,
    hidden_terms: Mapping[str, HiddenNet] | None = None,
    generator: torch.Generator | None = None,
    compile: bool = False,
    operators: Operators | None = None,
) -> CompiledProblem:
    """Compile a `Problem` into a `CompiledProblem`.

    **Arguments**

    - `problem`: a validated `Problem`.
    - `dtype`: dtype of the learned constants, data targets and Hidden networks
      (`torch.float32` default).
    - `engine`: derivative engine, `"auto"` (chosen per region and model, see
      `pinnkit.compile.engine.AutoEngine`), `"autograd"`, `"func"` or `"taylor"`.
    - `extra_ops`: `{sympy_function_class: torch_callable}` for functions pinnkit does not
      know, e.g. `{sympy.besselj: my_besselj}`.
    - `hidden`: network spec of every Hidden term (default `HiddenNet()`: 2 x 32 tanh).
    - `hidden_terms`: per-name specs overriding `hidden` (`{"f": HiddenNet(width=64)}`).
    - `generator`: draws the Hidden networks' initial weights, in order of appearance
      (default: a fresh generator seeded with 0). Unused without Hidden terms.
    - `compile`: run `residuals` through `torch.compile` (default False). The first call
      compiles (tens of seconds on CPU, a C++ compiler needed) and each new batch size
      compiles again; then a step is faster, most with the Taylor engine, whose residuals
      are one forward graph (autograd's double backward does not compile as a whole).
    - `operators`: `Operators` spec, how vector operators are evaluated (default `auto`,
      16 samples; `pinnkit.compile.operators.choose_method`).

    **Raises**

    `CompileError` for an expression with no torch mapping (it names the node and this hook)
    or a Hidden name torch cannot use as a submodule name; `ConfigError` for a name in
    `hidden_terms` that is not a Hidden term of the problem, or `compile=True` where the
    problem differentiates a Hidden term.
    """
    if not isinstance(problem, Problem):
        raise CompileError(f"compile_problem: expected a Problem, found {type(problem).__name__}.")
    partials = hidden_partials(problem)
    if compile and partials:
        raise ConfigError(
            f"compile=True cannot train through `{partials[0].name}`, a derivative of a Hidden "
            "term: its network is differentiated in its inputs by autograd, and "
            "torch.compile cannot differentiate that again (a double backward). Fix: "
            "`--set compile=false`."
        )
    engine_impl = make_engine(engine, compile=compile)
    if compile and engine not in ("auto", "taylor"):
        raise ConfigError(f"{COMPILE_NEEDS_TAYLOR} Found engine={engine!r}.")
    methods = _operator_methods(operators or Operators())
    groups = [
        *_sample_groups(problem, extra_ops, methods),
        *_periodic_groups(problem),
        *_data_groups(problem),
    ]
    terms = {h.name: hidden_term(problem, h) for h in problem.hidden}
    specs = _hidden_specs(problem, hidden, hidden_terms)
    modules = _hidden_modules(terms, specs, generator, dtype)
    inputs_group = None
    if terms:
        items = [
            (f'"{name}" input {label}', arg)
            for name, term in terms.items()
            for app in term.applications
            for label, arg in zip(term.labels, app.args)
        ]
        inputs_group = _compile_group("hidden inputs", "hidden", items, problem, extra_ops, methods)
    return CompiledProblem(
        problem,
        groups,
        engine_impl,
        dtype,
        hidden=modules,
        hidden_terms=terms,
        hidden_specs=specs,
        hidden_inputs=inputs_group,
        compile=compile,
    )


def _operator_methods(spec: Operators):
    """`(kind, dim) -> (method, samples)` for the plan's vector operators."""

    def methods(kind: str, dim: int) -> tuple[str, int]:
        method, _why = choose_method(kind, dim, spec.method)
        return method, (0 if method == "exact" else int(spec.samples))

    return methods


def _sample_groups(problem: Problem, extra_ops, methods) -> list[Group]:
    """One group per region the equations and the (non-periodic) conditions live on."""
    regions: dict[str, list[tuple[str, sp.Expr]]] = {}
    for eq in problem.equations:
        regions.setdefault("interior", []).append((eq.name, eq.residual))
    for cond in problem.conditions:
        if cond.periodic is None:
            regions.setdefault(cond.on, []).append((cond.name, cond.expr))
    return [
        _compile_group(region, "sample", items, problem, extra_ops, methods)
        for region, items in regions.items()
    ]


def _periodic_groups(problem: Problem) -> list[Group]:
    """One group per soft periodic condition: the field and its derivatives up to the
    condition's order along the periodic axis, compared on the two faces."""
    coords, fields = problem.coords, problem.fields
    groups = []
    for cond in problem.conditions:
        if cond.periodic is None or cond.exact:
            continue
        axis = coords.index(cond.periodic)
        extra = []
        for f in cond.fields:
            for k in range(cond.order + 1):
                orders = [0] * len(coords)
                orders[axis] = k
                extra.append(Partial(str(f.func), tuple(orders)))
        plan, _, _ = build_plan([], coords=coords, fields=fields, extra=extra)
        region = "periodic:" + cond.periodic.name
        groups.append(Group(region, "sample", (cond.name,), plan, (), None, "", periodic=cond))
    return groups


def _data_groups(problem: Problem) -> list[Group]:
    """One group per data set: the observed fields at its fixed points."""
    coords, fields = problem.coords, problem.fields
    groups = []
    for data in problem.data:
        extra = [Partial(f, (0,) * len(coords)) for f in data.values]
        plan, _, _ = build_plan([], coords=coords, fields=fields, extra=extra)
        groups.append(
            Group(
                "data:" + data.name,
                "data",
                (data.name,),
                plan,
                (),
                None,
                "",
                targets=dict(data.values),
            )
        )
    return groups


def _hidden_modules(terms, specs, generator, dtype) -> dict[str, nn.Module]:
    """Each Hidden term's network, weights drawn from `generator` in order of appearance."""
    if generator is None and terms:
        generator = torch.Generator().manual_seed(0)
    modules = {}
    for name, term in terms.items():
        if hasattr(nn.ModuleDict(), name):
            raise CompileError(
                f'Hidden "{name}": torch reserves this name on module containers. '
                f'Fix: rename it, e.g. `pk.Hidden("{name}_h")`.'
            )
        lo, hi = zip(*(i.bounds for i in term.inputs))
        modules[name] = hidden_module(specs[name], lo, hi, generator, dtype=dtype)
    return modules


def _hidden_specs(problem, default, by_name) -> dict[str, HiddenNet]:
    names = [h.name for h in problem.hidden]
    by_name = dict(by_name or {})
    unknown = sorted(set(by_name) - set(names))
    if unknown:
        raise ConfigError(
            f"hidden_terms: {unknown[0]!r} is not a Hidden term of the problem; its Hidden "
            f"terms are {names}.{did_you_mean(unknown[0], names)} Fix: key the specs by a "
            'Hidden name, e.g. `hidden_terms={"f": pk.HiddenNet(width=16)}`.'
        )
    return {name: by_name.get(name, default or HiddenNet()) for name in names}


def _compile_group(region, kind, items, problem: Problem, extra_ops, methods) -> Group:
    names = [n for n, _ in items]
    exprs, sums = _lower_sums([e for _, e in items], problem)
    plan, rewritten, symbols = build_plan(
        exprs, coords=problem.coords, fields=problem.fields, methods=methods
    )
    inputs: list[tuple] = []
    input_symbols: list[sp.Symbol] = []
    labels: list[str] = []
    for key, sym in symbols.items():
        is_operator = isinstance(key, Operator)
        inputs.append(("operator" if is_operator else "partial", key))
        input_symbols.append(sym)
        labels.append(sym.name[1:] if is_operator else plan.label(key))
    for sym, key in sums.items():
        inputs.append(("sum", key))
        input_symbols.append(sym)
        labels.append(sym.name.lstrip("_"))
    free = set().union(*(e.free_symbols for e in rewritten)) if rewritten else set()
    for i, c in enumerate(problem.coords):
        if c in free:
            inputs.append(("coord", i))
            input_symbols.append(c)
            labels.append(c.name)
    for s in sorted(free, key=str):
        if isinstance(s, Normal):
            inputs.append(("normal", problem.coords.index(s.coord)))
            input_symbols.append(s)
            labels.append(s.name)
        elif isinstance(s, Parameter):
            inputs.append(("param", s.name))
            input_symbols.append(s)
            labels.append(s.name)
    fn, source = generate(
        rewritten,
        input_symbols,
        where=[f'"{n}"' for n in names],
        extra_ops=extra_ops,
        function_name="residuals_" + "".join(ch if ch.isalnum() else "_" for ch in region),
        labels=labels,
    )
    hidden = any(uses_hidden(e) for e in rewritten)
    return Group(region, kind, tuple(names), plan, tuple(inputs), fn, source, hidden=hidden)


def _lower_sums(exprs, problem: Problem):
    """The expressions with every sum over vector components replaced by a symbol, and per
    symbol its kernel, the columns of each vector it reads and the columns of the scalar
    coordinates it uses (`pinnkit.reference.sums`)."""
    vectors = {v.name: v for v in problem.signature if isinstance(v, Vector)}
    out, sums = [], {}
    for expr in exprs:
        if not expr.has(sp.Sum):
            out.append(expr)
            continue
        expr, kernels = lower_sums(expr, prefix="_lowered")
        fresh = {}
        for sym, kernel in kernels.items():
            columns = {}
            for name in kernel.vectors:  # the Problem checked they are the domain's vectors
                start = problem.coords.index(vectors[name].components[0])
                columns[name] = (start, start + vectors[name].dim)
            scalars = {c.name: i for i, c in enumerate(problem.coords) if c in kernel.scalars}
            fresh[sym] = sp.Symbol(f"_sum{len(sums)}")
            sums[fresh[sym]] = (kernel, columns, scalars)
        out.append(expr.xreplace(fresh))
    return out, sums
