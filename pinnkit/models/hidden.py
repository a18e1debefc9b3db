"""Hidden-term networks: the spec `pk.HiddenNet` and the module that evaluates one `pk.Hidden`.

A hidden term $f(a_1, \\dots, a_k)$ is a small MLP $f_\\theta$ applied to its arguments after an
affine map of each one from a stated range $[l_i, h_i]$ to $[-1, 1]$:

$$f(a) \\approx s\\, f_\\theta(z), \\qquad z_i = \\frac{2 (a_i - l_i)}{h_i - l_i} - 1 ,$$

with a fixed output scale $s$ (`HiddenNet.scale`, default 1).

The ranges are buffers, so they are saved in `state_dict()` with the weights; where they
come from (the domain, the data, the conditions or the user) is decided by
`pinnkit.compile.hidden`, which builds these modules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pinnkit.errors import ConfigError, did_you_mean
from pinnkit.models.mlp import ACTIVATIONS, INITS, MLP

__all__ = ["HiddenNet", "HiddenModule"]


@dataclass(frozen=True)
class HiddenNet:
    """Spec of the network of a Hidden term: `depth` hidden layers of `width` units, one output.

    Hidden terms are usually simple functions of a few inputs (a reaction rate $u(1-u)$, a
    flux), so the default is small: 2 layers of 32 tanh units. `Config.hidden` is the spec of
    every Hidden term; `Config.hidden_terms` overrides it per name.

    **Arguments**

    - `width`: units per hidden layer (default 32).
    - `depth`: number of hidden layers (default 2).
    - `activation`: as for `MLP` (default `tanh`); it must be smooth where the term's output
      is differentiated by nothing but the optimiser, so `gelu`/`silu` work too.
    - `init`: weight initialisation, as for `MLP` (default `xavier_normal`).
    - `scale`: a fixed factor on the network's output (default 1): the term's expected
      magnitude, where it is far from 1. Adam moves each weight by about its learning rate
      per step, so a term of size 10 takes thousands of steps to grow out of an unscaled
      network's O(1) output; until then training can sit on a plateau where the term is
      too small or too simple. On the forcing case of `benchmarks/discovery` (g = pi^2
      sin(pi x), 5% noise, Adam at 2e-3 for 3000 steps) three of five seeds stopped with g
      a constant ~7.8; with `scale=10` and the same 3000 steps every seed reached the
      truth's data loss and discovery found the exact form on 4 of 5 seeds (5 of 5 at 1%
      noise). Discovery reads the scaled output, so the formulas found do not depend on it.
    """

    width: int = 32
    depth: int = 2
    activation: str = "tanh"
    init: str = "xavier_normal"
    scale: float = 1.0

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"hidden.activation={self.activation!r} is unknown; choose one of "
                f"{sorted(ACTIVATIONS)}.{did_you_mean(self.activation, ACTIVATIONS)}"
            )
        if self.init not in INITS:
            raise ConfigError(
                f"hidden.init={self.init!r} is unknown; choose one of {list(INITS)}."
                f"{did_you_mean(self.init, INITS)}"
            )
        if int(self.width) < 1 or int(self.depth) < 1:
            raise ConfigError(
                f"hidden: width={self.width} and depth={self.depth} must both be >= 1."
            )
        if not (
            isinstance(self.scale, int | float)
            and not isinstance(self.scale, bool)
            and math.isfinite(self.scale)
            and self.scale > 0
        ):
            raise ConfigError(
                f"hidden.scale={self.scale!r} must be a finite number > 0: the term's expected "
                "magnitude (e.g. 10 for a forcing of size ~10; default 1)."
            )

    def build(
        self,
        lo: Sequence[float],
        hi: Sequence[float],
        generator: torch.Generator,
        *,
        dtype: torch.dtype = torch.float32,
    ) -> HiddenModule:
        """The module for inputs ranging over `[lo[i], hi[i]]`, weights drawn from `generator`."""
        body = MLP(int(self.width), int(self.depth), self.activation, self.init).build(
            len(lo), 1, generator
        )
        return HiddenModule(lo, hi, body, scale=float(self.scale)).to(dtype)


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
