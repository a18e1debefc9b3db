"""Collocation sampling: draw the points of every region a compiled problem needs.

All randomness comes from the `numpy.random.Generator` the trainer owns (seeded from
`config.seed` and checkpointed), so a resumed run draws exactly the points an
uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from pinnkit.compile import Batch, CompiledProblem
from pinnkit.config import Sampling
from pinnkit.domain import AbstractDomain

__all__ = ["Sampler", "residual_points"]


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


def residual_points(
    score: Callable[[Tensor], Tensor],
    domain: AbstractDomain,
    rng: np.random.Generator,
    n: int,
    *,
    pool: int,
    dtype: torch.dtype,
    device: torch.device,
    chunk: int = 8192,
) -> Tensor:
    """`n` interior points by residual-based adaptive distribution (RAD; Wu, Zhu, Tan,
    Kartha & Lu, CMAME 403, 2023, with k = 1, c = 0): `pool * n` uniform candidates, then
    `n` of them without replacement with probability proportional to the residual's size
    sqrt(`score`) there, `score(points) -> (batch,)` being the sum of the equations' squared
    residuals for the current model (evaluated in blocks of `chunk`). A residual that is 0
    or not finite everywhere falls back to uniform."""
    drawn = domain.sample("interior", int(pool) * int(n), rng).points
    candidates = torch.as_tensor(drawn, dtype=dtype, device=device)
    # Residuals need derivatives of the model: autograd on, the graph dropped per block.
    with torch.enable_grad():
        scores = torch.cat([score(block).detach() for block in candidates.split(chunk)])
    size = scores.double().clamp_min(0).sqrt().cpu().numpy()
    total = float(size.sum())
    if not np.isfinite(total) or total <= 0:
        probability = None
    else:
        # A floor far below any real residual keeps `n` draws possible where the residual
        # vanishes on most candidates (without replacement needs n non-zero entries).
        size = size + 1e-12 * total / size.size
        probability = size / size.sum()
    keep = rng.choice(candidates.shape[0], size=int(n), replace=False, p=probability)
    return candidates[torch.as_tensor(np.sort(keep), device=device)]
