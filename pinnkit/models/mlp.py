"""The multilayer perceptron body and its spec (`pk.MLP`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["MLP", "ACTIVATIONS", "INITS"]


class _Sine(nn.Module):
    def forward(self, x):
        return torch.sin(x)


ACTIVATIONS = {
    "tanh": nn.Tanh,
    "sin": _Sine,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
}
INITS = ("xavier_normal", "xavier_uniform", "kaiming_normal", "default")


@dataclass(frozen=True)
class MLP:
    """Spec of a fully connected network: `depth` hidden layers of `width` units.

    **Arguments**

    - `width`: units per hidden layer (default 64).
    - `depth`: number of hidden layers (default 4).
    - `activation`: one of `tanh` (default), `sin`, `gelu`, `silu`, `softplus`, `sigmoid`.
      Smooth activations are required: residuals differentiate the network.
    - `init`: weight initialisation, `xavier_normal` (default, Glorot), `xavier_uniform`,
      `kaiming_normal` or `default` (torch's); biases start at zero except for `default`.
    """

    width: int = 64
    depth: int = 4
    activation: str = "tanh"
    init: str = "xavier_normal"

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"model.activation={self.activation!r} is unknown; choose one of "
                f"{sorted(ACTIVATIONS)}.{did_you_mean(self.activation, ACTIVATIONS)}"
            )
        if self.init not in INITS:
            raise ConfigError(
                f"model.init={self.init!r} is unknown; choose one of {list(INITS)}."
                f"{did_you_mean(self.init, INITS)}"
            )
        if int(self.width) < 1 or int(self.depth) < 1:
            raise ConfigError(
                f"model: width={self.width} and depth={self.depth} must both be >= 1."
            )

    def build(self, n_in: int, n_out: int, generator: torch.Generator) -> nn.Sequential:
        """The network as `nn.Sequential`, weights drawn from `generator`."""
        sizes = [n_in] + [int(self.width)] * int(self.depth)
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), ACTIVATIONS[self.activation]()]
        layers.append(nn.Linear(sizes[-1], n_out))
        net = nn.Sequential(*layers)
        for layer in net:
            if isinstance(layer, nn.Linear):
                _initialise(layer, self.init, generator)
        return net


def _initialise(layer: nn.Linear, init: str, generator: torch.Generator) -> None:
    with torch.no_grad():
        if init == "default":
            bound = 1.0 / layer.in_features**0.5
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
            return
        if init == "xavier_normal":
            nn.init.xavier_normal_(layer.weight, generator=generator)
        elif init == "xavier_uniform":
            nn.init.xavier_uniform_(layer.weight, generator=generator)
        else:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="tanh", generator=generator)
        layer.bias.zero_()
