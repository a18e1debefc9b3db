"""`pinnkit.discover.losses`: the deviance and the data test's statistic, each field's noise
estimated from the candidate's own misfit."""

from __future__ import annotations

import math
import re

import pytest

from pinnkit.discover.losses import Losses, physics_batches, unheld_notes
from tests.discover.planted import _planted_run


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


def test_an_equation_held_only_at_the_training_points_gets_a_note():
    run = _planted_run(lambda p: p * (1 - p) + 0.01)  # residual 0.01 everywhere
    batches = physics_batches(run, samples=500, seed=0)
    notes = unheld_notes(run, batches, {"loss_terms": {"reaction": 1e-7, "initial": 1e-30}})
    assert len(notes) == 1  # the conditions, met exactly, and the data are not judged
    assert re.match(
        r'discovery: equation "reaction" is met 1e\+03x worse on 5\d\d fresh points '
        r"\(mean square 0.0001\) than where the solution was trained \(1e-07\); 1% of it at "
        r"1% of the points: .* the choice can rest on that repair\. Fix: .*`refit=2000`\)\.$",
        notes[0],
    )
    assert unheld_notes(run, batches, {"loss_terms": {"reaction": 2e-5}}) == []  # 5x: held
    assert unheld_notes(run, batches, {}) == []  # nothing logged: nothing to compare
