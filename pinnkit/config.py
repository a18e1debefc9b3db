"""`Config`: the training configuration as a tree of frozen dataclasses of plain values.

It round-trips through `config.json`, and the CLI's `--set dotted.key=value` edits it.
Values from the command line or files are parsed as data (JSON numbers, strings, lists,
booleans, null), never evaluated as code.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from pinnkit.errors import ConfigError, did_you_mean
from pinnkit.models import BOTH_FEATURES, MLP, Fourier, Gaussians
from pinnkit.models.hidden import HiddenNet
from pinnkit.models.lagrangian import Lagrangian

__all__ = ["Adam", "LBFGS", "Sampling", "Config", "apply_overrides", "parse_value"]


@dataclass(frozen=True)
class Adam:
    """Adam with exponential step decay: $\\eta_k = \\eta_0\\, r^{k / s}$.

    **Arguments**

    - `learning_rate`: $\\eta_0$ (default 1e-3).
    - `decay_rate`: $r$ (default 0.9); 1 disables decay.
    - `decay_steps`: $s$ (default 2000).
    """

    learning_rate: float = 1e-3
    decay_rate: float = 0.9
    decay_steps: int = 2000

    def __post_init__(self):
        if not (self.learning_rate > 0 and 0 < self.decay_rate <= 1 and self.decay_steps > 0):
            raise ConfigError(
                f"optimizer: need learning_rate > 0, 0 < decay_rate <= 1, decay_steps > 0; "
                f"found {self.learning_rate}, {self.decay_rate}, {self.decay_steps}."
            )


@dataclass(frozen=True)
class LBFGS:
    """Optional L-BFGS polish after Adam, on a fixed set of points.

    **Arguments**

    - `steps`: L-BFGS iterations (default 0: no polish).
    - `history`: number of stored curvature pairs (default 50).
    - `points`: multiplier on the sampling counts for the fixed polish set (default 1).
    """

    steps: int = 0
    history: int = 50
    points: float = 1.0


@dataclass(frozen=True)
class Sampling:
    """Collocation points per step.

    **Arguments**

    - `interior`: points in the interior (equations; default 2000).
    - `boundary`: points on each boundary region a condition uses (default 200).
    - `initial`: points on the initial slice (default 200).
    - `resample_every`: draw new points every this many steps; 0 keeps one fixed set
      (default 1: fresh points every step, which acts as a regulariser).
    - `method`: `uniform` or `sobol` (scrambled quasi-random; default `uniform`).
    """

    interior: int = 2000
    boundary: int = 200
    initial: int = 200
    resample_every: int = 1
    method: str = "uniform"

    def count(self, region: str) -> int:
        if region == "interior":
            return int(self.interior)
        if region == "initial":
            return int(self.initial)
        return int(self.boundary)


@dataclass(frozen=True)
class Config:
    """Everything that controls training (the problem is separate).

    **Arguments**

    - `steps`: Adam steps (default 10000).
    - `seed`: the one seed all randomness comes from (default 0).
    - `device`: `auto` (CUDA when present), `cpu`, `cuda`, `cuda:1`, ...
    - `dtype`: `float32` (default) or `float64`.
    - `engine`: derivative engine: `auto` (Taylor mode where the model allows it, else
      autograd; see `pinnkit.compile.engine.AutoEngine`), `autograd`, `func` or `taylor`.
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
      `pinnkit.models.constraints`).
    - `optimizer`: `Adam` spec; `lbfgs`: `LBFGS` polish spec; `sampling`: `Sampling` spec.
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
    model: MLP = field(default_factory=MLP)
    fourier: Fourier | None = None
    gaussians: Gaussians | None = None
    harmonics: int = 1
    exact_initial: bool = False
    optimizer: Adam = field(default_factory=Adam)
    lbfgs: LBFGS = field(default_factory=LBFGS)
    sampling: Sampling = field(default_factory=Sampling)
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
    retain_memory: bool = True

    def __post_init__(self):
        for name in ("compile", "exact_initial", "progress", "retain_memory"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ConfigError(
                    f"{name}={value!r}: expected true or false, e.g. `--set {name}=false`."
                )
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(
                f"dtype={self.dtype!r}: choose `float32` or `float64`."
                f"{did_you_mean(self.dtype, ['float32', 'float64'])}"
            )
        if self.fourier is not None and self.gaussians is not None:
            raise ConfigError(BOTH_FEATURES)
        if self.compile and self.lagrangian is not None:
            raise ConfigError(
                "compile=True does not apply to the Lagrangian PINN (its residuals use "
                "autograd). Fix: `--set compile=false` or `--set lagrangian=null`."
            )
        object.__setattr__(self, "hidden_terms", _hidden_terms(self.hidden_terms))
        if int(self.steps) < 0:
            raise ConfigError(f"steps={self.steps} must be >= 0.")
        for name in ("log_every", "eval_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 1.")

    # -- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return _to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        obj = _from_dict(data, "config")
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
    c.__name__: c for c in (Config, MLP, Fourier, Gaussians, Adam, LBFGS, Sampling, Lagrangian)
}
SPECS[HiddenNet.__name__] = HiddenNet
#: Fields whose value may be None, and the spec to create when a `--set` reaches into them.
OPTIONAL_SPECS: dict[str, type] = {
    "fourier": Fourier,
    "gaussians": Gaussians,
    "lagrangian": Lagrangian,
    "position": MLP,
}


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
            spec = _from_dict({"type": "HiddenNet", **spec}, f"hidden_terms.{name}")
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


