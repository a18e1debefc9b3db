"""Tests of the Trainer loop: training on given points, and (slow) compiled training
following the eager run.
"""

from __future__ import annotations

import numpy as np
import pytest

import pinnkit as pk
from tests.helpers import TINY, heat_problem


@pytest.mark.slow
def test_compiled_training_follows_the_eager_run():
    """compile=True trains through the compiled mean squares: 30 Adam steps (and 5 L-BFGS)
    end where the eager Taylor run ends, to float32 round-off accumulated over the steps."""
    config = TINY.replace(steps=30, lbfgs=pk.LBFGS(steps=5), engine="taylor")
    eager = pk.fit(heat_problem(), config, out=None)
    compiled = pk.fit(heat_problem(), config.replace(compile=True), out=None)
    for k, v in eager.summary["loss_terms"].items():
        assert compiled.summary["loss_terms"][k] == pytest.approx(v, rel=1e-3), k


def test_use_points_trains_on_exactly_the_given_points():
    from pinnkit.train import Trainer

    config = TINY.replace(sampling=pk.Sampling(resample_every=0))
    trainer = Trainer(heat_problem(), config)
    rng = np.random.default_rng(0)
    points = {
        "interior": rng.uniform(0, 1, (50, 2)),
        "initial": np.column_stack([rng.uniform(0, 1, 7), np.zeros(7)]),
        "boundary": np.column_stack([rng.integers(0, 2, 9), rng.uniform(0, 1, 9)]),
    }
    trainer.use_points(points)
    for _ in range(3):
        trainer._adam_step()
    for region, given in points.items():
        np.testing.assert_array_equal(trainer.points[region].points.numpy(), given.astype("f4"))


def test_use_points_refuses_resampling_and_wrong_regions():
    from pinnkit.train import Trainer

    with pytest.raises(pk.ConfigError, match="would replace the given points"):
        Trainer(heat_problem(), TINY).use_points({})
    trainer = Trainer(heat_problem(), TINY.replace(sampling=pk.Sampling(resample_every=0)))
    with pytest.raises(pk.ConfigError, match="expected exactly"):
        trainer.use_points({"interior": np.zeros((4, 2))})
