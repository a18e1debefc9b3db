"""`pinnkit.discover.select`: the physics-aware choice from a Pareto front."""

from __future__ import annotations

import sympy as sp

from pinnkit.discover.losses import physics_batches
from pinnkit.discover.sample import sample_hidden
from pinnkit.discover.select import choose
from tests.discover.planted import U, _front


def test_physics_chooses_the_right_formula_when_the_best_fit_is_wrong(planted):
    """The backend's choice (lowest loss, highest score) is wrong; substituted into the PDE
    it explains the equation worse than u (1 - u), which the physics picks."""
    wrong = U - U**2 + sp.Float(0.05) * sp.sin(7 * U)
    front = _front(
        [
            (sp.Float(0.23), 1, 1e-3, 0.0),
            (U - U**2, 5, 1e-5, 1.15),
            (wrong, 11, 1e-9, 1.5),
        ]
    )
    assert front.best.expr == wrong
    batches = physics_batches(planted, samples=500, seed=0)
    samples = sample_hidden(planted, samples=500)["f"]
    selection = choose(planted, "f", front, samples, batches=batches, refit=0, alternatives=0)
    assert selection.chosen.expr == U - U**2
    physics = {s.candidate.expr: s.physics for s in selection.scored}
    assert physics[U - U**2] < 1e-20 < 1e-6 < physics[sp.Float(0.23)]
    assert wrong not in physics  # tried simplest first; u (1 - u) passed, so it stopped
    # Nor is it judged as an alternative: far more complex, and the chosen form plus a term.
    again = choose(planted, "f", front, samples, batches=batches, refit=0)
    assert again.chosen.expr == U - U**2
    assert wrong not in {s.candidate.expr for s in again.scored}
    assert again.alternatives == ()


def test_the_skip_bound_follows_the_least_deviance_a_refit_reached():
    # The network underfits: the first refit reaches a deviance far below the bound's
    # assumption (BOUND_RATIO of the network's misfit). A simpler form judged next could
    # beat it, so it is not skipped: it is judged and chosen.
    import types

    from pinnkit.discover.base import Candidate
    from pinnkit.discover.criteria import Scored, evidence
    from pinnkit.discover.select import _Judge, _judge_in_order

    u = sp.Symbol("u")
    n = 100
    saturating = 1.49 * u / (u + 1)
    exponential = 1.12 - 1.11 * sp.exp(-1.08 * u)
    deviance = {exponential: -200.0, saturating: -199.0}

    class Judge:
        least_deviance = -100.0
        reference = types.SimpleNamespace(observations=n)
        bound = _Judge.bound

        def __call__(self, c):
            return Scored(c, 1e-3, 9, c.expr, 0.0, None, evidence(deviance[c.expr], c.expr, n))

        def admits(self, s):
            return True

        def round_form(self, fitted):
            return fitted

    judge = Judge()
    candidates = [Candidate(exponential, 10, 1e-5, 0.0), Candidate(saturating, 9, 2e-4, 0.0)]
    assert judge.bound(saturating) > judge(candidates[0]).criterion  # the old bound skipped it
    scored = _judge_in_order(candidates, None, judge)
    assert [s.expr for s in scored] == [exponential, saturating]
    assert min(scored, key=lambda s: s.criterion).expr == saturating
