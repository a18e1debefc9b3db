"""`fit` and `resume`: set up (or reopen) a run directory, join the processes of a torchrun
launch, and hand over to the `Trainer`.

The configuration is checked, the problem compiled and the model built before the run
directory exists; it then appears with its `config.json` (and the problem file's copy) and
its step-0 checkpoint before any training, and an error in between removes it. So a failure
or a kill at any moment leaves a run `--resume` can continue, or none at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from pinnkit.build import resolve_device
from pinnkit.config import Config
from pinnkit.errors import ConfigError, ProblemError
from pinnkit.figure_data import PLOT_DATA, encode, solution_data
from pinnkit.integrity import (
    HASHES,
    RunLock,
    hashes,
    remember,
    require_trust,
    require_unchanged,
    update_hash,
)
from pinnkit.problem import Problem
from pinnkit.runs import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    PROBLEM_SOURCE,
    Run,
    atomic_write,
    load_checkpoint,
    load_run_problem,
    new_run_directory,
    read_config,
    truncate_metrics,
)
from pinnkit.train.distributed import World
from pinnkit.train.loop import Trainer
from pinnkit.train.optim import first
from pinnkit.train.report import require_tensorboard

__all__ = ["fit", "resume"]


def fit(
    problem: Problem,
    config: Config | None = None,
    *,
    out: str | os.PathLike | None = "runs",
    directory: str | os.PathLike | None = None,
    source: str | None = None,
    origin: str | os.PathLike | None = None,
    extra_ops=None,
    callback: Callable | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> Run:
    """Train a PINN for `problem` and return the `Run`.

    **Arguments**

    - `problem`: the `Problem`.
    - `config`: a `Config` (defaults when omitted).
    - `out`: parent folder of run directories (`runs/<problem>/<timestamp>`); None keeps
      everything in memory.
    - `directory`: write exactly this run directory instead (must not hold a run).
    - `source`: the problem file's text, saved as `problem.py` so `--resume` works.
    - `origin`: the problem file's path, recorded so a resumed run resolves paths the file
      builds from `__file__` as the original did.
    - `extra_ops`, `callback`: see `compile_problem` and `Trainer`.
    - `on_start`: called with the run directory once it exists with its `config.json`
      and its step-0 checkpoint (the CLI prints it there, so a user can `--resume` after
      any kill).

    **Returns**

    A `Run`: `run.predict(x=..., t=...)`, `run.plot()`, `run.rel_l2`, `run.parameters`.

    **Raises**

    `ProblemError` / `ConfigError` for something that is not a `Problem` / `Config`, a
    directory that holds a run already, or TensorBoard or SOAP asked for without its package;
    `TrainingError` when training cannot go on (see the NaN guard).

    Launched by torchrun (`RANK`, `WORLD_SIZE`, ... set), every process calls `fit` and they
    train data-parallel (`pinnkit.train.distributed`): rank 0 creates and writes the run
    directory (and calls `on_start`), the others write nothing and return a `Run` with the
    same model and directory.
    """
    config = config or Config()
    if not isinstance(problem, Problem):
        raise ProblemError(f"fit: expected a pk.Problem, found {type(problem).__name__}.")
    if not isinstance(config, Config):
        raise ConfigError(f"fit: expected a pk.Config, found {type(config).__name__}.")
    require_tensorboard(config)
    first.require(config.optimizer)
    files = {CONFIG: json.dumps(config.to_dict(), indent=2) + "\n"}
    if source is not None:
        files[PROBLEM_SOURCE] = source
    if origin is not None:
        files["origin.json"] = json.dumps({"file": str(Path(origin).resolve())}) + "\n"
    files[HASHES] = hashes(files)
    world = _join_world(config)
    trainer = Trainer(
        problem, config, source=source, extra_ops=extra_ops, callback=callback, world=world
    )
    existed = directory is not None and Path(directory).exists()
    path = world.on_main(lambda: _start(problem, files, out, directory))
    if path is not None:
        if world.is_main and source is not None:
            remember(path, source)  # this user's own run: resume and discover trust it
        try:
            trainer.attach(path)
            trainer.checkpoint()  # step 0; a kill before it still leaves a resumable run
        except BaseException:
            world.on_main(lambda: _remove(path, [*files, CHECKPOINT] if existed else None))
            raise
        if on_start is not None and world.is_main:
            on_start(path)
    with _lock(world, path):
        return _finished(trainer.run(), world)


def resume(
    directory: str | os.PathLike,
    *,
    problem: Problem | None = None,
    steps: int | None = None,
    callback: Callable | None = None,
    trust: bool = False,
    force: bool = False,
) -> Run:
    """Continue a run directory from its last checkpoint to its configured end.

    **Arguments**

    - `directory`: the run directory.
    - `problem`: the Problem (default: rebuilt from the saved `problem.py`).
    - `steps`: a new total of first-phase steps (default: the saved config's); not below
      the step the run stands at.
    - `trust`: execute the run's `problem.py` although this user's `fit` did not create the
      run (`pinnkit.integrity`; default False).
    - `force`: continue although the run's `problem.py` or `config.json` changed since it
      was written (default False: refused, naming what changed).

    Under torchrun every rank reads the same checkpoint (the run directory must be visible
    to all of them) and continues exactly, with its own random stream and points restored;
    the number of processes must be the one the run was written with.

    **Raises**

    `ConfigError` when the checkpoint was written by a different number of processes, or
    `steps` is below the step the run stands at; `RunError` when the run's files changed
    since it was written (without `force`), its `problem.py` is not trusted (without
    `trust`), its checkpoint is damaged, or another process is training it.
    """
    directory = Path(directory)
    require_unchanged(directory, force=force, action="--resume")
    if problem is None:
        require_trust(directory, trust=trust, action="--resume")
    loaded, config = (
        load_run_problem(directory) if problem is None else (problem, read_config(directory))
    )
    saved_steps = config.steps
    if steps is not None:
        config = config.replace(steps=steps)
    first.require(config.optimizer)
    world = _join_world(config)
    trainer = Trainer(loaded, config, directory=directory, callback=callback, world=world)
    with _lock(world, directory):
        state = load_checkpoint(directory, map_location=trainer.device)
        if state is not None:
            _check_world_size(state, world, directory)
            trainer.load_state(state)
            if steps is not None:  # the first phase's steps done cannot be undone
                _check_steps(config.steps, min(trainer.step, saved_steps), directory)
            world.on_main(lambda: truncate_metrics(directory, trainer.step))
        else:
            world.on_main(lambda: (directory / METRICS).unlink(missing_ok=True))
            trainer.checkpoint()
        if config.steps != saved_steps:
            world.on_main(lambda: _write_config(directory, config))
        return _finished(trainer.run(), world)


def _start(problem, files: Mapping[str, str], out, directory) -> Path | None:
    """The run directory with `files` in it (`config.json` last: the marker of a run), or
    None for a run in memory.

    **Raises**

    `ConfigError` when `directory` holds a run already, or the directory cannot be created
    (`out` is a file, no permission, ...).
    """
    where = directory if directory is not None else out
    try:
        if directory is not None:
            path = Path(directory)
            if (path / CONFIG).exists():
                raise ConfigError(
                    f"{path} already holds a run. Fix: continue it with "
                    f"`pinnkit fit --resume {path}` or choose another directory."
                )
            path.mkdir(parents=True, exist_ok=True)
            for name in sorted(files, key=lambda n: n == CONFIG):
                atomic_write(path / name, files[name])
            return path
        if out is not None:
            return new_run_directory(problem.name, out, files)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(
            f"cannot create the run directory under {where!s}: {reason} "
            f"({err.filename or where}). Fix: `--out` a folder you can write to "
            "(it is created when missing)."
        ) from None
    return None


def _finished(run: Run, world: World) -> Run:
    """Save what the run's figures show (`plot.npz`), so that `pinnkit plot` can draw them
    without executing the run's problem.py."""
    if run.directory is not None and world.is_main:
        atomic_write(run.directory / PLOT_DATA, encode(solution_data(run)))
    return run


def _check_steps(steps: int, step: int, directory: Path) -> None:
    if steps < step:
        raise ConfigError(
            f"--steps {steps}: the run {directory} stands at step {step} already; a resumed "
            f"run cannot go back. Fix: `--steps N` with N >= {step}, or leave it out."
        )


def _write_config(directory: Path, config: Config) -> None:
    """A resumed run's new `config.json` (`--steps`), and its hash in `hashes.json`."""
    text = json.dumps(config.to_dict(), indent=2) + "\n"
    atomic_write(directory / CONFIG, text)
    update_hash(directory, CONFIG, text)


def _lock(world: World, path: Path | None):
    """The run's lock, held by rank 0 while it trains (nothing for a run in memory)."""
    return RunLock(path) if path is not None and world.is_main else contextlib.nullcontext()


def _remove(path: Path, names: list[str] | None) -> None:
    """Take back a run directory that failed before its first checkpoint: the whole of it,
    or only the files `names` where the folder was the user's before."""
    if names is None:
        shutil.rmtree(path, ignore_errors=True)
        return
    for name in names:
        (path / name).unlink(missing_ok=True)


def _join_world(config: Config) -> World:
    """The processes torchrun started (one when not launched by it), with the group joined."""
    world = World.from_environment()
    world.join(world.place(resolve_device(config.device)))
    return world


def _check_world_size(state: Mapping, world: World, directory: Path) -> None:
    saved = int(state.get("world_size", 1))
    if saved != world.size:
        command = (
            f"torchrun --nproc_per_node {saved} -m pinnkit fit --resume {directory}"
            if saved > 1
            else f"pinnkit fit --resume {directory}"
        )
        raise ConfigError(
            f"{directory}: the checkpoint was written by {saved} process(es), and this resume "
            f"runs {world.size}. Each rank's random stream and points are restored exactly, "
            f"so a run continues only with as many processes as it had. Fix: `{command}` "
            "(or start a new run)."
        )
