"""Tests of `reference.Exact`: values against NumPy, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from pinnkit.errors import ProblemError
from pinnkit.reference import Exact

# Float64 evaluation of the same closed form two ways (lambdify vs NumPy by hand).
EXACT_RTOL = 1e-10


# --- Exact ---------------------------------------------------------------------------------


def test_exact_matches_numpy():
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    v = sp.Function("v")(x, t)
    reference = Exact({u: sp.sin(sp.pi * x) * sp.exp(-t), v: sp.Integer(2)})
    assert reference.fields == ("u", "v")
    assert reference.coords == ("x", "t")
    assert reference.grid() is None
    assert reference.solution[u] == sp.sin(sp.pi * x) * sp.exp(-t)
    xs = np.linspace(-1, 1, 7)[:, None]
    ts = np.linspace(0, 1, 3)[None, :]
    values = reference.evaluate({"x": xs, "t": ts, "unused": 0.0})
    np.testing.assert_allclose(values["u"], np.sin(np.pi * xs) * np.exp(-ts), rtol=EXACT_RTOL)
    assert values["v"].shape == (7, 3) and values["v"].dtype == np.float64
    assert np.all(values["v"] == 2.0)


def test_exact_missing_coordinate():
    x, t = sp.symbols("x t")
    reference = Exact({sp.Function("u")(x, t): x * t})
    with pytest.raises(ProblemError, match=r"missing coordinate\(s\) `t`.*given `x`, `T`"):
        reference.evaluate({"x": 1.0, "T": 2.0})


def test_exact_fields_must_share_arguments():
    x, t = sp.symbols("x t")
    with pytest.raises(ProblemError, match="do not share the same arguments"):
        Exact({sp.Function("u")(x, t): x, sp.Function("v")(x): x})


def test_exact_rejects_bad_keys():
    x = sp.Symbol("x")
    with pytest.raises(ProblemError, match="not an applied SymPy function"):
        Exact({sp.sin(x): x})
    with pytest.raises(ProblemError, match="unapplied function"):
        Exact({sp.Function("u"): x})


def test_exact_rejects_stray_symbol():
    x, nu = sp.symbols("x nu")
    with pytest.raises(ProblemError, match="free symbol.*`nu`"):
        Exact({sp.Function("u")(x): nu * x})
