"""`pinnkit.discover.line_integral`: formulas fitted to the observations of a steady problem in
one coordinate through the repeated integral, the unknown start values projected out, with the
exact solution standing in for a trained run; and where it does not apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.discover.base import form
from pinnkit.discover.line_integral import _opened_tops, line_front, line_of, repeated_integral
from tests.discover.steady import US, XS, U, cubic, potential, x


def test_the_repeated_integral_is_cauchys_formula():
    """Twice integrated from 0: 1 -> x^2/2, x -> x^3/6, exact for a linear function and to the
    trapezoid rule's error for a quadratic."""
    grid, where = np.linspace(0.0, 2.0, 2001), np.array([0.0, 0.37, 1.0, 2.0])
    twice = repeated_integral(grid, where, 2)
    assert np.allclose(twice @ np.ones_like(grid), where**2 / 2, atol=1e-12)
    assert np.allclose(twice @ grid, where**3 / 6, atol=1e-6)
    assert np.allclose(twice @ grid**2, where**4 / 12, atol=1e-5)
    assert np.allclose(repeated_integral(grid, where, 1) @ grid, where**2 / 2, atol=1e-12)


def _has(front, truth, rtol):
    """Whether `front` holds `truth`'s form with every constant within `rtol`."""
    from pinnkit.discover.exact import is_same_form

    members = (*front.candidates, *front.subfront)
    return any(is_same_form(c.expr, truth, rtol=rtol) for c in members)


def test_a_reaction_of_the_state_is_found_from_the_observations():
    """-u'' + g(u) = 10, u(0) = 0, u'(1) = 0 (Neumann: the slope at 0 unknown, projected out),
    1% noise: the front holds 3 u^3 within 3%, where the sampled network would give
    whatever it learned."""
    front = line_front(cubic(), "g", (US,))
    assert front is not None
    assert _has(front, 3 * US**3, rtol=0.03)


def test_a_coefficient_along_the_path_goes_inside_the_integral():
    """q(x) u with u = 1 at both ends (the term's coefficient is the state), noiseless: the
    front holds 2 + 8 x^2 within 1%."""
    front = line_front(potential(noise=0.0), "q", (XS,))
    assert front is not None
    assert _has(front, 2 + 8 * XS**2, rtol=0.01)


def test_first_order_initial_value_problems_and_pdes_are_left_to_the_others():
    """A first-order initial-value ODE goes to `pinnkit.discover.integral` (its starts known);
    a problem of two coordinates and a third derivative get None, a term applied twice no
    rows."""
    t = sp.Symbol("t")
    v, f = sp.Function("v")(t), pk.Hidden("f")
    ode = pk.Problem(
        domain=pk.TimeInterval(t, 0, 1),
        fields=[v],
        equations={"e": sp.Eq(v.diff(t), f(v))},
        conditions=[pk.Initial(v, 1)],
        data=pk.Data({t: [0.5, 1.0]}, {v: [1.0, 1.1]}),
    )
    assert line_of(ode, "f") is None
    y = sp.Symbol("y")
    w = sp.Function("w")(x, y)
    pde = pk.Problem(
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)),
        fields=[w],
        equations={"e": sp.Eq(w.diff(x, 2) + w.diff(y, 2), f(w))},
        conditions=[pk.Dirichlet(w, 0)],
        data=pk.Data({x: [0.5], y: [0.5]}, {w: [0.1]}),
    )
    assert line_of(pde, "f") is None
    for equation in (sp.Eq(U.diff(x, 3), f(U)), sp.Eq(-U.diff(x, 2), f(U) + f(x))):
        steady = pk.Problem(
            domain=pk.Interval(x, 0, 1),
            fields=[U],
            equations={"e": equation},
            conditions=[pk.Dirichlet(U, 0)],
            data=pk.Data({x: [0.5]}, {U: [0.1]}),
        )
        line = line_of(steady, "f")
        assert line is None or _opened_tops(line) is None


def test_the_line_candidates_join_the_front_of_a_steady_problem():
    """`with_integral` on a steady problem: candidates from this regression, forms the
    sampled front lacks, each once."""
    from pinnkit.discover.integral import with_integral
    from pinnkit.discover.offline import Offline
    from pinnkit.discover.sample import HiddenSamples

    run = cubic()
    u = np.linspace(0.0, 1.2, 300)
    # a network that learned a line
    samples = HiddenSamples("g", (US,), (U,), {US: u}, 2.0 * u - 1.0, {US: (0.0, 1.2)}, 300)
    front = Offline().fit(samples.inputs, samples.target)
    extended = with_integral(front, run, "g", samples)
    assert any(form(c.expr) == form(US**3) for c in extended.integral)
    assert len({form(c.expr) for c in extended.integral}) == len(extended.integral)


# benchmarks/discovery/unseen/steady_cubic.py with its own config (4000 Adam steps + 500
# L-BFGS, float32): ~25 s of fit and ~37 s of discovery on the 2-core CPU; before the line
# regression and the two-point refit it chose `8.407*u - 4.857`. The file keeps the default
# hidden-network scale, about which the fit warns (g comes out 4.4 in size).
@pytest.mark.slow
@pytest.mark.filterwarnings('ignore:hidden. "g" came out')
def test_a_steady_reaction_is_discovered_from_a_trained_run():
    from pinnkit.discover.exact import is_same_form
    from pinnkit.problem.file import load_problem_file

    path = Path(__file__).parents[2] / "benchmarks" / "discovery" / "unseen" / "steady_cubic.py"
    problem, config, _ = load_problem_file(path)
    run = pk.fit(problem, config.replace(progress=False, device="cpu"), out=None)
    found = pk.discover(run)
    formula = found.sympy()[problem.hidden[0]]
    assert is_same_form(formula, 3 * US**3, rtol=0.02), str(found)
