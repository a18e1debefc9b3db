r"""Viscous Burgers reference: the exact Cole-Hopf solution for $u_0 = -\sin(\pi x)$.

Evaluates the Cole-Hopf integral representation (Basdevant et al. 1986) by Gauss-Hermite
quadrature, in a shifted (log-sum-exp) form that neither overflows nor underflows.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from pinnkit.errors import ProblemError
from pinnkit.reference.grid import Grid

__all__ = ["burgers", "burgers_cole_hopf"]

DEFAULT_QUADRATURE = 250


def _hermite_rule(quadrature: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and log-weights, without the weights that underflow to zero."""
    if not (isinstance(quadrature, (int, np.integer)) and quadrature >= 2):
        raise ProblemError(
            f"burgers: `quadrature` must be an integer >= 2 (the number of Gauss-Hermite "
            f"points); got {quadrature!r}. Fix: leave the default ({DEFAULT_QUADRATURE})."
        )
    # SciPy switches to an asymptotic rule for large orders, where NumPy's `hermgauss` overflows.
    nodes, weights = scipy.special.roots_hermite(int(quadrature))
    keep = weights > 0
    return nodes[keep], np.log(weights[keep])


def burgers_cole_hopf(
    x: np.ndarray,
    t: np.ndarray,
    nu: float = 0.01 / np.pi,
    *,
    quadrature: int = DEFAULT_QUADRATURE,
) -> np.ndarray:
    r"""The exact solution of $u_t + u u_x = \nu u_{xx}$, $u(x, 0) = -\sin(\pi x)$, pointwise.

    The Cole-Hopf transformation $u = -2\nu \phi_x / \phi$ turns Burgers into the heat equation,
    whose solution on the whole line gives (Basdevant et al., Computers & Fluids 14, 1986)

    $$ u(x, t) = -\frac{\int \sin(\pi(x - \eta))\, f(x - \eta)\, e^{-\eta^2/(4\nu t)}\, d\eta}
                       {\int f(x - \eta)\, e^{-\eta^2/(4\nu t)}\, d\eta}, \qquad
       f(y) = e^{-\cos(\pi y) / (2\pi\nu)}. $$

    With $\eta = \sqrt{4\nu t}\, z$ both integrals are Gauss-Hermite sums. The exponents
    $\log w_i - \cos(\pi y_i)/(2\pi\nu)$ reach $\pm 1/(2\pi\nu)$ ($\pm 50$ for the default
    $\nu$, far more for smaller $\nu$), so the largest is subtracted before exponentiating.
    The solution is odd and 2-periodic in $x$, so it also satisfies $u(\pm 1, t) = 0$. At
    $t = 0$ the initial condition is returned.

    **Arguments**

    - `x`, `t`: points; the arrays broadcast. `t` must be >= 0.
    - `nu`: viscosity $\nu > 0$ (default $0.01/\pi$).
    - `quadrature`: number of Gauss-Hermite points (default 250). Smaller $\nu$ needs more.

    **Returns**

    `u` as a `float64` array of the broadcast shape.

    **Raises**

    - `ProblemError`: `nu <= 0`, a negative or non-finite `t`, or a bad `quadrature`.
    """
    if not (np.isfinite(nu) and nu > 0):
        raise ProblemError(f"burgers: viscosity `nu` must be positive; got {nu!r}.")
    x, t = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64))
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ProblemError(
            f"burgers: times must be finite and >= 0; got values from {np.min(t):g} to "
            f"{np.max(t):g}."
        )
    nodes, log_weights = _hermite_rule(quadrature)
    u = -np.sin(np.pi * x)
    running = t > 0
    if np.any(running):
        xr = x[running][:, None]
        y = xr - np.sqrt(4.0 * nu * t[running])[:, None] * nodes
        exponent = log_weights - np.cos(np.pi * y) / (2.0 * np.pi * nu)
        scaled = np.exp(exponent - exponent.max(axis=1, keepdims=True))
        u[running] = -np.sum(np.sin(np.pi * y) * scaled, axis=1) / np.sum(scaled, axis=1)
    return u


def burgers(
    nu: float = 0.01 / np.pi,
    x: np.ndarray | None = None,
    t: np.ndarray | None = None,
    *,
    quadrature: int = DEFAULT_QUADRATURE,
) -> Grid:
    r"""Viscous Burgers on $[-1, 1]$ with $u_0 = -\sin(\pi x)$ and $u(\pm 1, t) = 0$, as a `Grid`.

    The values come from `burgers_cole_hopf`, so they are exact up to quadrature error; the
    defaults reproduce the grid of the DeepXDE / Raissi `Burgers.npz` benchmark file.

    **Arguments**

    - `nu`: viscosity (default $0.01/\pi$).
    - `x`: 1-D increasing spatial grid (default `np.linspace(-1, 1, 256)`).
    - `t`: 1-D increasing time grid, `t >= 0` (default `np.linspace(0, 0.99, 100)`).
    - `quadrature`: Gauss-Hermite points (default 250).

    **Returns**

    A `Grid` with axes `x`, `t` and field `u` of shape `(len(x), len(t))`.

    **Raises**

    - `ProblemError`: bad `nu`, `quadrature` or grids.
    """
    x = np.linspace(-1.0, 1.0, 256) if x is None else np.ravel(np.asarray(x, dtype=np.float64))
    t = np.linspace(0.0, 0.99, 100) if t is None else np.ravel(np.asarray(t, dtype=np.float64))
    u = burgers_cole_hopf(x[:, None], t[None, :], nu, quadrature=quadrature)
    return Grid({"x": x, "t": t}, {"u": u})
