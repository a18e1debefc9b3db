"""`CompiledProblem`: a problem's residuals as torch, evaluated group by group.

Residuals are grouped by the region their points come from (interior, each boundary part,
the initial slice, each data set); each group has one derivative plan and one generated
function, so shared derivatives are computed once per batch. Each `Hidden` term is a small
network (a submodule under `hidden`), called by the generated code on the values of its
arguments; its arguments' derivatives are part of the group's plan. `compile_problem`
(`pinnkit.compile.compiler`) builds it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.compile.auto import AutoEngine
from pinnkit.compile.base import AbstractResiduals, Batch
from pinnkit.compile.engine import AbstractEngine
from pinnkit.compile.hidden import HiddenTerm, describe_hidden_terms
from pinnkit.compile.operators import describe_operator, evaluate_operators
from pinnkit.compile.plan import DerivativePlan, Partial
from pinnkit.config import HiddenNet
from pinnkit.domain.vector import signature_text
from pinnkit.errors import ConfigError
from pinnkit.problem import Condition, Problem
from pinnkit.problem.hidden_partials import hidden_partials

__all__ = ["CompiledProblem", "Group", "COMPILE_NEEDS_TAYLOR", "NO_CXX"]


@dataclass(frozen=True, eq=False)
class Group:
    """Residuals evaluated on the points of one region."""

    region: str
    kind: str  # "sample" (drawn from the domain) or "data" (fixed observation points)
    terms: tuple[str, ...]
    plan: DerivativePlan
    inputs: tuple  # what each generated-function argument is: ("partial", p) | ("coord", i) | ...
    fn: Callable | None  # the generated residual function (None for periodic and data terms)
    source: str
    periodic: Condition | None = None
    targets: Mapping[str, np.ndarray] | None = None  # data groups: field -> observed values
    hidden: bool = False  # whether `fn` applies Hidden terms (and takes `_hidden` last)


class CompiledProblem(AbstractResiduals):
    """A problem's residuals as torch: `residuals(model, batches) -> {term: (batch,) tensor}`.

    `Parameter`s are `nn.Parameter`s of this module (under `parameters_raw`; a Parameter
    with `log=True` is stored as its logarithm), and each `Hidden` term's network is a
    submodule (`hidden[name]`, a `pinnkit.models.hidden.HiddenModule`), so `.to()`,
    `parameters()` and `state_dict()` cover them. The object is pure: it never mutates the
    model and keeps no cache between calls.

    `hidden_terms` maps each Hidden name to a `HiddenTerm`: its applications, and per input
    a readable label (`u`, `u_x`, `x`), the SymPy argument and the normalisation range.

    Build it with `pinnkit.compile.compile_problem`.
    """

    def __init__(
        self,
        problem: Problem,
        groups: list[Group],
        engine: AbstractEngine,
        dtype,
        *,
        hidden: Mapping[str, nn.Module] | None = None,
        hidden_terms: Mapping[str, HiddenTerm] | None = None,
        hidden_specs: Mapping[str, HiddenNet] | None = None,
        hidden_inputs: Group | None = None,
        compile: bool = False,
    ):
        super().__init__(problem, dtype, hidden=hidden, hidden_terms=hidden_terms)
        self.groups = groups
        self.engine = engine
        self.compile = compile
        self._compiled: dict[str, Callable] = {}  # method name -> its torch.compile
        self._hidden_specs = dict(hidden_specs or {})
        self._hidden_inputs = hidden_inputs
        self._partials = hidden_partials(problem)  # found once: `_hidden_callables` runs every step
        for g in groups:
            if g.kind == "data":
                for f, values in g.targets.items():
                    self.register_buffer(
                        _buffer_name(g.region, f), torch.as_tensor(values, dtype=dtype)
                    )

    # -- the contract -------------------------------------------------------------------------

    @property
    def term_names(self) -> list[str]:
        return [t for g in self.groups for t in g.terms]

    @property
    def sample_regions(self) -> list[str]:
        """Regions whose points the trainer must sample (in a stable order)."""
        return [g.region for g in self.groups if g.kind == "sample"]

    def domain_region(self, region: str) -> str:
        """The domain region that `region`'s points are drawn from (a periodic term draws
        on its low face and is mapped to the high face)."""
        for g in self.groups:
            if g.region == region and g.periodic is not None:
                return g.periodic.on
        return region

    @property
    def engine_name(self) -> str:
        return self.engine.name

    @property
    def stochastic(self) -> bool:
        return any(o.method != "exact" for g in self.groups for o in g.plan.operators)

    def data_batches(self) -> dict[str, Batch]:
        """The fixed observation points of each data set, on this module's device and dtype."""
        out = {}
        for g in self.groups:
            if g.kind == "data":
                data = next(d for d in self.problem.data if d.name == g.terms[0])
                pts = data.points([c.name for c in self.problem.coords])
                ref = next(iter(self.buffers()), None)
                dtype = self._dtype()
                device = ref.device if ref is not None else None
                out[g.region] = Batch(torch.as_tensor(pts, dtype=dtype, device=device))
        return out

    def _dtype(self):
        for t in [*self.parameters(), *self.buffers()]:
            return t.dtype
        return torch.get_default_dtype()

    def residuals(self, model: nn.Module, batches: Mapping[str, Batch]) -> dict[str, Tensor]:
        """Residual of every equation, condition and data set at the given points.

        **Arguments**

        - `model`: maps (batch, n_coords) points to (batch, n_fields) values.
        - `batches`: region name -> `Batch`, for every region in `sample_regions`
          (data regions default to their own observation points).

        **Returns**

        Term name -> residual tensor of shape (batch,) (periodic terms stack the mismatch
        of every matched quantity).

        **Raises**

        `ConfigError` when built with `compile=True` on CPU without a C++ compiler.
        """
        return self._call(self._residuals, model, batches)

    def mean_squares(self, model: nn.Module, batches: Mapping[str, Batch]) -> dict[str, Tensor]:
        """The mean square of every residual term (what a loss weighs): term name -> scalar.

        Same arguments (and errors) as `residuals`. With `compile=True` the squares and means
        are part of the compiled graph (a step saves a few small kernels and their
        backward), through a compiled function of its own, made on the first call.
        """
        return self._call(self._mean_squares, model, batches)

    def _call(self, method: Callable, model: nn.Module, batches: Mapping[str, Batch]):
        """`method(model, batches, constants)`, through a torch.compile of its own (made on
        the first call) when built with `compile=True`."""
        if not self.compile:
            return method(model, batches, self.parameter_values())
        name = method.__name__
        if name not in self._compiled:
            self._check_compilable(model)
            self._compiled[name] = _torch_compile(method, batches)
        with warnings.catch_warnings():
            # Dynamo reads `.grad` of non-leaf tensors while tracing, which makes torch
            # warn about its own access: nothing a user can act on.
            warnings.filterwarnings("ignore", "The .grad attribute of a Tensor", UserWarning)
            return self._compiled[name](model, batches, self.parameter_values())

    def _mean_squares(self, model, batches, params) -> dict[str, Tensor]:
        return {k: r.square().mean() for k, r in self._residuals(model, batches, params).items()}

    def _check_compilable(self, model: nn.Module) -> None:
        """Refuse engines torch.compile cannot handle, and build what the engine keeps per
        plan now, outside the traced code (`AbstractEngine.prepare`; a traced call that fills
        a cache would be compiled again on the next)."""
        plans = [g.plan for g in self.groups for _face in range(2 if g.periodic else 1)]
        self.engine.prepare(model, plans)
        if not isinstance(self.engine, AutoEngine):
            return
        for g in self.groups:
            name, why = self.engine.choose(model, g.plan)
            if name != "taylor" and g.plan.max_order > 0:
                raise ConfigError(f"{COMPILE_NEEDS_TAYLOR} Here {why}; region {g.region!r}.")

    def _residuals(
        self, model: nn.Module, batches: Mapping[str, Batch], params: Mapping[str, Tensor]
    ) -> dict[str, Tensor]:
        # Every region's points go to the engine in one call, so that engines which can
        # (Taylor mode) push them through the network together.
        points: list[Batch] = []
        jobs: list[tuple[Tensor, DerivativePlan]] = []
        for g in self.groups:
            batch = batches.get(g.region)
            if batch is None:
                if g.kind != "data":
                    raise KeyError(
                        f"no points for region {g.region!r}; expected batches for "
                        f"{self.sample_regions}"
                    )
                batch = self.data_batches()[g.region]
            points.append(batch)
            if g.periodic is not None:
                jobs += [(p, g.plan) for p in _periodic_faces(self.problem, g.periodic, batch)]
            else:
                jobs.append((batch.points, g.plan))
        evaluated = iter(self.engine.evaluate_many(model, jobs))
        out: dict[str, Tensor] = {}
        for g, batch in zip(self.groups, points):
            values = next(evaluated)
            if g.plan.operators:
                ops = evaluate_operators(
                    model, batch.points, g.plan.fields, g.plan.operators, batch.seed
                )
                values = {**values, **ops}
            if g.periodic is not None:
                high = next(evaluated)
                out[g.terms[0]] = torch.cat([values[p] - high[p] for p in g.plan.needed])
                continue
            if g.kind == "data":
                out[g.terms[0]] = self._data_residual(g, values)
                continue
            args = [self._input(kind, batch, values, params) for kind in g.inputs]
            if g.hidden:
                args.append(self._hidden_callables())
            results = g.fn(*args)
            n = batch.points.shape[0]
            for name, r in zip(g.terms, results):
                if not isinstance(r, Tensor) or r.shape != (n,):
                    r = torch.as_tensor(r, dtype=batch.points.dtype, device=batch.points.device)
                    r = r.expand(n) if r.dim() == 0 else r
                out[name] = r
        return out

    def hidden_values(
        self, model: nn.Module, points: Tensor
    ) -> dict[str, tuple[dict[str, Tensor], Tensor]]:
        """Each Hidden term's inputs and output at `points`, with `model` as the fields.

        For a term `f(u, u_x)` this evaluates the arguments $a_i(p)$ at every point $p$
        (through the same derivative engine as the residuals) and the network
        $f_\\theta(a_1(p), \\dots)$ on them: the samples that symbolic regression fits.
        Pure: it changes neither the model nor this module. Derivative inputs are computed
        with autograd enabled internally, so calling it under `torch.no_grad()` works and
        returns tensors without a graph (otherwise `.detach()` what you keep).

        **Arguments**

        - `model`: maps (batch, n_coords) points to (batch, n_fields) values.
        - `points`: (batch, n_coords) tensor, columns in `problem.coords` order, on this
          module's device and dtype.

        **Returns**

        `{name: (inputs, output)}`: `inputs` maps each input's label (`u`, `u_x`, `x`; see
        `hidden_terms[name].inputs` for the SymPy argument behind each label) to a (batch,)
        tensor, and `output` is the (batch,) network value. A term applied to different
        arguments in different places (`f(u) - f(v)`) stacks the rows of every application
        in order of appearance, so its tensors have length `batch * n_applications`, keyed by
        the labels of the first application.
        """
        group = self._hidden_inputs
        if group is None:
            return {}
        batch = Batch(points)
        values = self.engine.evaluate(model, points, group.plan)
        if group.plan.operators:
            ops = evaluate_operators(model, points, group.plan.fields, group.plan.operators, None)
            values = {**values, **ops}
        params = self.parameter_values()
        columns = iter(group.fn(*[self._input(k, batch, values, params) for k in group.inputs]))
        n = points.shape[0]
        out = {}
        for name, term in self.hidden_terms.items():
            stacked: list[list[Tensor]] = [[] for _ in term.inputs]
            for _app in term.applications:
                for parts in stacked:
                    parts.append(_full(next(columns), n, points))
            inputs = {label: torch.cat(parts) for label, parts in zip(term.labels, stacked)}
            output = self.hidden[name](torch.stack(list(inputs.values()), dim=-1))
            out[name] = (inputs, output)
        return out

    # -- helpers ----------------------------------------------------------------------------

    def _hidden_callables(self) -> dict[str, Callable]:
        """Name -> callable on a Hidden term's argument tensors (what generated code calls),
        and for each partial derivative the problem applies (`D_d0`) one that differentiates
        the network in its inputs (`_partial_call`)."""
        calls = {name: _stacked_call(module) for name, module in self.hidden.items()}
        for partial in self._partials:
            calls[partial.name] = _partial_call(calls[partial.hidden.name], partial.orders)
        return calls

    def _input(self, kind, batch: Batch, values, params):
        what, key = kind
        if what in ("partial", "operator"):
            return values[key]
        if what == "sum":
            kernel, columns, coords = key
            blocks = {name: batch.points[:, a:b] for name, (a, b) in columns.items()}
            scalars = {**params, **{name: batch.points[:, i] for name, i in coords.items()}}
            return kernel.evaluate(blocks, torch, scalars)
        if what == "coord":
            return batch.points[:, key]
        if what == "normal":
            if batch.normals is None:
                raise KeyError("this region has no normals; this is a bug in pinnkit")
            return batch.normals[:, key]
        return params[key]

    def _data_residual(self, g: Group, values) -> Tensor:
        zero = (0,) * len(self.problem.coords)
        parts = [
            values[Partial(f, zero)] - getattr(self, _buffer_name(g.region, f)) for f in g.targets
        ]
        return torch.cat(parts)

    def engines(self, model: nn.Module) -> dict[str, str]:
        """The derivative engine each region's residuals run with for `model`: the engine's
        own name, or for `"auto"` its choice per region (`"forward pass"` where a region
        needs values only)."""
        out = {}
        for g in self.groups:
            if g.plan.max_order == 0:
                out[g.region] = "forward pass"
            elif isinstance(self.engine, AutoEngine):
                out[g.region] = self.engine.choose(model, g.plan)[0]
            else:
                out[g.region] = self.engine.name
        return out

    def describe(self, model: nn.Module | None = None) -> str:
        """What will be computed: per region, the derivatives, the engine `"auto"` picks for
        `model` (when given) and why, and the residuals."""
        coords = signature_text(self.problem.signature)
        compiled = " under torch.compile" if self.compile else ""
        lines = [
            f"Compiled with the {self.engine.name} engine{compiled}; coordinates ({coords}), "
            f"fields {list(self.problem.field_names)}."
        ]
        for g in self.groups:
            lines.append(f"  region {g.region!r} ({g.kind}): terms {list(g.terms)}")
            lines.append(f"    derivatives: {g.plan.describe()}")
            lines += [f"    operator {describe_operator(o)}" for o in g.plan.operators]
            if isinstance(self.engine, AutoEngine) and g.plan.max_order > 0:
                name, why = self.engine.choose(model, g.plan)
                lines.append(f"    engine: {name} ({why})")
            extra = [p for p in g.plan.closure if p not in g.plan.needed]
            if extra:
                lines.append(f"    intermediate: {', '.join(g.plan.label(p) for p in extra)}")
            if g.periodic is None:
                lines += ["    " + row for row in g.source.splitlines()]
        if self.problem.parameters:
            lines.append(
                "  learned constants: " + ", ".join(p.name for p in self.problem.parameters)
            )
        lines += describe_hidden_terms(
            list(self.hidden_terms.values()), self._hidden_specs, self.problem.coords
        )
        return "\n".join(lines)


