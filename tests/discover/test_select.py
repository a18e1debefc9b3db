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
