"""Training: loss terms, weighting and sampling strategies, the trainer loop, `fit` and `resume`."""

from pinnkit.train.adaptive import RAR, AbstractSampler, RARSampler
from pinnkit.train.distributed import World, rank_generator
from pinnkit.train.sampling import Sampler
from pinnkit.train.terms import LossTerms
from pinnkit.train.trainer import Trainer, fit, restore_run, resume
from pinnkit.train.weighting import (
    AbstractWeighting,
    Balance,
    BalanceWeighting,
    Causal,
    CausalWeighting,
)

__all__ = [
    "Sampler",
    "LossTerms",
    "Trainer",
    "fit",
    "resume",
    "restore_run",
    "AbstractWeighting",
    "Causal",
    "CausalWeighting",
    "Balance",
    "BalanceWeighting",
    "AbstractSampler",
    "RAR",
    "RARSampler",
    "World",
    "rank_generator",
]
