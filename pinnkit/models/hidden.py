"""Hidden-term networks: the module that evaluates one `pk.Hidden`, built from its spec
(`pinnkit.config.HiddenNet`).

A hidden term $f(a_1, \\dots, a_k)$ is a small MLP $f_\\theta$ applied to its arguments after an
affine map of each one from a stated range $[l_i, h_i]$ to $[-1, 1]$:

$$f(a) \\approx s\\, f_\\theta(z), \\qquad z_i = \\frac{2 (a_i - l_i)}{h_i - l_i} - 1 ,$$

with a fixed output scale $s$ (`HiddenNet.scale`, default 1).

The ranges are buffers, so they are saved in `state_dict()` with the weights; where they
come from (the domain, the data, the conditions or the user) is decided by
`pinnkit.compile.hidden`, which builds these modules.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from pinnkit.config import MLP, HiddenNet
from pinnkit.models.mlp import build_mlp

__all__ = ["HiddenModule", "hidden_module"]


class HiddenModule(nn.Module):
    """One Hidden term's network: normalise each input column to [-1, 1], then the body.

    **Arguments**

    - `lo`, `hi`: the range of each input (length `n_inputs`, `lo < hi`), stored as the
      buffers `lo` and `hi`.
    - `body`: maps `(batch, n_inputs)` to `(batch, 1)`.
    - `scale`: fixed factor on the body's output (default 1; from `HiddenNet.scale`, so a
      saved run rebuilds it from its config).

    `forward(inputs)` takes `(batch, n_inputs)` and returns `(batch,)`. Inputs outside
    their range are not clipped: the map is affine, and a tanh network extrapolates smoothly
    (but not accurately) a little beyond it.
    """

    def __init__(
        self, lo: Sequence[float], hi: Sequence[float], body: nn.Module, *, scale: float = 1.0
    ):
        super().__init__()
        lo_t = torch.as_tensor(lo, dtype=torch.float64)
        hi_t = torch.as_tensor(hi, dtype=torch.float64)
        if lo_t.shape != hi_t.shape or lo_t.dim() != 1 or not bool(torch.all(hi_t > lo_t)):
            raise ValueError(f"need lo < hi, found {lo}, {hi}; this is a bug in pinnkit")
        self.register_buffer("lo", lo_t)
        self.register_buffer("hi", hi_t)
        self.body = body
        self.scale = float(scale)

    @property
    def n_inputs(self) -> int:
        return int(self.lo.shape[0])

    def normalize(self, inputs: Tensor) -> Tensor:
        """$z_i = 2 (a_i - l_i) / (h_i - l_i) - 1$, column by column."""
        return 2 * (inputs - self.lo) / (self.hi - self.lo) - 1

    def forward(self, inputs: Tensor) -> Tensor:
        out = self.body(self.normalize(inputs))[:, 0]
        return out if self.scale == 1.0 else self.scale * out

    def extra_repr(self) -> str:
        return "" if self.scale == 1.0 else f"scale={self.scale:g}"


def hidden_module(
    spec: HiddenNet,
    lo: Sequence[float],
    hi: Sequence[float],
    generator: torch.Generator,
    *,
    dtype: torch.dtype = torch.float32,
) -> HiddenModule:
    """The module `spec` describes for inputs ranging over `[lo[i], hi[i]]`, weights drawn
    from `generator`."""
    body = build_mlp(
        MLP(int(spec.width), int(spec.depth), spec.activation, spec.init), len(lo), 1, generator
    )
    return HiddenModule(lo, hi, body, scale=float(spec.scale)).to(dtype)
