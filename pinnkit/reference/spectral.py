r"""Fourier pseudo-spectral ETDRK4 for 1-D periodic problems, and the benchmark PDEs it solves.

`solve_periodic` integrates $u_t = L u + N(u)$ with $L$ diagonal in Fourier space by the
fourth-order exponential time-differencing Runge-Kutta scheme of Cox & Matthews (2002), with the
$\varphi$-function coefficients evaluated by contour integrals as in Kassam & Trefethen (2005).
`allen_cahn`, `kdv` and `kuramoto_sivashinsky` are the usual PINN benchmark set-ups.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pinnkit.errors import ProblemError
from pinnkit.reference.grid import Grid

__all__ = ["solve_periodic", "allen_cahn", "kdv", "kuramoto_sivashinsky"]

# Points on the contour for the phi functions. Kassam & Trefethen use 32 on the upper half of
# the circle for real L; a complex L (KdV) needs the whole circle, so 64 on it.
_CONTOUR_POINTS = 64

Linear = Callable[[np.ndarray], np.ndarray]
Nonlinear = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _etdrk4_coefficients(
    linear: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`E`, `E2`, `Q`, `f1`, `f2`, `f3` of Kassam & Trefethen (2005), eq. (2.5) and Fig. 3.

    The phi functions have removable singularities at $hL = 0$ where the direct formulas cancel
    catastrophically, so each is the mean of its values on a unit circle around $hL$ (Cauchy's
    integral formula), which is accurate for every $hL$.
    """
    hl = step * linear
    roots = np.exp(2j * np.pi * (np.arange(_CONTOUR_POINTS) + 0.5) / _CONTOUR_POINTS)
    lr = hl[:, None] + roots[None, :]
    exp_lr = np.exp(lr)
    q = step * np.mean((np.exp(lr / 2) - 1) / lr, axis=1)
    f1 = step * np.mean((-4 - lr + exp_lr * (4 - 3 * lr + lr**2)) / lr**3, axis=1)
    f2 = step * np.mean((2 + lr + exp_lr * (-2 + lr)) / lr**3, axis=1)
    f3 = step * np.mean((-4 - 3 * lr - lr**2 + exp_lr * (4 - lr)) / lr**3, axis=1)
    if not np.iscomplexobj(linear):
        # For real L the contour means are real up to round-off.
        q, f1, f2, f3 = q.real, f1.real, f2.real, f3.real
    return np.exp(hl), np.exp(hl / 2), q, f1, f2, f3


