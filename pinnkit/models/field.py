"""The field model: coordinates in, fields out, assembled from input features and a body.

Column order is the problem's: inputs in `problem.coords` order, outputs in
`problem.fields` order. A model knows nothing of the PDE.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from pinnkit.config import MLP, Fourier, Gaussians
from pinnkit.config.networks import BOTH_FEATURES
from pinnkit.errors import ConfigError
from pinnkit.models.features import Normalize, PeriodicEmbedding, fourier_features
from pinnkit.models.gaussian import gaussian_features
from pinnkit.models.mlp import build_mlp

__all__ = ["AbstractModel", "FieldModel"]


class AbstractModel(nn.Module, abc.ABC):
    """Maps points `(batch, n_coords)` to field values `(batch, n_fields)`.

    Contract: rows are independent (no batch statistics), and the map is smooth enough to
    differentiate as often as the problem's highest derivative order.
    """

    @abc.abstractmethod
    def forward(self, points: torch.Tensor) -> torch.Tensor: ...


class FieldModel(AbstractModel):
    """Normalise inputs to [-1, 1], then periodic embedding, then Fourier features or
    Physics-Informed Gaussians (at most one of them), then the body.

    **Raises**

    `ConfigError` when both `fourier` and `gaussians` are given.
    """

    def __init__(
        self,
        *,
        lo: Sequence[float],
        hi: Sequence[float],
        n_out: int,
        body: MLP,
        generator: torch.Generator,
        periods: Mapping[int, float] | None = None,
        harmonics: int = 1,
        fourier: Fourier | None = None,
        gaussians: Gaussians | None = None,
        offset: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ):
        super().__init__()
        if fourier is not None and gaussians is not None:
            raise ConfigError(BOTH_FEATURES)
        n_in = len(lo)
        self.normalize = Normalize(lo, hi)
        self.periodic = PeriodicEmbedding(n_in, periods, harmonics) if periods else None
        width = self.periodic.n_out if self.periodic is not None else n_in
        self.fourier = fourier_features(fourier, width, generator) if fourier is not None else None
        if self.fourier is not None:
            width = self.fourier.n_out
        self.gaussians = (
            gaussian_features(gaussians, width, generator) if gaussians is not None else None
        )
        if self.gaussians is not None:
            width = self.gaussians.n_out
        self.body = build_mlp(body, width, n_out, generator)
        # The output map `offset + scale * body` (`MLP.scale`); constants of the config, so
        # not in the state dict (checkpoints of unscaled models load as before).
        self.affine = offset is not None or scale is not None
        self.register_buffer(
            "offset",
            torch.as_tensor(offset or [0.0] * n_out, dtype=torch.float32),
            persistent=False,
        )
        self.register_buffer(
            "scale", torch.as_tensor(scale or [1.0] * n_out, dtype=torch.float32), persistent=False
        )

    def forward(self, points):
        z = self.normalize(points)
        if self.periodic is not None:
            z = self.periodic(points, z)
        if self.fourier is not None:
            z = self.fourier(z)
        if self.gaussians is not None:
            z = self.gaussians(z)
        if self.affine:
            return self.offset + self.scale * self.body(z)
        return self.body(z)
