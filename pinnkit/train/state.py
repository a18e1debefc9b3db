"""Checkpoint state of a trainer: everything needed to continue exactly where it stands
(weights, constants, optimiser states, random streams, points, strategy states), as plain
values and tensors that `torch.load(..., weights_only=True)` reads back.

The first phase's optimiser state is kept under its name, `adam` or `soap`
(`optim.first.phase_name`), so a checkpoint is never loaded into the other optimiser.

Under torchrun the parts that differ between ranks (random stream, points, RAR points) are
gathered to rank 0 and written under `ranks`; a resume gives each rank its own back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch

from pinnkit.build import dtype_name
from pinnkit.compile import Batch
from pinnkit.errors import ConfigError, PinnkitError, RunError
from pinnkit.train.optim.lbfgs import make_lbfgs
from pinnkit.train.optim.stages import make_stage_optimizer

if TYPE_CHECKING:  # annotations only
    from pinnkit.train.loop import Trainer

__all__ = ["capture", "restore"]


def capture(trainer: Trainer) -> dict:
    """The trainer's state (a collective under torchrun: every rank must call it)."""
    state = {
        "step": trainer.step,
        "phase": trainer.phase,
        "lr_scale": trainer.lr_scale,
        "elapsed": trainer.elapsed,
        "model": trainer.model.state_dict(),
        "compiled": trainer.compiled.state_dict(),
        trainer.first_phase: trainer.optimizer.state_dict(),
        "rng": json.dumps(trainer.rng.bit_generator.state),
        "torch_rng": trainer.generator.get_state(),
        "last_terms": json.dumps(trainer.last_terms),
        "last_rel_l2": json.dumps(trainer.last_rel_l2),
        "dtype": dtype_name(trainer.dtype),
        "stage": trainer.stage,
    }
    if trainer.points is not None:
        state["fixed"] = {k: (b.points, b.normals) for k, b in trainer.points.items()}
    if trainer.lbfgs is not None:
        state["lbfgs"] = trainer.lbfgs.state_dict()
    if trainer.stage_optimizer is not None:
        state["stage_optimizer"] = trainer.stage_optimizer.state_dict()
    state["strategies"] = trainer.loss.state_dict()
    if trainer.world.is_distributed:
        state["world_size"] = trainer.world.size
        state["ranks"] = trainer.world.gather(_rank_state(trainer))
    return state


def restore(trainer: Trainer, state: Mapping) -> None:
    """Put a `capture`d state back into `trainer` (built with the same problem and config).

    **Raises**

    `RunError` when the state does not fit the trainer (a field, loss term or network size
    that differs from the run's: its problem or config changed since).
    """
    try:
        _restore(trainer, state)
        unknown = sorted(set(trainer.last_terms) - set(trainer.compiled.term_names))
        if unknown:
            raise KeyError(f"loss terms {unknown} are not the problem's")
    except (KeyError, IndexError, RuntimeError, ValueError, TypeError) as err:
        if isinstance(err, PinnkitError):
            raise
        raise RunError(
            f"{trainer.directory}: the checkpoint does not fit the problem and configuration "
            f"the run is rebuilt from ({type(err).__name__}: {str(err)[:200]}): they were "
            "changed since it was written. Fix: undo the change, or start a new run with "
            "`pinnkit fit FILE`."
        ) from None


def _restore(trainer: Trainer, state: Mapping) -> None:
    trainer.step = int(state["step"])
    trainer.phase = str(state["phase"])
    trainer.lr_scale = float(state["lr_scale"])
    trainer.elapsed = float(state["elapsed"])
    trainer.model.load_state_dict(state["model"])
    trainer.compiled.load_state_dict(state["compiled"])
    if trainer.first_phase not in state:
        raise ConfigError(
            f"checkpoint: no state of the `{trainer.first_phase}` optimiser that config.json's "
            "`optimizer` names; the run was trained with another one. Fix: resume with the "
            "`optimizer` it was started with (its first metrics lines name it as `phase`)."
        )
    trainer.optimizer.load_state_dict(state[trainer.first_phase])
    trainer.rng.bit_generator.state = json.loads(state["rng"])
    # A CPU generator, whatever map_location did.
    trainer.generator.set_state(state["torch_rng"].cpu())
    trainer.last_terms = json.loads(state["last_terms"])
    trainer.last_rel_l2 = json.loads(state["last_rel_l2"])
    if "fixed" in state:
        trainer.points = _batches(state["fixed"], trainer.device)
    if "lbfgs" in state:
        trainer.lbfgs = make_lbfgs(trainer.params, trainer.config.lbfgs)
        trainer.lbfgs.load_state_dict(state["lbfgs"])
        for group in trainer.lbfgs.param_groups:  # the config's, also for older checkpoints
            group["relative_tolerance"] = float(trainer.config.lbfgs.tolerance)
    trainer.stage = int(state.get("stage", -1))
    if "stage_optimizer" in state:
        optimizer = make_stage_optimizer(trainer.config.stages[trainer.stage], trainer.params)
        optimizer.load_state_dict(state["stage_optimizer"])
        trainer.stage_optimizer = optimizer
    trainer.loss.load_state_dict(state.get("strategies", {}))
    if trainer.world.is_distributed:  # this rank's stream and points (resume checked the size)
        part = state["ranks"][trainer.world.rank]
        trainer.rng.bit_generator.state = json.loads(part["rng"])
        if "fixed" in part:
            trainer.points = _batches(part["fixed"], trainer.device)
        if "rar" in part:
            trainer.loss.states["rar"] = trainer.loss.rar.load_state_dict(part["rar"])


def _rank_state(trainer: Trainer) -> dict:
    """What differs between ranks: the random stream, the points, the RAR points."""
    part: dict = {"rng": json.dumps(trainer.rng.bit_generator.state)}
    if trainer.points is not None:
        part["fixed"] = {
            k: (b.points.cpu(), None if b.normals is None else b.normals.cpu())
            for k, b in trainer.points.items()
        }
    rar = trainer.loss.rar
    if rar is not None:
        part["rar"] = {
            k: v.cpu() if isinstance(v, torch.Tensor) else v
            for k, v in rar.state_dict(trainer.loss.states["rar"]).items()
        }
    return part


def _batches(saved: Mapping, device: torch.device) -> dict[str, Batch]:
    return {
        k: Batch(p.to(device), None if n is None else n.to(device)) for k, (p, n) in saved.items()
    }
