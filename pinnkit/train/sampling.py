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
from pinnkit.config.optim import RAD_POOL
from pinnkit.domain import AbstractDomain
from pinnkit.errors import ConfigError

__all__ = ["Sampler", "residual_points", "given_points"]

#: Rounds of redrawing interior points that rounding put on the boundary (`Sampler.strict`).
MAX_REDRAWS = 10


class Sampler:
    """Draws a `Batch` for each sampled region of a compiled problem.

    **Arguments**

    - `domain`: the problem's domain.
    - `compiled`: the compiled problem (it lists the regions to sample).
    - `spec`: the `Sampling` config (counts per region kind, method).
    - `dtype`, `device`: of the returned tensors.
    - `strict`: keep interior points off the boundary after rounding to `dtype` (those that
      land on it are redrawn, uniformly). For models with exact Dirichlet conditions: their
      distance functions are |f|-like across the boundary, so the residual's derivatives at
      a point on it are 0/0. A float32 run of the back-step (seed 2) drew x = 2 - 1e-8,
      which rounds onto the step's face x = 2, and stopped with a NaN residual at step 233.
    """

    def __init__(
        self,
        domain: AbstractDomain,
        compiled: CompiledProblem,
        spec: Sampling,
        dtype: torch.dtype,
        device: torch.device,
        *,
        strict: bool = False,
    ):
        self.domain = domain
        self.regions = [(r, compiled.domain_region(r)) for r in compiled.sample_regions]
        self.spec = spec
        self.dtype = dtype
        self.device = device
        self.strict = strict and "boundary" in domain.regions

    def sample(self, rng: np.random.Generator, *, scale: float = 1.0) -> dict[str, Batch]:
        """One fresh batch per region; `scale` multiplies the counts."""
        out = {}
        for region, source in self.regions:
            n = max(1, int(round(self.spec.count(source) * scale)))
            sample = self.domain.sample(source, n, rng, method=self.spec.method)
            points = torch.as_tensor(sample.points, dtype=self.dtype, device=self.device)
            if self.strict and source == "interior":
                points = self._off_boundary(points, rng)
            normals = (
                None
                if sample.normals is None
                else torch.as_tensor(sample.normals, dtype=self.dtype, device=self.device)
            )
            out[region] = Batch(points, normals)
        return out

    def _off_boundary(self, points: Tensor, rng: np.random.Generator) -> Tensor:
        """`points` (interior, in `dtype`) with those exactly on the boundary redrawn, until
        none is (`MAX_REDRAWS` rounds; a domain whose interior rounds onto its boundary
        that often is thinner than the precision can resolve)."""
        for _ in range(MAX_REDRAWS):
            on = self.domain.contains(points.double().cpu().numpy(), "boundary", tol=0.0)
            if not on.any():
                return points
            fresh = self.domain.sample("interior", int(on.sum()), rng).points
            points = points.clone()
            points[torch.as_tensor(on, device=self.device)] = torch.as_tensor(
                fresh, dtype=self.dtype, device=self.device
            )
        return points

    def redraw_interior(
        self, points: dict[str, Batch], score: Callable[[Tensor], Tensor], rng: np.random.Generator
    ) -> dict[str, Batch]:
        """`points` with the interior redrawn by RAD (`residual_points`, `RAD_POOL`
        candidates per point, as many points as before); unchanged without an interior."""
        if "interior" not in points:
            return points
        interior = points["interior"]
        drawn = residual_points(
            score,
            self.domain,
            rng,
            interior.points.shape[0],
            pool=RAD_POOL,
            dtype=self.dtype,
            device=self.device,
        )
        return {**points, "interior": Batch(drawn, interior.normals)}


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


def given_points(points, compiled: CompiledProblem, sampling: Sampling, *, device, dtype):
    """The batches of `Trainer.use_points`: `points` (region -> array, tensor or `Batch`)
    checked against the sampled regions and converted.

    **Raises**

    `ConfigError` when `sampling.resample_every` is not 0 (the points would be replaced at
    the next resample) or the regions are not exactly the sampled ones.
    """
    if int(sampling.resample_every) != 0:
        raise ConfigError(
            f"use_points: sampling.resample_every={sampling.resample_every} "
            "would replace the given points. Fix: "
            "`config.replace(sampling=pk.Sampling(resample_every=0))`."
        )
    expected = set(compiled.sample_regions)
    if set(points) != expected:
        raise ConfigError(
            f"use_points: got regions {sorted(points)}; expected exactly "
            f"{sorted(expected)} (see `pinnkit check`)."
        )
    return {
        region: (given if isinstance(given, Batch) else Batch(torch.as_tensor(given))).to(
            device, dtype
        )
        for region, given in points.items()
    }
