"""`compile_problem`: a validated `Problem` -> a `CompiledProblem` that maps (model, points)
to named residual tensors.

Residuals are grouped by the region their points come from (interior, each boundary part,
the initial slice, each data set); each group has one derivative plan and one generated
function, so shared derivatives are computed once per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from torch import Tensor, nn

from pinnkit.compile.codegen import generate
from pinnkit.compile.engine import AbstractEngine, make_engine
from pinnkit.compile.plan import DerivativePlan, Partial, build_plan
from pinnkit.errors import CompileError
from pinnkit.problem import Condition, Normal, Parameter, Problem

__all__ = ["Batch", "CompiledProblem", "compile_problem"]


@dataclass(frozen=True)
class Batch:
    """Points of one region as tensors: `points` (batch, n_coords), `normals` or None."""

    points: Tensor
    normals: Tensor | None = None

    def to(self, device=None, dtype=None) -> Batch:
        normals = None if self.normals is None else self.normals.to(device=device, dtype=dtype)
        return Batch(self.points.to(device=device, dtype=dtype), normals)


@dataclass(frozen=True, eq=False)
class _Group:
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


class CompiledProblem(nn.Module):
    """A problem's residuals as torch: `residuals(model, batches) -> {term: (batch,) tensor}`.

    `Parameter`s are `nn.Parameter`s of this module (under `parameters_raw`; a Parameter
    with `log=True` is stored as its logarithm), so `.to()`, `parameters()` and
    `state_dict()` cover them. The object is pure: it never mutates the model and keeps no
    cache between calls.

    Build it with `compile_problem`.
    """

    def __init__(self, problem: Problem, groups: list[_Group], engine: AbstractEngine, dtype):
        super().__init__()
        self.problem = problem
        self.groups = groups
        self.engine = engine
        self.parameters_raw = nn.ParameterDict(
            {
                p.name: nn.Parameter(
                    torch.tensor(math.log(p.init) if p.log else p.init, dtype=dtype)
                )
                for p in problem.parameters
            }
        )
        self._log = {p.name: p.log for p in problem.parameters}
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

    def parameter_values(self) -> dict[str, Tensor]:
        """Current values of the learned constants (log-parametrised ones exponentiated)."""
        return {k: (torch.exp(v) if self._log[k] else v) for k, v in self.parameters_raw.items()}

    def data_batches(self) -> dict[str, Batch]:
        """The fixed observation points of each data set, on this module's device and dtype."""
        out = {}
        for g in self.groups:
            if g.kind == "data":
                data = next(d for d in self.problem.data if d.name == g.terms[0])
                pts = np.stack([data.coords[c.name] for c in self.problem.coords], axis=1)
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
        """
        params = self.parameter_values()
        out: dict[str, Tensor] = {}
        for g in self.groups:
            batch = batches.get(g.region)
            if batch is None:
                if g.kind != "data":
                    raise KeyError(
                        f"no points for region {g.region!r}; expected batches for "
                        f"{self.sample_regions}"
                    )
                batch = self.data_batches()[g.region]
            if g.periodic is not None:
                out[g.terms[0]] = self._periodic(g, model, batch)
                continue
            values = self.engine.evaluate(model, batch.points, g.plan)
            if g.kind == "data":
                out[g.terms[0]] = self._data_residual(g, values)
                continue
            args = [self._input(kind, batch, values, params) for kind in g.inputs]
            results = g.fn(*args)
            n = batch.points.shape[0]
            for name, r in zip(g.terms, results):
                if not isinstance(r, Tensor) or r.shape != (n,):
                    r = torch.as_tensor(r, dtype=batch.points.dtype, device=batch.points.device)
                    r = r.expand(n) if r.dim() == 0 else r
                out[name] = r
        return out

    # -- helpers ----------------------------------------------------------------------------

    def _input(self, kind, batch: Batch, values, params):
        what, key = kind
        if what == "partial":
            return values[key]
        if what == "coord":
            return batch.points[:, key]
        if what == "normal":
            if batch.normals is None:
                raise KeyError("this region has no normals; this is a bug in pinnkit")
            return batch.normals[:, key]
        return params[key]

    def _data_residual(self, g: _Group, values) -> Tensor:
        zero = (0,) * len(self.problem.coords)
        parts = [
            values[Partial(f, zero)] - getattr(self, _buffer_name(g.region, f)) for f in g.targets
        ]
        return torch.cat(parts)

    def _periodic(self, g: _Group, model, batch: Batch) -> Tensor:
        cond = g.periodic
        axis = self.problem.coords.index(cond.periodic)
        low = batch.points.clone()
        high = batch.points.clone()
        low[:, axis] = cond.bounds[0]
        high[:, axis] = cond.bounds[1]
        a = self.engine.evaluate(model, low, g.plan)
        b = self.engine.evaluate(model, high, g.plan)
        return torch.cat([a[p] - b[p] for p in g.plan.needed])

    def describe(self) -> str:
        """What will be computed: per region, the derivatives and the residuals."""
        coords = [c.name for c in self.problem.coords]
        lines = [
            f"Compiled with the {self.engine.name} engine; coordinates {coords}, "
            f"fields {list(self.problem.field_names)}."
        ]
        for g in self.groups:
            lines.append(f"  region {g.region!r} ({g.kind}): terms {list(g.terms)}")
            lines.append(f"    derivatives: {g.plan.describe()}")
            extra = [p for p in g.plan.closure if p not in g.plan.needed]
            if extra:
                lines.append(f"    intermediate: {', '.join(g.plan.label(p) for p in extra)}")
            if g.periodic is None:
                lines += ["    " + row for row in g.source.splitlines()]
        if self.problem.parameters:
            lines.append(
                "  learned constants: " + ", ".join(p.name for p in self.problem.parameters)
            )
        return "\n".join(lines)


def _buffer_name(region: str, field: str) -> str:
    return "target_" + "".join(ch if ch.isalnum() else "_" for ch in region) + "_" + field


def compile_problem(
    problem: Problem,
    *,
    dtype: torch.dtype = torch.float32,
    engine: str = "auto",
    extra_ops: Mapping[type, Callable] | None = None,
) -> CompiledProblem:
    """Compile a `Problem` into a `CompiledProblem`.

    **Arguments**

    - `problem`: a validated `Problem`.
    - `dtype`: dtype of the learned constants and data targets (`torch.float32` default).
    - `engine`: derivative engine, `"auto"`, `"autograd"` or `"func"`.
    - `extra_ops`: `{sympy_function_class: torch_callable}` for functions pinnkit does not
      know, e.g. `{sympy.besselj: my_besselj}`.

    **Raises**

    `CompileError` for an expression with no torch mapping (it names the node and this hook).
    """
    if not isinstance(problem, Problem):
        raise CompileError(f"compile_problem: expected a Problem, found {type(problem).__name__}.")
    coords, fields = problem.coords, problem.fields
    regions: dict[str, list[tuple[str, sp.Expr]]] = {}
    for eq in problem.equations:
        regions.setdefault("interior", []).append((eq.name, eq.residual))
    periodic_groups = []
    for cond in problem.conditions:
        if cond.periodic is None:
            regions.setdefault(cond.on, []).append((cond.name, cond.expr))
        elif not cond.exact:
            periodic_groups.append(cond)

    groups = []
    for region, items in regions.items():
        groups.append(_compile_group(region, "sample", items, problem, extra_ops))
    for cond in periodic_groups:
        axis = coords.index(cond.periodic)
        extra = []
        for f in cond.fields:
            for k in range(cond.order + 1):
                orders = [0] * len(coords)
                orders[axis] = k
                extra.append(Partial(str(f.func), tuple(orders)))
        plan, _, _ = build_plan([], coords=coords, fields=fields, extra=extra)
        region = "periodic:" + cond.periodic.name
        groups.append(_Group(region, "sample", (cond.name,), plan, (), None, "", periodic=cond))
    for data in problem.data:
        extra = [Partial(f, (0,) * len(coords)) for f in data.values]
        plan, _, _ = build_plan([], coords=coords, fields=fields, extra=extra)
        groups.append(
            _Group(
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
    return CompiledProblem(problem, groups, make_engine(engine), dtype)


def _compile_group(region, kind, items, problem: Problem, extra_ops) -> _Group:
    names = [n for n, _ in items]
    plan, rewritten, symbols = build_plan(
        [e for _, e in items], coords=problem.coords, fields=problem.fields
    )
    inputs: list[tuple] = []
    input_symbols: list[sp.Symbol] = []
    labels: list[str] = []
    for partial, sym in symbols.items():
        inputs.append(("partial", partial))
        input_symbols.append(sym)
        labels.append(plan.label(partial))
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
    return _Group(region, kind, tuple(names), plan, tuple(inputs), fn, source)