def _stacked_call(module: nn.Module) -> Callable:
    def call(*columns: Tensor) -> Tensor:
        return module(torch.stack(torch.broadcast_tensors(*columns), dim=-1))

    return call


def _partial_call(call: Callable, orders: tuple[int, ...]) -> Callable:
    """`call`'s partial derivative in argument positions `orders` (with repetition), at each
    row: the network is evaluated at its arguments plus a zero it is then differentiated in,
    so the result keeps its graph to the arguments and to the network's weights (training
    differentiates it again), whether or not an argument itself requires grad."""

    def partial(*columns: Tensor) -> Tensor:
        columns = torch.broadcast_tensors(*columns)
        with torch.enable_grad():
            zeros = {i: torch.zeros_like(columns[i], requires_grad=True) for i in set(orders)}
            out = call(*(c + zeros[i] if i in zeros else c for i, c in enumerate(columns)))
            for i in orders:
                (out,) = torch.autograd.grad(
                    out.sum(), zeros[i], create_graph=True, allow_unused=True
                )
                if out is None:  # the network ignores that input: its derivative is 0
                    return torch.zeros_like(columns[i])
        return out

    return partial


def _periodic_faces(problem: Problem, cond: Condition, batch: Batch) -> tuple[Tensor, Tensor]:
    """A periodic condition's points on its low and on its high face (`cond.bounds`)."""
    axis = problem.coords.index(cond.periodic)
    low = batch.points.clone()
    high = batch.points.clone()
    low[:, axis] = cond.bounds[0]
    high[:, axis] = cond.bounds[1]
    return low, high


