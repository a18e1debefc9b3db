"""The Levenberg-Marquardt stage: damped Gauss-Newton steps on the weighted residual vector
$r(\\theta)$, $L = \\|r\\|^2$, solved in float64 (Levenberg 1944, Marquardt 1963; damping
rule of Nielsen 1999, in Madsen, Nielsen & Tingleff, "Methods for non-linear least squares
problems", 2004, Sec. 3.2).

Each iteration forms $A = J^T J$ and $g = J^T r$ from blocks of rows (so $J$ is never held
whole: `pinnkit.compile.jacobian.jacobian_rows`), and solves by Cholesky

$$(A + \\mu D)\\,\\delta = -g, \\qquad D = \\operatorname{diag}(d), \\quad
d_i = \\max_{\\text{iterations so far}} A_{ii},$$

Marquardt's scaling with Moré's running maximum (Moré 1978, Sec. 4): $\\mu$ is then
dimensionless and the step does not change when a parameter is rescaled (a learned
constant's logarithm next to a network's weights), and taking the maximum over iterations
keeps a direction whose curvature has dropped from being left undamped. A floor of
`1e-12 max(d)` keeps a column of zeros (a parameter the residuals do not use) from making
the system singular. `scaling="identity"` takes $D = I$ instead (plain Levenberg; then the
first iteration sets $\\mu$ to `damping` times $\\max_i A_{ii}$, Madsen et al. eq. 3.14).
Measured on the 1-D Poisson PINN of the tests (1 x 20 tanh, 200 iterations, seeds 0-4),
the relative L2 error with Marquardt's scaling was 4.9e-6, 5.2e-7, 8.2e-8, 5.5e-7, 3.9e-7
and with the identity 6.9e-7, 1.3e-6, 9.7e-6, 9.0e-7, 5.1e-7, taking 1.4x the time (more
rejected tries): Marquardt's is the default.

The step is accepted when the gain ratio of actual to predicted reduction,

$$\\rho = \\frac{L(\\theta) - L(\\theta + \\delta)}{\\delta^T A \\delta + 2\\mu\\,
\\delta^T D \\delta},$$

(the denominator is $L - \\|r + J\\delta\\|^2$, positive by construction) is positive;
then $\\mu \\leftarrow \\mu \\max(1/3, 1 - (2\\rho - 1)^3)$ and $\\nu \\leftarrow 2$, else the
parameters are restored exactly, $\\mu \\leftarrow \\nu\\mu$, $\\nu \\leftarrow 2\\nu$ and the
same $A$, $g$ are solved again (up to `max_tries` times per `step`; no new Jacobian). A
failed Cholesky factorisation counts as a rejection.

Cost per iteration: one Jacobian (about 15-20 loss gradients on Burgers 3 x 20, see
`pinnkit.compile.jacobian`), $O(R n^2)$ to form $A$, $O(n^3 / 3)$ to factor it (20k
parameters: 3 GB for $A$ and ~3 TFLOP, minutes on a CPU, seconds on a GPU), and one loss
evaluation per try. **Row sketching**: when the rows $R \\gg n$ make $J$ too costly, let the
`system` callable draw a uniform subsample of $m$ rows each iteration, scaled by
$\\sqrt{R/m}$ (`jacobian_rows(..., sample=m, generator=...)`), so that $A$ and $g$ are
unbiased estimates; the gain ratio still uses the full loss, which is cheap, so a poor
sketch only costs a rejected try. $m$ a few times $n$ keeps $A$ well conditioned.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["LevenbergMarquardt", "StepInfo"]

#: Smallest and largest damping: below 1e-15 the damping is round-off next to $A$'s
#: diagonal; above 1e15 the step is ~0 and `step` reports no progress.
MIN_DAMPING = 1e-15
MAX_DAMPING = 1e15
#: Floor of the scaling $d$ relative to its largest entry (see the module docstring).
SCALING_FLOOR = 1e-12


@dataclass(frozen=True)
class StepInfo:
    """What one `LevenbergMarquardt.step` did.

    - `loss`: $L$ before the step; `new_loss`: after it (equal when nothing was accepted).
    - `accepted`: whether a try was accepted; `tries`: solves made (1 = first accepted;
      0 at a stationary point, $J^T r = 0$, where nothing is tried).
    - `damping`: $\\mu$ after the step; `ratio`: the gain ratio $\\rho$ of the last try.
    - `gradient_norm`: $\\|J^T r\\|_\\infty$ at the start (0 at a stationary point).
    """

    loss: float
    new_loss: float
    accepted: bool
    tries: int
    damping: float
    ratio: float
    gradient_norm: float


class LevenbergMarquardt:
    """Levenberg-Marquardt over `params` (see the module docstring for the maths).

    **Arguments**

    - `params`: the trained tensors, in the column order of the Jacobians `step` is given
      (`pinnkit.compile.jacobian.trained_parameters`).
    - `damping`: initial $\\mu$ (default 1e-3; relative to $A$'s diagonal either way).
    - `scaling`: `"marquardt"` (default, $D$ = running max of diag($A$)) or `"identity"`.
    - `max_tries`: solves per `step` before giving up on it (default 10).

    **Use**

        lm = LevenbergMarquardt(params)
        for _ in range(iterations):
            info = lm.step(
                lambda: jacobian_rows(residuals, model, batches, weights),
                lambda: residual_vector(residuals, model, batches, weights).square().sum(),
            )

    `system()` yields the rows of $r$ and $J$ at the current parameters, as
    `(residual, jacobian)` pairs or `Rows`; `loss()` returns $\\|r\\|^2$ (a float or 0-d
    tensor; it is called under `torch.no_grad`). The parameters are changed in place.
    """

    def __init__(
        self,
        params: Sequence[Tensor],
        *,
        damping: float = 1e-3,
        scaling: str = "marquardt",
        max_tries: int = 10,
    ):
        if scaling not in ("marquardt", "identity"):
            raise ValueError(
                f'LevenbergMarquardt: scaling={scaling!r}; use "marquardt" or "identity".'
            )
        if not damping > 0 or int(max_tries) < 1:
            raise ValueError(
                f"LevenbergMarquardt: damping={damping} must be > 0 and max_tries={max_tries} >= 1."
            )
        self.params = list(params)
        self.scaling = scaling
        self.max_tries = int(max_tries)
        self.damping = float(damping)
        self.factor = 2.0  # Nielsen's nu
        self.iterations = 0
        self.diagonal: Tensor | None = None  # Moré's running max of diag(A)

    # -- one iteration ------------------------------------------------------------------------

    def step(self, system: Callable[[], Iterable], loss: Callable[[], Tensor | float]) -> StepInfo:
        """One iteration: form $A$, $g$ from `system()`, then solve, try and accept or
        reject up to `max_tries` times (see the class docstring for the callables)."""
        a, g = self._normal_equations(system())
        with torch.no_grad():
            before = float(loss())
            start = torch.cat([p.detach().reshape(-1) for p in self.params])
        diagonal_a = a.diagonal().clone()
        diagonal = diagonal_a.clone()
        if self.scaling == "marquardt":
            if self.diagonal is not None:
                diagonal = torch.maximum(diagonal, self.diagonal)
            self.diagonal = diagonal
            d = diagonal.clamp_min(SCALING_FLOOR * float(diagonal.max().clamp_min(1e-300)))
        else:
            if self.iterations == 0:
                self.damping *= float(diagonal.max().clamp_min(1e-300))
            d = torch.ones_like(diagonal)
        self.iterations += 1
        gradient_norm = float(g.abs().max()) if g.numel() else 0.0
        if gradient_norm == 0:  # a stationary point (an exact fit): no step to take
            return StepInfo(before, before, False, 0, self.damping, float("nan"), 0.0)
        after, ratio, tries, accepted = before, float("nan"), 0, False
        while tries < self.max_tries and not accepted:
            tries += 1
            mu = self.damping
            # Damp A's diagonal in place and restore it exactly after factoring: two n x n
            # matrices (A and its factor) are all that is held, 6.4 GB at n = 20k.
            a.diagonal().add_(mu * d)
            factor, info = torch.linalg.cholesky_ex(a)
            a.diagonal().copy_(diagonal_a)
            if int(info) == 0:
                delta = torch.cholesky_solve(-g[:, None], factor)[:, 0]
                predicted = float(delta @ (a @ delta) + 2 * mu * delta @ (d * delta))
                with torch.no_grad():
                    self._set(start + delta.to(start.dtype))
                    after = float(loss())
                ratio = (before - after) / predicted if predicted > 0 else float("nan")
                accepted = math.isfinite(after) and ratio > 0
            if accepted:
                self.damping = max(MIN_DAMPING, mu * max(1 / 3, 1 - (2 * ratio - 1) ** 3))
                self.factor = 2.0
            else:
                with torch.no_grad():
                    self._set(start)
                after = before
                self.damping = min(MAX_DAMPING, mu * self.factor)
                self.factor *= 2
        return StepInfo(before, after, accepted, tries, self.damping, ratio, gradient_norm)

    def _normal_equations(self, blocks: Iterable) -> tuple[Tensor, Tensor]:
        """$A = \\sum_b J_b^T J_b$, $g = \\sum_b J_b^T r_b$ in float64."""
        n = sum(p.numel() for p in self.params)
        device = self.params[0].device if self.params else None
        a = torch.zeros(n, n, dtype=torch.float64, device=device)
        g = torch.zeros(n, dtype=torch.float64, device=device)
        for block in blocks:
            r, j = (block.residual, block.jacobian) if hasattr(block, "jacobian") else block
            r = r.detach().to(torch.float64)
            j = j.detach().to(torch.float64)
            a.addmm_(j.T, j)
            g.addmv_(j.T, r)
        return a, g

    def _set(self, flat: Tensor) -> None:
        start = 0
        for p in self.params:
            p.copy_(flat[start : start + p.numel()].view_as(p))
            start += p.numel()

    # -- checkpoint ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """$\\mu$, $\\nu$, the iteration count and the running scaling, as plain values and
        one tensor (`torch.load(weights_only=True)` reads it)."""
        return {
            "damping": self.damping,
            "factor": self.factor,
            "iterations": self.iterations,
            "diagonal": None if self.diagonal is None else self.diagonal.clone(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` wrote: the next `step` is the one the saved run made."""
        self.damping = float(state["damping"])
        self.factor = float(state["factor"])
        self.iterations = int(state["iterations"])
        diagonal = state["diagonal"]
        self.diagonal = None if diagonal is None else diagonal.clone()
