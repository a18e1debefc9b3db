"""Collocation sampling: draw the points of every region a compiled problem needs.

All randomness comes from the `numpy.random.Generator` the trainer owns (seeded from
`config.seed` and checkpointed), so a resumed run draws exactly the points an
uninterrupted one would.
"""

from __future__ import annotations

import numpy as np
import torch

from pinnkit.compile import Batch, CompiledProblem
from pinnkit.config import Sampling
from pinnkit.domain import AbstractDomain

__all__ = ["Sampler"]


class Sampler:
    """Draws a `Batch` for each sampled region of a compiled problem.

    **Arguments**

    - `domain`: the problem's domain.
    - `compiled`: the compiled problem (it lists the regions to sample).
    - `spec`: the `Sampling` config (counts per region kind, method).
    - `dtype`, `device`: of the returned tensors.
    """

    def __init__(
        self,
        domain: AbstractDomain,
        compiled: CompiledProblem,
        spec: Sampling,
        dtype: torch.dtype,
        device: torch.device,
    ):
        self.domain = domain
        self.regions = [(r, compiled.domain_region(r)) for r in compiled.sample_regions]
        self.spec = spec
        self.dtype = dtype
        self.device = device

    def sample(self, rng: np.random.Generator, *, scale: float = 1.0) -> dict[str, Batch]:
        """One fresh batch per region; `scale` multiplies the counts."""
        out = {}
        for region, source in self.regions:
            n = max(1, int(round(self.spec.count(source) * scale)))
            sample = self.domain.sample(source, n, rng, method=self.spec.method)
            points = torch.as_tensor(sample.points, dtype=self.dtype, device=self.device)
            normals = (
                None
                if sample.normals is None
                else torch.as_tensor(sample.normals, dtype=self.dtype, device=self.device)
            )
            out[region] = Batch(points, normals)
        return out
