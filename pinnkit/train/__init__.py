"""Training: the loop (`Trainer`), the loss with its strategies (causal weights, gradient-norm
balancing, RAR), the NaN guard, reporting, checkpoint state, the optimiser stages, and
`fit` / `resume`."""

from pinnkit.train.adaptive import AbstractSampler, RARSampler
from pinnkit.train.distributed import World, rank_generator
from pinnkit.train.fit import fit, resume
from pinnkit.train.loop import Trainer
from pinnkit.train.loss import Loss
from pinnkit.train.sampling import Sampler
from pinnkit.train.terms import LossTerms
from pinnkit.train.weighting import AbstractWeighting, BalanceWeighting, CausalWeighting

__all__ = [
    "Sampler",
    "Loss",
    "LossTerms",
    "Trainer",
    "fit",
    "resume",
    "AbstractWeighting",
    "CausalWeighting",
    "BalanceWeighting",
    "AbstractSampler",
    "RARSampler",
    "World",
    "rank_generator",
]
