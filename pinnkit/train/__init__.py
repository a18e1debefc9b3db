"""Training: loss terms, sampling, the trainer loop, `fit` and `resume`."""

from pinnkit.train.sampling import Sampler
from pinnkit.train.terms import LossTerms
from pinnkit.train.trainer import Trainer, fit, restore_run, resume

__all__ = ["Sampler", "LossTerms", "Trainer", "fit", "resume", "restore_run"]
