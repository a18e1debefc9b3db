"""`pinnkit.discover.losses`: the data test's statistic in noise units."""

from __future__ import annotations

import pytest

from pinnkit.discover.losses import Losses


def test_excess_is_the_misfit_growth_in_noise_units():
    network = Losses(1.0, {("data", "u"): (0.01, 100), ("data", "v"): (0.04, 100)})
    candidate = Losses(1.1, {("data", "u"): (0.011, 100), ("data", "v"): (0.04, 100)})
    noise = {("data", "u"): 0.01, ("data", "v"): 0.04}
    assert candidate.excess(network, noise) == pytest.approx(100 * 0.001 / 0.01)
    assert Losses(float("inf"), {}).excess(network, noise) == float("inf")
