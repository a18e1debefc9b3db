"""Exact solutions of the high-dimensional test problems of the STDE paper, as SymPy sums.

Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator", NeurIPS 2024, solve
inseparable Poisson, Allen-Cahn and Sine-Gordon equations on the unit ball with the
"two-body" exact solution of Hu, Shukla, Karniadakis, Kawaguchi ("Tackling the curse of
dimensionality with physics-informed neural networks", Neural Networks 2024):

$$u(x) = (1 - |x|^2) \\sum_{i=1}^{d-1} c_i \\sin\\big(x_i + \\cos x_{i+1}
    + x_{i+1} \\cos x_i\\big), \\qquad c_i \\sim N(0, 1),$$

zero on the unit sphere and coupling every neighbouring pair of coordinates. Everything here
is a sum over the components (`sp.Sum`), never expanded, so it costs O(d) per point in any
dimension (`pinnkit.reference.sums`). Never imports torch.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.domain.vector import Vector
from pinnkit.errors import ProblemError
from pinnkit.reference.sums import Coefficients

__all__ = ["two_body", "two_body_coefficients"]


def two_body_coefficients(dim: int, seed: int = 0, name: str = "c") -> Coefficients:
    """The $d - 1$ coefficients $c_i \\sim N(0, 1)$ of `two_body`, drawn from
    `numpy.random.default_rng(seed)`."""
    if dim < 2:
        raise ProblemError(
            f"two_body_coefficients({dim}): the two-body solution couples neighbouring "
            'components and needs a vector of dimension >= 2. Fix: `pk.Vector("x", 2)` or more.'
        )
    return Coefficients(name, np.random.default_rng(seed).standard_normal(dim - 1))


def two_body(x: Vector, c: Coefficients) -> tuple[sp.Expr, sp.Expr]:
    """The two-body solution $u$ and its Laplacian $\\Delta u$, as sums over `x`.

    With $S = \\sum_i c_i s(x_i, x_{i+1})$, $s(a, b) = \\sin(a + \\cos b + b \\cos a)$ and
    $r^2 = |x|^2$: $\\Delta[(1 - r^2) S] = (1 - r^2) \\Delta S - 4\\, x \\cdot \\nabla S
    - 2 d S$, where $\\Delta S = \\sum_i c_i (s_{aa} + s_{bb})$ and
    $x \\cdot \\nabla S = \\sum_i c_i (a s_a + b s_b)$ at $(a, b) = (x_i, x_{i+1})$ (indices
    from 0 here). Tests check it against autograd in a few dimensions.

    **Raises**

    `ProblemError` when `x` is not a `Vector` or `c` does not have `x.dim - 1` values.
    """
    if not isinstance(x, Vector):
        raise ProblemError(f'two_body({x!r}, ...): expected a `pk.Vector("x", d)`.')
    d = x.dim
    if len(c.values) != d - 1:
        raise ProblemError(
            f"two_body({x}, {c}): {len(c.values)} coefficients, expected {d - 1} (one per "
            f"neighbouring pair). Fix: `two_body_coefficients({d})`."
        )
    i = sp.Symbol("i", integer=True)
    a, b = sp.symbols("a b", real=True)
    s = sp.sin(a + sp.cos(b) + b * sp.cos(a))
    at = {a: x[i], b: x[i + 1]}
    pairs = (i, 0, d - 2)
    total = sp.Sum(c[i] * s.xreplace(at), pairs)
    curvature = sp.Sum(c[i] * (s.diff(a, 2) + s.diff(b, 2)).xreplace(at), pairs)
    radial = sp.Sum(c[i] * (a * s.diff(a) + b * s.diff(b)).xreplace(at), pairs)
    bubble = 1 - sp.Sum(x[i] ** 2, (i, 0, d - 1))
    return bubble * total, bubble * curvature - 4 * radial - 2 * d * total