def _from_dict(data: Any, where: str) -> Any:
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
            kwargs[key] = _from_dict(value, f"{where}.{key}")
        return cls(**kwargs)
    if isinstance(data, dict):
        return {k: _from_dict(v, f"{where}.{k}") for k, v in data.items()}
    return data


def parse_value(text: str) -> Any:
    """Parse a command-line value as data: JSON first (`3`, `1e-3`, `[1, 2]`, `true`,
    `null`, `"s"`), then `True`/`False`/`None`, else the raw string. Never evaluated."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def _coerce(value: Any, current: Any, key: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int) and not isinstance(value, bool):
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return int(value)
    elif isinstance(current, float) and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return float(value)
    elif isinstance(current, str):
        if isinstance(value, str):
            return value
    elif isinstance(current, (dict,)):
        if isinstance(value, dict):
            return value
    elif current is None:
        return value
    else:
        return value
    raise ConfigError(
        f"--set {key}={value!r}: expected a value like {current!r} "
        f"({type(current).__name__}), found {type(value).__name__}."
    )


def apply_overrides(config: Config, overrides: list[str] | dict[str, Any]) -> Config:
    """Apply `dotted.key=value` overrides (or a dict of them) to a config.

    **Raises**

    `ConfigError` naming the key, the valid keys at that level and the closest match.
    """
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        config = _set(config, key.split("."), value, key)
    return config


def _split(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(
            f"--set {text!r}: expected `dotted.key=value`, e.g. `--set model.width=128`."
        )
    key, _, raw = text.partition("=")
    return key.strip(), parse_value(raw.strip())


def _set(obj: Any, path: list[str], value: Any, full: str) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        if rest and dataclasses.is_dataclass(obj.get(head)):  # hidden_terms.f.width
            return {**obj, head: _set(obj[head], rest, value, full)}
        if rest:
            raise ConfigError(f"--set {full}: {head!r} holds plain values; nothing below it.")
        return {**obj, head: value}
    names = [f.name for f in dataclasses.fields(obj)]
    if head not in names:
        level = ".".join(full.split(".")[: -len(path)]) or "config"
        raise ConfigError(
            f"--set {full}: {level} has no key {head!r}.{did_you_mean(head, names)} "
            f"Valid keys there: {', '.join(names)}."
        )
    current = getattr(obj, head)
    if rest:
        if current is None and head in OPTIONAL_SPECS:
            current = OPTIONAL_SPECS[head]()
        if not (dataclasses.is_dataclass(current) or isinstance(current, dict)):
            raise ConfigError(f"--set {full}: {head!r} is a plain value; nothing below it.")
        new = _set(current, rest, value, full)
    elif dataclasses.is_dataclass(current) or (current is None and head in OPTIONAL_SPECS):
        if value is None and head in OPTIONAL_SPECS:
            new = None
        elif isinstance(value, dict):
            new = _from_dict(
                {"type": (OPTIONAL_SPECS.get(head) or type(current)).__name__, **value}, full
            )
        else:
            raise ConfigError(
                f"--set {full}={value!r}: {head!r} is a group of settings; set one of its keys "
                f"(e.g. `--set {head}.<key>=...`) or give a JSON object."
            )
    else:
        new = _coerce(value, current, full)
    try:
        return dataclasses.replace(obj, **{head: new})
    except ConfigError as err:
        raise ConfigError(f"--set {full}: {err}") from None


# The training strategies' specs live beside their code in train/, which imports this module,
# so they are imported last (every name train/ needs from here exists by now).
from pinnkit.train.adaptive import RAR  # noqa: E402
from pinnkit.train.weighting import Balance, Causal  # noqa: E402

SPECS.update({c.__name__: c for c in (Causal, Balance, RAR)})
OPTIONAL_SPECS.update({"causal": Causal, "balance": Balance, "rar": RAR})