def solve_periodic(
    linear: Linear,
    nonlinear: Nonlinear,
    u0: Callable[[np.ndarray], np.ndarray],
    *,
    x_min: float,
    x_max: float,
    n_modes: int,
    t_eval: np.ndarray,
    dt: float,
    dealias: bool = False,
    interpolation: str = "linear",
) -> Grid:
    r"""Solve $u_t = L u + N(u)$ on a periodic interval by Fourier ETDRK4.

    Space: $u$ is real and sampled at `n_modes` equispaced points $x_j = x_{min} + j P / n$,
    $P = x_{max} - x_{min}$ (the right end is left out); its real FFT has wavenumbers
    $k = 2\pi m / P$, $m = 0, \dots, n/2$. The Nyquist mode $m = n/2$ is held at zero, since it
    cannot carry odd derivatives of a real function. Time: ETDRK4 (Cox & Matthews 2002) with
    contour-integral coefficients (Kassam & Trefethen 2005), fourth order in `dt`, exact for the
    linear part. Between consecutive output times the step is shrunk so as to land on them.

    **Arguments**

    - `linear`: $k \mapsto \hat L(k)$, the symbol of $L$ (real or complex, shape of `k`), e.g.
      `lambda k: -nu * k**2` for $\nu u_{xx}$.
    - `nonlinear`: `(u, u_hat, k) -> N_hat`: given $u$ at the grid points, its real FFT
      `u_hat` and `k`, the real FFT of $N(u)$ (shape of `k`); e.g. `-0.5j * k * np.fft.rfft(u**2)`
      for $-u u_x$. Derivatives are `np.fft.irfft(1j * k * u_hat, n)`.
    - `u0`: $x \mapsto u(x, 0)$, vectorised.
    - `x_min`, `x_max`: the period interval.
    - `n_modes`: number of grid points (even, >= 4).
    - `t_eval`: 1-D increasing output times, all >= 0; the initial condition is at $t = 0$.
    - `dt`: the largest time step.
    - `dealias`: zero the top third of the modes of $N$ (the 2/3 rule). Default `False`.
    - `interpolation`: `"linear"` or `"cubic"`, for the returned `Grid`.

    **Returns**

    A `Grid` with axes `x` (`n_modes` points) and `t` (`t_eval`), field `u` of shape
    `(n_modes, len(t_eval))`, periodic in `x` with period $P$.

    **Raises**

    - `ProblemError`: bad grid, times or step, a callable returning the wrong shape, or a
      solution that stops being finite (the step is too large for the nonlinearity).
    """
    t_eval = _checked_times(n_modes, x_min, x_max, dt, t_eval)
    n = int(n_modes)
    period = float(x_max) - float(x_min)
    x = x_min + period * np.arange(n) / n
    k = 2 * np.pi / period * np.arange(n // 2 + 1)
    symbol = np.asarray(linear(k))
    if symbol.shape not in ((), k.shape):
        raise ProblemError(
            f"solve_periodic: `linear(k)` returned shape {symbol.shape}; expected {k.shape}."
        )
    symbol = np.broadcast_to(symbol, k.shape)
    symbol = symbol.astype(np.complex128 if np.iscomplexobj(symbol) else np.float64)
    keep = np.ones(k.shape, dtype=bool)
    keep[-1] = False  # the Nyquist mode
    if dealias:
        keep &= 3 * np.arange(k.size) < n

    def rhs(v: np.ndarray) -> np.ndarray:
        result = np.asarray(nonlinear(np.fft.irfft(v, n), v, k))
        if result.shape != k.shape:
            raise ProblemError(
                f"solve_periodic: `nonlinear(u, u_hat, k)` returned shape {result.shape}; "
                f"expected the real-FFT shape {k.shape}. Fix: return `np.fft.rfft(...)`."
            )
        return np.where(keep, result, 0)

    initial = np.asarray(u0(x), dtype=np.float64)
    if initial.shape != x.shape:
        initial = np.broadcast_to(initial, x.shape)
    v = np.where(keep, np.fft.rfft(initial), 0)
    coefficients: dict[tuple[int, float], tuple[np.ndarray, ...]] = {}
    out = np.empty((n, t_eval.size))
    time = 0.0
    for index, target in enumerate(t_eval):
        span = target - time
        steps = int(np.ceil(span / dt * (1 - 1e-12))) if span > 0 else 0
        if steps:
            step = span / steps
            # Uniform output times give one step size; key on it rounded so that round-off in
            # `np.diff(t_eval)` does not recompute the coefficients at every output.
            key = (steps, round(step, 14))
            if key not in coefficients:
                coefficients[key] = _etdrk4_coefficients(symbol, step)
            v = _etdrk4_steps(v, rhs, coefficients[key], steps)
            if not np.all(np.isfinite(v)):
                raise ProblemError(
                    f"solve_periodic: the solution stopped being finite before t = {target:g} "
                    f"(dt = {dt:g}). Fix: lower `dt`, raise `n_modes`, or try `dealias=True`."
                )
            time = float(target)
        out[:, index] = np.fft.irfft(v, n)
    return Grid(
        {"x": x, "t": t_eval.copy()},
        {"u": out},
        periodic={"x": period},
        method=interpolation,
    )


def _checked_times(n_modes, x_min, x_max, dt, t_eval) -> np.ndarray:
    """`t_eval` as a float array, after checking the grid, the step and the times.

    **Raises**

    `ProblemError` naming the argument that is wrong.
    """
    if not (isinstance(n_modes, (int, np.integer)) and n_modes >= 4 and n_modes % 2 == 0):
        raise ProblemError(
            f"solve_periodic: `n_modes` must be an even integer >= 4; got {n_modes!r}."
        )
    if not (np.isfinite(x_min) and np.isfinite(x_max) and x_max > x_min):
        raise ProblemError(
            f"solve_periodic: need finite `x_min < x_max`; got x_min={x_min!r}, x_max={x_max!r}."
        )
    if not (np.isfinite(dt) and dt > 0):
        raise ProblemError(f"solve_periodic: the time step `dt` must be positive; got {dt!r}.")
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if (
        t_eval.ndim != 1
        or t_eval.size == 0
        or not np.all(np.isfinite(t_eval))
        or t_eval[0] < 0
        or np.any(np.diff(t_eval) <= 0)
    ):
        raise ProblemError(
            "solve_periodic: `t_eval` must be a non-empty 1-D array of strictly increasing "
            "times >= 0. Fix: e.g. `t_eval=np.linspace(0, 1, 201)`."
        )
    return t_eval


def _etdrk4_steps(v: np.ndarray, rhs: Callable, coefficients: tuple, steps: int) -> np.ndarray:
    """`steps` ETDRK4 steps of size `step` from the Fourier coefficients `v`, with the
    coefficients `_etdrk4_coefficients(symbol, step)` (Kassam & Trefethen 2005, eq. 2.5)."""
    e, e2, q, f1, f2, f3 = coefficients
    for _ in range(steps):
        nv = rhs(v)
        a = e2 * v + q * nv
        na = rhs(a)
        b = e2 * v + q * na
        nb = rhs(b)
        c = e2 * a + q * (2 * nb - nv)
        nc = rhs(c)
        v = e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
    return v


def _derivative_nonlinearity(coefficient: float) -> Nonlinear:
    r"""$N(u) = -c\, u u_x = -\tfrac{c}{2} (u^2)_x$, in conservative form (keeps the mean)."""

    def nonlinear(u: np.ndarray, u_hat: np.ndarray, k: np.ndarray) -> np.ndarray:
        return -0.5j * coefficient * k * np.fft.rfft(u**2)

    return nonlinear


def allen_cahn(
    nu: float = 1e-4,
    gamma: float = 5.0,
    x_range: tuple[float, float] = (-1.0, 1.0),
    t: np.ndarray | None = None,
    n_modes: int = 512,
    dt: float = 1e-3,
    *,
    u0: Callable[[np.ndarray], np.ndarray] | None = None,
    dealias: bool = False,
) -> Grid:
    r"""Periodic Allen-Cahn $u_t = \nu u_{xx} + \gamma (u - u^3)$, $u_0 = x^2 \cos(\pi x)$.

    The set-up of Raissi et al.'s `AC.mat` and of the causal-training paper (Wang, Sankaran &
    Perdikaris, arXiv 2203.07404). $L = -\nu k^2$, $N(u) = \gamma (u - u^3)$.

    **Arguments**

    - `nu`, `gamma`: diffusion and reaction coefficients (defaults 1e-4, 5).
    - `x_range`: the period interval (default $(-1, 1)$).
    - `t`: output times (default `np.linspace(0, 1, 201)`).
    - `n_modes`, `dt`: grid size (default 512) and largest time step (default 1e-3, converged
      to about 1e-10). With 512 modes the interfaces are barely resolved: 1024 modes differ by
      about 6e-4 (max abs), the accuracy of `AC.mat` itself, which matches 512 modes.
    - `u0`: initial condition (default $x^2 \cos(\pi x)$).
    - `dealias`: 2/3-rule dealiasing of $N$ (default off).

    **Returns**

    A periodic `Grid` with axes `x`, `t` and field `u` (see `solve_periodic`).

    **Raises**

    - `ProblemError`: as `solve_periodic`.
    """
    t = np.linspace(0.0, 1.0, 201) if t is None else t

    def nonlinear(u: np.ndarray, u_hat: np.ndarray, k: np.ndarray) -> np.ndarray:
        return gamma * np.fft.rfft(u - u**3)

    return solve_periodic(
        lambda k: -nu * k**2,
        nonlinear,
        (lambda x: x**2 * np.cos(np.pi * x)) if u0 is None else u0,
        x_min=x_range[0],
        x_max=x_range[1],
        n_modes=n_modes,
        t_eval=t,
        dt=dt,
        dealias=dealias,
    )


def kdv(
    lambda1: float = 1.0,
    lambda2: float = 0.0025,
    x_range: tuple[float, float] = (-1.0, 1.0),
    u0: Callable[[np.ndarray], np.ndarray] | None = None,
    t: np.ndarray | None = None,
    n_modes: int = 512,
    dt: float = 1e-4,
    *,
    dealias: bool = True,
) -> Grid:
    r"""Periodic Korteweg-de Vries $u_t + \lambda_1 u u_x + \lambda_2 u_{xxx} = 0$.

    The set-up of Raissi et al.'s `KdV.mat` (Zabusky & Kruskal's soliton experiment),
    $u_0 = \cos(\pi x)$ on $[-1, 1)$. $L = i \lambda_2 k^3$ (purely imaginary, which is why the
    contour is the whole circle), $N(u) = -\tfrac{\lambda_1}{2} (u^2)_x$.

    **Arguments**

    - `lambda1`, `lambda2`: coefficients (defaults 1, 0.0025).
    - `x_range`: the period interval (default $(-1, 1)$).
    - `u0`: initial condition (default $\cos(\pi x)$).
    - `t`: output times (default `np.linspace(0, 1, 201)`).
    - `n_modes`, `dt`: grid size (default 512) and largest time step (default 1e-4).
    - `dealias`: 2/3-rule dealiasing of $N$ (default on: the quadratic term at high $k$ is what
      destabilises explicit treatment).

    **Returns**

    A periodic `Grid` with axes `x`, `t` and field `u`.

    **Raises**

    - `ProblemError`: as `solve_periodic`.
    """
    t = np.linspace(0.0, 1.0, 201) if t is None else t
    return solve_periodic(
        lambda k: 1j * lambda2 * k**3,
        _derivative_nonlinearity(lambda1),
        (lambda x: np.cos(np.pi * x)) if u0 is None else u0,
        x_min=x_range[0],
        x_max=x_range[1],
        n_modes=n_modes,
        t_eval=t,
        dt=dt,
        dealias=dealias,
    )


def kuramoto_sivashinsky(
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 1.0,
    x_range: tuple[float, float] = (0.0, 32 * np.pi),
    u0: Callable[[np.ndarray], np.ndarray] | None = None,
    t: np.ndarray | None = None,
    n_modes: int = 128,
    dt: float = 0.25,
    *,
    dealias: bool = False,
) -> Grid:
    r"""Kuramoto-Sivashinsky $u_t + \alpha u u_x + \beta u_{xx} + \gamma u_{xxxx} = 0$.

    Defaults are the example of Kassam & Trefethen (2005, Fig. 4.1): $[0, 32\pi)$,
    $u_0 = \cos(x/16)(1 + \sin(x/16))$, 128 points, $h = 1/4$, $t \in [0, 150]$. The default
    $u_0$ scales with the interval: $\cos(\theta)(1 + \sin\theta)$, $\theta = 2\pi (x - x_{min})/P$.
    $L = \beta k^2 - \gamma k^4$, $N(u) = -\tfrac{\alpha}{2}(u^2)_x$, so the mean of $u$ is
    conserved. The dynamics are chaotic: pointwise values at late times depend on round-off,
    only statistics do not.

    **Arguments**

    - `alpha`, `beta`, `gamma`: coefficients (defaults 1).
    - `x_range`: the period interval (default $(0, 32\pi)$).
    - `u0`: initial condition (default above).
    - `t`: output times (default `np.linspace(0, 150, 151)`).
    - `n_modes`, `dt`: grid size (default 128) and largest time step (default 0.25).
    - `dealias`: 2/3-rule dealiasing of $N$ (default off, as in Kassam & Trefethen).

    **Returns**

    A periodic `Grid` with axes `x`, `t` and field `u`.

    **Raises**

    - `ProblemError`: as `solve_periodic`.
    """
    t = np.linspace(0.0, 150.0, 151) if t is None else t
    x_min, x_max = x_range
    if u0 is None:

        def u0(x: np.ndarray) -> np.ndarray:
            theta = 2 * np.pi * (x - x_min) / (x_max - x_min)
            return np.cos(theta) * (1 + np.sin(theta))

    return solve_periodic(
        lambda k: beta * k**2 - gamma * k**4,
        _derivative_nonlinearity(alpha),
        u0,
        x_min=x_min,
        x_max=x_max,
        n_modes=n_modes,
        t_eval=t,
        dt=dt,
        dealias=dealias,
    )
