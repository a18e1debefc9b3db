"""The losses a candidate formula is judged by: the training loss at fixed points and the
misfit of each observed field (`Losses`, `measure`), those fixed points (`physics_batches`),
and the least noise variance of each field (`noise_floors`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from pinnkit.build import default_weights
from pinnkit.compile import Batch
from pinnkit.discover.sample import collocation_points, run_dtype
from pinnkit.train import report

__all__ = [
    "Losses",
    "physics_batches",
    "measure",
    "noise_floors",
    "unheld_notes",
    "NOISE_FLOOR",
]

#: The noise estimate of a field is at least this fraction of its observations' RMS, squared,
#: so that noiseless (synthetic) observations do not make the data test demand round-off.
NOISE_FLOOR = 1e-3
#: Points drawn in each region other than the interior (conditions the term appears in).
REGION_POINTS = 256


@dataclass(frozen=True)
class Losses:
    """The training loss at fixed points and, per observed field, the mean square misfit
    and the number of observations: `misfit[(data name, field)] = (mean square, n)`;
    `residual`, the part of `total` that is not the observations' (the equations' and
    conditions' weighted mean squares)."""

    total: float
    misfit: dict[tuple[str, str], tuple[float, int]]
    residual: float = 0.0

    @property
    def observations(self) -> int:
        """The number of observed values, all fields together."""
        return sum(n for _, n in self.misfit.values())

    def deviance(self, floors: Mapping[tuple[str, str], float]) -> float:
        """The sum over observed fields of n_k ln D_k, each mean square misfit D_k raised to
        its floor in `floors` (twice the negative log-likelihood of Gaussian noise whose
        variance per field is estimated from this misfit, up to a constant); inf when the
        loss is not finite."""
        if not math.isfinite(self.total):
            return math.inf
        return sum(n * math.log(max(mean, floors[key])) for key, (mean, n) in self.misfit.items())

    def excess(self, network: Losses, floors: Mapping[tuple[str, str], float]) -> float:
        """The data test's statistic against `network`: the misfit's growth summed over the
        observed fields, each in units of the noise variance this misfit itself estimates
        (raised to its floor in `floors`), not the network's, which overfits."""
        if not math.isfinite(self.total):
            return math.inf
        return sum(
            n * (mean - network.misfit[key][0]) / max(mean, floors[key])
            for key, (mean, n) in self.misfit.items()
        )


def physics_batches(run, *, samples: int, seed: int) -> dict[str, Batch]:
    """Collocation points for the physics loss: interior + data points, and a few points in
    every other region the compiled problem samples."""
    problem, compiled = run.problem, run.compiled
    dtype, device = run_dtype(run.model, compiled)
    rng = np.random.default_rng(seed + 1)
    batches = {}
    for region in compiled.sample_regions:
        if region == "interior":
            points = collocation_points(problem, samples, seed + 1)
            batches[region] = Batch(torch.as_tensor(points, dtype=dtype, device=device))
            continue
        drawn = problem.domain.sample(compiled.domain_region(region), REGION_POINTS, rng)
        normals = drawn.normals
        batches[region] = Batch(
            torch.as_tensor(drawn.points, dtype=dtype, device=device),
            None if normals is None else torch.as_tensor(normals, dtype=dtype, device=device),
        )
    return batches


def unheld_notes(run, batches: dict[str, Batch], summary: Mapping | None) -> list[str]:
    """`pinnkit.train.report.unheld_notes` on discovery's fresh points: a note for each
    equation of `run` met more than `report.UNHELD` times worse on `batches` than in its last
    logged training step (`summary["loss_terms"]`, the run's summary; none without it, or
    under causal weighting, whose logged terms are weighted). Every candidate's refit then
    starts by repairing the solution there, and the choice can rest on that repair."""
    trained = (summary or {}).get("loss_terms") or {}
    if not trained or run.config.causal is not None or "interior" not in batches:
        return []
    residuals = run.compiled.residuals(run.model, batches)
    fix = (
        "Each candidate's refit starts by repairing it there, and the choice can rest on "
        "that repair. Fix: train so that the solution holds the equations everywhere (more "
        "interior points, causal weighting, a fresh draw of points in the last stages), or "
        "give the refits more iterations (`refit=2000`)."
    )
    notes = report.unheld_notes(
        run.problem, residuals, batches["interior"].points, trained, fix=fix
    )
    return [f"discovery: {note}" for note in notes.values()]


def measure(compiled, model, batches: dict[str, Batch]) -> Losses:
    """The training loss at fixed points (mean square of every term times its weight) and
    the misfit of each observed field."""
    problem = compiled.problem
    residuals = compiled.residuals(model, batches)
    weights = default_weights(problem, list(residuals))
    parts = {
        k: weights[k] * float(r.detach().double().square().mean()) for k, r in residuals.items()
    }
    total = sum(parts.values())
    observed = {data.name for data in problem.data}
    residual = sum(v for k, v in parts.items() if k not in observed)
    misfit = {}
    for data in problem.data:
        # A data residual is the fields' misfits one after another, `data.n` each.
        chunks = residuals[data.name].detach().double().split(data.n)
        for field, chunk in zip(data.values, chunks):
            misfit[(data.name, field)] = (float(chunk.square().mean()), data.n)
    if not math.isfinite(total):
        return Losses(math.inf, misfit, math.inf)
    return Losses(total, misfit, residual)


def noise_floors(problem) -> dict[tuple[str, str], float]:
    """Each observed field's least noise variance: (`NOISE_FLOOR` x the RMS of its
    observations)^2, so that noiseless (synthetic) observations do not make the criterion
    and the data test weigh round-off."""
    floors = {}
    for data in problem.data:
        for field, values in data.values.items():
            rms = float(np.sqrt(np.mean(np.square(values))))
            floors[(data.name, field)] = max((NOISE_FLOOR * rms) ** 2, np.finfo(float).tiny)
    return floors
