"""Tests of `pinnkit.problem.data`: `Data` from arrays, CSV and NPZ files, and the errors of
arrays and files that do not fit.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError
from tests.helpers import heat

x, y, t, s = sp.symbols("x y t s")
u = sp.Function("u")(x, t)


# -- data ------------------------------------------------------------------------------------


def test_data_builds_and_accepts_symbols_fields_and_names():
    data = pk.Data({x: [0.1, 0.2], "t": [0.5, 0.5]}, {u: [1.0, 2.0]}, name="obs")
    problem = heat(data=data)
    assert problem.data == (data,)
    assert data.n == 2 and list(data.coords) == ["x", "t"] and list(data.values) == ["u"]
    assert repr(data) == "Data('obs', 2 points, columns ['x', 't', 'u'])"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: pk.Data({x: [0.1, 0.2]}, {u: [1.0]}), r"arrays have different lengths"),
        (lambda: pk.Data({x: [0.1]}, {}), r"no observed field values"),
        (lambda: pk.Data({1: [0.1]}, {u: [1.0]}), r"key 1 is not a coordinate, field or name"),
        (lambda: pk.Data({x: [0.1, np.inf]}, {u: [1, 2]}), r"non-finite value at row 1"),
    ],
)
def test_bad_data_arrays(build, match):
    with pytest.raises(ProblemError, match=match):
        build()


def test_data_from_csv(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("# measured\nx, t, u\n0.1, 0.0, 1.5\n0.9, 1.0, -2\n")
    data = pk.Data.from_file(path, name="measured")
    problem = heat(data=data)
    (loaded,) = problem.data
    np.testing.assert_array_equal(loaded.coords["x"], [0.1, 0.9])
    np.testing.assert_array_equal(loaded.values["u"], [1.5, -2.0])
    assert loaded.name == "measured" and loaded.n == 2


def test_data_from_npz(tmp_path):
    path = tmp_path / "obs.npz"
    np.savez(path, x=np.array([0.25, 0.75]), t=np.array([[0.5], [1.0]]), u=np.array([3.0, 4.0]))
    problem = heat(data=pk.Data.from_file(path))
    (loaded,) = problem.data
    np.testing.assert_array_equal(loaded.coords["t"], [0.5, 1.0])
    np.testing.assert_array_equal(loaded.values["u"], [3.0, 4.0])


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("obs.csv", "x,t,U\n0.5,0.5,1\n", r'column "U" is neither.*Did you mean `u`\?'),
        ("obs.csv", "x,t\n0.5,0.5\n", r"no column names a field \['u'\]"),
    ],
)
def test_data_files_that_do_not_fit_the_problem(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        heat(data=pk.Data.from_file(path))


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("obs.csv", "x,t,u\n", r"needs a header row and at least one row"),
        ("obs.csv", "x,t,u\n0.5,0.5\n", r"line 2: 2 values for 3 columns"),
        ("obs.csv", "x,t,u\n0.5,0.5,high\n", r"line 2, column 'u': 'high' is not a number"),
        ("obs.json", "{}", r"has suffix '.json'; expected .csv or .npz"),
    ],
)
def test_unreadable_data_files(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        pk.Data.from_file(path)


def test_missing_data_file(tmp_path):
    with pytest.raises(ProblemError, match=r"no file at .*missing.csv"):
        pk.Data.from_file(tmp_path / "missing.csv")
