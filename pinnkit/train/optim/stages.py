"""The optimiser of each further stage (`Config.stages`), made from its spec: the
self-scaled quasi-Newton stage or Levenberg-Marquardt."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pinnkit.config import LevenbergMarquardt as LevenbergMarquardtSpec
from pinnkit.config import SSBroyden
from pinnkit.train.optim.gauss_newton import LevenbergMarquardt
from pinnkit.train.optim.ssbroyden import SelfScaledQuasiNewton

__all__ = ["make_stage_optimizer", "stage_phase"]


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
