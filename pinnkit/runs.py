"""The run directory and the `Run` object: config, atomic checkpoints, metrics, summary, resume.

runs/<problem>/<timestamp>/
  config.json  problem.py  metrics.jsonl  checkpoint.pt  summary.json  figures/*.png
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pinnkit.build import build, resolve_device
from pinnkit.compile import AbstractResiduals
from pinnkit.config import Config
from pinnkit.errors import ConfigError, ProblemError, RunError, TrainingError
from pinnkit.figure_data import PLOT_DATA
from pinnkit.figure_data import load as load_plot_data
from pinnkit.integrity import atomic_write, require_trust
from pinnkit.problem import Problem
from pinnkit.problem.error_points import ErrorGrid
from pinnkit.problem.file import load_problem_file

__all__ = [
    "Run",
    "ErrorGrid",
    "new_run_directory",
    "atomic_write",
    "save_checkpoint",
    "load_checkpoint",
    "read_metrics",
]

CHECKPOINT = "checkpoint.pt"
SUMMARY = "summary.json"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
PROBLEM_SOURCE = "problem.py"

log = logging.getLogger("pinnkit")


def new_run_directory(
    problem_name: str, out: str | os.PathLike = "runs", files: Mapping[str, str] | None = None
) -> Path:
    """A fresh `out/<problem>/<timestamp>` directory (suffixed `-2`, `-3` if taken).

    The directory appears atomically with `files` (name -> text) already in it: it is
    assembled under a hidden temporary name and renamed into place, so a kill at any moment
    leaves either no run directory or one with its `config.json`.
    """
    parent = Path(out) / problem_name
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=".new-"))
    for name, text in (files or {}).items():
        atomic_write(staging / name, text)
    base = parent / time.strftime("%Y%m%d-%H%M%S")
    path, k = base, 1
    while True:
        try:
            os.rename(staging, path)  # fails if `path` exists and is not empty
            return path
        except OSError:
            if not path.exists():
                raise
            k += 1
            path = base.with_name(f"{base.name}-{k}")


def save_checkpoint(directory: Path, state: Mapping[str, Any]) -> None:
    """Write `checkpoint.pt` atomically (loadable with `weights_only=True`)."""
    import io

    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    atomic_write(Path(directory) / CHECKPOINT, buffer.getvalue())


def load_checkpoint(directory: Path, map_location: str | torch.device = "cpu") -> dict | None:
    """The checkpoint's state, or None if the run was stopped before its first checkpoint."""
    path = Path(directory) / CHECKPOINT
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        raise RunError(
            f"{path} cannot be read as a pinnkit checkpoint ({reason[:200]}): it is damaged, "
            "truncated or not pinnkit's. Fix: restore it from a copy, or start the run again "
            "with `pinnkit fit FILE`."
        ) from None
    if not isinstance(state, dict) or not {"step", "model"} <= set(state):
        raise RunError(
            f"{path} is not a pinnkit checkpoint (no step and model state in it). Fix: "
            "restore it from a copy, or start the run again with `pinnkit fit FILE`."
        )
    return state


def read_metrics(directory: Path) -> list[dict]:
    """Every complete metrics row of `metrics.jsonl` (a line cut short by a kill, or one
    that is not a row, is skipped)."""
    path = Path(directory) / METRICS
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)  # a line that is not a metrics row (damage, edits) is skipped
    return rows


