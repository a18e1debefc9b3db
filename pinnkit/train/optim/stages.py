"""The optimiser of each further stage (`Config.stages`), made from its spec: the
self-scaled quasi-Newton stage or Levenberg-Marquardt."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pinnkit.config import LevenbergMarquardt as LevenbergMarquardtSpec
from pinnkit.config import SSBroyden
from pinnkit.train.optim.gauss_newton import LevenbergMarquardt
from pinnkit.train.optim.ssbroyden import SelfScaledQuasiNewton

__all__ = ["make_stage_optimizer", "stage_phase", "fresh_points_due", "segment_end"]


def make_stage_optimizer(
    spec: SSBroyden | LevenbergMarquardtSpec, params: Sequence[torch.Tensor]
) -> SelfScaledQuasiNewton | LevenbergMarquardt:
    """A fresh optimiser for the stage `spec` over `params` (every trained tensor, in the
    trainer's order: the model's, then the residuals')."""
    if isinstance(spec, SSBroyden):
        return SelfScaledQuasiNewton(params, method=spec.method, max_evals=int(spec.max_evals))
    return LevenbergMarquardt(params, damping=float(spec.damping))


def stage_phase(spec: SSBroyden | LevenbergMarquardtSpec) -> str:
    """The stage's name in the metrics (`phase`): `ssbroyden`, `ssbfgs` or `lm`."""
    if isinstance(spec, SSBroyden):
        return "ssbroyden" if spec.method == "broyden" else "ssbfgs"
    return "lm"


def fresh_points_due(spec: SSBroyden | LevenbergMarquardtSpec, step: int, first: int) -> bool:
    """Whether the stage that started at step `first` draws a fresh point set at `step`:
    every `spec.resample_every` iterations after its start (never at the start, where
    entering the stage drew one). The trainer draws it after the checkpoint at that step,
    from the checkpointed stream, so a run resumed there draws the same set."""
    every = int(spec.resample_every)
    return bool(every) and step > first and (step - first) % every == 0


def segment_end(spec: SSBroyden | LevenbergMarquardtSpec, step: int, first: int, end: int) -> int:
    """The last step of the stretch of the stage (started at `first`, ending at `end`) that
    shares the point set in use at `step`."""
    every = int(spec.resample_every)
    if not every:
        return end
    return min(end, first + ((step - first) // every + 1) * every)
