"""`pinnkit.discover.pysr`: PySR's equations read back into a front, and PySR runs where
Julia exists.
"""

from __future__ import annotations

import os

import pytest
import sympy as sp

from pinnkit.discover import Front, PySR, julia_status
from pinnkit.discover.pysr import front_from_equations
from pinnkit.errors import DiscoveryError
from tests.discover.terms import FORM_RTOL, samples, u, u_x


def test_pysr_read_back_maps_names_to_symbols():
    _, inputs, values = samples("advection", 0.0)
    records = [
        {"sympy_format": sp.Float(0.01)},
        {"sympy_format": sp.Float(-0.98) * sp.Symbol("x0") * sp.Symbol("x1")},
        {"sympy_format": "-x0*x1"},
    ]
    front = front_from_equations(records, inputs, values, names=["x0", "x1"])
    assert isinstance(front, Front)
    assert front.best.expr == -u * u_x
    assert front.best.loss < 1e-25
    with pytest.raises(DiscoveryError, match="not among the variables"):
        front_from_equations([{"sympy_format": "x2"}], inputs, values, names=["x0", "x1"])


@pytest.mark.pysr
def test_pysr_fits_and_reads_back(tmp_path):
    status = julia_status()
    if not status.usable:
        pytest.skip(status.reason)
    truth, inputs, values = samples("sine", 0.0)
    model = PySR(niterations=20, output_directory=str(tmp_path))
    front = model.fit(inputs, values, seed=0)
    assert front.backend == "pysr" and len(front.candidates) >= 2
    for candidate in front.candidates:
        assert candidate.expr.free_symbols <= set(inputs)
    assert front.contains(truth, rtol=FORM_RTOL), str(front)
    assert os.path.exists(front.exports["hall_of_fame"])


def test_offline_formulas_are_written_as_pysr_guesses():
    """`pysr_guess`: the offline front's formulas in PySR's syntax over x0, x1, ..., with the
    operators at hand; what they cannot write is left out (None). `PySR.fit` passes these
    as `guesses` (checked where Julia exists, in the test above)."""
    from pinnkit.discover.pysr import _offline_guesses, pysr_guess

    a, b = sp.symbols("u v")
    names = {a: "x0", b: "x1"}
    assert pysr_guess(-0.9 * a * b, names) == "((-0.9) * x0 * x1)"
    assert pysr_guess(a**2, names) == "square(x0)"
    assert pysr_guess(a**2, names, unary=()) == "(x0 * x0)"
    assert pysr_guess(a / (sp.Float(0.5) + a), names) == "(x0 * (1.0 / ((0.5 + x0))))"
    assert pysr_guess(a / (sp.Float(0.5) + a), names, binary=("+", "*")) is None
    assert pysr_guess(a**1.2, names) is None
    assert pysr_guess(a**1.2, names, binary=("+", "*", "^")) == "(x0 ^ 1.2)"
    assert pysr_guess(sp.log(a), names) is None
    assert pysr_guess(sp.sin(a - b), names) == "sin((x0 + ((-1.0) * x1)))"
    drag = sp.Float(-0.64) * a * sp.Abs(a)  # the offline library's v*|v|: PySR's `abs`
    assert pysr_guess(drag, names, unary=("abs",)) == "((-0.64) * x0 * abs(x0))"
    assert pysr_guess(drag, names) is None
    _, inputs, values = samples("advection", 0.0)
    guesses = _offline_guesses(PySR(), inputs, values, ["x0", "x1"], seed=0)
    assert "((-1.0) * x0 * x1)" in guesses or any("x0 * x1" in g for g in guesses)
