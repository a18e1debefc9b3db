"""The one place that turns a `Config` and a `Problem` into what training needs: the
residuals (`AbstractResiduals`), the model, the device and dtype, and the loss weights.

The trainer, `pinnkit check`, `Run.load` and discovery's refits all build through here,
so a config means the same network and the same residuals everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from torch import nn

from pinnkit.compile import AbstractResiduals, compile_problem
from pinnkit.compile.codegen import generate
from pinnkit.compile.lagrangian import LagrangianResiduals, LagrangianSetup, initial_branch_values
from pinnkit.config import Config
from pinnkit.errors import ConfigError, did_you_mean
from pinnkit.models import FieldModel
from pinnkit.models.boundary import ExactBoundary, domain_size
from pinnkit.models.constraints import ExactInitial, exact_initial_values
from pinnkit.models.lagrangian import LagrangianModel
from pinnkit.problem import Problem
from pinnkit.problem.data import observed_values
from pinnkit.problem.exact import warn_if_solution

__all__ = [
    "Built",
    "build",
    "build_model",
    "output_affine",
    "build_residuals",
    "loss_weights",
    "default_weights",
    "resolve_device",
    "resolve_dtype",
    "dtype_name",
]


@dataclass(frozen=True, eq=False)
class Built:
    """What `build` returns.

    - `residuals`: the problem's residuals (`CompiledProblem`, or the Lagrangian rewrite),
      on `device`.
    - `model`: the network, on `device` in `dtype`.
    - `device`, `dtype`: where and in what precision the run computes.
    - `weights`: the fixed loss weight of every term (the problem's, then `config.weights`).
    """

    residuals: AbstractResiduals
    model: nn.Module
    device: torch.device
    dtype: torch.dtype
    weights: dict[str, float]


def resolve_device(name: str) -> torch.device:
    """`auto` -> CUDA when available, else CPU; anything else as torch understands it.

    **Raises**

    `ConfigError` for a name torch does not know, or CUDA asked for where there is none.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            f"device={name!r} is not a device. Fix: `--device cpu`, `--device cuda` or `auto`."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={name!r}, but CUDA is not available here. Fix: `--device cpu` (or `auto`)."
        )
    return device


def resolve_dtype(name: str) -> torch.dtype:
    """`float32` or `float64` (`Config.dtype`, validated there) as a torch dtype."""
    return torch.float64 if name == "float64" else torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    """The `Config.dtype` name of a torch dtype (`resolve_dtype`'s inverse)."""
    return "float64" if dtype == torch.float64 else "float32"


def build(
    problem: Problem,
    config: Config,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
    extra_ops: Mapping[type, Callable] | None = None,
) -> Built:
    """Build the residuals, the model and the loss weights a `Config` asks for.

    **Arguments**

    - `problem`, `config`: what to build.
    - `generator`: draws every initial weight (Hidden networks first, then the model);
      default a fresh one seeded with `config.seed`.
    - `device`: where to put them (default: `resolve_device(config.device)`).
    - `extra_ops`: as for `compile_problem`.

    **Raises**

    `ConfigError` for a setting the problem cannot take (a weight for no term, an exact
    initial value without one, ...), `CompileError` / `ProblemError` from the compiler or
    the Lagrangian rewrite.
    """
    if generator is None:
        generator = torch.Generator().manual_seed(int(config.seed))
    device = resolve_device(config.device) if device is None else device
    dtype = resolve_dtype(config.dtype)
    if config.lagrangian is not None:
        residuals, model = _build_lagrangian(problem, config, generator, dtype, extra_ops)
    else:
        residuals = build_residuals(
            problem, config, dtype=dtype, generator=generator, extra_ops=extra_ops
        )
        model = build_model(problem, config, generator, extra_ops=extra_ops)
    residuals = residuals.to(device)
    return Built(
        residuals=residuals,
        model=model.to(device, dtype),
        device=device,
        dtype=dtype,
        weights=loss_weights(problem, residuals, config),
    )


def build_residuals(
    problem: Problem,
    config: Config,
    *,
    dtype: torch.dtype,
    generator: torch.Generator,
    extra_ops: Mapping[type, Callable] | None = None,
) -> AbstractResiduals:
    """The residuals alone (on the CPU), for a model that exists already."""
    if config.lagrangian is not None:
        setup = LagrangianSetup.of(problem)
        return LagrangianResiduals(problem, setup, dtype=dtype, extra_ops=extra_ops)
    return compile_problem(
        problem,
        dtype=dtype,
        engine=config.engine,
        extra_ops=extra_ops,
        hidden=config.hidden,
        hidden_terms=config.hidden_terms,
        generator=generator,
        compile=config.compile,
        operators=config.operators,
    )


