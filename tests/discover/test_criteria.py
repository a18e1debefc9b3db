"""`pinnkit.discover.criteria`: the pick among tried candidates (loss factor and data test)."""

from __future__ import annotations

from pinnkit.discover import Candidate
from pinnkit.discover.criteria import Scored, pick
from tests.discover.planted import U


def test_pick_takes_the_first_within_the_factor_of_the_network():
    a, b, c = (Candidate(U, k, 1.0, 0.0) for k in (3, 5, 9))
    scored = [Scored(a, 5.0, 3), Scored(b, 1.4, 5), Scored(c, 0.5, 9)]
    assert pick(scored, network=1.0, factor=1.5) is b
    assert pick(scored, network=0.1, factor=1.5) is c  # none passes: the smallest loss
    inf = float("inf")
    assert pick([Scored(a, inf, 3), Scored(b, inf, 5)], network=1.0, factor=1.5) is a


def test_pick_rejects_a_candidate_whose_misfit_grew_beyond_the_noise():
    """With noisy data the loss factor alone is lenient (the loss is mostly noise); the data
    test rejects a formula whose misfit grew by more than `threshold` noise units."""
    a, b = Candidate(U, 1, 1.0, 0.0), Candidate(U - U**2, 7, 1.0, 0.0)
    scored = [Scored(a, 1.2, 1, excess=21.0), Scored(b, 1.01, 7, excess=0.8)]
    assert pick(scored, network=1.0, factor=1.5, threshold=9.0) is b
    assert pick(scored, network=1.0, factor=1.5, threshold=30.0) is a
