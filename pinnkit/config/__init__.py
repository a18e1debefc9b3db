"""The configuration of a run: `Config` and the specs in it, as frozen plain data.

Specs (`MLP`, `Causal`, `Adam`, ...) only describe; `pinnkit.build` and `pinnkit.train`
turn them into modules and strategies. This package imports nothing of pinnkit but
`pinnkit.errors`.
"""

from pinnkit.config.networks import MLP, Fourier, Gaussians, HiddenNet, Lagrangian
from pinnkit.config.optim import LBFGS, SOAP, Adam, LevenbergMarquardt, SSBroyden
from pinnkit.config.overrides import apply_overrides, parse_value
from pinnkit.config.strategies import RAR, Balance, Causal, Operators, Sampling
from pinnkit.config.tree import Config

__all__ = [
    "Config",
    "MLP",
    "Fourier",
    "Gaussians",
    "HiddenNet",
    "Lagrangian",
    "Adam",
    "SOAP",
    "LBFGS",
    "SSBroyden",
    "LevenbergMarquardt",
    "Sampling",
    "Operators",
    "Causal",
    "Balance",
    "RAR",
    "apply_overrides",
    "parse_value",
]
