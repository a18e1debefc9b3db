"""Specs of the optimiser stages of a run: the first phase's `Adam` or `SOAP` (with step
decay), an optional `LBFGS` polish, then any further `stages` (`SSBroyden`,
`LevenbergMarquardt`), each of which may switch the precision."""

from __future__ import annotations

from dataclasses import dataclass

from pinnkit.config.checks import MAX_STEPS, Count, Real, check_fields
from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["Adam", "SOAP", "LBFGS", "SSBroyden", "LevenbergMarquardt", "STAGE_METHODS", "DTYPES"]

#: Precisions a run or a stage computes in.
DTYPES = ("float32", "float64")
#: The updates of the self-scaled quasi-Newton stage.
STAGE_METHODS = ("broyden", "bfgs")
#: How a second-order stage draws its point sets (`SSBroyden.resample`).
RESAMPLE = ("uniform", "residual")
#: `resample="residual"`: uniform candidates per point kept (Wu et al.'s Allen-Cahn runs drew
#: 15,000 points from 100,000 candidates).
RAD_POOL = 8
#: The iterations of a phase or stage: 0 (skipped) up to `MAX_STEPS`.
STEPS = Count(low=0, high=MAX_STEPS)
#: The step decay `Adam` and `SOAP` share.
DECAY = {
    "learning_rate": Real(),
    "decay_rate": Real(high=1.0),
    "decay_steps": Count(high=MAX_STEPS),
}


def _check_resample(owner: str, resample: str) -> None:
    if resample not in RESAMPLE:
        raise ConfigError(
            f"{owner}.resample={resample!r} is unknown; choose `uniform` or `residual`."
            f"{did_you_mean(str(resample), RESAMPLE)}"
        )


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
        check_fields(self, DECAY)


@dataclass(frozen=True)
class SOAP:
    """SOAP in place of Adam for the first phase: Adam run in the eigenbasis of Shampoo's
    preconditioner (Vyas et al., "SOAP: Improving and Stabilizing Shampoo using Adam",
    arXiv 2409.11321), with the same step decay as `Adam`,
    $\\eta_k = \\eta_0\\, r^{k / s}$.

    For each weight matrix $W$ ($m \\times n$) SOAP keeps running averages of $G G^T$ and
    $G^T G$ of its gradient $G$ ($m^2 + n^2$ numbers), refreshes their eigenvectors $Q_L,
    Q_R$ every `precondition_frequency` steps, and runs Adam on $Q_L^T G Q_R$. Wang et al.
    (arXiv 2502.00604) show that it aligns the gradients of a PINN's competing loss terms,
    and report 2-10x lower errors than earlier methods on their ten benchmarks. The update is
    `pytorch_optimizer.SOAP` (Apache-2.0, `pip install "pinnkit[soap]"`); pinnkit writes none
    of its maths (`pinnkit.train.optim.soap`).

    **Arguments**

    - `learning_rate`: $\\eta_0$ (default 3e-3, the SOAP paper's).
    - `decay_rate`: $r$ (default 0.9); 1 disables decay.
    - `decay_steps`: $s$ (default 2000).
    - `betas`: Adam's two averaging rates, the second also that of the preconditioner's
      averages (default (0.95, 0.95), the SOAP paper's).
    - `precondition_frequency`: steps between refreshes of the eigenbases (default 10, the
      SOAP paper's). Each refresh costs one QR per dimension of each weight matrix.
    - `weight_decay`: decoupled weight decay (default 0.0). The library's default, 1e-2, is
      for language models: decay pulls the weights away from the PDE's solution, which a
      PINN fits, not regularises.
    - `eps`: added to Adam's denominator (default 1e-8).

    Wang et al.'s code (`jaxpi/models.py` on the `pirate` branch of
    PredictiveIntelligenceLab/jaxpi) builds SOAP with `weight_decay=0.0` and
    `precondition_frequency=2`, and passes its Adam settings: betas (0.9, 0.999), learning
    rate 1e-3 with exponential decay after 5000 warm-up steps. `pk.SOAP(learning_rate=1e-3,
    betas=(0.9, 0.999), precondition_frequency=2)` is that, without the warm-up.

    Biases and other vectors get plain Adam (the library's `precondition_1d=False`). In
    float64 runs the eigenbases are still refreshed by a QR in float32 (the library's
    choice), which perturbs the update at ~1e-7 relative; SOAP is a first-phase optimiser,
    and a float64 second-order `stage` is what goes to round-off.

    A SOAP run repeats bit for bit on the same machine and number of processes (and resumes
    exactly), but round-off differences (another BLAS, device or process count) move its
    trajectory far more than Adam's: the first eigenbases come from rank-deficient
    averages, whose null-space basis round-off decides. Measured in float64 on a 16 x 16
    quadratic, gradients scaled by 1 + 2^-50 moved the weights by 3e-10 relative after 2
    steps and 2e-3 after 4 (Adam with the same settings: 5e-17 after 30).
    """

    learning_rate: float = 3e-3
    decay_rate: float = 0.9
    decay_steps: int = 2000
    betas: tuple = (0.95, 0.95)
    precondition_frequency: int = 10
    weight_decay: float = 0.0
    eps: float = 1e-8

    def __post_init__(self):
        check_fields(
            self,
            {
                **DECAY,
                "precondition_frequency": Count(),
                "weight_decay": Real(low_open=False),
                "eps": Real(),
            },
        )
        betas = self.betas
        if (
            not isinstance(betas, (list, tuple))
            or len(betas) != 2
            or not all(
                isinstance(b, int | float) and not isinstance(b, bool) and 0 <= b < 1 for b in betas
            )
        ):
            raise ConfigError(
                f"SOAP.betas={betas!r}: need two numbers in [0, 1). "
                "Fix: e.g. `pk.SOAP(betas=(0.95, 0.95))` or `--set optimizer.betas=[0.9,0.999]`."
            )
        object.__setattr__(self, "betas", tuple(float(b) for b in betas))  # JSON gives a list


