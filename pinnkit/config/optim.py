"""Specs of the optimiser stages of a run: `Adam` (with step decay), an optional `LBFGS`
polish, then any further `stages` (`SSBroyden`), each of which may switch the precision."""

from __future__ import annotations

from dataclasses import dataclass

from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["Adam", "LBFGS", "SSBroyden", "LevenbergMarquardt", "STAGE_METHODS", "DTYPES"]

#: Precisions a run or a stage computes in.
DTYPES = ("float32", "float64")
#: The updates of the self-scaled quasi-Newton stage.
STAGE_METHODS = ("broyden", "bfgs")


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
class SSBroyden:
    """A self-scaled quasi-Newton stage: dense SSBroyden or SSBFGS with a strong-Wolfe line
    search (Urbán, Stefanou & Pons, arXiv 2405.04230; Kiyani et al., arXiv 2501.16371), for
    small networks trained far below what Adam and L-BFGS reach, in float64
    (`pinnkit.train.optim.ssbroyden` has the formulas).

    Put it in `Config.stages`; it runs after Adam and the L-BFGS polish, on one fixed set of
    points drawn when it starts.

    **Arguments**

    - `steps`: iterations (default 0: the stage is skipped).
    - `method`: `broyden` (default, SSBroyden) or `bfgs` (SSBFGS).
    - `dtype`: the precision from this stage on, `float64` (default: the update loses most
      of its accuracy in float32) or `float32`. The model, the learned constants and the
      points are converted when the stage starts.
    - `points`: multiplier on the sampling counts for the stage's point set (default 1).
      The points must resolve the solution: the loss can go to round-off on points that
      under-resolve a front while the error stays large.
    - `max_evals`: loss evaluations per line search (default 25).

    The inverse-Hessian approximation is dense: 8 n^2 bytes for n parameters in float64
    (3.2 GB at 20,000); more than 25,000 parameters are refused.
    """

    steps: int = 0
    method: str = "broyden"
    dtype: str = "float64"
    points: float = 1.0
    max_evals: int = 25

    def __post_init__(self):
        if self.method not in STAGE_METHODS:
            raise ConfigError(
                f"SSBroyden.method={self.method!r} is unknown; choose one of "
                f"{list(STAGE_METHODS)}.{did_you_mean(self.method, STAGE_METHODS)}"
            )
        if self.dtype not in DTYPES:
            raise ConfigError(
                f"SSBroyden.dtype={self.dtype!r}: choose `float32` or `float64`."
                f"{did_you_mean(self.dtype, DTYPES)}"
            )
        if int(self.steps) < 0 or not float(self.points) > 0 or int(self.max_evals) < 2:
            raise ConfigError(
                f"SSBroyden: need steps >= 0, points > 0 and max_evals >= 2; found "
                f"{self.steps}, {self.points}, {self.max_evals}. "
                "Fix: e.g. `pk.SSBroyden(steps=2000, points=4)`."
            )


@dataclass(frozen=True)
class LevenbergMarquardt:
    """A Levenberg-Marquardt stage: damped Gauss-Newton steps on the weighted residual vector
    (the loss is its squared norm), solved by Cholesky in float64, with Nielsen's damping
    rule and Marquardt's scaling (`pinnkit.train.optim.gauss_newton` has the formulas).

    Put it in `Config.stages`; it runs on one fixed set of points drawn when it starts.
    Each iteration takes the Jacobian of every residual row (about 15-20 loss gradients)
    and factors an n x n matrix, so it suits small networks (a few thousand parameters).

    **Arguments**

    - `steps`: iterations (default 0: the stage is skipped).
    - `damping`: the initial damping $\\mu$, relative to the diagonal (default 1e-3).
    - `dtype`: the precision from this stage on, `float64` (default) or `float32`.
    - `points`: multiplier on the sampling counts for the stage's point set (default 1).
    - `sketch`: rows drawn per iteration for the normal equations (default 0: every row).
    - `chunk`: points per Jacobian block, which bounds memory (default 1024).

    Does not support causal weights (they depend on the residuals) or data-parallel runs.
    """

    steps: int = 0
    damping: float = 1e-3
    dtype: str = "float64"
    points: float = 1.0
    sketch: int = 0
    chunk: int = 1024

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ConfigError(
                f"LevenbergMarquardt.dtype={self.dtype!r}: choose `float32` or `float64`."
                f"{did_you_mean(self.dtype, DTYPES)}"
            )
        if (
            int(self.steps) < 0
            or not float(self.damping) > 0
            or not float(self.points) > 0
            or int(self.sketch) < 0
            or int(self.chunk) < 1
        ):
            raise ConfigError(
                f"LevenbergMarquardt: need steps >= 0, damping > 0, points > 0, sketch >= 0 "
                f"and chunk >= 1; found {self.steps}, {self.damping}, {self.points}, "
                f"{self.sketch}, {self.chunk}. Fix: e.g. `pk.LevenbergMarquardt(steps=500)`."
            )
