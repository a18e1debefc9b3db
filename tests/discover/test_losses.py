"""`pinnkit.discover.losses`: the deviance and the data test's statistic, each field's noise
estimated from the candidate's own misfit."""

from __future__ import annotations

import math

import pytest

from pinnkit.discover.losses import Losses


def test_deviance_and_excess_estimate_the_noise_from_the_candidate():
    network = Losses(1.0, {("data", "u"): (0.01, 100), ("data", "v"): (0.04, 50)})
    candidate = Losses(1.1, {("data", "u"): (0.0125, 100), ("data", "v"): (0.04, 50)})
    floors = {("data", "u"): 1e-6, ("data", "v"): 1e-6}
    assert candidate.observations == 150
    assert candidate.deviance(floors) == pytest.approx(100 * math.log(0.0125) + 50 * math.log(0.04))
    # The growth in units of the candidate's own noise estimate (0.0125), not the network's.
    assert candidate.excess(network, floors) == pytest.approx(100 * 0.0025 / 0.0125)
    # A misfit under its floor (noiseless data) counts as the floor.
    tiny = Losses(1.0, {("data", "u"): (1e-12, 100), ("data", "v"): (1e-12, 50)})
    assert tiny.deviance(floors) == pytest.approx(150 * math.log(1e-6))
    failed = Losses(float("inf"), {})
    assert failed.excess(network, floors) == failed.deviance(floors) == float("inf")