@dataclass(frozen=True)
class LBFGS:
    """Optional L-BFGS polish after Adam, on a fixed set of points.

    **Arguments**

    - `steps`: L-BFGS iterations (default 0: no polish).
    - `history`: number of stored curvature pairs (default 50).
    - `points`: multiplier on the sampling counts for the fixed polish set (default 1).
    - `tolerance`: stop early once an iteration lowers the loss by less than this fraction
      of the loss at the start of the block (default 0: run every step). Discovery's refits
      use it.
    """

    steps: int = 0
    history: int = 50
    points: float = 1.0
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "steps": STEPS,
                "history": Count(high=10_000),
                "points": Real(),
                # the fraction of the loss an iteration must gain to go on (0: every step)
                "tolerance": Real(high=1.0, low_open=False, high_open=True),
            },
        )


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
    - `resample_every`: draw a fresh point set (same counts) every this many iterations,
      keeping the inverse-Hessian approximation (default 0: one set for the whole stage).
      For solutions whose fine features a fixed set under-resolves (Allen-Cahn's
      interfaces).
    - `resample`: how each of the stage's point sets is drawn: `uniform` (default, the
      sampling's method) or `residual` (RAD: the interior points drawn from `RAD_POOL` times
      as many uniform candidates with probability proportional to the equations' residual
      |r| there; Wu, Zhu, Tan, Kartha & Lu, CMAME 403, 2023, k = 1, c = 0; the other
      regions as before), also the set drawn when the stage starts.

    The inverse-Hessian approximation is dense: 8 n^2 bytes for n parameters in float64
    (3.2 GB at 20,000); more than 25,000 parameters are refused.
    """

    steps: int = 0
    method: str = "broyden"
    dtype: str = "float64"
    points: float = 1.0
    max_evals: int = 25
    resample_every: int = 0
    resample: str = "uniform"

    def __post_init__(self):
        check_fields(
            self,
            {
                "steps": STEPS,
                "points": Real(),
                "max_evals": Count(low=2, high=10_000),
                "resample_every": Count(low=0),
            },
        )
        _check_resample("SSBroyden", self.resample)
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
    - `resample_every`: draw a fresh point set (same counts) every this many iterations
      (default 0: one set for the whole stage).
    - `resample`: `uniform` (default) or `residual` (RAD, as for `SSBroyden`).

    Does not support causal weights (they depend on the residuals) or data-parallel runs.
    """

    steps: int = 0
    damping: float = 1e-3
    dtype: str = "float64"
    points: float = 1.0
    sketch: int = 0
    chunk: int = 1024
    resample_every: int = 0
    resample: str = "uniform"

    def __post_init__(self):
        check_fields(
            self,
            {
                "steps": STEPS,
                "damping": Real(),
                "points": Real(),
                "sketch": Count(low=0),
                "chunk": Count(),
                "resample_every": Count(low=0),
            },
        )
        _check_resample("LevenbergMarquardt", self.resample)
        if self.dtype not in DTYPES:
            raise ConfigError(
                f"LevenbergMarquardt.dtype={self.dtype!r}: choose `float32` or `float64`."
                f"{did_you_mean(self.dtype, DTYPES)}"
            )
