"""Input features in front of any body: normalisation, periodic embedding, Fourier features."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from pinnkit.errors import ConfigError

__all__ = ["Fourier", "Normalize", "PeriodicEmbedding", "FourierFeatures"]


@dataclass(frozen=True)
class Fourier:
    """Spec of random Fourier features (Tancik et al. 2020; Wang, Wang, Perdikaris 2021).

    The normalised input $z \\in [-1, 1]^d$ is mapped to
    $[\\cos(2\\pi z B), \\sin(2\\pi z B)]$ with $B_{ij} \\sim \\mathcal{N}(0, \\sigma^2)$,
    which lets a network fit high frequencies that a plain MLP learns slowly (spectral bias).

    **Arguments**

    - `features`: number of frequencies $m$ (the body sees $2m$ inputs; default 64).
    - `sigma`: standard deviation of the frequencies (default 1.0). Too large gives noisy
      fits; 1 to 10 is the usual range.
    - `trainable`: learn $B$ as well (default False).
    """

    features: int = 64
    sigma: float = 1.0
    trainable: bool = False

    def __post_init__(self):
        if int(self.features) < 1 or not self.sigma > 0:
            raise ConfigError(
                f"fourier: features={self.features} must be >= 1 and sigma={self.sigma} > 0."
            )

    def build(self, n_in: int, generator: torch.Generator) -> FourierFeatures:
        matrix = torch.randn(n_in, int(self.features), generator=generator) * float(self.sigma)
        return FourierFeatures(matrix, trainable=self.trainable)


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