def truncate_metrics(directory: Path, last_step: int) -> None:
    """Drop metric lines written after the checkpoint a resumed run restarts from."""
    rows = [r for r in read_metrics(directory) if r.get("step", 0) <= last_step]
    atomic_write(Path(directory) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


def predict_points(
    model: nn.Module, problem: Problem, points: np.ndarray, *, batch_size: int = 65536
) -> dict[str, np.ndarray]:
    """Model values at (n, n_coords) points, in batches, as float64 numpy arrays."""
    param = next(model.parameters())
    outs = []
    with torch.no_grad():
        for start in range(0, len(points), batch_size):
            chunk = torch.as_tensor(
                points[start : start + batch_size], dtype=param.dtype, device=param.device
            )
            outs.append(model(chunk).double().cpu().numpy())
    values = np.concatenate(outs, axis=0) if outs else np.zeros((0, len(problem.fields)))
    return {f: values[:, j] for j, f in enumerate(problem.field_names)}


class Run:
    """A finished (or stopped) training run: the trained model and what was measured.

    **Attributes**

    - `directory`: the run directory (None for a run that was not saved).
    - `problem`, `config`: what was trained.
    - `model`: the trained network; `compiled`: the compiled problem with learned constants.
    - `summary`: the content of `summary.json`.
    """

    def __init__(
        self,
        *,
        problem: Problem,
        config: Config,
        model: nn.Module,
        compiled: AbstractResiduals,
        summary: dict,
        directory: Path | None,
    ):
        self.problem = problem
        self.config = config
        self.model = model
        self.compiled = compiled
        self.summary = summary
        self.directory = directory

    @property
    def rel_l2(self) -> dict[str, float]:
        """Relative L2 error per field against the problem's reference (empty if none)."""
        return dict(self.summary.get("rel_l2") or {})

    @property
    def parameters(self) -> dict[str, float]:
        """Learned constants by name."""
        return {k: float(v.detach()) for k, v in self.compiled.parameter_values().items()}

    @property
    def metrics(self) -> list[dict]:
        """The metrics lines of the run (from `metrics.jsonl`, or kept in memory)."""
        if self.directory is not None:
            return read_metrics(self.directory)
        return list(self.summary.get("_metrics", []))

    def predict(self, **coords: Any) -> dict[str, np.ndarray]:
        """Field values at points given by coordinate name, e.g. `run.predict(x=xs, t=ts)`.

        Arrays broadcast against each other; each result has the broadcast shape.

        **Raises**

        `ProblemError` when a coordinate is missing or unknown.
        """
        names = [c.name for c in self.problem.coords]
        missing = [n for n in names if n not in coords]
        unknown = [k for k in coords if k not in names]
        if missing or unknown:
            raise ProblemError(
                f"Run.predict: expected coordinates {names}; missing {missing}, unknown {unknown}. "
                f"Fix: `run.predict({', '.join(f'{n}=...' for n in names)})`."
            )
        arrays = np.broadcast_arrays(*[np.asarray(coords[n], dtype=np.float64) for n in names])
        shape = arrays[0].shape
        points = np.stack([a.reshape(-1) for a in arrays], axis=1)
        values = predict_points(self.model, self.problem, points)
        return {f: v.reshape(shape) for f, v in values.items()}

    def plot(self, *, save: bool | None = None):
        """Figures of the run (prediction, reference, error, loss curves).

        Saved as PNG under `figures/` of the run directory when there is one (or
        `save=True`); returned as a dict of matplotlib figures.
        """
        from pinnkit.plot import plot_run

        return plot_run(self, save=self.directory is not None if save is None else save)

    @classmethod
    def load(cls, directory: str | os.PathLike, *, device: str = "cpu", trust: bool = False) -> Run:
        """Load a run directory written by `pinnkit fit`, with the model as last
        checkpointed (its `problem.py` is executed).

        **Arguments**

        - `directory`: the run directory.
        - `device`: where to load the model (default `cpu`).
        - `trust`: execute the run's `problem.py` although this user's `fit` did not create
          the run, or it changed since (default False; `pinnkit.integrity`).

        **Raises**

        `ProblemError` when the directory keeps no problem file; `TrainingError` when it
        has no checkpoint yet; `RunError` when its problem file is not trusted, or a file
        in it is damaged.
        """
        directory = Path(directory)
        require_trust(directory, trust=trust, action="loading the run")
        problem, config = load_run_problem(directory)
        config = config.replace(device=device, progress=False)
        state = load_checkpoint(directory, map_location=resolve_device(device))
        if state is None:
            raise TrainingError(f"{directory}: no checkpoint yet; nothing to load.")
        # A stage may have switched the precision (`SSBroyden.dtype`): build in the one saved.
        built = build(problem, config.replace(dtype=state.get("dtype", config.dtype)))
        try:
            built.model.load_state_dict(state["model"])
            built.residuals.load_state_dict(state["compiled"])
        except (KeyError, RuntimeError) as err:
            raise RunError(
                f"{directory}: the checkpoint does not fit the problem and configuration the "
                f"run is rebuilt from ({type(err).__name__}: {str(err)[:200]}): they were "
                "changed since it was written. Fix: undo the change, or start a new run."
            ) from None
        summary_path = directory / SUMMARY
        summary = (
            _read_summary(summary_path)
            if summary_path.exists()
            else {
                "steps": int(state["step"]),
                "loss_terms": json.loads(state["last_terms"]),
                "rel_l2": json.loads(state["last_rel_l2"]),
            }
        )
        return cls(
            problem=problem,
            config=config,
            model=built.model,
            compiled=built.residuals,
            summary=summary,
            directory=directory,
        )

    def __repr__(self) -> str:
        parts = [f"steps={self.summary.get('steps')}"]
        if self.rel_l2:
            parts.append(
                "rel_l2={" + ", ".join(f"{k}: {v:.3g}" for k, v in self.rel_l2.items()) + "}"
            )
        if self.parameters:
            parts.append(
                "parameters={"
                + ", ".join(f"{k}: {v:.6g}" for k, v in self.parameters.items())
                + "}"
            )
        return f"Run({self.problem.name!r}, {', '.join(parts)}, directory={str(self.directory)!r})"

    def _repr_html_(self) -> str:
        rows = [
            ("problem", self.problem.name),
            ("steps", self.summary.get("steps")),
            ("wall seconds", f"{self.summary.get('wall_seconds', 0):.1f}"),
            ("device", self.summary.get("device")),
            ("precision", self.summary.get("dtype")),
            ("network parameters", self.summary.get("network_parameters")),
        ]
        rows += [(f"rel. L2 ({k})", f"{v:.3e}") for k, v in self.rel_l2.items()]
        rows += [
            (f"final loss {k}", f"{v:.3e}")
            for k, v in (self.summary.get("loss_terms") or {}).items()
        ]
        rows += [(f"learned {k}", f"{v:.6g}") for k, v in self.parameters.items()]
        body = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows)
        table = f"<table><caption>Run {self.directory or ''}</caption>{body}</table>"
        from pinnkit.plot import plot_run

        return table + plot_run(self, save=False)._repr_html_()


