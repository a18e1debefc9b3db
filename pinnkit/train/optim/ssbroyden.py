r"""The self-scaled quasi-Newton stage: dense self-scaled Broyden (SSBroyden) or self-scaled
BFGS (SSBFGS) with a strong-Wolfe line search, for small networks trained to round-off in
float64 (Urbán, Stefanou & Pons, arXiv 2405.04230, J. Comput. Phys. 523 (2025) 113656;
Kiyani et al., arXiv 2501.16371).

The optimiser keeps a dense approximation $H_k$ of the inverse Hessian over the flattened
parameters $\theta$. One iteration moves along $p_k = -H_k g_k$ ($g_k = \nabla L(\theta_k)$) by
a step $\alpha_k$ that satisfies the strong Wolfe conditions
$L(\theta_k + \alpha p_k) \le L(\theta_k) + c_1 \alpha\, g_k^\top p_k$ and
$|\nabla L(\theta_k + \alpha p_k)^\top p_k| \le c_2 |g_k^\top p_k|$ (Nocedal & Wright,
*Numerical Optimization*, 2nd ed., Algorithms 3.5 and 3.6), then updates $H$ with
$s_k = \alpha_k p_k$ and $y_k = g_{k+1} - g_k$:

$$
H_{k+1} = \frac{1}{\tau_k}\Big(H_k - \frac{H_k y_k y_k^\top H_k}{y_k^\top H_k y_k}
          + \phi_k\, (y_k^\top H_k y_k)\, v_k v_k^\top\Big) + \frac{s_k s_k^\top}{y_k^\top s_k},
\qquad
v_k = \frac{s_k}{y_k^\top s_k} - \frac{H_k y_k}{y_k^\top H_k y_k}.
$$

With $h_k = \frac{y_k^\top H_k y_k}{y_k^\top s_k}$,
$b_k = \frac{s_k^\top H_k^{-1} s_k}{y_k^\top s_k} = \frac{-\alpha_k s_k^\top g_k}{y_k^\top s_k}$,
$a_k = b_k h_k - 1 \ge 0$ and $c_k = \sqrt{a_k / (1 + a_k)}$, the SSBroyden choice
(`method="broyden"`; the authors' code labels it `SSBroyden2`, Eqs. 13-23 of the paper) is

$$
\rho_k^- = \min\big(1, h_k (1 - c_k)\big),\quad
\theta_k^- = \frac{\rho_k^- - 1}{a_k},\quad \theta_k^+ = \frac{1}{\rho_k^-},\quad
\theta_k = \max\Big(\theta_k^-, \min\big(\theta_k^+, \tfrac{1 - b_k}{b_k}\big)\Big),
$$
$$
\sigma_k = 1 + \theta_k a_k,\quad \sigma_k^{(n)} = |\sigma_k|^{1/(1-n)},\quad
\phi_k = \frac{1 - \theta_k}{\sigma_k},\quad
\tau_k = \begin{cases}
  \min\big(\min(1, b_k^{-1})\, \sigma_k^{(n)},\ \sigma_k\big) & \theta_k \le 0,\\
  \min(1, b_k^{-1}) \min\big(\sigma_k^{(n)}, \theta_k^{-1}\big) & \theta_k > 0,
\end{cases}
$$

with $n$ the number of parameters. SSBFGS (`method="bfgs"`; `SSBFGS_AB`, the paper's Eq. 11,
Al-Baali's scaling) is the case $\theta_k = 0$: $\phi_k = 1$ and $\tau_k = \min(1, 1/b_k)$.
$H_0 = I$, and the first update (and the first after a reset) uses $\tau_0 = h_0 / \sigma_0$,
which for BFGS is the usual $H_0 = \frac{s^\top y}{y^\top y} I$ scaling. Since
$\sigma_k \ge \rho_k^- > 0$ and $\tau_k > 0$, $H$ stays positive definite in exact arithmetic
whenever $y_k^\top s_k > 0$, which the strong Wolfe conditions guarantee.

Safeguards, none of them in the paper: an update with $y^\top s \le \epsilon \|y\| \|s\|$
(round-off, or a line search that ran out of evaluations before the curvature condition held)
is **skipped**, not damped; a direction that is not a descent direction resets $H$ to $I$; a
non-finite loss or gradient at a trial step shrinks the step tenfold; a line search that
finds no decrease resets $H$ to $I$ (rescaled at the next update) and retries once along
$-g$, and if that fails too the parameters are left where the iteration started and
`state["status"]` says `"line search failed"` (no exception).

Limits: $H$ is $n \times n$ in the parameters' dtype, 8 n^2 bytes in float64 (3.2 GB at
n = 20,000), and every iteration reads it three times, so the optimiser refuses more than
`MAX_PARAMETERS` parameters unless told otherwise. In float32 the update loses most of its
accuracy; use float64. Does not yet support more than one parameter group, sparse gradients
or parameters on several devices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from pinnkit.errors import ConfigError

__all__ = ["MAX_PARAMETERS", "SelfScaledQuasiNewton", "self_scaled_block"]

#: Default largest parameter count: H is 5 GB in float64 at 25,000 parameters.
MAX_PARAMETERS = 25_000

_MSG_TOO_MANY = (
    "SelfScaledQuasiNewton: too many parameters for a dense inverse Hessian: the model has "
    "{n:,} parameters and the limit is {limit:,} (H would take {gigabytes:.1f} GB in {dtype}).\n"
    "  Fix: use a smaller network (the method pays off on networks of a few thousand "
    "parameters), or the L-BFGS polish (`pk.LBFGS(...)`), whose memory is linear in the "
    "parameter count. If the memory is really there, pass `max_parameters={n}`."
)

_METHODS = ("broyden", "bfgs")


@dataclass(frozen=True)
class _Trial:
    """One evaluated point of a line search: step, loss, directional derivative, gradient."""

    step: float
    loss: float
    slope: float
    gradient: torch.Tensor | None

    @property
    def is_finite(self) -> bool:
        return math.isfinite(self.loss) and math.isfinite(self.slope)


class SelfScaledQuasiNewton(torch.optim.Optimizer):
    """Dense self-scaled Broyden / BFGS with a strong-Wolfe line search (final).

    `step(closure)` runs `max_iter` iterations (one by default), each one direction and one
    line search; the closure zeroes the gradients, computes the loss, calls `backward()` and
    returns the loss, as for `torch.optim.LBFGS`. The closure must describe the same
    objective on every call (fixed points), since $H$ is built from its curvature.

    **Arguments**

    - `params`: the parameters (one group), all of one dtype and device; float64 intended.
    - `method`: `"broyden"` (SSBroyden, the default) or `"bfgs"` (SSBFGS).
    - `max_iter`: iterations per `step` call; `self_scaled_block` sets it per block.
    - `max_evals`: closure evaluations one line search may use (default 25).
    - `c1`, `c2`: the strong Wolfe constants, $0 < c_1 < c_2 < 1$ (defaults 1e-4 and 0.9).
    - `tolerance_grad`: a block stops early when $\\max_i |g_i|$ is at or below it (default 0:
      only an exactly zero gradient stops it).
    - `max_parameters`: refuse more parameters than this (`MAX_PARAMETERS` by default).

    **Raises**

    - `ConfigError`: (a `ValueError`) too many parameters, mixed dtypes or devices, more
    than one group, or an unknown method or constant.

    `state_dict()` holds $H$, whether $H$ is the unscaled identity, the counters
    (`iterations`, `evaluations`, `skipped` updates, `resets`), the last `loss` and
    `status`, so that a run resumed from it continues bit for bit.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        *,
        method: str = "broyden",
        max_iter: int = 1,
        max_evals: int = 25,
        c1: float = 1e-4,
        c2: float = 0.9,
        tolerance_grad: float = 0.0,
        max_parameters: int = MAX_PARAMETERS,
    ) -> None:
        if method not in _METHODS:
            raise ConfigError(
                f"SelfScaledQuasiNewton: unknown method {method!r}; expected one of {_METHODS}."
            )
        if not 0.0 < c1 < c2 < 1.0:
            raise ConfigError(
                f"SelfScaledQuasiNewton: the Wolfe constants must satisfy 0 < c1 < c2 < 1, "
                f"got c1={c1}, c2={c2}. Fix: the defaults `c1=1e-4, c2=0.9`."
            )
        defaults = dict(
            method=method,
            max_iter=int(max_iter),
            max_evals=int(max_evals),
            c1=float(c1),
            c2=float(c2),
            tolerance_grad=float(tolerance_grad),
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ConfigError(
                "SelfScaledQuasiNewton takes one parameter group (its H couples all of them)."
            )
        self._params: list[torch.Tensor] = list(self.param_groups[0]["params"])
        # Within one `step`: whether the closure's last call was at other parameters than the
        # current ones (a rejected trial step); never carried between calls.
        self._stale = False
        kinds = {(p.dtype, p.device) for p in self._params}
        if len(kinds) != 1:
            raise ConfigError(
                "SelfScaledQuasiNewton: parameters of several dtypes or devices "
                f"{sorted(map(str, kinds))}. Fix: `model.to(torch.float64)` (and one device)"
                " before building it."
            )
        self._numel = sum(p.numel() for p in self._params)
        if self._numel > max_parameters:
            dtype = self._params[0].dtype
            size = self._numel**2 * self._params[0].element_size() / 1e9
            raise ConfigError(
                _MSG_TOO_MANY.format(
                    n=self._numel, limit=max_parameters, gigabytes=size, dtype=dtype
                )
            )

    @property
    def progress(self) -> dict[str, Any]:
        """The counters and the status of the last iteration, as plain values (empty before
        the first step): `iterations`, `evaluations`, `skipped`, `resets`, `loss`, `status`."""
        state = self.state[self._params[0]]
        return {k: v for k, v in state.items() if k != "inverse_hessian"}

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        """Run `max_iter` iterations and return the loss where they leave the parameters
        (unlike `torch.optim.LBFGS`, which returns the loss before them).

        A block ends early, with `state["status"]` saying why, when the gradient is at or
        below `tolerance_grad` (`"converged"`) or the line search fails twice
        (`"line search failed"`); otherwise the status is `"wolfe"` or, when the line search
        ran out of evaluations with a decrease but not the curvature condition, `"decrease"`.
        When the line search ends on a step other than its last trial, the closure is called
        once more, so that on return the gradients (and whatever the closure records) belong
        to the parameters as left.
        """
        group = self.param_groups[0]
        state = self._state()
        loss, gradient = self._evaluate(closure)
        state["evaluations"] += 1
        self._stale = False
        for _ in range(group["max_iter"]):
            if not gradient.abs().max().item() > group["tolerance_grad"]:
                state["status"] = "converged"
                break
            loss, gradient = self._iterate(closure, loss, gradient)
            if state["status"] == "line search failed":
                break
            state["iterations"] += 1
        if self._stale:  # the closure's last call was at a rejected trial step
            self._evaluate(closure)
            state["evaluations"] += 1
        state["loss"] = loss
        return torch.tensor(loss, dtype=gradient.dtype)

    def _state(self) -> dict[str, Any]:
        """The optimiser's one state entry (kept under the first parameter, as LBFGS does),
        made on the first step."""
        state = self.state[self._params[0]]
        if "inverse_hessian" not in state:
            first = self._params[0]
            state["inverse_hessian"] = torch.eye(
                self._numel, dtype=first.dtype, device=first.device
            )
            state.update(fresh=True, iterations=0, evaluations=0, skipped=0, resets=0)
            state.update(loss=math.nan, status="new")
        return state

    def _iterate(
        self, closure: Callable, loss: float, gradient: torch.Tensor
    ) -> tuple[float, torch.Tensor]:
        """One iteration from the current parameters (loss and gradient given): direction,
        line search, update of H; on a failed search, one retry from H = I."""
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        inverse = state["inverse_hessian"]
        origin = self._gather(lambda p: p)
        for _attempt in range(2):
            direction = -(inverse @ gradient)
            slope = torch.dot(gradient, direction).item()
            if not slope < 0.0:  # H lost positive definiteness to round-off (or is NaN)
                self._reset(state)
                direction, slope = -gradient, -torch.dot(gradient, gradient).item()
            first = 1.0 / max(1.0, gradient.norm().item()) if state["fresh"] else 1.0

            def at(step: float, direction: torch.Tensor = direction) -> _Trial:
                evaluated.append(step)
                self._place(origin, step, direction)
                state["evaluations"] += 1
                trial_loss, trial_gradient = self._evaluate(closure)
                trial_slope = torch.dot(trial_gradient, direction).item()
                return _Trial(step, trial_loss, trial_slope, trial_gradient)

            evaluated: list[float] = []
            start = _Trial(0.0, loss, slope, gradient)
            accepted, status = _strong_wolfe(at, start, first, group)
            if status != "failed":
                self._place(origin, accepted.step, direction)
                self._stale = accepted.step != evaluated[-1]
                step = accepted.step * direction
                _update_inverse(
                    state,
                    step,
                    accepted.gradient - gradient,
                    gradient,
                    accepted.step,
                    group["method"],
                )
                state["status"] = status
                return accepted.loss, accepted.gradient
            self._place(origin, 0.0, direction)
            self._stale = True
            if state["fresh"]:  # already along -g: a retry would repeat the same search
                break
            self._reset(state)
        state["status"] = "line search failed"
        return loss, gradient

    @staticmethod
    def _reset(state: dict[str, Any]) -> None:
        inverse = state["inverse_hessian"]
        inverse.zero_()
        inverse.diagonal().fill_(1.0)
        state["fresh"] = True
        state["resets"] += 1

    def _evaluate(self, closure: Callable) -> tuple[float, torch.Tensor]:
        with torch.enable_grad():
            loss = closure()
        return float(loss), self._gather(lambda p: p.grad)

    def _gather(self, pick: Callable) -> torch.Tensor:
        """The flattened parameters or gradients (zeros for a parameter without one)."""
        parts = []
        for p in self._params:
            value = pick(p)
            parts.append(torch.zeros_like(p).view(-1) if value is None else value.reshape(-1))
        return torch.cat(parts)

    def _place(self, origin: torch.Tensor, step: float, direction: torch.Tensor) -> None:
        """Set the parameters to `origin + step * direction`, the same bits every time."""
        point = origin if step == 0.0 else torch.add(origin, direction, alpha=step)
        offset = 0
        for p in self._params:
            p.copy_(point[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


def self_scaled_block(
    optimizer: SelfScaledQuasiNewton, closure: Callable, iterations: int
) -> dict[str, Any]:
    """Run `iterations` iterations with `closure` evaluating the loss and its gradient, and
    return `optimizer.progress` (its `status` says whether the block ended early)."""
    optimizer.param_groups[0]["max_iter"] = int(iterations)
    optimizer.step(closure)
    return optimizer.progress


def _update_inverse(
    state: dict[str, Any],
    step: torch.Tensor,
    change: torch.Tensor,
    gradient: torch.Tensor,
    alpha: float,
    method: str,
) -> None:
    """The self-scaled update of `state["inverse_hessian"]` in place (module docstring), with
    `step` $= s_k$, `change` $= y_k$, `gradient` $= g_k$ and `alpha` $= \\alpha_k$; skipped
    (counted in `state["skipped"]`) when the curvature $y^\\top s$ is not clearly positive."""
    inverse = state["inverse_hessian"]
    inverse_change = inverse @ change
    curvature = torch.dot(change, step).item()
    weighted = torch.dot(change, inverse_change).item()
    floor = torch.finfo(step.dtype).eps * change.norm().item() * step.norm().item()
    if not (curvature > floor and weighted > 0.0 and math.isfinite(weighted)):
        state["skipped"] += 1
        return
    h = weighted / curvature
    b = -alpha * torch.dot(step, gradient).item() / curvature
    a = max(b * h - 1.0, 0.0)  # >= 0 by Cauchy-Schwarz; clipped against round-off
    theta = _theta(a, b, h) if method == "broyden" else 0.0
    sigma = 1.0 + theta * a
    tau = h / sigma if state["fresh"] else _tau(theta, sigma, b, inverse.shape[0])
    phi = (1.0 - theta) / sigma
    if not (math.isfinite(tau) and tau > 0.0 and math.isfinite(phi)):
        state["skipped"] += 1
        return
    v = step / curvature - inverse_change / weighted
    # One pass over H (addmm) instead of four: H <- H / tau + U V^T.
    left = torch.stack([inverse_change, v, step], dim=1)
    right = torch.stack(
        [-inverse_change / (weighted * tau), v * (phi * weighted / tau), step / curvature], dim=1
    )
    inverse.addmm_(left, right.T, beta=1.0 / tau)
    state["fresh"] = False


def _theta(a: float, b: float, h: float) -> float:
    """The SSBroyden parameter $\\theta_k$ (module docstring); the limits where $a_k = 0$
    (then $v_k = 0$ and only $\\sigma_k = 1$ matters) are taken without dividing by zero."""
    c = math.sqrt(a / (1.0 + a))
    rho_minus = min(1.0, h * (1.0 - c))
    if rho_minus >= 1.0:
        theta_minus = 0.0
    else:
        theta_minus = (rho_minus - 1.0) / a if a > 0.0 else -math.inf
    theta_plus = 1.0 / rho_minus
    return max(theta_minus, min(theta_plus, (1.0 - b) / b))


def _tau(theta: float, sigma: float, b: float, n: int) -> float:
    """The self-scaling factor $\\tau_k$ after the first update (module docstring)."""
    scale = min(1.0, 1.0 / b)
    sigma_n = abs(sigma) ** (1.0 / (1.0 - n)) if n > 1 else 1.0
    if theta <= 0.0:
        return min(scale * sigma_n, sigma)
    return scale * min(sigma_n, 1.0 / theta)


def _strong_wolfe(
    at: Callable[[float], _Trial], start: _Trial, first: float, group: dict[str, Any]
) -> tuple[_Trial, str]:
    """Find a step satisfying the strong Wolfe conditions (Nocedal & Wright Alg. 3.5):
    grow the step until it brackets one, then `_zoom`. Returns the accepted trial and
    `"wolfe"`, `"decrease"` (budget spent; sufficient decrease only) or `"failed"`."""
    c1, c2, budget = group["c1"], group["c2"], group["max_evals"]
    previous, step = start, first
    for used in range(1, budget + 1):
        trial = at(step)
        if (
            not trial.is_finite
            or trial.loss > start.loss + c1 * step * start.slope
            or (used > 1 and trial.loss >= previous.loss)
        ):
            return _zoom(at, start, previous, trial, c1, c2, budget - used)
        if abs(trial.slope) <= -c2 * start.slope:
            return trial, "wolfe"
        if trial.slope >= 0.0:
            return _zoom(at, start, trial, previous, c1, c2, budget - used)
        # Still going down: extrapolate to the cubic's minimiser, kept within [2, 10] steps.
        guess = _cubic_minimum(previous, trial)
        previous = trial
        step = min(max(guess, 2.0 * step), 10.0 * step) if math.isfinite(guess) else 4.0 * step
    return previous, "decrease"


def _zoom(
    at: Callable[[float], _Trial],
    start: _Trial,
    low: _Trial,
    high: _Trial,
    c1: float,
    c2: float,
    budget: int,
) -> tuple[_Trial, str]:
    """Shrink the bracket [low, high] (low: the best step with sufficient decrease so far)
    until a step satisfies the strong Wolfe conditions (Nocedal & Wright Alg. 3.6)."""
    for _ in range(budget):
        width = high.step - low.step
        if width == 0.0 or abs(width) <= 1e-16 * abs(high.step):
            break
        if high.is_finite:
            guess = _cubic_minimum(low, high)
            near, far = sorted((low.step, high.step))
            margin = 0.1 * (far - near)
            if not (near + margin <= guess <= far - margin):
                guess = low.step + 0.5 * width
        else:  # a non-finite loss beyond: shrink hard towards the good end
            guess = low.step + 0.1 * width
        trial = at(guess)
        if (
            not trial.is_finite
            or trial.loss > start.loss + c1 * guess * start.slope
            or trial.loss >= low.loss
        ):
            high = trial
            continue
        if abs(trial.slope) <= -c2 * start.slope:
            return trial, "wolfe"
        if trial.slope * (high.step - low.step) >= 0.0:
            high = low
        low = trial
    return (low, "decrease") if low.step > 0.0 else (low, "failed")


def _cubic_minimum(one: _Trial, two: _Trial) -> float:
    """The minimiser of the cubic matching loss and slope at two steps (Nocedal & Wright
    Eq. 3.59), or NaN where it has none."""
    if one.step == two.step:
        return math.nan
    d1 = one.slope + two.slope - 3.0 * (one.loss - two.loss) / (one.step - two.step)
    radicand = d1 * d1 - one.slope * two.slope
    if not radicand >= 0.0:
        return math.nan
    d2 = math.copysign(math.sqrt(radicand), two.step - one.step)
    denominator = two.slope - one.slope + 2.0 * d2
    if denominator == 0.0:
        return math.nan
    return two.step - (two.step - one.step) * (two.slope + d2 - d1) / denominator