def build_model(
    problem: Problem,
    config: Config,
    generator: torch.Generator,
    *,
    extra_ops: Mapping[type, Callable] | None = None,
) -> nn.Module:
    """The field model a `Config` asks for, sized for `problem` (weights drawn from
    `generator`): a `FieldModel`, wrapped in `ExactInitial` with `exact_initial=True` and in
    `ExactBoundary` when the problem has exact Dirichlet conditions."""
    model = FieldModel(
        body=config.model,
        **_feature_arguments(problem, config, generator),
        **output_affine(problem, config.model),
    )
    if config.exact_initial:
        model = _exact_initial(model, problem, extra_ops)
    parts = problem.exact_parts  # checked when the problem was built
    if not parts:
        return model
    warn_if_solution(parts, problem.reference, problem.domain)
    values, sources = {}, []
    for name, field_parts in parts.items():
        # Only the coordinates the values use: a ball over a Vector has thousands.
        used = set().union(*(sp.sympify(p.value).free_symbols for p in field_parts))
        columns = [i for i, c in enumerate(problem.coords) if c in used]
        fn, source = generate(
            [p.value for p in field_parts],
            [problem.coords[i] for i in columns],
            where=[f"exact value of {name} on {p.region}" for p in field_parts],
            extra_ops=extra_ops,
            function_name=f"boundary_values_{name}",
            labels=[problem.coords[i].name for i in columns],
        )
        values[name] = (fn, tuple(columns))
        sources.append(source)
    size = domain_size(problem.domain)
    return ExactBoundary(model, problem.field_names, parts, values, size, "\n".join(sources))


def _exact_initial(model: nn.Module, problem: Problem, extra_ops) -> nn.Module:
    values = exact_initial_values(problem)
    space = list(problem.domain.space_coords)
    initial, source = generate(
        list(values.values()),
        space,
        where=[f"initial value of {name}" for name in values],
        extra_ops=extra_ops,
        function_name="initial_values",
        labels=[c.name for c in space],
    )
    return ExactInitial(model, problem, list(values), initial, source)


def loss_weights(
    problem: Problem, residuals: AbstractResiduals, config: Config
) -> dict[str, float]:
    """The fixed weight of every loss term: 1, or what the problem's conditions and data
    sets give, or what `config.weights` sets.

    **Raises**

    `ConfigError` when `config.weights` names a term the residuals do not have.
    """
    names = residuals.term_names
    unknown = sorted(set(config.weights) - set(names))
    if unknown:
        raise ConfigError(
            f"weights: no loss term named {unknown[0]!r}; terms are "
            f"{names}.{did_you_mean(unknown[0], names)}"
        )
    weights = default_weights(problem, names)
    weights.update({k: float(v) for k, v in config.weights.items()})
    return weights


def default_weights(problem: Problem, names: list[str]) -> dict[str, float]:
    """The weight the problem gives each of the loss terms `names`: its condition's or data
    set's `weight`, 1 for the equations (what `loss_weights` starts from)."""
    given = {c.name: c.weight for c in problem.conditions}
    given.update({d.name: d.weight for d in problem.data})
    return {k: float(given.get(k, 1.0)) for k in names}


def output_affine(problem: Problem, spec) -> dict:
    """The `FieldModel` output map of an `MLP` spec (`MLP.scale`): `{}` for the plain
    network, else `offset` and `scale`, one per field of `problem`."""
    if spec.scale == 1:
        return {}
    fields = [f.name for f in problem.fields]
    if spec.scale != "data":
        return {"offset": [0.0] * len(fields), "scale": [float(spec.scale)] * len(fields)}
    observed = observed_values(problem.data)
    offset, scale = [], []
    for name in fields:
        values = observed.get(name, np.zeros(0))
        values = values[np.isfinite(values)]
        mean = float(values.mean()) if values.size else 0.0
        spread = float(values.std()) if values.size > 1 else 0.0
        size = float(np.sqrt(np.mean(values**2))) if values.size else 0.0
        offset.append(mean)
        # A constant field's spread is 0: its size then, or 1.
        scale.append(spread if spread > 1e-8 * max(size, 1e-300) else (size or 1.0))
    return {"offset": offset, "scale": scale}


def _feature_arguments(problem: Problem, config: Config, generator: torch.Generator) -> dict:
    """The `FieldModel` arguments every model of `problem` shares: bounds, output count,
    periodic embedding and input features."""
    lo, hi = problem.domain.bounds
    names = [c.name for c in problem.coords]
    periods = {
        names.index(name): high - low for name, (low, high) in problem.periodic_embeddings.items()
    }
    return dict(
        lo=[float(v) for v in lo],
        hi=[float(v) for v in hi],
        n_out=len(problem.fields),
        generator=generator,
        periods=periods,
        harmonics=config.harmonics,
        fourier=config.fourier,
        gaussians=config.gaussians,
    )


def _build_lagrangian(problem, config, generator, dtype, extra_ops):
    """`(residuals, model)` of the Lagrangian PINN: the rewrite and the two branches.

    **Raises**

    `ProblemError` when the problem is outside what the rewrite supports
    (`pinnkit.compile.lagrangian`).
    """
    spec = config.lagrangian
    exact = [c.name for c in problem.conditions if c.exact and c.periodic is None]
    if exact:
        raise ConfigError(
            f"lagrangian: the Lagrangian model does not build in exact Dirichlet conditions "
            f"({', '.join(exact)}). Fix: drop `exact=True` from them, or `--set "
            f"lagrangian=null`."
        )
    setup = LagrangianSetup.of(problem)
    initial, _ = initial_branch_values(setup, problem, baseline=spec.baseline, extra_ops=extra_ops)
    features = _feature_arguments(problem, config, generator)
    features.update(n_out=1, periods={setup.ix: setup.period})
    position = FieldModel(body=spec.position or config.model, **features)
    state = FieldModel(body=config.model, **features, **output_affine(problem, config.model))
    model = LagrangianModel(
        position,
        state,
        initial,
        ix=setup.ix,
        it=setup.it,
        t0=setup.t0,
        lo=setup.lo,
        period=setup.period,
        grid=int(spec.grid),
    )
    residuals = LagrangianResiduals(problem, setup, dtype=dtype, extra_ops=extra_ops)
    return residuals, model
