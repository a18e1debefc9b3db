"""The two-branch model of the Lagrangian PINN (Mojgani, Balajewicz, Hassanzadeh, arXiv
2205.02902): characteristic positions $X(\\xi, t)$ and the state $U(\\xi, t)$ along them.

`forward` returns Eulerian values: for each point $(x, t)$ it brackets the $\\xi$ with
$X(\\xi, t) \\equiv x$ (mod the period) on a grid of start positions and refines it by
regula falsi (Illinois), then evaluates $U$ there. The rewrite of the equation and its
residuals are `pinnkit.compile.lagrangian`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["LagrangianModel"]


class LagrangianModel(nn.Module):
    """The two branches; `forward` maps Eulerian points `(batch, 2)` to `(batch, 1)` values.

    `branches(points)` gives `(X, U)` at Lagrangian points `(xi, t)` (same column order).
    """

    def __init__(self, position, state, initial_fn, *, ix, it, t0, lo, period, grid):
        super().__init__()
        self.position = position
        self.state = state
        self._initial = initial_fn  # xi -> (u0(xi), a(u0(xi), xi, t0))
        self.ix, self.it, self.t0 = ix, it, t0
        self.lo, self.period, self.grid = lo, period, grid

    def branches(self, points: Tensor) -> tuple[Tensor, Tensor]:
        xi, tau = points[:, self.ix], points[:, self.it] - self.t0
        u0, a0 = (_full(v, xi) for v in self._initial(xi))
        x = xi + tau * (a0 + self.position(points)[:, 0])
        u = u0 + tau * self.state(points)[:, 0]
        return x, u

    def forward(self, points: Tensor, *, chunk: int = 4096) -> Tensor:
        outs = [self._eulerian(points[s : s + chunk]) for s in range(0, len(points), chunk)]
        return torch.cat(outs) if outs else points.new_zeros((0, 1))

    def _eulerian(self, points: Tensor) -> Tensor:
        xi = self._invert(points[:, self.ix], points[:, self.it])
        lag = points.clone()
        lag[:, self.ix] = xi
        return self.branches(lag)[1][:, None]

    def _positions(self, xi: Tensor, t: Tensor) -> Tensor:
        pts = torch.empty(xi.shape + (2,), dtype=xi.dtype, device=xi.device)
        pts[..., self.ix], pts[..., self.it] = xi, t
        return self.branches(pts.reshape(-1, 2))[0].reshape(xi.shape)

    @torch.no_grad()
    def _invert(self, x: Tensor, t: Tensor, iterations: int = 30) -> Tensor:
        """The start position xi in [lo, lo + period) with X(xi, t) = x (mod period)."""
        m, period = self.grid, self.period
        times, inverse = torch.unique(t, return_inverse=True)
        xi_grid = self.lo + period * torch.arange(m + 1, dtype=x.dtype, device=x.device) / m
        rows = self._positions(
            xi_grid[None, :m].expand(len(times), m), times[:, None].expand(-1, m)
        )
        rows = torch.cat([rows, rows[:, :1] + period], dim=1)  # X(xi + L) = X(xi) + L
        phi = rows[inverse] - x[:, None]
        q = torch.floor(phi / period)
        j = torch.argmax((q[:, 1:] > q[:, :-1]).to(torch.int8), dim=1)
        shift = period * q.gather(1, (j + 1)[:, None])[:, 0]
        a, b = xi_grid[j], xi_grid[j + 1]
        fa = phi.gather(1, j[:, None])[:, 0] - shift
        fb = phi.gather(1, (j + 1)[:, None])[:, 0] - shift
        side = torch.zeros_like(a)
        for _ in range(iterations):  # regula falsi, Illinois variant
            c = torch.where(fb != fa, b - fb * (b - a) / (fb - fa), (a + b) / 2)
            fc = self._positions(c, t) - x - shift
            left = fc < 0
            a, fa, b, fb = (
                torch.where(left, c, a),
                torch.where(left, fc, fa),
                torch.where(left, b, c),
                torch.where(left, fb, fc),
            )
            fb = torch.where(left & (side < 0), fb / 2, fb)
            fa = torch.where(~left & (side > 0), fa / 2, fa)
            side = torch.where(left, -torch.ones_like(side), torch.ones_like(side))
        xi = torch.where(fb.abs() < fa.abs(), b, a)
        return self.lo + torch.remainder(xi - self.lo, period)


def _full(value, like: Tensor) -> Tensor:
    """`value` (a tensor or a Python number) broadcast to `like`'s shape."""
    if isinstance(value, Tensor) and value.shape == like.shape:
        return value
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(like.shape)
