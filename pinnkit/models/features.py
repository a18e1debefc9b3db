"""Input features in front of any body: normalisation, periodic embedding, Fourier features."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from pinnkit.config import Fourier

__all__ = ["Normalize", "PeriodicEmbedding", "FourierFeatures", "fourier_features"]


class Normalize(nn.Module):
    """Affine map of the bounding box `[lo, hi]` to `[-1, 1]` in every coordinate."""

    def __init__(self, lo: Sequence[float], hi: Sequence[float]):
        super().__init__()
        lo_t = torch.as_tensor(lo, dtype=torch.float64)
        hi_t = torch.as_tensor(hi, dtype=torch.float64)
        span = torch.where(hi_t > lo_t, hi_t - lo_t, torch.ones_like(hi_t))
        self.register_buffer("center", ((hi_t + lo_t) / 2).float())
        self.register_buffer("scale", (2 / span).float())

    def forward(self, x):
        return (x - self.center) * self.scale


class PeriodicEmbedding(nn.Module):
    """Exact periodicity: coordinate $x$ of period $L$ becomes
    $[\\cos(2\\pi k x / L), \\sin(2\\pi k x / L)]_{k=1..K}$; other columns pass through.

    Every function of the embedded input is $L$-periodic in $x$ with all its derivatives
    (Dong & Ni 2021; used by the causal-training paper for Allen-Cahn and KdV).
    """

    def __init__(self, n_in: int, periods: Mapping[int, float], harmonics: int = 1):
        super().__init__()
        self.n_in = n_in
        self.axes = sorted(periods)
        self.keep = [i for i in range(n_in) if i not in periods]
        k = torch.arange(1, harmonics + 1, dtype=torch.float64)
        omegas = torch.stack([2 * math.pi * k / periods[a] for a in self.axes])  # (axes, K)
        self.register_buffer("omegas", omegas.float())

    @property
    def n_out(self) -> int:
        return len(self.keep) + 2 * self.omegas.numel()

    def forward(self, raw, normalized):
        angles = (raw[:, self.axes, None] * self.omegas).flatten(1)
        return torch.cat([normalized[:, self.keep], torch.cos(angles), torch.sin(angles)], dim=1)


class FourierFeatures(nn.Module):
    """$z \\mapsto [\\cos(2\\pi z B), \\sin(2\\pi z B)]$ (see `Fourier`)."""

    def __init__(self, matrix: torch.Tensor, *, trainable: bool = False):
        super().__init__()
        if trainable:
            self.matrix = nn.Parameter(matrix)
        else:
            self.register_buffer("matrix", matrix)

    @property
    def n_out(self) -> int:
        return 2 * self.matrix.shape[1]

    def forward(self, z):
        angles = 2 * math.pi * z @ self.matrix
        return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def fourier_features(spec: Fourier, n_in: int, generator: torch.Generator) -> FourierFeatures:
    """The features `spec` describes for `n_in` normalised inputs, frequencies
    $B_{ij} \\sim \\mathcal{N}(0, \\sigma^2)$ drawn from `generator`."""
    matrix = torch.randn(n_in, int(spec.features), generator=generator) * float(spec.sigma)
    return FourierFeatures(matrix, trainable=spec.trainable)
