"""`pinnkit.discover.prune`: additive terms the physics does not need are dropped."""

from __future__ import annotations

import sympy as sp

from pinnkit.discover import Candidate, complexity, is_same_form
from pinnkit.discover.criteria import Scored
from pinnkit.discover.losses import physics_batches
from pinnkit.discover.sample import sample_hidden
from pinnkit.discover.select import choose
from tests.discover.planted import U, _front
from tests.discover.planted import _planted_run as planted_run


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


def test_pruning_keeps_a_term_only_when_it_buys_its_price():
    """A term is dropped when the criterion falls without it (the fit it bought was worth
    less than its constant and its structure) and kept when it rises; nothing is dropped
    from a formula that was not admitted unless the rest explains at least as well."""
    from pinnkit.discover.base import form
    from pinnkit.discover.prune import prune

    samples = sample_hidden(planted_run(), samples=200)["f"]
    spurious = sp.Float(1.0) * U - sp.Float(1.0) * U**2 + sp.Float(0.01) * sp.cos(U)

    def pruned_with(reduced: float, chosen_loss: float = 1.0):
        criteria = {form(spurious): 20.0, form(U - U**2): reduced}

        def judge(c):
            key = form(c.expr)
            physics = {form(spurious): chosen_loss, form(U - U**2): 1.05}.get(key, 1.9)
            return Scored(c, physics, complexity(c.expr), c.expr, criterion=criteria.get(key, 1e3))

        chosen = judge(Candidate(spurious, complexity(spurious), 1e-6, 0.0))
        return prune(chosen, samples, judge, [], lambda s: s.physics <= 2.0).expr

    assert form(pruned_with(15.0)) == form(U - U**2)
    assert form(pruned_with(25.0)) == form(spurious)
    # Not admitted (loss 3): dropped only where the rest explains at least as well.
    assert form(pruned_with(15.0, chosen_loss=3.0)) == form(U - U**2)
    assert form(pruned_with(15.0, chosen_loss=1.0 + 0.01)) == form(U - U**2)
    assert form(pruned_with(25.0, chosen_loss=1.0)) == form(spurious)


def test_an_exact_number_kept_beside_a_dropped_term_is_judged_free_again():
    """A round form keeps `1/4` beside a small term; once that term is dropped, `1/4` is
    judged against a fitted constant again and kept only when the criterion says so."""
    from pinnkit.discover.exact import freed
    from pinnkit.discover.prune import prune

    samples = sample_hidden(planted_run(), samples=200)["f"]
    quarter = sp.Rational(1, 4)
    round_form = U - U**2 + quarter + sp.Float(0.001) * sp.cos(U)

    def pruned_with(free_criterion: float):
        def judge(c):
            expr = c.expr
            if expr.has(sp.cos):
                criterion = 20.0
            elif expr.atoms(sp.Float):
                criterion = free_criterion
            else:
                criterion = 15.0
            return Scored(c, 1.0, complexity(expr), expr, criterion=criterion)

        chosen = judge(Candidate(round_form, complexity(round_form), 1e-6, 0.0))
        scored: list = []
        kept = prune(chosen, samples, judge, scored, lambda s: s.physics <= 2.0)
        return kept.expr, scored

    expr, scored = pruned_with(12.0)
    assert expr.atoms(sp.Float) and not expr.has(sp.cos) and not expr.has(quarter)
    assert sp.simplify(expr - (U - U**2)).is_Float  # the constant is free, its value refit
    assert any(s.expr == U - U**2 + quarter for s in scored)
    expr, _ = pruned_with(16.0)
    assert expr == U - U**2 + quarter
    assert freed(U**2 * U - U + quarter) == U**3 - U + sp.Float(0.25)
    assert freed(sp.sqrt(U) / 2) == sp.Float(0.5) * sp.sqrt(U)  # the exponent stays exact
    assert freed(U - U**2) == U - U**2


def test_an_admitted_rival_within_reach_loses_its_negligible_terms_and_wins_when_better():
    """The chosen look-alike has no term to drop, but a rival within `RIVAL_REACH` carries a
    constant term the samples do not see (`NEGLIGIBLE`); without it, the rival's form is
    judged (added to `scored`) and replaces the choice when better. Rivals not admitted or
    beyond reach are left alone, and terms the samples see are not dropped."""
    from pinnkit.discover.base import form
    from pinnkit.discover.prune import RIVAL_REACH, prune_rivals

    samples = sample_hidden(planted_run(), samples=200)["f"]
    look_alike = sp.Float(0.39) * sp.sin(sp.Float(3.02) * U)
    rival = sp.Float(1.0) * U - sp.Float(1.0) * U**2 + sp.Float(1e-5)
    seen = sp.Float(1.0) * U - sp.Float(1.0) * U**3 + sp.Float(0.1) * sp.cos(U)

    def run(rival_criterion, truth_criterion, admitted=True):
        criteria = {
            form(look_alike): 10.0,
            form(rival): rival_criterion,
            form(U - U**2): truth_criterion,
            form(seen): 10.5,
        }

        def judge(c):
            key = form(c.expr)
            physics = 1.0 if admitted or key != form(rival) else 5.0
            return Scored(c, physics, complexity(c.expr), c.expr, criterion=criteria.get(key, 1e3))

        pool = (look_alike, seen, rival)
        scored = [judge(Candidate(e, complexity(e), 1e-6, 0.0)) for e in pool]
        kept = prune_rivals(scored[0], samples, judge, scored, lambda s: s.physics <= 2.0)
        return kept.expr, scored

    expr, scored = run(12.0, 8.0)
    assert form(expr) == form(U - U**2)
    assert len(scored) == 4  # only the rival's bare form was judged: `seen` keeps its terms
    assert run(12.0, 11.0)[0] == look_alike  # bare, the rival is still behind ...
    assert any(form(s.expr) == form(U - U**2) for s in run(12.0, 11.0)[1])  # ... but judged
    assert run(10.0 + RIVAL_REACH + 0.5, 8.0)[0] == look_alike  # beyond reach
    assert len(run(10.0 + RIVAL_REACH + 0.5, 8.0)[1]) == 3
    assert run(12.0, 8.0, admitted=False)[0] == look_alike
