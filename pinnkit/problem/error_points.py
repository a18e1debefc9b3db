"""`ErrorGrid`: the points where a run's errors against its reference are measured.

The reference's own points when it has them (scattered data), else its grid or an even one
inside the domain; in a domain over a `Vector` (d components, no grid possible), a seeded
uniform sample of the interior. NumPy only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pinnkit.domain.vector import Vector
from pinnkit.errors import ProblemError
from pinnkit.problem.problem import Problem

__all__ = ["ErrorGrid", "SAMPLED_VALUES", "SAMPLE_SEED"]

log = logging.getLogger("pinnkit")

#: In a domain over a `Vector`: about this many coordinate values in all (points x columns;
#: 100 points at d = 100,000, 10,000 at d = 1,000), at least 100 points, at most 10,000.
SAMPLED_VALUES = 10_000_000
#: The seed of that sample: every run of a problem is measured at the same points.
SAMPLE_SEED = 20_261_204

_GRID_POINTS = 200_000  # even error grid at most (101^3: a mesh's inside test took seconds)


@dataclass(frozen=True)
class ErrorGrid:
    """Points where the reference is known, and its values there, for relative L2 errors.

    Attributes: `points` (n, n_coords), in the problem's coordinate order; `values` (field ->
    (n,)); `axes` (coordinate -> the grid's axis, or for a reference with its own points
    the kept points' column); `dropped` (how many of the reference's own points lie outside
    the domain and are left out; 0 for a grid).
    """

    points: np.ndarray  # (n, n_coords)
    values: dict[str, np.ndarray]  # field -> (n,)
    axes: dict[str, np.ndarray]
    dropped: int = 0

    @classmethod
    def build(cls, problem: Problem, n_per_axis: int = 101) -> ErrorGrid | None:
        """Where the errors against `problem.reference` are measured, or None without one.

        A reference with points of its own (`reference.points()`, as `pk.reference.Points`
        has) is measured exactly there, with no interpolation: its points inside the domain
        (within 1e-6), the others dropped (counted in `dropped` and logged). Otherwise the
        reference's own grid, or an even one (`n_per_axis`, 2e5 points at most), inside.
        In a domain over a `Vector`, a seeded uniform sample of the interior
        (`SAMPLED_VALUES`, `SAMPLE_SEED`).

        **Raises**

        `ProblemError` when none of the reference's own points lies in the domain.
        """
        ref = problem.reference
        if ref is None:
            return None
        names = [c.name for c in problem.coords]
        own = ref.points()
        if own is not None:
            points = np.stack([np.asarray(own[n], dtype=np.float64) for n in names], axis=1)
        elif any(isinstance(s, Vector) for s in problem.signature):
            n = int(np.clip(SAMPLED_VALUES // len(names), 100, 10_000))
            rng = np.random.default_rng(SAMPLE_SEED)
            points, axes = problem.domain.sample("interior", n, rng).points, {}
        else:
            count = min(n_per_axis, int(_GRID_POINTS ** (1 / len(names))))  # 58 in 3-D
            axes = ref.grid() or problem.domain.grid(count)
            mesh = np.meshgrid(
                *[np.asarray(axes[n], dtype=np.float64) for n in names], indexing="ij"
            )
            points = np.stack([m.reshape(-1) for m in mesh], axis=1)
        inside = problem.domain.contains(points, "interior", tol=1e-6)
        points = points[inside]
        dropped = 0 if own is None else int(np.count_nonzero(~inside))
        if own is not None:
            if not len(points):
                raise ProblemError(
                    f"Problem {problem.name!r}: none of the reference's {dropped} points lies "
                    f"in the domain {problem.domain!r}, so no error can be measured. Fix: "
                    "check the reference's coordinate names and units against the domain."
                )
            if dropped:
                log.info(
                    "%d of the reference's %d points lie outside the domain; errors are "
                    "measured at the other %d.",
                    dropped,
                    dropped + len(points),
                    len(points),
                )
            axes = {n: points[:, i] for i, n in enumerate(names)}
        values = ref.evaluate({n: points[:, i] for i, n in enumerate(names)})
        return cls(
            points,
            {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in values.items()},
            dict(axes),
            dropped,
        )

    def rel_l2(self, predict) -> dict[str, float]:
        """Relative L2 error per field: $\\|u - u_{ref}\\|_2 / \\|u_{ref}\\|_2$ over the grid."""
        pred = predict(self.points)
        out = {}
        for f, ref in self.values.items():
            norm = np.linalg.norm(ref)
            diff = np.linalg.norm(pred[f] - ref)
            out[f] = float(diff / norm) if norm > 0 else float(diff / np.sqrt(len(ref)))
        return out