def plot_saved(directory: str | os.PathLike, *, save: bool = True):
    """The figures of a run directory drawn from its saved data alone (`plot.npz`,
    `metrics.jsonl`, `summary.json`, `config.json`): nothing of the run is executed, so
    this is safe on a run directory someone sent you. Saved under `figures/` with `save`.

    **Raises**

    `RunError` when the run has no `plot.npz` (it has not finished, or was written before
    pinnkit saved one) or a file is damaged.
    """
    from pinnkit.plot import Figures, loss_figure, plot_solution, save_figures

    directory = Path(directory)
    path = directory / PLOT_DATA
    if not path.exists():
        raise RunError(
            f"{directory}: no {PLOT_DATA} (the run has not finished, or an older pinnkit "
            "wrote it), so the figures can only be drawn by executing the run's problem.py. "
            f"Fix: read {directory / PROBLEM_SOURCE}; if you trust it, add --trust."
        )
    data = load_plot_data(path)
    summary = _read_summary(directory / SUMMARY) if (directory / SUMMARY).exists() else {}
    steps = int(summary.get("adam_steps", read_config(directory).steps))
    loss = loss_figure(read_metrics(directory), steps, data.get("initial") or {})
    figures = Figures({"solution": plot_solution(data), "loss": loss})
    if save:
        save_figures(figures, directory / "figures")
    return figures


def _read_summary(path: Path) -> dict:
    try:
        summary = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        summary = err
    if not isinstance(summary, dict):
        raise RunError(
            f"{path} is damaged (not the JSON object pinnkit wrote). Fix: delete it; "
            "`pinnkit fit --resume` of the run writes it again at the end."
        )
    return summary


def read_config(directory: Path) -> Config:
    path = Path(directory) / CONFIG
    if not path.exists():
        raise ConfigError(f"{directory}: no {CONFIG}; {_not_a_run(Path(directory))}")
    try:
        return Config.from_json(path.read_text())
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not text. Fix: restore it from a copy.") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def _not_a_run(directory: Path) -> str:
    """What to do with a folder that is not a run directory: the runs inside it (a
    problem's folder under `pinnkit fit --out`, up to two levels down), newest last."""
    marks = [*directory.glob("*/" + METRICS), *directory.glob("*/*/" + METRICS)]
    runs = sorted(mark.parent for mark in marks if (mark.parent / CONFIG).exists())
    if not runs:
        return (
            "this is not a pinnkit run directory (or it was killed before it was set up). "
            "Fix: start a new run with `pinnkit fit FILE`."
        )
    shown = ", ".join(str(run.relative_to(directory)) for run in runs[-3:])
    return (
        f"it holds {len(runs)} run director{'y' if len(runs) == 1 else 'ies'} ({shown}"
        f"{', ...' if len(runs) > 3 else ''}). Fix: name one, e.g. the last: {runs[-1]}"
    )


def load_run_problem(directory: Path) -> tuple[Problem, Config]:
    """The problem (from the run's saved `problem.py`) and config of a run directory.

    The saved copy runs as if it were the original file (`origin.json`), so paths it builds
    from `__file__` resolve as they did.

    **Raises**

    `ProblemError` when the run keeps no `problem.py` (a run started from Python);
    `ConfigError` when it has no `config.json`.
    """
    config = read_config(directory)
    source_path = directory / PROBLEM_SOURCE
    if not source_path.exists():
        raise ProblemError(
            f"{directory}: no {PROBLEM_SOURCE}, so the problem cannot be rebuilt. Runs started "
            "from Python keep no problem file: use `pk.resume(problem, directory)` instead."
        )
    original = _origin(directory / "origin.json")
    module_file = original if original and Path(original).exists() else source_path
    problem, _, _ = load_problem_file(source_path, module_file=module_file)
    return problem, config


def write_json(path: Path, data: Any) -> None:
    atomic_write(Path(path), json.dumps(data, indent=2, default=float) + "\n")


def _origin(path: Path) -> str | None:
    """The original problem file's path recorded in `origin.json` (None when there is none)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("file"), str | None):
        raise RunError(
            f'{path} is damaged (pinnkit writes {{"file": path}}). Fix: delete it; the run '
            "then resolves paths its problem file builds from `__file__` beside the copy."
        )
    return data.get("file")
