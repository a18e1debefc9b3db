"""Tests of the noise estimate from observations alone (`pinnkit.problem.noise`): the
noise's standard deviation recovered within 30% in one and two coordinates, none from clean
observations, replicates, and too few observations."""

from __future__ import annotations

import numpy as np
import pytest

from pinnkit.problem.noise import MIN_POINTS, noise_variance

# The estimate is a median over the observations' standardised pseudo-residuals: with
# 100-400 observations its relative standard deviation is about 10-15%, so 30% on the
# standard deviation is over two of them; the seeds are fixed.
WITHIN = 0.3


@pytest.mark.parametrize("level", [0.01, 0.05])
def test_the_noise_of_a_sampled_oscillation_is_recovered_from_the_observations(level):
    t = np.linspace(0.0, 10.0, 100)
    signal = 2.0 * np.sin(1.9 * t) * np.exp(-t / 8)  # three swings, 100 times: as ODEBench
    sd = level * np.sqrt(np.mean(signal**2))
    seen = signal + sd * np.random.default_rng(3).standard_normal(t.size)
    assert np.sqrt(noise_variance(t, seen)) == pytest.approx(sd, rel=WITHIN)


def test_clean_observations_show_next_to_no_noise_and_sparse_ones_can_only_show_more():
    t = np.linspace(0.0, 10.0, 100)
    signal = np.sin(1.9 * t)
    assert np.sqrt(noise_variance(t, signal)) < 1e-3 * signal.std()  # a quartic's error
    sparse = np.linspace(0.0, 10.0, 30)  # under 10 per swing: the curvature shows
    assert noise_variance(sparse, np.sin(1.9 * sparse)) > noise_variance(t, signal)


@pytest.mark.parametrize("grid", [False, True])
def test_scattered_and_gridded_observations_in_two_coordinates(grid):
    rng = np.random.default_rng(5)
    if grid:
        axes = np.meshgrid(np.linspace(0, 2, 20), np.linspace(0, 1, 20))
        points = np.stack(axes, axis=-1).reshape(-1, 2)
    else:
        points = rng.random((400, 2)) * [2.0, 1.0]
    signal = np.sin(3 * points[:, 0]) * np.cos(2 * points[:, 1])
    sd = 0.02 * signal.std()
    seen = signal + sd * rng.standard_normal(len(signal))
    assert np.sqrt(noise_variance(points, seen)) == pytest.approx(sd, rel=WITHIN)


def test_a_coordinate_that_does_not_vary_is_left_out_and_replicates_are_their_spread():
    t = np.linspace(0.0, 1.0, 60)
    rng = np.random.default_rng(7)
    seen = np.exp(t) + 0.01 * rng.standard_normal(60)
    fixed_x = np.stack([np.full(60, 0.5), t], axis=1)  # a probe at one place, over time
    assert noise_variance(fixed_x, seen) == noise_variance(t, seen)
    replicates = 3.0 + 0.2 * rng.standard_normal(40)
    assert noise_variance(np.zeros((40, 1)), replicates) == pytest.approx(
        np.var(replicates, ddof=1)
    )


def test_too_few_observations_give_no_estimate():
    t = np.linspace(0.0, 1.0, MIN_POINTS - 1)
    assert noise_variance(t, np.sin(t)) is None
    assert noise_variance(np.linspace(0, 1, 40), np.sin(np.linspace(0, 1, 40))) is not None