def _full(value, n: int, points: Tensor) -> Tensor:
    """A generated column as a (n,) tensor (constants broadcast)."""
    value = torch.as_tensor(value, dtype=points.dtype, device=points.device)
    return value.expand(n) if value.dim() == 0 else value


#: Raised when `compile=True` runs on CPU without a C++ compiler (key phrase: "C++ compiler").
NO_CXX = (
    "compile=True: torch.compile needs a C++ compiler on CPU (it generates and builds C++ "
    "kernels), and none was found (`g++`, `c++`, `clang++` or $CXX). Fix: install one "
    "(`apt-get install g++`) or `--set compile=false`."
)


#: Raised when `compile=True` meets an engine other than Taylor mode (key phrase:
#: "compile=True needs").
COMPILE_NEEDS_TAYLOR = (
    'compile=True needs the "taylor" engine: torch.compile cannot differentiate the graph '
    "that autograd's or torch.func's derivatives build (a double backward). "
    "Fix: `--set engine=taylor` (or `auto`, which picks it where it can), or "
    "`--set compile=false`."
)


def _torch_compile(method: Callable, batches: Mapping[str, Batch]) -> Callable:
    """`torch.compile` of a bound method, after checking that a CPU run can build kernels.

    The method gets a code object of its own first: torch keeps its compiled graphs per code
    object and stops compiling one after 8 variants (`torch._dynamo.config.recompile_limit`),
    so without it every `CompiledProblem` of a process would share those 8, and later ones
    would silently run eagerly.

    On CPU the graphs are called through inductor's C++ wrapper (`cpp_wrapper`) rather than
    its Python one, which allocates the buffers and calls the kernels one Python call at a
    time: measured side by side in one process (2 threads), the compiled Burgers-example
    step 3.5-5% faster and KdV 4 x 128 2.5%, for about 1 s more of the first compile (19 s
    instead of 18 on the example). On CUDA the default wrapper is kept (not measured here).
    """
    import os
    import shutil
    import types

    function = method.__func__
    own = types.FunctionType(function.__code__.replace(), function.__globals__, function.__name__)
    fn = types.MethodType(own, method.__self__)

    on_cpu = any(b.points.device.type == "cpu" for b in batches.values())
    compilers = [os.environ.get("CXX", ""), "g++", "c++", "clang++"]
    if on_cpu and not any(c and shutil.which(c) for c in compilers):
        raise ConfigError(NO_CXX)
    with warnings.catch_warnings():
        # Importing inductor warns that torch's own `torch.jit.script_method` is deprecated:
        # nothing a user can act on.
        warnings.filterwarnings("ignore", "`torch.jit.script_method`", DeprecationWarning)
        return torch.compile(fn, options={"cpp_wrapper": True} if on_cpu else None)


def _buffer_name(region: str, field: str) -> str:
    return "target_" + "".join(ch if ch.isalnum() else "_" for ch in region) + "_" + field
