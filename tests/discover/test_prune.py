"""`pinnkit.discover.prune`: additive terms the physics does not need are dropped."""

from __future__ import annotations

import dataclasses

import sympy as sp

from pinnkit.discover import Candidate, complexity, is_same_form
from pinnkit.discover.criteria import Scored
from pinnkit.discover.losses import physics_batches
from pinnkit.discover.sample import sample_hidden
from pinnkit.discover.select import choose
from tests.discover.planted import U, _front


def test_pruning_drops_a_term_the_physics_does_not_need(planted):
    """The only candidate on the front carries a spurious small term; the physics (here
    exact) does not need it, so it is dropped and the rest refit to the samples."""
    spurious = sp.Float(1.0) * U - sp.Float(1.0) * U**2 + sp.Float(0.01) * sp.cos(U)
    front = _front([(spurious, 14, 1e-6, 0.0)])
    batches = physics_batches(planted, samples=500, seed=0)
    samples = sample_hidden(planted, samples=500)["f"]
    selection = choose(planted, "f", front, samples, batches=batches, refit=0)
    assert is_same_form(selection.chosen.expr, U - U**2, rtol=1e-6)
    assert any(s.candidate.expr == spurious for s in selection.scored)


def test_pruning_drops_a_term_that_buys_less_than_the_margin(planted):
    """A term that lowers the misfit by less than `PRUNE_MARGIN` noise units is dropped even
    when the rest fails the data test against the (overfitting) network: the Lotka-Volterra
    case over t in [0, 6] at 5% noise chose q = 0.798 u v - 0.159 cos(0.881 u) (+11.5) over
    0.796 u v (+13.1). A term worth more is kept, and nothing is dropped from a formula that
    failed."""
    from pinnkit.discover.alternatives import form
    from pinnkit.discover.prune import PRUNE_MARGIN, prune, prunes_to

    samples = sample_hidden(planted, samples=200)["f"]
    spurious = sp.Float(1.0) * U - sp.Float(1.0) * U**2 + sp.Float(0.01) * sp.cos(U)

    def pruned_with(reduced_excess: float, chosen_excess: float = 11.5):
        excess = {form(spurious): chosen_excess, form(U - U**2): reduced_excess}

        def judge(c):
            key = form(c.expr)
            physics = {form(spurious): 1.0, form(U - U**2): 1.05}.get(key, 1.9)
            return Scored(c, physics, complexity(c.expr), c.expr, excess.get(key, 1e3))

        chosen = judge(Candidate(spurious, complexity(spurious), 1e-6, 0.0))

        def keep(s):
            return prunes_to(s, chosen, network=1.0, factor=2.0, threshold=12.0)

        return prune(chosen, samples, judge, [], keep).expr

    assert form(pruned_with(13.1)) == form(U - U**2)
    assert form(pruned_with(11.5 + PRUNE_MARGIN + 0.5)) == form(spurious)
    assert form(pruned_with(13.1, chosen_excess=12.5)) == form(spurious)  # chosen failed
    one = Scored(Candidate(U, 1, 1.0, 0.0), 1.0, 1, excess=10.0)
    assert prunes_to(dataclasses.replace(one, physics=2.5), one, network=1.0, factor=2.0) is False
