"""The multilayer perceptron body, built from its spec (`pinnkit.config.MLP`)."""

from __future__ import annotations

import torch
from torch import nn

from pinnkit.config import MLP

__all__ = ["Sine", "ACTIVATION_MODULES", "build_mlp", "initialise"]


class Sine(nn.Module):
    """$\\sin(x)$, elementwise (the `sin` activation)."""

    def forward(self, x):
        return torch.sin(x)


#: Activation name (`pinnkit.config.networks.ACTIVATIONS`) -> module class.
ACTIVATION_MODULES = {
    "tanh": nn.Tanh,
    "sin": Sine,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
}


def initialise(layer: nn.Linear, init: str, generator: torch.Generator) -> None:
    """Draw `layer`'s weights as `init` names (`pinnkit.config.networks.INITS`) from
    `generator`; biases start at zero except for torch's `default`."""
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


def build_mlp(spec: MLP, n_in: int, n_out: int, generator: torch.Generator) -> nn.Sequential:
    """The network `spec` describes as `nn.Sequential` (`n_in` inputs, `n_out` outputs),
    weights drawn from `generator`."""
    sizes = [n_in] + [int(spec.width)] * int(spec.depth)
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), ACTIVATION_MODULES[spec.activation]()]
    layers.append(nn.Linear(sizes[-1], n_out))
    net = nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, nn.Linear):
            initialise(layer, spec.init, generator)
    return net
