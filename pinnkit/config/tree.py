"""`Config`: the training configuration as a tree of frozen dataclasses of plain values,
and its round trip through `config.json`.

Values read from files are parsed as data (JSON numbers, strings, lists, booleans, null),
never evaluated as code.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from pinnkit.config.checks import MAX_STEPS, Count, Flag, Real, check_fields
from pinnkit.config.networks import (
    BOTH_FEATURES,
    MLP,
    Fourier,
    Gaussians,
    HiddenNet,
    Lagrangian,
)
from pinnkit.config.optim import DTYPES, LBFGS, SOAP, Adam, LevenbergMarquardt, SSBroyden
from pinnkit.config.strategies import RAR, Balance, Causal, Operators, Sampling
from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["Config", "SPECS", "OPTIONAL_SPECS", "spec_from_dict"]


@dataclass(frozen=True)
class Config:
    """Everything that controls training (the problem is separate).

    **Arguments**

    - `steps`: steps of the first phase, Adam's or SOAP's (default 10000).
    - `seed`: the one seed all randomness comes from (default 0).
    - `device`: `auto` (CUDA when present), `cpu`, `cuda`, `cuda:1`, ...
    - `dtype`: `float32` (default) or `float64`.
    - `engine`: derivative engine: `auto` (Taylor mode where the model allows it, else
      autograd; see `pinnkit.compile.engine.AutoEngine`), `autograd`, `func` or `taylor`.
    - `operators`: `Operators` spec, how vector operators (`pk.laplacian(u, x)`) are
      evaluated: exactly or by a stochastic estimator (default `auto`, 16 samples).
    - `compile`: run the residuals through `torch.compile` (default False): slow first
      steps while it compiles, faster steps after; needs a C++ compiler on CPU.
    - `model`: body spec (`MLP`).
    - `fourier`: `Fourier` features spec, or None.
    - `gaussians`: `Gaussians` spec (Physics-Informed Gaussians), or None; at most one of
      `fourier` and `gaussians` may be set.
    - `harmonics`: harmonics of the exact periodic embedding (when a `Periodic(exact=True)`
      condition asks for one; default 1).
    - `exact_initial`: build the initial values into the model,
      $u = u_0(x) + \\frac{t - t_0}{t_1 - t_0} N(x, t)$ (default False; see
      `pinnkit.models.constraints`). Not for an initial value with a kink across a
      periodic coordinate (warned of): the kink then stays at every time.
    - `optimizer`: the first phase's optimiser, `Adam` (default) or `SOAP` (needs
      `pip install "pinnkit[soap]"`); `lbfgs`: `LBFGS` polish spec (None: the default,
      no polish); `sampling`:
      `Sampling` spec.
    - `stages`: further optimiser stages after Adam and the L-BFGS polish, run in order
      (`SSBroyden`, `LevenbergMarquardt`), e.g. `(pk.SSBroyden(steps=3000, points=4),)`:
      float32 Adam, then a float64 second-order stage. Default none.
    - `weights`: fixed loss weight per term name, overriding the problem's.
    - `causal`: `Causal` temporal weighting of the equations, or None.
    - `balance`: `Balance` gradient-norm balancing of the terms, or None.
    - `rar`: `RAR` residual-based adaptive sampling, or None.
    - `lagrangian`: `Lagrangian` PINN (two branches along characteristics), or None.
    - `hidden`: `HiddenNet` spec of every `pk.Hidden` term's network (default 2 x 32 tanh).
    - `hidden_terms`: per-name `HiddenNet` specs overriding `hidden`, e.g.
      `{"f": HiddenNet(width=64)}` (`--set hidden_terms.f='{"width": 64}'`).
    - `log_every`, `eval_every`, `checkpoint_every`: steps between metrics lines, error
      evaluations against the reference, and checkpoints.
    - `progress`: show a progress bar (default True).
    - `tensorboard`: also write the metrics as TensorBoard event files under the run
      directory's `tensorboard/` (default False; needs the `tensorboard` package).
    - `retain_memory`: while training on the CPU under Linux (glibc), keep the memory freed
      between steps in the process instead of handing it back to the system and faulting it
      in again every step (default True; `pinnkit.train.host_memory`). It is handed back
      when training ends. Off, or when the `MALLOC_*_` variables, `GLIBC_TUNABLES` or an
      allocator in `LD_PRELOAD` set the allocator, glibc's defaults apply.
    """

    steps: int = 10_000
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    engine: str = "auto"
    compile: bool = False
    operators: Operators = field(default_factory=Operators)
    model: MLP = field(default_factory=MLP)
    fourier: Fourier | None = None
    gaussians: Gaussians | None = None
    harmonics: int = 1
    exact_initial: bool = False
    optimizer: Adam | SOAP = field(default_factory=Adam)
    lbfgs: LBFGS = field(default_factory=LBFGS)
    sampling: Sampling = field(default_factory=Sampling)
    stages: tuple = ()
    weights: dict = field(default_factory=dict)
    causal: Causal | None = None
    balance: Balance | None = None
    rar: RAR | None = None
    lagrangian: Lagrangian | None = None
    hidden: HiddenNet = field(default_factory=HiddenNet)
    hidden_terms: dict = field(default_factory=dict)
    log_every: int = 100
    eval_every: int = 1000
    checkpoint_every: int = 1000
    progress: bool = True
    tensorboard: bool = False
    retain_memory: bool = True

    def __post_init__(self):
        check_fields(self, RULES)
        for name in ("device", "engine"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(
                    f"{name}={getattr(self, name)!r}: expected a name. "
                    f'Fix: e.g. `--set {name}="auto"`.'
                )
        object.__setattr__(self, "weights", _weights(self.weights))
        if self.dtype not in DTYPES:
            raise ConfigError(
                f"dtype={self.dtype!r}: choose `float32` or `float64`."
                f"{did_you_mean(self.dtype, DTYPES)}"
            )
        object.__setattr__(self, "optimizer", _optimizer(self.optimizer))
        if self.lbfgs is None:  # no polish: the default spec, whose steps are 0
            object.__setattr__(self, "lbfgs", LBFGS())
        _check_specs(self)
        object.__setattr__(self, "stages", _stages(self.stages))
        if self.causal is not None and any(isinstance(s, LevenbergMarquardt) for s in self.stages):
            raise ConfigError(
                "stages: LevenbergMarquardt works on a fixed residual vector, and causal "
                "weights change with the residuals. Fix: `--set causal=null`, or a "
                "`pk.SSBroyden` stage instead."
            )
        if self.fourier is not None and self.gaussians is not None:
            raise ConfigError(BOTH_FEATURES)
        if self.compile and self.lagrangian is not None:
            raise ConfigError(
                "compile=True does not apply to the Lagrangian PINN (its residuals use "
                "autograd). Fix: `--set compile=false` or `--set lagrangian=null`."
            )
        object.__setattr__(self, "hidden_terms", _hidden_terms(self.hidden_terms))

    # -- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return _to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        obj = spec_from_dict(data, "config")
        if not isinstance(obj, Config):
            raise ConfigError("config.json: the top level is not a Config.")
        return obj

    @classmethod
    def from_json(cls, text: str) -> Config:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as err:
            raise ConfigError(f"config.json is not valid JSON: {err}") from None

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)


#: Spec classes that may appear in a config tree (JSON "type" tag -> class).
SPECS: dict[str, type] = {
    c.__name__: c
    for c in (
        Config,
        MLP,
        Fourier,
        Gaussians,
        HiddenNet,
        Lagrangian,
        Adam,
        SOAP,
        LBFGS,
        Sampling,
        Operators,
        Causal,
        Balance,
        RAR,
        SSBroyden,
        LevenbergMarquardt,
    )
}
#: Fields whose value may be None, and the spec to create when a `--set` reaches into them.
OPTIONAL_SPECS: dict[str, type] = {
    "fourier": Fourier,
    "gaussians": Gaussians,
    "lagrangian": Lagrangian,
    "position": MLP,
    "causal": Causal,
    "balance": Balance,
    "rar": RAR,
}


#: The type and range of every plain number and flag of `Config` (`pinnkit.config.checks`).
RULES = {
    "steps": Count(low=0, high=MAX_STEPS),
    "seed": Count(low=0, high=2**63 - 1),
    "harmonics": Count(high=1_000),
    "log_every": Count(high=MAX_STEPS),
    "eval_every": Count(high=MAX_STEPS),
    "checkpoint_every": Count(high=MAX_STEPS),
    **{
        name: Flag()
        for name in ("compile", "exact_initial", "progress", "tensorboard", "retain_memory")
    },
}


def _weights(weights: Any) -> dict:
    """`weights` as a dict of term name -> finite number >= 0 (0 switches a term off)."""
    if not isinstance(weights, dict):
        raise ConfigError(
            f"weights={weights!r}: expected a mapping from loss term name to weight. "
            """Fix: e.g. `--set weights='{"initial_u": 10}'`."""
        )
    rule = Real(low_open=False)
    return {
        str(name): rule.check(
            value,
            f"weights.{name}",
            1.0,
            f"""Fix: e.g. `--set weights='{{"{name}": 10}}'` (0 switches the term off).""",
        )
        for name, value in weights.items()
    }


#: The spec type of each of `Config`'s spec fields (None allowed where `OPTIONAL_SPECS` has it;
#: `optimizer` and `stages` are checked by `_optimizer` and `_stages`).
SPEC_FIELDS: dict[str, type] = {
    "operators": Operators,
    "model": MLP,
    "lbfgs": LBFGS,
    "sampling": Sampling,
    "hidden": HiddenNet,
    **{k: v for k, v in OPTIONAL_SPECS.items() if k != "position"},
}


def _check_specs(config: Config) -> None:
    """Each spec field holds its spec (or None where optional): a string, a number or
    another spec there used to fail later, as an AttributeError deep in the build."""
    for name, kind in SPEC_FIELDS.items():
        value = getattr(config, name)
        optional = name in OPTIONAL_SPECS
        if isinstance(value, kind) or (value is None and optional):
            continue
        field_name = dataclasses.fields(kind)[0].name
        raise ConfigError(
            f"{name}={value!r}: expected `pk.{kind.__name__}(...)`"
            + (" or None" if optional else "")
            + f", e.g. `{name}=pk.{kind.__name__}()`, or on the command line "
            f"`--set {name}.{field_name}=...`"
            + (f" (`--set {name}=null` switches it off)." if optional else ".")
        )


#: The specs `Config.stages` may hold.
STAGES = (SSBroyden, LevenbergMarquardt)
#: The specs `Config.optimizer` may hold (the first phase's optimiser).
OPTIMIZERS = (Adam, SOAP)


def _optimizer(spec: Any) -> Adam | SOAP:
    """`optimizer` as an `Adam` or `SOAP` spec (a JSON object naming its kind converted)."""
    if isinstance(spec, dict) and "type" in spec:
        spec = spec_from_dict(spec, "optimizer")
    if not isinstance(spec, OPTIMIZERS):
        raise ConfigError(
            f"optimizer={spec!r}: expected `pk.Adam(...)` or `pk.SOAP(...)`, e.g. "
            "`optimizer=pk.SOAP(learning_rate=3e-3)` or "
            '`--set optimizer=\'{"type": "SOAP", "learning_rate": 3e-3}\'`.'
        )
    return spec


def _stages(stages: Any) -> tuple:
    """`stages` as a tuple of stage specs (JSON objects and `--set` lists converted)."""
    if isinstance(stages, dict) or not isinstance(stages, (list, tuple)):
        raise ConfigError(
            f"stages={stages!r}: expected a list of stages, e.g. "
            '`--set stages=\'[{"type": "SSBroyden", "steps": 2000}]\'`.'
        )
    out = []
    for k, stage in enumerate(stages):
        if isinstance(stage, dict):
            if "type" not in stage:
                raise ConfigError(
                    f"stages[{k}]={stage!r}: a stage given as an object names its kind, e.g. "
                    '`{"type": "SSBroyden", "steps": 2000}` or `{"type": "LevenbergMarquardt", '
                    '"steps": 500}`.'
                )
            stage = spec_from_dict(stage, f"stages[{k}]")
        if not isinstance(stage, STAGES):
            raise ConfigError(
                f"stages[{k}]={stage!r}: expected a stage spec "
                f"({', '.join(c.__name__ for c in STAGES)}), e.g. `pk.SSBroyden(steps=2000)`."
            )
        out.append(stage)
    return tuple(out)


def _hidden_terms(specs: Any) -> dict:
    """`hidden_terms` with every value a `HiddenNet` (JSON objects and `--set` dicts converted)."""
    if not isinstance(specs, dict):
        raise ConfigError(
            f"hidden_terms={specs!r}: expected a mapping from Hidden name to HiddenNet, e.g. "
            '`--set hidden_terms=\'{"f": {"width": 16}}\'`.'
        )
    out = {}
    for name, spec in specs.items():
        if isinstance(spec, dict):
            spec = spec_from_dict({"type": "HiddenNet", **spec}, f"hidden_terms.{name}")
        if not isinstance(spec, HiddenNet):
            raise ConfigError(
                f"hidden_terms.{name}={spec!r}: expected a HiddenNet or a JSON object of its "
                'fields, e.g. `{"width": 16, "depth": 2}`.'
            )
        out[str(name)] = spec
    return out


def _to_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        out = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = _to_dict(getattr(obj, f.name))
        return out
    if isinstance(obj, (list, tuple)):
        return [_to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _to_dict(v) for k, v in obj.items()}
    return obj


def spec_from_dict(data: Any, where: str) -> Any:
    """A spec tree from its JSON form (`{"type": name, field: value, ...}`); `where` names
    the place for errors."""
    if isinstance(data, dict) and "type" in data:
        cls = SPECS.get(data["type"])
        if cls is None:
            raise ConfigError(
                f"{where}: unknown spec type {data['type']!r}; known: {sorted(SPECS)}."
                f"{did_you_mean(data['type'], SPECS)}"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in data.items():
            if key == "type":
                continue
            if key not in names:
                raise ConfigError(
                    f"{where}: {cls.__name__} has no field {key!r}; valid: {sorted(names)}."
                    f"{did_you_mean(key, names)}"
                )
            kwargs[key] = spec_from_dict(value, f"{where}.{key}")
        try:
            return cls(**kwargs)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
    if isinstance(data, dict):
        return {k: spec_from_dict(v, f"{where}.{k}") for k, v in data.items()}
    return data
