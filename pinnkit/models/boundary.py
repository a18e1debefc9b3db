"""Exact (hard) Dirichlet conditions: the model holds `u = g` on boundary parts by construction.

$$u = \\sum_k w_k\\, g_k + \\phi\\, N, \\qquad
\\frac{1}{\\phi} = \\sum_k \\frac{1}{\\phi_k}, \\qquad w_k = \\frac{\\phi}{\\phi_k},$$

with $\\phi_k$ the approximate distance function of part $k$ (its pieces joined by the same
R-equivalence; `pinnkit.domain.distance`), $g_k$ the part's value and $N$ the network. On part
$k$, $\\phi_k \\to 0$, so $w_k \\to 1$, the other weights and $\\phi$ go to 0, and $u = g_k$
(to `FLOOR` times the domain's size, from the clamp that keeps corners finite). This is the
transfinite (Shepard-type) interpolation of Sukumar & Srivastava, CMAME 389 (2022), with
$\\mu = 1$. Fields without an exact condition keep the network's output. The Taylor engine
propagates the network's jet and multiplies it by the jets of $\\phi$ and of the blend
(Leibniz's rule; `pinnkit.compile.taylor`); those have no parameters and come from nested
forward-mode products, a small cost beside the network's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.domain.distance import FLOOR, evaluate, join
from pinnkit.problem.exact import ExactPart

__all__ = ["ExactBoundary"]


class ExactBoundary(nn.Module):
    """Wraps a model so that fields with exact Dirichlet conditions hold them (see module).

    **Arguments**

    - `inner`: the network (or an `ExactInitial` wrapper), points -> `(batch, n_fields)`.
    - `field_names`: every field's name, in output order.
    - `parts`: field name -> its `ExactPart`s (`pinnkit.problem.exact.exact_dirichlet`).
    - `values`: field name -> `(function, columns)`: a torch function of the points' columns
      `columns` (the coordinates the values use) returning one value per part, in order
      (`pinnkit.build` generates them from the SymPy values).
    - `size`: the domain's size (bounding-box diagonal), which scales the clamp.
    - `source`: the generated code of `values`, for `describe()`.
    """

    def __init__(
        self,
        inner: nn.Module,
        field_names: Sequence[str],
        parts: Mapping[str, Sequence[ExactPart]],
        values: Mapping[str, Callable],
        size: float,
        source: str = "",
    ):
        super().__init__()
        self.inner = inner
        self.fields = [(list(field_names).index(name), name) for name in parts]
        self.parts = {name: list(p) for name, p in parts.items()}
        self._values, self.floor, self.source = dict(values), FLOOR * float(size), source
        self.jets = JetCache()

    def describe(self) -> str:
        """The exact conditions per field: each part and its pieces' distance functions,
        and the generated code of the values (printed by `pinnkit check`)."""
        names = {"plane": "plane", "segment": "trimmed segment", "sphere": "circle/sphere",
                 "ellipse": "ellipse", "point": "end point", "tube": "cylinder side",
                 "disk": "cylinder cap"}  # fmt: skip
        lines = ["Exact Dirichlet conditions (u = sum_k w_k g_k + phi N, distance functions):"]
        for name, parts in self.parts.items():
            items = []
            for part in parts:
                kinds: dict[str, int] = {}
                for d in part.distances:
                    kinds[names[d.kind]] = kinds.get(names[d.kind], 0) + 1
                pieces = ", ".join(f"{n} x {k}" if n > 1 else k for k, n in kinds.items())
                items.append(f"{part.region} ({pieces})")
            lines.append(f"  {name}: " + "; ".join(items))
        lines += ["  " + row for row in self.source.splitlines()]
        return "\n".join(lines)

    def distances(self, points: Tensor, field: str) -> list[Tensor]:
        """Each exact part's joined distance function at `points`."""
        return [
            join([evaluate(d, points, torch.sqrt) for d in part.distances], self.floor, _clamp)
            for part in self.parts[field]
        ]

    def blend(self, points: Tensor) -> Tensor:
        """`(batch, 2 * n_exact)`: for each exact field in `self.fields` order, the joined
        distance $\\phi$ and the blended value $\\sum_k w_k g_k$ (no parameters)."""
        out = []
        for _, name in self.fields:
            phis = self.distances(points, name)
            phi = join(phis, self.floor, _clamp)
            blend = torch.zeros_like(phi)
            values, columns = self._values[name]
            for phi_k, value in zip(phis, values(*(points[:, i] for i in columns))):
                value = torch.as_tensor(value, dtype=points.dtype, device=points.device)
                blend = blend + phi / _clamp(phi_k, self.floor) * value
            out += [phi, blend]
        return torch.stack(out, dim=1)

    def forward(self, points: Tensor) -> Tensor:
        out = self.inner(points)
        columns = list(out.unbind(1))
        blend = self.blend(points)
        for i, (j, _) in enumerate(self.fields):
            columns[j] = blend[:, 2 * i + 1] + blend[:, 2 * i] * columns[j]
        return torch.stack(columns, dim=1)


class JetCache:
    """The derivatives of `ExactBoundary.blend` at the last `size` point sets (they have no
    parameters): a point set is recognised by equal values, never by identity alone. Points
    inside `torch.func` transforms (per-point Jacobians) are not cached."""

    def __init__(self, size: int = 8):
        self.size, self.entries = size, []

    def get(self, points: Tensor, key: tuple) -> Tensor | None:
        if _wrapped(points):
            return None
        for stored, stored_key, jets in self.entries:
            if (
                stored_key == key
                and stored.shape == points.shape
                and stored.dtype == points.dtype
                and stored.device == points.device
                and torch.equal(stored, points)
            ):
                return jets
        return None

    def put(self, points: Tensor, key: tuple, jets: Tensor) -> Tensor:
        if not _wrapped(points):
            self.entries = [(points.clone(), key, jets.detach()), *self.entries][: self.size]
        return jets


def _wrapped(points: Tensor) -> bool:
    return bool(torch._C._functorch.is_functorch_wrapped_tensor(points))


def _clamp(value: Tensor, floor: float) -> Tensor:
    return torch.clamp(value, min=floor)


def domain_size(domain) -> float:
    """The bounding-box diagonal of the domain's space part (the clamp's scale)."""
    lo, hi = domain.bounds
    space = len(domain.space_coords)
    return float(np.linalg.norm(np.asarray(hi)[:space] - np.asarray(lo)[:space]))
