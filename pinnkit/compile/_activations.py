"""Derivatives of every order of the activations of `pinnkit.models.mlp`, for Taylor mode.

Each function maps the pre-activation `z` and an order `n` to `[f(z), f'(z), ..., f^(n)(z)]`,
using the ODE the activation satisfies so that any order costs a few products per level.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from pinnkit.models.mlp import Sine

__all__ = ["activation_derivatives", "sin_derivatives"]


def _tanh_derivatives(z: Tensor, n: int) -> list[Tensor]:
    # y' = 1 - y^2  =>  y^(m+1) = -sum_j C(m, j) y^(j) y^(m-j)  (m >= 1)
    y = [torch.tanh(z)]
    if n >= 1:
        y.append(1 - y[0] * y[0])
    for m in range(1, n):
        y.append(_leibniz(y, m, sign=-1))
    return y


def _sigmoid_derivatives(z: Tensor, n: int) -> list[Tensor]:
    # s' = s - s^2  =>  s^(m+1) = s^(m) - sum_j C(m, j) s^(j) s^(m-j)
    s = [torch.sigmoid(z)]
    if n >= 1:
        s.append(s[0] - s[0] * s[0])
    for m in range(1, n):
        s.append(s[m] + _leibniz(s, m, sign=-1))
    return s


def _leibniz(y: list[Tensor], m: int, *, sign: int = 1) -> Tensor:
    """$\\pm \\sum_{j=0}^{m} \\binom{m}{j} y^{(j)} y^{(m-j)}$, using its symmetry (the sign
    is folded into the coefficients to save a pass over the data)."""
    total = None
    for j in range((m + 1) // 2):
        term = y[j] * (y[m - j] * (sign * 2 * math.comb(m, j)))
        total = term if total is None else total + term
    if m % 2 == 0:
        term = y[m // 2] * (y[m // 2] * (sign * math.comb(m, m // 2)))
        total = term if total is None else total + term
    return total


def sin_derivatives(z: Tensor, n: int, *, phase: int = 0) -> list[Tensor]:
    """Derivatives of sin (phase 0) or cos (phase 1): sin^(m) = sin(z + m pi / 2)."""
    s, c = torch.sin(z), torch.cos(z)
    out = []
    for m in range(phase, phase + n + 1):
        k = m % 4
        out.append((s, c)[k] if k < 2 else -(s, c)[k - 2])
    return out


def _gelu_derivatives(z: Tensor, n: int) -> list[Tensor]:
    # f = z Phi(z): f^(m) = z Phi^(m) + m Phi^(m-1); Phi' = phi, phi' = -z phi, so
    # phi^(k+1) = -z phi^(k) - k phi^(k-1).
    cdf = 0.5 * (1 + torch.erf(z * (1 / math.sqrt(2))))
    phi = [torch.exp(-0.5 * z * z) * (1 / math.sqrt(2 * math.pi))]
    for k in range(n - 1):
        nxt = -z * phi[k]
        if k >= 1:
            nxt = nxt - k * phi[k - 1]
        phi.append(nxt)
    big_phi = [cdf, *phi]  # Phi^(m)
    return [z * cdf] + [z * big_phi[m] + m * big_phi[m - 1] for m in range(1, n + 1)]


def _silu_derivatives(z: Tensor, n: int) -> list[Tensor]:
    s = _sigmoid_derivatives(z, n)
    return [z * s[0]] + [z * s[m] + m * s[m - 1] for m in range(1, n + 1)]


def _softplus_derivatives(z: Tensor, n: int, beta: float) -> list[Tensor]:
    # log(1 + exp(beta z)) / beta; its m-th derivative is beta^(m-1) sigmoid^(m-1)(beta z).
    # torch's linear branch above `threshold` is not followed: the two differ by < e^-20.
    s = _sigmoid_derivatives(beta * z, max(n - 1, 0))
    value = nn.functional.softplus(z, beta=beta, threshold=1e9)
    return [value] + [s[m - 1] * beta ** (m - 1) for m in range(1, n + 1)]


def activation_derivatives(module: nn.Module) -> Callable[[Tensor, int], list[Tensor]] | None:
    """Derivatives function of an activation module, or None when it is not one we know."""
    if isinstance(module, nn.Tanh):
        return _tanh_derivatives
    if isinstance(module, Sine):
        return sin_derivatives
    if isinstance(module, nn.Sigmoid):
        return _sigmoid_derivatives
    if isinstance(module, nn.SiLU):
        return _silu_derivatives
    if isinstance(module, nn.GELU) and module.approximate == "none":
        return _gelu_derivatives
    if isinstance(module, nn.Softplus):
        beta = float(module.beta)
        return lambda z, n: _softplus_derivatives(z, n, beta)
    return None
