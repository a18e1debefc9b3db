"""Tests of `pinnkit.reference`: closed forms, gridded data, Cole-Hopf Burgers, Fourier ETDRK4.

The solvers are checked against exact solutions and against the shared benchmark data files
(`../shared/data`, skipped when absent). Every tolerance is a named constant with its source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import sympy as sp

from pinnkit.errors import ProblemError
from pinnkit.reference import (
    AbstractReference,
    Exact,
    Grid,
    allen_cahn,
    burgers,
    burgers_cole_hopf,
    kdv,
    kuramoto_sivashinsky,
    solve_periodic,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Float64 evaluation of the same closed form two ways (lambdify vs NumPy by hand).
EXACT_RTOL = 1e-10
# Linear interpolation reproduces a function linear in each coordinate up to round-off.
INTERPOLATION_ATOL = 1e-12
# ETDRK4 is exact for the linear part, so the heat equation is solved to round-off.
HEAT_ATOL = 1e-10
# Logistic growth u' = u(1 - u) from 0.1 to t = 2: ETDRK4 (RK4 on the k = 0 mode) errs by
# 1.14e-7 with h = 0.1 and 7.3e-9 with h = 0.05 (measured; order 3.97). Tolerance 3x; the
# order bound catches a lower-order bug.
LOGISTIC_ATOL = 3.5e-7
LOGISTIC_MIN_ORDER = 3.8
# ETDRK4 is fourth order; on KS to t = 5 with h = 1/8, 1/16, 1/32, 1/64 the successive
# differences shrink by 12.0, 13.5, 14.7 (measured; pre-asymptotic order 3.6-3.9).
KS_MIN_ORDER = 3.4
# Spectral differentiation keeps the mean of a conservative nonlinearity to round-off.
MEAN_ATOL = 1e-12

# Burgers.npz vs `burgers()` at its defaults (quadrature 250): max abs 4.2e-11, relative L2
# 2.9e-12, measured here; the same from 100 to 1000 Gauss-Hermite points, so this is the
# file's own precision. Tolerances about 3x.
BURGERS_NPZ_MAX_ABS = 1.5e-10
BURGERS_NPZ_REL_L2 = 1e-11
# AC.mat vs `allen_cahn()` (512 modes, dt 1e-3): max abs 7.6e-6, relative L2 1.05e-6, measured
# here, unchanged for dt from 5e-3 to 1e-4, so it is the file's time-stepping error. The file
# is only as accurate as 512 modes allow: 1024 modes differ from it by 5.8e-4 (max abs).
# Tolerances about 3x.
AC_MAT_MAX_ABS = 2.5e-5
AC_MAT_REL_L2 = 3.5e-6
# KdV.mat vs `kdv()` with lambda1 = 1, lambda2 = 0.0025, dt 1e-4: max abs 2.3e-11, relative L2
# 6.8e-12, measured here (dt 2e-4 gives 1.4e-10). The file's lambdas are exactly these.
# Tolerances about 4x (round-off level; allow for other FFT builds).
KDV_MAT_MAX_ABS = 1e-10
KDV_MAT_REL_L2 = 3e-11


def _data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data file {path} is absent (shared data not checked out)")
    return path


def _errors(computed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    difference = computed - expected
    return float(np.abs(difference).max()), float(
        np.linalg.norm(difference) / np.linalg.norm(expected)
    )


# --- interface -----------------------------------------------------------------------------


def test_abstract_reference_is_abstract():
    with pytest.raises(TypeError):
        AbstractReference()


def test_reference_modules_do_not_import_torch():
    # `import pinnkit` itself imports torch (the models), so check the sources, not sys.modules.
    package = Path(__file__).resolve().parents[1] / "pinnkit" / "reference"
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "torch" for name in names), source.name


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


# --- Burgers (Cole-Hopf) -------------------------------------------------------------------


def test_burgers_reproduces_deepxde_file():
    """Cole-Hopf vs `Burgers.npz`: max abs 4.2e-11, relative L2 2.9e-12 (measured)."""
    reference = Grid.from_npz(_data_file("deepxde", "Burgers.npz"))
    computed = burgers()
    np.testing.assert_array_equal(computed.axes["x"], reference.axes["x"])
    np.testing.assert_array_equal(computed.axes["t"], reference.axes["t"])
    max_abs, rel_l2 = _errors(computed.values["u"], reference.values["u"])
    assert max_abs < BURGERS_NPZ_MAX_ABS
    assert rel_l2 < BURGERS_NPZ_REL_L2


def test_burgers_cole_hopf_initial_and_boundary():
    x = np.linspace(-1, 1, 9)
    np.testing.assert_array_equal(burgers_cole_hopf(x, 0.0), -np.sin(np.pi * x))
    np.testing.assert_allclose(burgers_cole_hopf(np.array([-1.0, 1.0]), 0.7), 0.0, atol=1e-14)
    # Odd in x at every time (u0 is odd).
    values = burgers_cole_hopf(x[:, None], np.array([0.1, 0.5])[None, :], quadrature=100)
    np.testing.assert_allclose(values, -values[::-1], atol=1e-14)
    with pytest.raises(ProblemError, match="times must be finite and >= 0"):
        burgers_cole_hopf(x, -0.1)
    with pytest.raises(ProblemError, match="`nu` must be positive"):
        burgers_cole_hopf(x, 0.1, nu=0.0)


# --- Fourier ETDRK4 ------------------------------------------------------------------------


def test_etdrk4_heat_is_exact():
    t = np.linspace(0, 1, 6)
    grid = solve_periodic(
        lambda k: -(k**2),
        lambda u, u_hat, k: np.zeros_like(u_hat),
        lambda x: np.sin(3 * x),
        x_min=0.0,
        x_max=2 * np.pi,
        n_modes=16,
        t_eval=t,
        dt=0.1,
    )
    assert grid.periodic == {"x": 2 * np.pi}
    x = grid.axes["x"]
    assert x.size == 16 and x[-1] < 2 * np.pi
    expected = np.exp(-9 * t)[None, :] * np.sin(3 * x)[:, None]
    np.testing.assert_allclose(grid.values["u"], expected, rtol=0, atol=HEAT_ATOL)


def test_etdrk4_complex_linear_part_is_exact():
    # Advection u_t = -u_x, symbol -ik: the whole-circle contour handles complex L.
    grid = solve_periodic(
        lambda k: -1j * k,
        lambda u, u_hat, k: np.zeros_like(u_hat),
        lambda x: np.cos(2 * x),
        x_min=0.0,
        x_max=2 * np.pi,
        n_modes=16,
        t_eval=np.array([0.0, 0.37]),
        dt=0.05,
    )
    x = grid.axes["x"]
    np.testing.assert_allclose(grid.values["u"][:, 1], np.cos(2 * (x - 0.37)), atol=HEAT_ATOL)


def test_etdrk4_nonlinear_logistic():
    t = np.array([0.0, 0.5, 2.0])
    exact = 1 / (1 + 9 * np.exp(-t))
    errors = []
    for dt in (0.1, 0.05):
        grid = solve_periodic(
            lambda k: -(k**2),
            lambda u, u_hat, k: np.fft.rfft(u * (1 - u)),
            lambda x: np.full_like(x, 0.1),
            x_min=0.0,
            x_max=1.0,
            n_modes=8,
            t_eval=t,
            dt=dt,
        )
        errors.append(np.abs(grid.values["u"] - exact[None, :]).max())
    assert errors[0] < LOGISTIC_ATOL
    assert np.log2(errors[0] / errors[1]) > LOGISTIC_MIN_ORDER


def test_solve_periodic_errors():
    common = dict(x_min=0.0, x_max=1.0, t_eval=np.array([0.0, 1.0]), dt=0.1)
    zero = lambda u, u_hat, k: np.zeros_like(u_hat)  # noqa: E731
    with pytest.raises(ProblemError, match="`n_modes` must be an even integer"):
        solve_periodic(lambda k: -(k**2), zero, np.sin, n_modes=15, **common)
    with pytest.raises(ProblemError, match="returned shape"):
        solve_periodic(lambda k: -(k**2), lambda u, u_hat, k: u, np.sin, n_modes=16, **common)
    with pytest.raises(ProblemError, match="strictly increasing"):
        solve_periodic(
            lambda k: -(k**2),
            zero,
            np.sin,
            n_modes=16,
            x_min=0.0,
            x_max=1.0,
            t_eval=np.array([1.0, 0.5]),
            dt=0.1,
        )


def test_allen_cahn_reproduces_raissi_file():
    """ETDRK4 vs `AC.mat`: max abs 7.6e-6, relative L2 1.05e-6 (measured)."""
    reference = Grid.from_mat(
        _data_file("raissi_pinns", "AC.mat"),
        {"x": "x", "t": "tt"},
        {"u": "uu"},
        layout=("x", "t"),
        periodic={"x": 2.0},
    )
    computed = allen_cahn(t=reference.axes["t"])
    np.testing.assert_allclose(computed.axes["x"], reference.axes["x"], rtol=0, atol=1e-15)
    max_abs, rel_l2 = _errors(computed.values["u"], reference.values["u"])
    assert max_abs < AC_MAT_MAX_ABS
    assert rel_l2 < AC_MAT_REL_L2
    # The file's grid stops at x = 0.996; the periodic wrap covers x = 1 (u = -1 at t = 0).
    assert reference.evaluate({"x": 1.0, "t": 0.0})["u"] == pytest.approx(-1.0, abs=1e-12)


def test_kdv_reproduces_raissi_file():
    """ETDRK4 vs `KdV.mat` with lambda = (1, 0.0025): max abs 2.3e-11, rel L2 6.8e-12."""
    data = scipy.io.loadmat(_data_file("raissi_pinns", "KdV.mat"))
    computed = kdv(t=data["tt"].ravel())
    max_abs, rel_l2 = _errors(computed.values["u"], data["uu"])
    assert max_abs < KDV_MAT_MAX_ABS
    assert rel_l2 < KDV_MAT_REL_L2
    # The grid is periodic: x = 1 is x = -1.
    at_ends = computed.evaluate({"x": np.array([-1.0, 1.0]), "t": 0.5})["u"]
    assert at_ends[0] == at_ends[1]


def test_kuramoto_sivashinsky_converges_at_fourth_order_and_keeps_mean():
    t = np.array([0.0, 5.0])
    finals = [
        kuramoto_sivashinsky(
            t=t, dt=dt, u0=lambda x: np.cos(x / 16) * (1 + np.sin(x / 16)) + 0.3
        ).values["u"][:, -1]
        for dt in (1 / 8, 1 / 16, 1 / 32)
    ]
    coarse = np.abs(finals[0] - finals[1]).max()
    fine = np.abs(finals[1] - finals[2]).max()
    assert np.log2(coarse / fine) > KS_MIN_ORDER
    for final in finals:
        assert abs(final.mean() - 0.3) < MEAN_ATOL


def test_kuramoto_sivashinsky_classic_run_stays_bounded():
    # Kassam & Trefethen Fig. 4.1: the default set-up to t = 150 stays O(1) (|u| < 4) with
    # zero mean, after the chaotic cells form.
    grid = kuramoto_sivashinsky(t=np.linspace(0, 150, 4))
    u = grid.values["u"]
    assert np.all(np.isfinite(u)) and np.abs(u).max() < 4.0
    assert np.abs(u.mean(axis=0)).max() < MEAN_ATOL
    assert np.abs(u[:, -1]).max() > 2.0  # developed, not decayed
