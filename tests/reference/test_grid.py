"""Tests of `reference.Grid`: linear and cubic interpolation, periodic wrap, range and
shape checks, NPZ layout.
"""

from __future__ import annotations

import numpy as np
import pytest

from pinnkit.errors import ProblemError
from pinnkit.reference import Grid

# Linear interpolation reproduces a function linear in each coordinate up to round-off.
INTERPOLATION_ATOL = 1e-12


# --- Grid ----------------------------------------------------------------------------------


def _plane(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return 1.5 * x - 0.25 * t + 0.5 * x * t + 2.0


def test_grid_linear_interpolation_is_exact_on_bilinear_function():
    x = np.linspace(-1, 1, 11)
    t = np.array([0.0, 0.1, 0.5, 1.0])
    grid = Grid({"x": x, "t": t}, {"u": _plane(x[:, None], t[None, :])})
    assert grid.coords == ("x", "t") and grid.fields == ("u",)
    rng = np.random.default_rng(0)
    xs, ts = rng.uniform(-1, 1, (5, 3)), rng.uniform(0, 1, (5, 3))
    values = grid.evaluate({"x": xs, "t": ts})["u"]
    assert values.shape == (5, 3)
    np.testing.assert_allclose(values, _plane(xs, ts), rtol=0, atol=INTERPOLATION_ATOL)
    axes = grid.grid()
    assert list(axes) == ["x", "t"] and np.array_equal(axes["x"], x)


def test_grid_cubic_interpolates_nodes_and_cubics():
    x = np.linspace(0, 1, 9)
    y = np.linspace(0, 2, 7)
    cubic = x[:, None] ** 3 - 2 * x[:, None] * y[None, :] ** 2
    grid = Grid({"x": x, "y": y}, {"f": cubic}, method="cubic")
    xs, ys = np.array([0.0, 0.33, 0.71]), np.array([2.0, 0.4, 1.93])
    np.testing.assert_allclose(
        grid.evaluate({"x": xs, "y": ys})["f"], xs**3 - 2 * xs * ys**2, atol=INTERPOLATION_ATOL
    )


def test_grid_periodic_wrap():
    period = 2.0
    x = -1 + period * np.arange(64) / 64  # [-1, 0.96875]: right end left out
    grid = Grid({"x": x}, {"u": np.cos(np.pi * x)}, periodic={"x": period})
    ends = grid.evaluate({"x": np.array([-1.0, 1.0, 3.0, -5.0])})["u"]
    np.testing.assert_allclose(ends, -1.0, atol=INTERPOLATION_ATOL)
    # Inside the seam (0.96875, 1): linear between the last point and the first one, wrapped.
    middle = grid.evaluate({"x": 0.984375})["u"]
    np.testing.assert_allclose(middle, 0.5 * (np.cos(np.pi * x[-1]) - 1.0), atol=1e-14)
    shifted = grid.evaluate({"x": x[5] + 4 * period})["u"]
    np.testing.assert_allclose(shifted, np.cos(np.pi * x[5]), atol=INTERPOLATION_ATOL)


def test_grid_outside_range_is_refused_beyond_tolerance():
    x = np.linspace(0, 1, 5)
    grid = Grid({"x": x}, {"u": x})
    assert grid.evaluate({"x": 1.0 + 1e-12})["u"] == pytest.approx(1.0)
    with pytest.raises(ProblemError, match=r"outside the grid on axis `x`: range is \[0, 1\]"):
        grid.evaluate({"x": np.array([0.5, 1.1])})


def test_grid_validates_shapes():
    x, t = np.linspace(0, 1, 4), np.linspace(0, 1, 3)
    with pytest.raises(ProblemError, match=r"`u` have shape \(3, 4\); expected \(4, 3\)"):
        Grid({"x": x, "t": t}, {"u": np.zeros((3, 4))})
    with pytest.raises(ProblemError, match="axis `x` is not finite and strictly increasing"):
        Grid({"x": x[::-1]}, {"u": x})
    with pytest.raises(ProblemError, match="does not fit in its period"):
        Grid({"x": x}, {"u": x}, periodic={"x": 1.0})
    with pytest.raises(ProblemError, match="periodic axis `y` is not an axis"):
        Grid({"x": x}, {"u": x}, periodic={"y": 2.0})
    with pytest.raises(ProblemError, match="missing coordinate"):
        Grid({"x": x}, {"u": x}).evaluate({"t": 0.0})


def test_grid_from_npz_transposes_layout(tmp_path):
    x, t = np.linspace(0, 1, 5), np.linspace(0, 2, 3)
    values = _plane(x[:, None], t[None, :])
    path = tmp_path / "data.npz"
    np.savez(path, xs=x[:, None], ts=t[None, :], u_tx=values.T)
    grid = Grid.from_npz(path, {"x": "xs", "t": "ts"}, {"u": "u_tx"}, layout=("t", "x"))
    np.testing.assert_array_equal(grid.values["u"], values)
    with pytest.raises(ProblemError, match="has no array `usol`"):
        Grid.from_npz(path, {"x": "xs", "t": "ts"})
    with pytest.raises(ProblemError, match="check `layout=`"):
        Grid.from_npz(path, {"x": "xs", "t": "ts"}, {"u": "u_tx"}, layout=("x", "t"))


@pytest.mark.parametrize(
    ("axes", "values"), [(np.ones(3), {"u": np.ones(3)}), ({"x": [0, 1]}, [1, 2])]
)
def test_axes_and_values_that_are_not_mappings_are_refused(axes, values):
    """An array where the mapping by name belongs used to be a bare ValueError (the truth
    value of an array)."""
    with pytest.raises(ProblemError, match=r"Grid: the (axes|values) are .*expected a mapping"):
        Grid(axes, values)
